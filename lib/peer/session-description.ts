// RTCSessionDescription and RTCIceCandidate as plain W3C shapes (webrtc-pc §4.8.1, §4.8.2) plus
// the typed errors RTCPeerConnection throws for misuse (DOMException names, stable codes).
import { PwtError, type PwtErrorName } from '../common/errors.js';

/** W3C RTCSdpType. */
export type RTCSdpType = 'offer' | 'answer' | 'pranswer' | 'rollback';

/** W3C RTCSessionDescriptionInit. */
export interface RTCSessionDescriptionInit {
  type: RTCSdpType;
  sdp?: string;
}

/** W3C RTCSessionDescription: a type and the SDP text. */
export class RTCSessionDescription {
  readonly type: RTCSdpType;
  readonly sdp: string;

  constructor(init: RTCSessionDescriptionInit) {
    this.type = init.type;
    this.sdp = init.sdp ?? '';
  }

  /** The RTCSessionDescriptionInit form (what signaling sends). */
  toJSON(): RTCSessionDescriptionInit {
    return { type: this.type, sdp: this.sdp };
  }
}

/** W3C RTCIceCandidateInit. */
export interface RTCIceCandidateInit {
  /** `candidate:...` without `a=`; the empty string means end-of-candidates. */
  candidate?: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/** W3C RTCIceCandidate (the fields signaling needs). */
export class RTCIceCandidate {
  readonly candidate: string;
  readonly sdpMid: string | null;
  readonly sdpMLineIndex: number | null;
  readonly usernameFragment: string | null;

  constructor(init: RTCIceCandidateInit = {}) {
    this.candidate = init.candidate ?? '';
    this.sdpMid = init.sdpMid ?? null;
    this.sdpMLineIndex = init.sdpMLineIndex ?? null;
    this.usernameFragment = init.usernameFragment ?? null;
  }

  /** The RTCIceCandidateInit form. */
  toJSON(): RTCIceCandidateInit {
    return { candidate: this.candidate, sdpMid: this.sdpMid, sdpMLineIndex: this.sdpMLineIndex, usernameFragment: this.usernameFragment };
  }
}

/** A misuse error of the peer-connection API with a DOMException name and an ERR_PEER_* code. */
export class PeerError extends PwtError {
  constructor(name: PwtErrorName, code: string, message: string, options?: { cause?: unknown }) {
    super(name, code, message, options);
  }
}
