// The JSON messages the socket and copy-and-paste signalling channels carry: descriptions
// `{type, sdp}` (RFC 8829 §5) and trickled candidates (RFC 8838 §4) `{type: 'candidate', candidate}`.

/** A candidate as `RTCIceCandidate.toJSON()` gives it; `candidate: ''` or null means end-of-candidates. */
export interface SignalingCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/** One signalling message. */
export type SignalingMessage =
  | { type: 'offer' | 'answer'; sdp: string }
  | { type: 'candidate'; candidate: SignalingCandidate | null }
  | { type: 'bye' };

/** Largest message a channel accepts (a big SDP is ~20 KiB). */
export const MAX_SIGNALING_MESSAGE_BYTES = 256 * 1024;

function isCandidate(v: unknown): v is SignalingCandidate {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return typeof c.candidate === 'string'
    && (c.sdpMid === undefined || c.sdpMid === null || typeof c.sdpMid === 'string')
    && (c.sdpMLineIndex === undefined || c.sdpMLineIndex === null || (Number.isInteger(c.sdpMLineIndex) && (c.sdpMLineIndex as number) >= 0))
    && (c.usernameFragment === undefined || c.usernameFragment === null || typeof c.usernameFragment === 'string');
}

/** Parses one JSON text; undefined for anything that is not a well-formed message (never throws). */
export function parseSignalingMessage(text: string): SignalingMessage | undefined {
  if (text.length > MAX_SIGNALING_MESSAGE_BYTES) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const m = v as Record<string, unknown>;
  if ((m.type === 'offer' || m.type === 'answer') && typeof m.sdp === 'string') return { type: m.type, sdp: m.sdp };
  if (m.type === 'candidate' && (m.candidate === null || isCandidate(m.candidate))) return { type: 'candidate', candidate: m.candidate };
  if (m.type === 'bye') return { type: 'bye' };
  return undefined;
}
