// The default codec and header-extension capabilities offered and accepted when the application
// declares none: what Chromium offers, minus codecs that need decoder-side features (RED, FEC).
import { HeaderExtensionUri, type CodecCapability, type HeaderExtensionCapability, type RtpMediaKind } from './capabilities.js';
import type { RtcpFeedback } from './model.js';

const VIDEO_FEEDBACK: readonly RtcpFeedback[] = [
  { type: 'goog-remb' },
  { type: 'transport-cc' },
  { type: 'ccm', parameter: 'fir' },
  { type: 'nack' },
  { type: 'nack', parameter: 'pli' },
];

function video(name: string, parameters: Record<string, string>, pt: number, rtxPt: number): CodecCapability {
  return {
    kind: 'video',
    name,
    clockRate: 90000,
    parameters,
    rtcpFeedback: VIDEO_FEEDBACK.map((f) => ({ ...f })),
    rtx: true,
    preferredPayloadType: pt,
    preferredRtxPayloadType: rtxPt,
  };
}

function h264(profileLevelId: string, packetizationMode: '0' | '1', pt: number, rtxPt: number): CodecCapability {
  return video(
    'H264',
    { 'level-asymmetry-allowed': '1', 'packetization-mode': packetizationMode, 'profile-level-id': profileLevelId },
    pt,
    rtxPt,
  );
}

/**
 * Default codecs in preference order: opus/48000/2 (minptime=10;useinbandfec=1) for audio; VP8,
 * VP9 profile 0, H264 (42e01f and 42001f, packetization-mode 1 then 0) and AV1 for video, each
 * video codec with RTX and rtcp-fb goog-remb, transport-cc, ccm fir, nack, nack pli.
 * Returns fresh objects the caller may modify.
 */
export function defaultCodecs(kind: RtpMediaKind): CodecCapability[] {
  if (kind === 'audio') {
    return [
      {
        kind: 'audio',
        name: 'opus',
        clockRate: 48000,
        channels: 2,
        parameters: { minptime: '10', useinbandfec: '1' },
        rtcpFeedback: [{ type: 'transport-cc' }],
        rtx: false,
        preferredPayloadType: 111,
      },
    ];
  }
  return [
    video('VP8', {}, 96, 97),
    video('VP9', { 'profile-id': '0' }, 98, 99),
    h264('42e01f', '1', 108, 109),
    h264('42001f', '1', 102, 103),
    h264('42e01f', '0', 114, 115),
    h264('42001f', '0', 104, 105),
    video('AV1', { 'level-idx': '5', profile: '0', tier: '0' }, 45, 46),
  ];
}

/**
 * Default header extensions with Chromium's ids: mid (4), abs-send-time (2), transport-wide-cc (3)
 * for both kinds; ssrc-audio-level (1) for audio; rtp-stream-id (10) and repaired-rtp-stream-id
 * (11) for video. No id maps to two URIs, so audio and video can share a BUNDLE group.
 */
export function defaultHeaderExtensions(kind: RtpMediaKind): HeaderExtensionCapability[] {
  const both: HeaderExtensionCapability[] = [
    { kind, uri: HeaderExtensionUri.mid, preferredId: 4 },
    { kind, uri: HeaderExtensionUri.absSendTime, preferredId: 2 },
    { kind, uri: HeaderExtensionUri.transportWideCc, preferredId: 3 },
  ];
  if (kind === 'audio') return [{ kind, uri: HeaderExtensionUri.audioLevel, preferredId: 1 }, ...both];
  return [
    ...both,
    { kind, uri: HeaderExtensionUri.rtpStreamId, preferredId: 10 },
    { kind, uri: HeaderExtensionUri.repairedRtpStreamId, preferredId: 11 },
  ];
}
