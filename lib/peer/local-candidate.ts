// Our gathered ICE candidate (lib/ice) as the SDP model's candidate (lib/sdp), field by field: what
// parsing its `candidate:` line (RFC 8839 §5.1, RFC 6544 §4.5 tcptype) gives, without the parse.
import type { IceCandidate } from '../ice/candidate.js';
import type { SdpCandidate } from '../sdp/model.js';

/**
 * The SdpCandidate that `parseCandidate(formatCandidate(c))` (lib/sdp of lib/ice's line) gives, made
 * directly: our own candidates need no validation, and setLocalDescription writes each one into
 * the local description (docs/peer.md "Setup cost"; test/unit/peer/local-candidate.test.ts).
 */
export function sdpCandidateOf(c: IceCandidate): SdpCandidate {
  const out: SdpCandidate = {
    foundation: c.foundation,
    component: c.component,
    transport: c.protocol,
    priority: c.priority,
    address: c.address,
    port: c.port,
    type: c.type,
    extensions: c.ufrag ? [{ name: 'ufrag', value: c.ufrag }] : [],
  };
  // lib/ice writes `raddr`/`rport` only as a pair, and `tcptype`/`ufrag` only when not empty.
  if (c.relatedAddress !== undefined && c.relatedPort !== undefined) {
    out.relatedAddress = c.relatedAddress;
    out.relatedPort = c.relatedPort;
  }
  if (c.tcpType) out.tcpType = c.tcpType;
  return out;
}
