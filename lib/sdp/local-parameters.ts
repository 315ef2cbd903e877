// What the local side brings to an offer or answer: session identity, transport parameters
// (RFC 8839 ICE, RFC 8842 DTLS), and per-transceiver sender identity (RFC 5576 SSRCs, RFC 8830 msid).
import type { DtlsFingerprint, SdpCandidate, SdpMsid, SetupRole } from './model.js';

/** The `o=` identity of the local side (RFC 8829 §5.2.1: random id, version incremented per description). */
export interface LocalSessionParameters {
  /** Decimal session id (up to 63 bits; kept as text). */
  sessionId: string;
  /** Decimal session version; JSEP increments it for every new local description. */
  sessionVersion: string;
}

/** Local ICE and DTLS parameters, shared by every bundled m-section. */
export interface LocalTransportParameters {
  /** `a=ice-ufrag` (4..256 ice-chars, RFC 8839 §5.4). */
  iceUfrag: string;
  /** `a=ice-pwd` (22..256 ice-chars). */
  icePwd: string;
  /** Write `a=ice-lite` at session level. */
  iceLite?: boolean;
  /** `a=ice-options` tokens; default `['trickle']`. */
  iceOptions?: string[];
  /** Certificate fingerprints (at least one). */
  fingerprints: DtlsFingerprint[];
  /**
   * `a=setup`: offers default to `actpass`; answers default to `active` unless the offer forces
   * `passive`. In a subsequent answer on a live connection pass the role negotiated before, or
   * the DTLS association would be replaced (RFC 8842 §5.5).
   */
  setup?: SetupRole;
  /** Candidates gathered so far (written in the BUNDLE-tag section, or every section under `balanced`). */
  candidates?: SdpCandidate[];
  /** Gathering is complete: write `a=end-of-candidates`. */
  endOfCandidates?: boolean;
}

/** The local sender of a transceiver, when it has one: what the m-section announces about it. */
export interface LocalSenderDescription {
  /** RTCP CNAME of the sender (`a=ssrc:<ssrc> cname:`). */
  cname: string;
  /** Primary SSRC. */
  ssrc: number;
  /** RTX SSRC, paired with `ssrc-group:FID` when RTX is negotiated (RFC 4588 §8.4). */
  rtxSsrc?: number;
  /** `a=msid` entries: one per MediaStream the track belongs to (stream `-` for none). */
  msids: SdpMsid[];
}
