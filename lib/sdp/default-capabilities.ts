// The default codec and header-extension capabilities offered and accepted when the application
// declares none: what Chromium offers, minus codecs that need decoder-side features (RED, FEC).
// rtcp-fb and the feedback-only header extensions are not fixed here: they are what the installed
// policy modules serve (docs/policy.md), passed in by the caller, so the SDP never promises more.
import { HeaderExtensionUri, type CodecCapability, type HeaderExtensionCapability, type RtpMediaKind } from './capabilities.js';
import type { RtcpFeedback } from './model.js';
import { mapList } from '../common/list-map.js';

function copyFeedback(f: RtcpFeedback): RtcpFeedback {
  return { ...f };
}

/** Preferred extmap ids (Chromium's) of extensions policy modules may ask for. */
const PREFERRED_IDS: Readonly<Record<string, number>> = {
  [HeaderExtensionUri.transportWideCc]: 3,
  [HeaderExtensionUri.absSendTime]: 2,
};

function video(name: string, parameters: Record<string, string>, pt: number, rtxPt: number, feedback: readonly RtcpFeedback[]): CodecCapability {
  return {
    kind: 'video',
    name,
    clockRate: 90000,
    parameters,
    rtcpFeedback: mapList(feedback, copyFeedback),
    rtx: true,
    preferredPayloadType: pt,
    preferredRtxPayloadType: rtxPt,
  };
}

function h264(profileLevelId: string, packetizationMode: '0' | '1', pt: number, rtxPt: number, feedback: readonly RtcpFeedback[]): CodecCapability {
  return video(
    'H264',
    { 'level-asymmetry-allowed': '1', 'packetization-mode': packetizationMode, 'profile-level-id': profileLevelId },
    pt,
    rtxPt,
    feedback,
  );
}

/**
 * Default codecs in preference order: opus/48000/2 (minptime=10;useinbandfec=1) for audio; VP8,
 * VP9 profile 0, H264 (42e01f and 42001f, packetization-mode 1 then 0) and AV1 for video, each
 * video codec with RTX. Every codec carries `rtcpFeedback` (default none): RTCPeerConnection passes
 * what its installed policy modules serve. Returns fresh objects the caller may modify.
 */
export function defaultCodecs(kind: RtpMediaKind, rtcpFeedback: readonly RtcpFeedback[] = []): CodecCapability[] {
  if (kind === 'audio') {
    return [
      {
        kind: 'audio',
        name: 'opus',
        clockRate: 48000,
        channels: 2,
        parameters: { minptime: '10', useinbandfec: '1' },
        rtcpFeedback: mapList(rtcpFeedback, copyFeedback),
        rtx: false,
        preferredPayloadType: 111,
      },
    ];
  }
  return [
    video('VP8', {}, 96, 97, rtcpFeedback),
    video('VP9', { 'profile-id': '0' }, 98, 99, rtcpFeedback),
    h264('42e01f', '1', 108, 109, rtcpFeedback),
    h264('42001f', '1', 102, 103, rtcpFeedback),
    h264('42e01f', '0', 114, 115, rtcpFeedback),
    h264('42001f', '0', 104, 105, rtcpFeedback),
    video('AV1', { 'level-idx': '5', profile: '0', tier: '0' }, 45, 46, rtcpFeedback),
  ];
}

/**
 * Default header extensions with Chromium's ids: mid (4) and abs-send-time (2) for both kinds (the
 * sender writes both); ssrc-audio-level (1) for audio; rtp-stream-id (10) and repaired-rtp-stream-id
 * (11) for video; plus `policyExtensions`, the URIs installed policy modules need (transport-wide-cc
 * gets id 3). No id maps to two URIs, so audio and video can share a BUNDLE group.
 */
export function defaultHeaderExtensions(kind: RtpMediaKind, policyExtensions: readonly string[] = []): HeaderExtensionCapability[] {
  const both: HeaderExtensionCapability[] = [
    { kind, uri: HeaderExtensionUri.mid, preferredId: 4 },
    { kind, uri: HeaderExtensionUri.absSendTime, preferredId: 2 },
  ];
  for (let i = 0; i < policyExtensions.length; i++) {
    const uri = policyExtensions[i]!;
    if (both.some((e) => e.uri === uri)) continue;
    const id = PREFERRED_IDS[uri];
    both.push(id !== undefined ? { kind, uri, preferredId: id } : { kind, uri });
  }
  if (kind === 'audio') return [{ kind, uri: HeaderExtensionUri.audioLevel, preferredId: 1 }, ...both];
  return [
    ...both,
    { kind, uri: HeaderExtensionUri.rtpStreamId, preferredId: 10 },
    { kind, uri: HeaderExtensionUri.repairedRtpStreamId, preferredId: 11 },
  ];
}
