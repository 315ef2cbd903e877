// The rtcp-fb values (RFC 4585 §4.2, RFC 5104 §7.1, draft-holmer transport-cc, goog-remb) modules
// declare they serve; RTCPeerConnection offers exactly those of the installed modules.
import type { RtcpFeedback as SdpRtcpFeedback } from '../sdp/model.js';

/** rtcp-fb values by name. */
export const RtcpFeedback = {
  nack: { type: 'nack' },
  pli: { type: 'nack', parameter: 'pli' },
  fir: { type: 'ccm', parameter: 'fir' },
  transportCc: { type: 'transport-cc' },
  remb: { type: 'goog-remb' },
} as const satisfies Record<string, SdpRtcpFeedback>;
