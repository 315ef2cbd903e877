// WorkerRoom: the main thread's handle on a room that lives on a router worker (docs/scaling.md
// "Routers on worker threads"). Every method is one async message to the worker; errors come back
// typed; when the worker fails the room fails and every call rejects instead of hanging.
import { InvalidStateError, type PwtError } from '../../common/errors.js';
import { TypedEventEmitter } from '../../common/typed-emitter.js';
import type { MediaKind } from '../../peer/media-stream-track.js';
import type { ConsumerLayers, PreferredLayers } from '../consumer.js';
import type { PipeTransportOptions } from '../pipe-transport.js';
import type { RouterWorkerHandle } from './router-worker-pool.js';
import { WorkerPipeTransport } from './worker-pipe-transport.js';
import type { WorkerConsumeOptions, WorkerEvent, WorkerProduceOptions, WorkerReplies, WorkerRequest, WorkerRoomStats } from './worker-protocol.js';

/** Events of {@link WorkerRoom}. */
export type WorkerRoomEvents = {
  /** A peer connection of the room changed `connectionState` (webrtc-pc names). */
  peerstatechange: [{ peer: number; state: string }];
  /** A consumer's layer switch completed on the worker (Consumer 'layerschange'): the layers now sent. */
  layerschange: [{ consumer: number; layers: ConsumerLayers }];
  /**
   * A producer was made in the room (`produce()`, a pipe's `produceFromPipe()`; the Router's
   * 'producer'): `peer` or `pipe` says whose. Fired before the call that made it resolves, once per producer.
   */
  producer: [{ producer: number; peer?: number; pipe?: number; kind: MediaKind; ssrc: number }];
  /**
   * A producer closed (`closeProducer()`, its peer or pipe closed): its consumers stay open and send
   * nothing (the Consumer's 'producerclose'); close them or consume another producer on their mid.
   * Fired once. After `close()` the room fires nothing more, this included.
   */
  producerclose: [{ producer: number }];
  /** A producer was paused or resumed (`pauseProducer()` / `resumeProducer()`; its consumers follow). */
  producerpause: [{ producer: number }];
  producerresume: [{ producer: number }];
  /** A consumer closed (`closeConsumer()`, its peer closed, or a `consume()` replaced it on its mid). Fired once. */
  consumerclose: [{ consumer: number }];
  /** The room's worker failed: the room is gone. */
  failed: [PwtError];
};

/** A room on a router worker: peers (by SDP), producers and consumers, by number. */
export class WorkerRoom extends TypedEventEmitter<WorkerRoomEvents> {
  /** The room's id in its pool. */
  readonly id: number;
  private closedValue = false;
  private failure: PwtError | undefined;
  /** @internal Run when the room closes or fails (the pool closes the pipe pairs that reach it). */
  readonly closeHooks = new Set<() => Promise<void>>();

  /** @internal */
  constructor(
    private readonly host: RouterWorkerHandle,
    id: number,
  ) {
    super();
    this.id = id;
  }

  /** Index of the worker the room lives on. */
  get worker(): number {
    return this.host.index;
  }

  /** The port the room's peers connect to (in their ICE candidates). */
  get local(): { address: string; port: number } {
    return { ...this.host.local };
  }

  get closed(): boolean {
    return this.closedValue;
  }

  /** Adds a peer from its SDP offer (e.g. a publisher's); resolves with its id and the answer. */
  answer(offer: string): Promise<{ peer: number; answer: string }> {
    return this.call({ op: 'answer', room: this.id, offer });
  }

  /** Adds a peer the server offers to (a subscriber), with one send-only transceiver per kind. */
  offer(kinds: MediaKind[]): Promise<{ peer: number; offer: string }> {
    return this.call({ op: 'offer', room: this.id, kinds: [...kinds] });
  }

  /** Applies the answer of a peer created by {@link WorkerRoom.offer}. */
  async accept(peer: number, answer: string): Promise<void> {
    await this.call({ op: 'accept', room: this.id, peer, answer });
  }

  /** Forwards what the peer sends on the transceiver `mid` (waits until the peer is connected). */
  produce(peer: number, mid: string, options: WorkerProduceOptions = {}): Promise<{ producer: number; kind: MediaKind; ssrc: number }> {
    return this.call({ op: 'produce', room: this.id, peer, mid, options: { ...options } });
  }

  /** Sends `producer` to the peer on its transceiver `mid`; resolves with the consumer's id and SSRC. */
  consume(producer: number, peer: number, mid: string, options: WorkerConsumeOptions = {}): Promise<{ consumer: number; ssrc: number }> {
    return this.call({ op: 'consume', room: this.id, producer, peer, mid, options: { ...options } });
  }

  async pause(consumer: number): Promise<void> {
    await this.call({ op: 'pause', room: this.id, consumer });
  }

  async resume(consumer: number): Promise<void> {
    await this.call({ op: 'resume', room: this.id, consumer });
  }

