// Public surface of lib/signaling: WHIP client and endpoint (RFC 9725), TCP/Unix-socket and
// copy-and-paste signalling channels with JSON {type, sdp} and trickled candidates (RFC 8838).
export { whipConnect, WhipError } from './whip-client.js';
export type { WhipPeer, WhipConnectOptions, WhipSession } from './whip-client.js';
export { createWhipHandler, WhipRejection } from './whip-server.js';
export type { WhipSessionHandler, WhipHandlerOptions } from './whip-server.js';
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
