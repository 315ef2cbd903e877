// A remote description's ICE candidate (lib/sdp's model) as the candidate lib/ice's agent takes,
// field by field: what `parseCandidate(formatCandidate(c))` (lib/ice of lib/sdp's line) gives,
// without writing the line and splitting it again (RFC 8839 §5.1).
import { candidateFromFields, IceCandidateSyntaxError, type CandidateFields, type IceCandidate } from '../ice/candidate.js';
import type { SdpCandidate } from '../sdp/model.js';

/**
 * The IceCandidate lib/ice parses from lib/sdp's line of `c`, checked by lib/ice's rules (a
 * candidate lib/sdp accepts but ICE does not, such as priority 0 or an unknown type, throws
 * lib/ice's IceCandidateSyntaxError, as the line did). test/unit/peer/remote-candidate.test.ts.
 */
export function iceCandidateOf(c: SdpCandidate): IceCandidate {
  const fields: CandidateFields = {
    foundation: c.foundation,
    component: c.component,
    protocol: c.transport,
    priority: c.priority,
    address: c.address,
    port: c.port,
    type: c.type,
  };
  if (c.relatedAddress !== undefined) fields.relatedAddress = c.relatedAddress;
  if (c.relatedPort !== undefined) fields.relatedPort = c.relatedPort;
  if (c.tcpType !== undefined) fields.tcpType = c.tcpType;
  // lib/ice keeps the last `ufrag` extension of a line and ignores the others.
  for (const e of c.extensions) if (e.name.toLowerCase() === 'ufrag') fields.ufrag = e.value;
  return candidateFromFields(fields);
}

/**
 * The ICE candidate of `c`, or the IceCandidateSyntaxError that says why ICE cannot use it (an
 * FQDN host that is not `.local`, an unknown `typ`, priority 0, an address form lib/ice does not
 * know such as an IPv6 zone id). RFC 8839 §5.1: such a line is ignored, not an error of the
 * description; lib/peer skips and counts it (`pwtRemoteCandidatesIgnored`). Other errors throw.
 */
export function usableIceCandidateOf(c: SdpCandidate): IceCandidate | IceCandidateSyntaxError {
  try {
    return iceCandidateOf(c);
  } catch (err) {
    if (err instanceof IceCandidateSyntaxError) return err;
    throw err;
  }
}
