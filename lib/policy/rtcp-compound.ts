// Wraps feedback for sending: a compound packet starts with a report and carries SDES CNAME
// (RFC 3550 §6.1, RFC 4585 §3.1) unless reduced-size RTCP was negotiated (RFC 5506 §3).
import type { RtcpPacket } from '../rtp/rtcp/compound.js';
import { RtcpReceiverReport } from '../rtp/rtcp/receiver-report.js';
import { RtcpSourceDescription } from '../rtp/rtcp/source-description.js';
import type { RtpPolicyParameters } from '../peer/rtp-policy.js';

/** `feedback` as it may be sent under `params`: alone with reduced-size RTCP, else after an empty RR and SDES. */
export function feedbackPacket(params: RtpPolicyParameters, feedback: RtcpPacket[]): RtcpPacket[] {
  if (params.reducedSizeRtcp) return feedback;
  return [new RtcpReceiverReport({ ssrc: params.localSsrc }), RtcpSourceDescription.cname(params.localSsrc, params.cname), ...feedback];
}
