// Public surface of lib/signaling: WHIP/WHEP client and endpoint (RFC 9725, RFC 8840 fragments),
// TCP/Unix-socket and copy-and-paste channels with JSON {type, sdp} and trickled candidates (RFC 8838).
export { whipConnect, WhipError, parseIceServerLinks, splitIceServers } from './whip-client.js';
export type { WhipPeer, WhipConnectOptions, WhipSession, WhipCandidate } from './whip-client.js';
export { createWhipHandler, WhipRejection, iceServerLinks } from './whip-server.js';
export type { WhipSessionHandler, WhipHandlerOptions, WhipIceServer, WhipRequestListener } from './whip-server.js';
export { parseIceFragment, formatIceFragment, iceFragmentOf, applyIceFragment, ICE_FRAGMENT_TYPE } from './ice-fragment.js';
export type { IceFragment, IceFragmentMedia } from './ice-fragment.js';
export { parseSignalingMessage, MAX_SIGNALING_MESSAGE_BYTES } from './signaling-message.js';
export type { SignalingMessage, SignalingCandidate } from './signaling-message.js';
export { SignalingClosedError, SIGNALING_QUEUE_LIMIT } from './message-queue.js';
export type { SignalingDrops } from './message-queue.js';
export {
  SocketSignaling, SignalingListener, listenTcpSignaling, connectTcpSignaling, listenUnixSignaling, connectUnixSignaling,
} from './socket-signaling.js';
export type { SignalingChannel } from './socket-signaling.js';
export { CopyAndPasteSignaling } from './copy-paste-signaling.js';
export { negotiateAsOfferer, negotiateAsAnswerer } from './negotiate.js';
export type { NegotiateOptions } from './negotiate.js';
