// Public entry point of pure-webrtc-transport.
export * from './common/errors.js';
export { TypedEventEmitter } from './common/typed-emitter.js';
export type { EventMap } from './common/typed-emitter.js';
export type { Clock } from './common/clock.js';
export type { Rng } from './common/rng.js';
export { UdpSocket, UdpBatch, MAX_UDP_PAYLOAD } from './transport/udp-socket.js';
export type {
  UdpSocketOptions,
  UdpSocketStats,
  UdpAddressInfo,
  UdpDestination,
  UdpBatchListener,
} from './transport/udp-socket.js';
export { loadAddon as loadNativeAddon } from './native/addon.js';
export * from './rtp/index.js';
export * from './srtp/index.js';
export * from './dtls/index.js';
export * as sdp from './sdp/index.js';
