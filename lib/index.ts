// Public entry point of pure-webrtc-transport.
export * from './common/errors.js';
export { TypedEventEmitter } from './common/typed-emitter.js';
export type { EventMap } from './common/typed-emitter.js';
export type { Clock } from './common/clock.js';
export type { Rng } from './common/rng.js';
export { configureLogging, LOG_NAMESPACES } from './common/log.js';
export type { LogRecord, LogSink, LoggingOptions } from './common/log.js';
export { UdpSocket, UdpBatch, MAX_UDP_PAYLOAD } from './transport/source/udp-socket.js';
export type {
  UdpSocketOptions,
  UdpSocketStats,
  UdpAddressInfo,
  UdpDestination,
  UdpBatchListener,
} from './transport/source/udp-socket.js';
export { nativeBuildInfo } from './native/addon.js';
export type { NativeBuildInfo } from './native/addon.js';
export { releaseIdleMemory } from './native/release-idle-memory.js';
export type { IdleMemoryRelease } from './native/release-idle-memory.js';
export * from './rtp/index.js';
export * from './srtp/index.js';
export * from './dtls/index.js';
export * as sdp from './sdp/index.js';
export * from './peer/index.js';
export { SctpAssociation, DataChannelManager, Ppid } from './sctp/index.js';
export type {
  SctpAssociationOptions,
  SctpSendOptions,
  SctpAssociationState,
  SctpEvent,
  SctpStats,
  SctpWindowState,
  DataChannelManagerEvents,
  DataChannelManagerStats,
  RTCDataChannelEvent,
  RTCPriorityType,
} from './sctp/index.js';
export { IceTransport, parseIceServerUrl } from './transport/ice-transport.js';
export type {
  IceTransportOptions,
  IceServer,
  IceParameters,
  IceTransportEvents,
  IceGatherOptions,
  IceDataHandler,
  IceTransportStats,
} from './transport/ice-transport.js';
export { UdpMux } from './transport/source/udp-mux.js';
export type { UdpMuxOptions, UdpMuxStats } from './transport/source/udp-mux.js';
export { TcpMux } from './transport/source/tcp-mux.js';
export type { TcpMuxOptions, TcpMuxStats, TcpMuxDropReason } from './transport/source/tcp-mux.js';
// SFU forwarding over one shared port (docs/sfu.md).
export { Router, Producer, Consumer, mapConsumer, SfuCodecMismatchError, RouterWorkerPool, WorkerRoom, WorkerPipeTransport } from './sfu/index.js';
export type { ConsumeOptions, ProduceOptions, RouterStats, ProducerStats, ConsumerStats, ConsumerRemoteInboundStats, ForwardDropReason, ConsumerMapping, NegotiatedRtp, ConsumerLayers, PreferredLayers, ConsumerEvents } from './sfu/index.js';
// A router's options and events, a producer's events, the automatic layer choice's event and counters.
export { LAYER_POLL_INTERVAL_MS, AUTO_LAYER_INTERVAL_MS } from './sfu/index.js';
export type { RouterOptions, RouterEvents, ProducerEvents, TargetLayersChange, AutoLayerFeedbackStats, LayerSelectionFactory } from './sfu/index.js';
export type { RouterWorkerPoolOptions, RouterWorkerPoolEvents, RouterWorkerFailure, WorkerRoomEvents, WorkerProduceOptions, WorkerConsumeOptions, WorkerRoomStats, RouterWorkerStats, ReuseportHandoffStats } from './sfu/index.js';
// Plain RTP and pipe transports, cascading (docs/scaling.md).
export { PlainTransport, PipeTransport, PlainRtpTransport } from './sfu/index.js';
export type {
  PlainTransportOptions, PipeTransportOptions, PipeParameters, PipeSrtpProfile, PlainConsumeOptions, PlainProduceOptions,
  PlainRtpCodec, PlainRtpStream, PlainTransportStats, PlainTransportTuple,
} from './sfu/index.js';
export { IceAgent, MDNS_QUERY_TIMEOUT_MS } from './ice/ice-agent.js';
export type { IceAgentOptions, IceConnectionState, IceGatheringState, IceRole, IceSelectedPair, IceAgentEvent, IceRestartGathering } from './ice/ice-agent.js';
export { StunMessage, isStunMessage } from './ice/stun-message.js';
export { StunAttr, StunMethod, StunClass } from './ice/stun-constants.js';
export { TurnClient } from './ice/turn-client.js';
export { parseCandidate, formatCandidate, IceCandidateSyntaxError } from './ice/candidate.js';
export type { IceCandidate } from './ice/candidate.js';
export { UdpSrtpStatus } from './transport/source/udp-socket.js';
export type { UdpSrtpRoute } from './transport/source/udp-socket.js';
export { startEchoServer, EchoSession } from './echo/index.js';
export type { EchoServer, EchoServerOptions } from './echo/index.js';
export {
  whipConnect,
  WhipError,
  createWhipHandler,
  WhipRejection,
  listenTcpSignaling,
  connectTcpSignaling,
  listenUnixSignaling,
  connectUnixSignaling,
  CopyAndPasteSignaling,
  negotiateAsOfferer,
  negotiateAsAnswerer,
  SignalingClosedError,
} from './signaling/index.js';
export type { SignalingChannel, SignalingMessage, WhipSession } from './signaling/index.js';
export * from './policy/index.js';
