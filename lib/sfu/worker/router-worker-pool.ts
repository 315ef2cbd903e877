// RouterWorkerPool: SFU routers on N worker threads, driven from the main thread (docs/scaling.md
// "Routers on worker threads"). Each worker owns its port (or, with `sharedPort`, all share one
// public port and hand datagrams to their owner, docs/scaling.md "One port across workers"), its peer
// connections and its Router; signaling and the application's policy stay here, as messages.
import { createSocket } from 'node:dgram';
import { Worker } from 'node:worker_threads';
import { InvalidArgumentError, InvalidStateError, OperationError, OutOfRangeError, PwtError, type PwtErrorName } from '../../common/errors.js';
import { TypedEventEmitter } from '../../common/typed-emitter.js';
import { closeHandoffChannel, createHandoffChannel, steeringReleaseOwner, type NativeHandoffChannel } from '../../native/reuseport-handoff.js';
import { ReuseportHandoff } from '../../transport/source/udp-reuseport-handoff.js';
import type { RouterWorkerData, RouterWorkerStats, WorkerEvent, WorkerReply, WorkerReplies, WorkerRequest } from './worker-protocol.js';
import type { MediaKind } from '../../peer/media-stream-track.js';
import type { WorkerPipeTransport } from './worker-pipe-transport.js';
import { WorkerRoom } from './worker-room.js';

/** Options of {@link RouterWorkerPool.create}. */
export interface RouterWorkerPoolOptions {
  /** Worker threads (1..64); one per core is the usual choice. */
  workers: number;
  /** Local address every worker binds (a concrete address unless `announcedAddress` is set). */
  address: string;
  /** Address announced in host candidates (public IP behind 1:1 NAT). */
  announcedAddress?: string;
  /**
   * Port. With a port per worker (the default), worker i binds `port + i` (0: each an ephemeral
   * port). With `sharedPort`, every worker binds this one port (0: a port no socket uses now).
   */
  port?: number;
  /** One public port for all workers (SO_REUSEPORT plus the native hand-off). Default false. */
  sharedPort?: boolean;
  /**
   * With `sharedPort`: flows (ufrags and remote addresses; about 3 per connection) the steering table
   * holds, 1024..1048576, default 65536 (32 bytes each, shared by all workers).
   */
  steeringEntries?: number;
  /**
   * With `sharedPort`: connected flow sockets per worker, 0..65536, default 1024 (docs/scaling.md
   * "Connected flow sockets"). Each established flow gets a socket connect()ed to its remote, so the
   * kernel delivers it to its worker without a hand-off; each costs a file descriptor. Flows past the
   * limit stay on the hand-off. 0: every flow uses the hand-off.
   */
  flowSockets?: number;
}

/** Why a worker stopped serving its rooms. */
export interface RouterWorkerFailure {
  readonly worker: number;
  readonly error: PwtError;
}

/** Events of {@link RouterWorkerPool}. */
export type RouterWorkerPoolEvents = {
  /** A worker crashed or exited: its rooms have failed, their pending calls were rejected. */
  workerfailed: [RouterWorkerFailure];
};

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: PwtError) => void;
}

/** @internal One worker thread and the calls in flight to it. */
export class RouterWorkerHandle {
  readonly index: number;
  /** The worker's bound port (after `ready`). */
  local: { address: string; port: number } = { address: '', port: 0 };
  failure: PwtError | undefined;
  readonly rooms = new Set<WorkerRoom>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopping = false;
  private readonly readyPromise: Promise<void>;

