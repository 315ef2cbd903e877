// The messages between a RouterWorkerPool (main thread) and its router workers (docs/scaling.md
// "Routers on worker threads"): requests with an id, one reply each, and unsolicited events.
import type { MediaKind } from '../../peer/media-stream-track.js';
import type { ReuseportHandoffConfig, ReuseportHandoffStats } from '../../transport/source/udp-reuseport-handoff.js';
import type { ConsumerLayers, ConsumerStats, PreferredLayers } from '../consumer.js';
import type { PipeParameters, PipeTransportOptions } from '../pipe-transport.js';
import type { PlainProduceOptions, PlainRtpStream } from '../plain-rtp-transport.js';
import type { ProducerStats } from '../producer.js';
import type { RouterStats } from '../router.js';

/** How the workers' sockets are bound (set once by the pool). */
export interface RouterWorkerData {
  readonly index: number;
  readonly address: string;
  readonly announcedAddress?: string;
  readonly port: number;
  readonly reusePort: boolean;
  /** Shared-port hand-off (docs/scaling.md "One port across workers"); absent with a port per worker. */
  readonly handoff?: WorkerHandoffConfig;
}

/** What a worker needs to take part in the hand-off on a shared port. */
export type WorkerHandoffConfig = ReuseportHandoffConfig;

/** Options of a producer created through a worker room (see lib/sfu/router.ts ProduceOptions). */
export interface WorkerProduceOptions {
  ssrc?: number;
  cachePackets?: number;
}

/** Options of a consumer created through a worker room. */
export interface WorkerConsumeOptions {
  paused?: boolean;
  /** The layers to send (see lib/sfu/router.ts ConsumeOptions.preferredLayers). */
  preferredLayers?: PreferredLayers;
}

export type WorkerRequest =
  | { op: 'createRoom'; room: number }
  | { op: 'closeRoom'; room: number }
  | { op: 'answer'; room: number; offer: string }
  | { op: 'offer'; room: number; kinds: MediaKind[] }
  | { op: 'accept'; room: number; peer: number; answer: string }
  | { op: 'produce'; room: number; peer: number; mid: string; options: WorkerProduceOptions }
  | { op: 'consume'; room: number; producer: number; peer: number; mid: string; options: WorkerConsumeOptions }
  | { op: 'pause'; room: number; consumer: number }
  | { op: 'resume'; room: number; consumer: number }
  | { op: 'closeConsumer'; room: number; consumer: number }
  | { op: 'pauseProducer'; room: number; producer: number }
  | { op: 'resumeProducer'; room: number; producer: number }
  | { op: 'closeProducer'; room: number; producer: number }
  | { op: 'setPreferredLayers'; room: number; consumer: number; layers: PreferredLayers }
  | { op: 'requestKeyFrame'; room: number; producer: number }
  | { op: 'closePeer'; room: number; peer: number }
  | { op: 'roomStats'; room: number }
  | { op: 'createPipe'; room: number; options: PipeTransportOptions }
  | { op: 'connectPipe'; room: number; pipe: number; remote: PipeParameters }
  | { op: 'pipeProducer'; room: number; pipe: number; producer: number }
  | { op: 'produceFromPipe'; room: number; pipe: number; stream: PlainProduceOptions }
  | { op: 'closePipe'; room: number; pipe: number }
  | { op: 'workerStats' }
  | { op: 'shutdown' };

/** What each request resolves to. */
export interface WorkerReplies {
  createRoom: null;
  closeRoom: null;
  answer: { peer: number; answer: string };
  offer: { peer: number; offer: string };
  accept: null;
  produce: { producer: number; kind: MediaKind; ssrc: number };
  consume: { consumer: number; ssrc: number };
  pause: null;
  resume: null;
  closeConsumer: null;
  pauseProducer: null;
  resumeProducer: null;
  closeProducer: null;
  setPreferredLayers: { preferredLayers: PreferredLayers };
  requestKeyFrame: null;
  closePeer: null;
  roomStats: WorkerRoomStats;
  createPipe: { pipe: number; localParameters: PipeParameters };
  connectPipe: null;
  pipeProducer: { stream: PlainRtpStream };
  produceFromPipe: { producer: number; kind: MediaKind; ssrc: number };
  closePipe: null;
  workerStats: RouterWorkerStats;
  shutdown: null;
}

/** A typed error as it crosses the thread boundary (rebuilt as a PwtError on the main thread). */
export interface WorkerErrorData {
  name: string;
  code: string;
  message: string;
}

export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WorkerErrorData };

/** Unsolicited messages from a worker. */
export type WorkerEvent =
  | { event: 'ready'; local: { address: string; port: number } }
  | { event: 'peerstate'; room: number; peer: number; state: string }
  /** A consumer's layer switch completed (Consumer 'layerschange'). */
  | { event: 'layerschange'; room: number; consumer: number; layers: ConsumerLayers }
  /** A producer was made in the room (Router 'producer'): posted before the reply of the call that made it. */
  | { event: 'producer'; room: number; producer: number; peer?: number; pipe?: number; kind: MediaKind; ssrc: number }
  /** A producer closed (Producer 'close'), was paused or resumed (Producer 'pause' / 'resume'). */
  | { event: 'producerclose' | 'producerpause' | 'producerresume'; room: number; producer: number }
  /** A consumer closed (Consumer 'close'). */
  | { event: 'consumerclose'; room: number; consumer: number };

/** Stats of one room: the worker's router counters and the room's producers and consumers. */
export interface WorkerRoomStats {
  worker: number;
  router: RouterStats;
  producers: Record<number, ProducerStats>;
  consumers: Record<number, ConsumerStats>;
  peers: Record<number, { connectionState: string }>;
  /** Open pipe transports of the room. */
  pipes: number;
}

/** Counters of one worker: its port and, on a shared port, the hand-off. */
export interface RouterWorkerStats {
  worker: number;
  local: { address: string; port: number };
  rooms: number;
  peers: number;
  /** Datagrams the worker's port received, routed by address, by ufrag, and dropped as unknown. */
  datagramsReceived: number;
  routedByAddress: number;
  routedByUfrag: number;
  unknownSender: number;
  unknownUfrag: number;
  /** Router counters of the worker (all its rooms). */
  packetsReceived: number;
  packetsForwarded: number;
  /** Shared port only (absent with a port per worker): datagrams passed to their owner worker, received from others, lost. */
  handoff?: ReuseportHandoffStats;
}
