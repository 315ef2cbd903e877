// W3C RTCRtpSendParameters for a raw-RTP sender and the rules of RTCRtpSender.setParameters
// (webrtc-pc §5.2: transactionId, read-only members, encoding checks). See docs/peer.md.
import type { RTCPriorityType } from '../sctp/dcep.js';
import { PeerError } from './session-description.js';

/** What the application may change per encoding; the sender keeps one per encoding (layer). */
export interface EncodingSettings {
  /** false: packets of this encoding are dropped and counted instead of sent. */
  active: boolean;
  /** Bits per second the application's encoder should stay under (we do not pace; see docs/peer.md). */
  maxBitrate?: number;
  /** Frames per second the application should stay under (video). */
  maxFramerate?: number;
  /** Factor the application should scale video down by (>= 1). */
  scaleResolutionDownBy?: number;
  /** W3C priority / networkPriority (default `low`); reported to the application, no DSCP marking. */
  priority: RTCPriorityType;
  networkPriority: RTCPriorityType;
}

/** W3C RTCRtpEncodingParameters, plus the SSRCs the encoding uses. */
export interface RTCRtpEncodingParameters extends EncodingSettings {
  readonly rid?: string;
  readonly ssrc: number;
  readonly rtx?: { readonly ssrc: number };
}

/** W3C RTCRtpCodecParameters. */
export interface RTCRtpCodecParameters {
  readonly payloadType: number;
  readonly mimeType: string;
  readonly clockRate: number;
}

/** W3C RTCRtpSendParameters. `codecs`, `headerExtensions`, `rtcp` and the SSRCs are read-only. */
export interface RTCRtpSendParameters {
  readonly transactionId: string;
  encodings: RTCRtpEncodingParameters[];
  readonly codecs: RTCRtpCodecParameters[];
  readonly headerExtensions: { readonly uri: string; readonly id: number }[];
  /** `cname` once negotiated (the one our SDP announces); `reducedSize`: RFC 5506 negotiated. */
  readonly rtcp: { readonly cname?: string; readonly reducedSize: boolean };
}

const PRIORITIES: readonly string[] = ['very-low', 'low', 'medium', 'high'];

/** The settings of a new encoding (webrtc-pc §5.1 addTransceiver defaults). */
export function defaultEncodingSettings(): EncodingSettings {
  return { active: true, priority: 'low', networkPriority: 'low' };
}

/** A deep copy of parameters, so what the application holds never aliases the sender's state. */
export function copySendParameters(p: RTCRtpSendParameters): RTCRtpSendParameters {
  return {
    transactionId: p.transactionId,
    encodings: p.encodings.map((e) => ({ ...e, ...(e.rtx ? { rtx: { ...e.rtx } } : {}) })),
    codecs: p.codecs.map((c) => ({ ...c })),
    headerExtensions: p.headerExtensions.map((h) => ({ ...h })),
    rtcp: { ...p.rtcp },
  };
}

function modification(message: string): PeerError {
  return new PeerError('InvalidModificationError', 'ERR_PEER_SEND_PARAMETERS', message);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function optionalNumber(e: RTCRtpEncodingParameters, key: 'maxBitrate' | 'maxFramerate' | 'scaleResolutionDownBy', min: number): number | undefined {
  const v: unknown = e[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new PeerError('RangeError', 'ERR_PEER_SEND_PARAMETERS', `encodings[].${key} must be a number >= ${min}, got ${String(v)}`);
  }
  return v;
}

/**
 * Checks `next` against the parameters last returned by getParameters (webrtc-pc §5.2
 * setParameters) and returns the new settings, one per encoding. Throws InvalidStateError when
 * getParameters was not called in this task (or its result was already used),
 * InvalidModificationError for another transactionId or a changed read-only member or encoding
 * count / rid / SSRC, RangeError for scaleResolutionDownBy < 1 or a negative maxBitrate /
 * maxFramerate, TypeError for an unknown priority. Audio drops scaleResolutionDownBy and
 * maxFramerate (they do not apply).
 */
export function checkSendParameters(kind: 'audio' | 'video', last: RTCRtpSendParameters | undefined, next: RTCRtpSendParameters): EncodingSettings[] {
  if (!last) {
    throw new PeerError('InvalidStateError', 'ERR_PEER_SEND_PARAMETERS', 'setParameters needs the result of getParameters() from the same task');
  }
  if (!next || typeof next !== 'object' || !Array.isArray(next.encodings)) throw new PeerError('TypeError', 'ERR_PEER_SEND_PARAMETERS', 'setParameters takes RTCRtpSendParameters');
  if (next.transactionId !== last.transactionId) throw modification('transactionId does not match the last getParameters()');
  if (!sameJson(next.codecs, last.codecs) || !sameJson(next.headerExtensions, last.headerExtensions) || !sameJson(next.rtcp, last.rtcp)) {
    throw modification('codecs, headerExtensions and rtcp are read-only');
  }
  if (next.encodings.length !== last.encodings.length) throw modification('the number of encodings cannot change');
  return next.encodings.map((e, i) => {
    const before = last.encodings[i]!;
    if (e.rid !== before.rid || e.ssrc !== before.ssrc || e.rtx?.ssrc !== before.rtx?.ssrc) throw modification(`encodings[${i}]: rid and SSRCs are read-only`);
    for (const key of ['priority', 'networkPriority'] as const) {
      if (!PRIORITIES.includes(e[key])) throw new PeerError('TypeError', 'ERR_PEER_SEND_PARAMETERS', `encodings[${i}].${key}: unknown priority ${String(e[key])}`);
    }
    const settings: EncodingSettings = { active: e.active !== false, priority: e.priority, networkPriority: e.networkPriority };
    const maxBitrate = optionalNumber(e, 'maxBitrate', 0);
    if (maxBitrate !== undefined) settings.maxBitrate = maxBitrate;
    if (kind === 'video') {
      const maxFramerate = optionalNumber(e, 'maxFramerate', 0);
      if (maxFramerate !== undefined) settings.maxFramerate = maxFramerate;
      const scale = optionalNumber(e, 'scaleResolutionDownBy', 1);
      if (scale !== undefined) settings.scaleResolutionDownBy = scale;
    }
    return settings;
  });
}
