// Public API of the RTP/RTCP packet library (RFC 3550, 8285, 4588, 4585, 5104, 8888, 3611).
export * from './errors.js';
export * from './demux.js';
export * from './rtp-packet.js';
export {
  ONE_BYTE_PROFILE,
  TWO_BYTE_PROFILE,
  type RtpHeaderExtension,
  type RtpHeaderExtensionForm,
} from './header-extension.js';
export * from './rtx.js';
export * from './extensions/uris.js';
export * from './extensions/sdes-id.js';
export * from './extensions/abs-send-time.js';
export * from './extensions/transport-cc.js';
export * from './extensions/audio-level.js';
export * from './extensions/abs-capture-time.js';
export * from './extensions/video-orientation.js';
export * from './extensions/playout-delay.js';
export * from './extensions/dependency-descriptor.js';
export * from './rtcp/compound.js';
export { RtcpPacketBase } from './rtcp/rtcp-packet-base.js';
export type { RtcpReportBlock } from './rtcp/report-block.js';
export * from './rtcp/sender-report.js';
export * from './rtcp/receiver-report.js';
export * from './rtcp/source-description.js';
export * from './rtcp/goodbye.js';
export * from './rtcp/application-defined.js';
export * from './rtcp/extended-report.js';
export { RtcpFeedbackBase, RTPFB, PSFB } from './rtcp/feedback-base.js';
export * from './rtcp/generic-nack.js';
export * from './rtcp/transport-cc-feedback.js';
export * from './rtcp/congestion-control-feedback.js';
export * from './rtcp/picture-loss-indication.js';
export * from './rtcp/full-intra-request.js';
export * from './rtcp/receiver-estimated-max-bitrate.js';
export * from './rtcp/unknown-feedback.js';
export * from './rtcp/raw-packet.js';
export * from './rtcp/ntp-time.js';