  /** Closes a consumer (Consumer.close(); 'consumerclose' follows). Idempotent: a closed id is a no-op. */
  async closeConsumer(consumer: number): Promise<void> {
    await this.call({ op: 'closeConsumer', room: this.id, consumer });
  }

  /**
   * Pauses a producer (Producer.pause()): none of its consumers is sent anything until
   * {@link WorkerRoom.resumeProducer}; the worker still receives and caches the stream. No-op when
   * paused; 'producerpause' follows a change. A closed producer rejects with `ERR_SFU_PRODUCER_CLOSED`.
   */
  async pauseProducer(producer: number): Promise<void> {
    await this.call({ op: 'pauseProducer', room: this.id, producer });
  }

  /** Resumes a producer (Producer.resume(): a video producer's publisher is asked for a key frame); 'producerresume' follows a change. */
  async resumeProducer(producer: number): Promise<void> {
    await this.call({ op: 'resumeProducer', room: this.id, producer });
  }

  /** Closes a producer (Producer.close(); 'producerclose' follows). Idempotent: a closed id is a no-op. */
  async closeProducer(producer: number): Promise<void> {
    await this.call({ op: 'closeProducer', room: this.id, producer });
  }

  /**
   * Changes the layers a consumer asks for (Consumer.setPreferredLayers on the worker); resolves with
   * the preference in force. A layer outside the producer's rejects with RangeError `ERR_SFU_LAYER`;
   * 'layerschange' follows when the switch completes.
   */
  async setPreferredLayers(consumer: number, layers: PreferredLayers): Promise<PreferredLayers> {
    const { preferredLayers } = await this.call({ op: 'setPreferredLayers', room: this.id, consumer, layers: { ...layers } });
    return preferredLayers;
  }

  /** Asks the producer's publisher for a keyframe (merged with recent requests, docs/sfu.md). */
  async requestKeyFrame(producer: number): Promise<void> {
    await this.call({ op: 'requestKeyFrame', room: this.id, producer });
  }

  /** Closes one peer connection (its producers and consumers end with it). */
  async closePeer(peer: number): Promise<void> {
    await this.call({ op: 'closePeer', room: this.id, peer });
  }

  /** The worker router's counters and this room's producers, consumers and peers. */
  stats(): Promise<WorkerRoomStats> {
    return this.call({ op: 'roomStats', room: this.id });
  }

  /**
   * Creates a pipe transport on the room's worker (docs/scaling.md "Pipes between workers"): connect it
   * to another room's pipe (any worker of any pool, or a router on another host) to carry producers across.
   */
  async createPipeTransport(options: PipeTransportOptions): Promise<WorkerPipeTransport> {
    const { pipe, localParameters } = await this.call({ op: 'createPipe', room: this.id, options: { ...options } });
    return new WorkerPipeTransport(this, pipe, localParameters);
  }

  /** Closes every peer of the room. Idempotent; resolves once the worker has done it. */
  async close(): Promise<void> {
    if (this.closedValue) return;
    this.closedValue = true;
    this.host.rooms.delete(this);
    if (!this.failure) await this.host.request({ op: 'closeRoom', room: this.id });
    await this.runCloseHooks();
  }

  private async runCloseHooks(): Promise<void> {
    const hooks = [...this.closeHooks];
    this.closeHooks.clear();
    await Promise.all(hooks.map((h) => h().catch(() => undefined)));
  }

  /** @internal */
  peerState(peer: number, state: string): void {
    this.safeEmit('peerstatechange', { peer, state });
  }

  /** @internal */
  layersChange(consumer: number, layers: ConsumerLayers): void {
    this.safeEmit('layerschange', { consumer, layers });
  }

  /** @internal A producer or consumer event posted by the worker. */
  objectEvent(m: Extract<WorkerEvent, { event: 'producer' | 'producerclose' | 'producerpause' | 'producerresume' | 'consumerclose' }>): void {
    switch (m.event) {
      case 'producer': {
        const { event: _e, room: _r, ...producer } = m;
        this.safeEmit('producer', producer);
        break;
      }
      case 'consumerclose':
        this.safeEmit('consumerclose', { consumer: m.consumer });
        break;
      default:
        this.safeEmit(m.event, { producer: m.producer });
    }
  }

  /** @internal The worker failed. */
  fail(err: PwtError): void {
    if (this.failure) return;
    this.failure = err;
    this.safeEmit('failed', err);
    void this.runCloseHooks();
  }

  /** @internal The pool closed. */
  markClosed(): void {
    this.closedValue = true;
  }

  /** @internal One request about this room (rejects once the room is closed or failed). */
  request<K extends WorkerRequest['op']>(request: Extract<WorkerRequest, { op: K }>): Promise<WorkerReplies[K]> {
    return this.call(request);
  }

  private call<K extends WorkerRequest['op']>(request: Extract<WorkerRequest, { op: K }>): Promise<WorkerReplies[K]> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closedValue) return Promise.reject(new InvalidStateError('ERR_WORKER_ROOM_CLOSED', `room ${this.id} is closed`));
    return this.host.request(request);
  }
}
