// lib/sfu: forwarding rooms over peer connections on one shared port (docs/sfu.md).
export { Router } from './router.js';
export type { ConsumeOptions, ProduceOptions, RouterStats } from './router.js';
export { Producer } from './producer.js';
export type { ProducerStats } from './producer.js';
export { Consumer } from './consumer.js';
export type { ConsumerStats, ForwardDropReason } from './consumer.js';
export { mapConsumer, SfuCodecMismatchError } from './rtp-mapping.js';
export type { ConsumerMapping, NegotiatedRtp } from './rtp-mapping.js';
export { PlainTransport } from './plain-transport.js';
export type { PlainTransportOptions } from './plain-transport.js';
export { PipeTransport } from './pipe-transport.js';
export type { PipeParameters, PipeSrtpProfile, PipeTransportOptions } from './pipe-transport.js';
export { PlainRtpTransport } from './plain-rtp-transport.js';
export type { PlainConsumeOptions, PlainProduceOptions, PlainRtpCodec, PlainRtpStream, PlainTransportStats, PlainTransportTuple } from './plain-rtp-transport.js';