  constructor(
    index: number,
    readonly worker: Worker,
    private readonly onFailure: (h: RouterWorkerHandle, err: PwtError) => void,
  ) {
    this.index = index;
    this.readyPromise = this.waitReady();
    // Observed by create(); a failure before ready must not also surface as an unhandled rejection.
    this.readyPromise.catch(() => undefined);
    worker.on('message', (m: WorkerReply | WorkerEvent) => this.onMessage(m));
    worker.on('error', (err: Error) => this.fail(new OperationError('ERR_WORKER_FAILED', `router worker ${index} failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code: number) => {
      if (!this.stopping) this.fail(new OperationError('ERR_WORKER_FAILED', `router worker ${index} exited with code ${code}`));
    });
  }

  /** Resolves once the worker's `ready` event came (its port is bound); rejects if it failed first. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  private waitReady(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onMessage = (m: WorkerReply | WorkerEvent): void => {
        if ('event' in m && m.event === 'ready') {
          this.worker.off('message', onMessage);
          this.worker.off('exit', onExit);
          this.worker.off('error', onError);
          resolve();
        }
      };
      const onExit = (): void => reject(this.failure ?? new OperationError('ERR_WORKER_FAILED', `router worker ${this.index} exited before it was ready`));
      const onError = (err: Error): void => reject(new OperationError('ERR_WORKER_FAILED', `router worker ${this.index} failed to start: ${err.message}`, { cause: err }));
      this.worker.on('message', onMessage);
      this.worker.once('exit', onExit);
      this.worker.once('error', onError);
    });
  }

  /** Sends one request; resolves with its reply or rejects with the worker's typed error. */
  request<K extends WorkerRequest['op']>(request: Extract<WorkerRequest, { op: K }>): Promise<WorkerReplies[K]> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.stopping) return Promise.reject(new InvalidStateError('ERR_WORKER_POOL_CLOSED', 'the worker pool is closed'));
    const id = this.nextId++;
    return new Promise<WorkerReplies[K]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, request });
    });
  }

  /** Asks the worker to close its connections and port, then ends the thread. */
  async stop(timeoutMs: number): Promise<void> {
    if (!this.failure && !this.stopping) {
      const done = this.request({ op: 'shutdown' }).catch(() => undefined);
      this.stopping = true;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    }
    this.stopping = true;
    await this.worker.terminate();
    this.rejectAll(new InvalidStateError('ERR_WORKER_POOL_CLOSED', 'the worker pool is closed'));
  }

  private onMessage(m: WorkerReply | WorkerEvent): void {
    if ('event' in m) {
      if (m.event === 'ready') {
        this.local = m.local;
      } else if (m.event === 'peerstate') {
        for (const r of this.rooms) if (r.id === m.room) r.peerState(m.peer, m.state);
      } else if (m.event === 'layerschange') {
        for (const r of this.rooms) if (r.id === m.room) r.layersChange(m.consumer, m.layers);
      } else {
        for (const r of this.rooms) if (r.id === m.room) r.objectEvent(m);
      }
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.ok) p.resolve(m.value);
    else p.reject(new PwtError(m.error.name as PwtErrorName, m.error.code, m.error.message));
  }

  private fail(err: PwtError): void {
    if (this.failure || this.stopping) return;
    this.failure = err;
    this.rejectAll(err);
    this.onFailure(this, err);
  }

  private rejectAll(err: PwtError): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

/**
 * A port no socket uses now on `address`, from a bind without SO_REUSEPORT. A SO_REUSEPORT bind to
 * port 0 would not do: Linux may then pick a port that another SO_REUSEPORT socket of the same user
 * already has, and the workers would silently join that socket's group and share its traffic.
 */
async function freePort(address: string): Promise<number> {
  const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address, port: 0, exclusive: true }, () => resolve());
    });
    return socket.address().port;
  } catch (err) {
    throw new OperationError('ERR_WORKER_PORT', `no free UDP port on ${address}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    socket.close();
  }
}

/** Starts the worker script: the compiled .js next to this file, or the .ts source under tsx. */
function startWorker(data: RouterWorkerData): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    // Running from source (tests, benchmarks): a worker does not inherit tsx's loader, so register it first.
    const entry = new URL('./router-worker.ts', here).href;
    const code = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(entry)}); })`;
    return new Worker(code, { eval: true, workerData: data });
  }
  return new Worker(new URL('./router-worker.js', here), { workerData: data });
}

/** N router worker threads; create rooms on them and drive them with async calls. */
export class RouterWorkerPool extends TypedEventEmitter<RouterWorkerPoolEvents> {
  private readonly handles: RouterWorkerHandle[];
  private readonly steering: Int32Array | undefined;
  private readonly channels: NativeHandoffChannel[];
  private nextRoom = 1;
  private nextWorker = 0;
  private closedValue = false;
  /** Pipe pairs made by pipeProducer(), by "from>to" room ids; reused while both ends are open. */
  private readonly pipePairs = new Map<string, Promise<{ from: WorkerPipeTransport; to: WorkerPipeTransport }>>();

  private constructor(handles: RouterWorkerHandle[], steering: Int32Array | undefined, channels: NativeHandoffChannel[]) {
    super();
    this.handles = handles;
    this.steering = steering;
    this.channels = channels;
  }

  /** Starts the workers and binds their ports; rejects (and stops them) if any cannot start. */
  static async create(options: RouterWorkerPoolOptions): Promise<RouterWorkerPool> {
    const n = options.workers;
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new OutOfRangeError('ERR_WORKER_COUNT', 'workers must be an integer in 1..64');
    if (typeof options.address !== 'string' || options.address === '') throw new InvalidArgumentError('ERR_WORKER_ADDRESS', 'address must be a local IP address');
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535 || (!options.sharedPort && port !== 0 && port + n - 1 > 65535)) {
      throw new OutOfRangeError('ERR_WORKER_PORT', 'port must be an integer in 0..65535 (and port + workers - 1 <= 65535)');
    }
    const entries = options.steeringEntries ?? 65536;
    if (!Number.isInteger(entries) || entries < 1024 || entries > 1048576) throw new OutOfRangeError('ERR_WORKER_STEERING', 'steeringEntries must be an integer in 1024..1048576');
    let pool: RouterWorkerPool | undefined;
    const handles: RouterWorkerHandle[] = [];
    const onFailure = (h: RouterWorkerHandle, err: PwtError): void => pool?.workerFailed(h, err);
    // Shared port: the steering table and one channel per worker, owned here until every worker has exited.
    const flowSockets = options.flowSockets ?? ReuseportHandoff.defaultFlowSockets;
    if (!Number.isInteger(flowSockets) || flowSockets < 0 || flowSockets > 65536) throw new OutOfRangeError('ERR_WORKER_FLOW_SOCKETS', 'flowSockets must be an integer in 0..65536');
    const shared = options.sharedPort === true;
    const table = shared ? ReuseportHandoff.createTable(entries) : undefined;
    const channels: NativeHandoffChannel[] = [];
    try {
      if (shared) for (let i = 0; i < n; i++) channels.push(createHandoffChannel(4 * 1024 * 1024));
      const sharedPort = shared && port === 0 ? await freePort(options.address) : port;
      for (let i = 0; i < n; i++) {
        const data: RouterWorkerData = {
          index: i,
          address: options.address,
          ...(options.announcedAddress !== undefined ? { announcedAddress: options.announcedAddress } : {}),
          port: shared ? sharedPort : port === 0 ? 0 : port + i,
          reusePort: shared,
          ...(table ? { handoff: { table, inboxFd: channels[i]!.readFd, outboxFds: channels.map((c) => c.writeFd), flowSockets } } : {}),
        };
        handles.push(new RouterWorkerHandle(i, startWorker(data), onFailure));
      }
      await Promise.all(handles.map((h) => h.ready()));
    } catch (err) {
      await Promise.all(handles.map((h) => h.stop(0)));
      for (const c of channels) closeHandoffChannel(c);
      throw err;
    }
    pool = new RouterWorkerPool(handles, table ? new Int32Array(table) : undefined, channels);
    return pool;
  }

  /** Number of workers. */
  get size(): number {
    return this.handles.length;
  }

  get closed(): boolean {
    return this.closedValue;
  }

  /** The port each worker serves, by worker index. */
  get ports(): Array<{ address: string; port: number }> {
    return this.handles.map((h) => ({ ...h.local }));
  }

  /**
   * Creates a room on worker `worker` (default: the next live worker in turn). Every peer of the
   * room connects to that worker's port; its producers and consumers forward there.
   */
  async createRoom(options: { worker?: number } = {}): Promise<WorkerRoom> {
    if (this.closedValue) throw new InvalidStateError('ERR_WORKER_POOL_CLOSED', 'the worker pool is closed');
    const h = this.pick(options.worker);
    const id = this.nextRoom++;
    const room = new WorkerRoom(h, id);
    await h.request({ op: 'createRoom', room: id });
    h.rooms.add(room);
    room.closeHooks.add(() => this.closePipePairs(room));
    return room;
  }

  /**
   * Pipes `producerId` of room `from` into room `to` (docs/scaling.md "Pipes between workers"): one
   * loopback pipe pair per pair of rooms, made on first use and reused; resolves with the producer id
   * room `to`'s consume() takes. Both rooms must belong to this pool.
   */
  async pipeProducer(options: { from: WorkerRoom; to: WorkerRoom; producerId: number }): Promise<{ producer: number; kind: MediaKind; ssrc: number }> {
    if (this.closedValue) throw new InvalidStateError('ERR_WORKER_POOL_CLOSED', 'the worker pool is closed');
    const { from, to, producerId } = options;
    for (const room of [from, to]) {
      if (!(room instanceof WorkerRoom) || !this.handles.some((h) => h.rooms.has(room))) {
        throw new InvalidArgumentError('ERR_WORKER_ROOM_UNKNOWN', 'from and to must be open rooms of this pool');
      }
    }
    const key = `${from.id}>${to.id}`;
    let pair = this.pipePairs.get(key);
    for (;;) {
      const current = pair ? await pair.catch(() => undefined) : undefined;
      // A call that ran while this one waited may have replaced the pair already: use its pair,
      // so that two calls never make two pairs and leave one of them open.
      const latest = this.pipePairs.get(key);
      if (latest !== pair) {
        pair = latest;
        continue;
      }
      if (current && !current.from.closed && !current.to.closed) break;
      pair = this.connectPair(from, to);
      this.pipePairs.set(key, pair);
      if (current) void Promise.all([current.from.close(), current.to.close()]).catch(() => undefined);
      break;
    }
    const { from: pipeFrom, to: pipeTo } = await pair!;
    return pipeTo.produceFromPipe(await pipeFrom.pipeProducer(producerId));
  }

  /**
   * A room closed (or its worker failed): the pipe pairs that reach it are closed at both ends, so the
   * other room's end (its socket and the producers it made) does not outlive it.
   */
  private async closePipePairs(room: WorkerRoom): Promise<void> {
    const closing: Promise<unknown>[] = [];
    for (const [key, pair] of [...this.pipePairs]) {
      const [from, to] = key.split('>').map(Number);
      if (from !== room.id && to !== room.id) continue;
      this.pipePairs.delete(key);
      closing.push(pair.then((p) => Promise.all([p.from.close(), p.to.close()])).catch(() => undefined));
    }
    await Promise.all(closing);
  }

  /** Pipe pairs that pipeProducer() made and keeps (both rooms open). */
  get pipePairCount(): number {
    return this.pipePairs.size;
  }

  private async connectPair(from: WorkerRoom, to: WorkerRoom): Promise<{ from: WorkerPipeTransport; to: WorkerPipeTransport }> {
    // Both workers are threads of this process: the pipe crosses loopback.
    const a = await from.createPipeTransport({ listenIp: '127.0.0.1' });
    let b: WorkerPipeTransport | undefined;
    try {
      b = await to.createPipeTransport({ listenIp: '127.0.0.1' });
      await a.connect(b.localParameters);
      await b.connect(a.localParameters);
      return { from: a, to: b };
    } catch (err) {
      await Promise.all([a.close(), b?.close()]).catch(() => undefined);
      throw err;
    }
  }

  /** Counters of every worker (a failed worker's entry is its failure). */
  async stats(): Promise<Array<RouterWorkerStats | { worker: number; failed: PwtError }>> {
    return Promise.all(
      this.handles.map((h) => (h.failure ? Promise.resolve({ worker: h.index, failed: h.failure }) : h.request({ op: 'workerStats' }))),
    );
  }

  /** Closes every room and stops the workers (each gets `timeoutMs` to close its connections). */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.closedValue) return;
    this.closedValue = true;
    for (const h of this.handles) for (const r of h.rooms) r.markClosed();
    await Promise.all(this.handles.map((h) => h.stop(timeoutMs)));
    // Every worker has exited: nobody reads or writes the channels any more.
    for (const c of this.channels) closeHandoffChannel(c);
  }

  /** @internal The worker thread of index `i` (tests use it to crash one). */
  workerThread(i: number): Worker {
    const h = this.handles[i];
    if (!h) throw new OutOfRangeError('ERR_WORKER_INDEX', `no worker ${i}`);
    return h.worker;
  }

  private pick(worker: number | undefined): RouterWorkerHandle {
    if (worker !== undefined) {
      const h = Number.isInteger(worker) ? this.handles[worker] : undefined;
      if (!h) throw new OutOfRangeError('ERR_WORKER_INDEX', `worker must be an integer in 0..${this.handles.length - 1}`);
      if (h.failure) throw new InvalidStateError('ERR_WORKER_FAILED', `worker ${worker} has failed`);
      return h;
    }
    for (let k = 0; k < this.handles.length; k++) {
      const h = this.handles[(this.nextWorker + k) % this.handles.length]!;
      if (!h.failure) {
        this.nextWorker = (h.index + 1) % this.handles.length;
        return h;
      }
    }
    throw new InvalidStateError('ERR_WORKER_FAILED', 'every worker has failed');
  }

  private workerFailed(h: RouterWorkerHandle, err: PwtError): void {
    // Its flows are nobody's now: the other workers stop passing them to its channel.
    if (this.steering) steeringReleaseOwner(this.steering, h.index);
    for (const r of h.rooms) r.fail(err);
    this.safeEmit('workerfailed', { worker: h.index, error: err });
  }
}
