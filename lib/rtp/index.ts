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
