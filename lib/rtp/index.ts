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
