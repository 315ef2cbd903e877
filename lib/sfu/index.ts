// lib/sfu: forwarding rooms over peer connections on one shared port (docs/sfu.md).
export { Router } from './router.js';
export { LAYER_POLL_INTERVAL_MS } from './router.js';
export type { ConsumeOptions, ProduceOptions, RouterStats } from './router.js';
export { Producer } from './producer.js';
export type { ProducerStats } from './producer.js';
export { Consumer } from './consumer.js';
export type { ConsumerEvents, ConsumerLayers, ConsumerStats, ForwardDropReason, PreferredLayers } from './consumer.js';
export { mapConsumer, SfuCodecMismatchError } from './rtp-mapping.js';
export type { ConsumerMapping, NegotiatedRtp } from './rtp-mapping.js';
export { PlainTransport } from './plain-transport.js';
export type { PlainTransportOptions } from './plain-transport.js';
export { PipeTransport } from './pipe-transport.js';
export type { PipeParameters, PipeSrtpProfile, PipeTransportOptions } from './pipe-transport.js';
export { PlainRtpTransport } from './plain-rtp-transport.js';
export type { PlainConsumeOptions, PlainProduceOptions, PlainRtpCodec, PlainRtpStream, PlainTransportStats, PlainTransportTuple } from './plain-rtp-transport.js';
export { RouterWorkerPool, WorkerRoom, WorkerPipeTransport } from './worker/index.js';
export type { RouterWorkerPoolOptions, RouterWorkerPoolEvents, RouterWorkerFailure, WorkerRoomEvents, WorkerProduceOptions, WorkerConsumeOptions, WorkerRoomStats, RouterWorkerStats, ReuseportHandoffStats } from './worker/index.js';
