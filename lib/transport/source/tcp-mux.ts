// One listening TCP port for the passive ICE-TCP candidates of many connections (RFC 6544 §4.1,
// tcptype passive; RFC 4571 framing): a new TCP connection is routed by the ufrag of its first
// STUN Binding request, as UdpMux routes a new UDP sender (docs/ice.md "ICE-TCP"). Frames are split
// and SRTP is unprotected natively, one call per read; SRTP sends are protected and framed natively at
// flush, one write per connection (docs/udp.md "TCP framing").
import { performance } from 'node:perf_hooks';
import { createServer, type Server, type Socket } from 'node:net';
import { InvalidArgumentError, InvalidStateError } from '../../common/errors.js';
import { reportListenerError } from '../../common/typed-emitter.js';
import { frameRfc4571 } from '../../ice/rfc4571-framer.js';
import { createTcpForwardSink, createTcpFrameReader, tcpFrameBatch, TcpCounter, TcpFraming, TcpFrameError, type NativeTcpForwardSink, type NativeTcpFrameReader } from '../../native/tcp-frame.js';
import type { SrtpSession } from '../../srtp/srtp-session.js';
import { peekBindingRequestUfrag } from '../../ice/stun-peek.js';
import { canonicalIp, type TransportAddress } from '../../ice/transport-address.js';
import type { IceMuxPort, IceTransport } from '../ice-transport.js';
import { remoteKey, type IceUdpSocket } from './datagram-socket.js';
import { createPortDrops } from './port-drops.js';
import { UdpSrtpStatus } from './udp-socket.js';

/** Options of {@link TcpMux.listen}. */
export interface TcpMuxOptions {
  /** Local address to listen on; must be a concrete address unless `announcedAddress` is set. */
  address: string;
  /** Port (0: ephemeral). Must not be the port of a UdpMux on the same address used by the same connections. */
  port?: number;
  /** Address announced in the candidate (public IP of a server behind 1:1 NAT). */
  announcedAddress?: string;
  /** A connection whose first check has not authenticated within this many ms is closed (default 5000). */
  checkTimeoutMs?: number;
  /** A connection that received nothing for this many ms is closed (default 30000; consent checks arrive every ~5 s). */
  idleTimeoutMs?: number;
  /** Most open connections (default 10000); further ones are closed at once. */
  maxConnections?: number;
  /** Most connections waiting for their first authenticated check (default 256). */
  maxPendingConnections?: number;
  /** Bytes queued for sending on one connection above which packets are dropped (default 1 MiB). */
  maxQueuedBytes?: number;
  /** Largest RFC 4571 frame accepted (default 65535, the format's own limit); a longer one closes the connection. */
  maxFrameBytes?: number;
  /** A frame begun but not completed within this many ms closes the connection (default 10000: slow-loris). */
  frameTimeoutMs?: number;
}

/**
 * The native SRTP route of one connection (docs/udp.md "TCP framing"): its frames are unprotected
 * in the read batch, and packets given to `send` are protected and framed at flush.
 */
export interface TcpSrtpRoute {
  /** Queues one clear RTP/RTCP packet; false when the connection is gone (the caller counts it). */
  send(packet: Uint8Array): boolean;
  remove(): void;
  /**
   * SFU legs (docs/sfu.md "Legs over TCP"): runs a native ForwardEngine inside the connection's read
   * batches (null: off); false where the route cannot (a TURN stream).
   */
  setForwardEngine?(engine: object | null): boolean;
  /** The engine sink that frames datagrams for this connection (created on first use); undefined when gone. */
  forwardSink?(): object | undefined;
  /**
   * Calls `listener` once when this route's connection closes (by the peer, an error, a timeout or
   * the port), whether or not the route is still its current one; returns the unsubscribe. Not
   * called when the connection is already gone (check `forwardSink()` first).
   */
  onConnectionClosed?(listener: () => void): () => void;
}

/** Why the port dropped a connection or a packet. */
export type TcpMuxDropReason =
  | 'not-stun-first'
  | 'unknown-ufrag'
  | 'no-check-in-time'
  | 'idle'
  | 'too-many-connections'
  | 'too-many-pending'
  | 'empty-frame'
  | 'send-no-connection'
  | 'send-oversize'
  | 'send-queue-full'
  | 'frame-too-big'
  | 'frame-stalled'
  | 'srtp-protect-failed';

/** Counters of the port. */
export interface TcpMuxStats {
  connectionsAccepted: number;
  connectionsOpen: number;
  /** Open connections whose first check has not authenticated yet. */
  connectionsPending: number;
  framesReceived: number;
  framesSent: number;
  routedByUfrag: number;
  transports: number;
  /** Bytes held by framers waiting for the rest of a frame (bounded: one frame per connection). */
  bufferedBytes: number;
  /** Frames split by native code (every frame: no JavaScript framing). */
  framesSplitNatively: number;
  /** RTP/RTCP frames unprotected in the native read batch, and those SRTP refused there. */
  srtpUnprotected: number;
  srtpRejected: number;
  /** RTP/RTCP packets protected and framed natively at flush. */
  srtpProtected: number;
  /** Native read calls (one per chunk, more when a chunk holds more than one batch of frames). */
  nativeReads: number;
  /** Frames an SFU engine forwarded inside the read batch (docs/sfu.md "Legs over TCP"). */
  forwarded: number;
  /** Datagrams an SFU engine framed for connections of this port, and the writes that carried them. */
  forwardFramesSent: number;
  forwardWrites: number;
  /** Datagrams an SFU engine forwarded to a connection whose sink held its pending limit, dropped (one per frame). */
  forwardDrops: number;
  drops: Record<TcpMuxDropReason, number>;
}

interface Connection {
  readonly socket: Socket;
  readonly key: number | string;
  readonly remote: TransportAddress;
  readonly reader: NativeTcpFrameReader;
  readonly acceptedAt: number;
  transport: IceTransport | undefined;
  authenticated: boolean;
  corked: boolean;
  /** Bytes the reader holds for an incomplete frame, and since when (performance.now()). */
  pendingBytes: number;
  pendingSince: number;
  /** SRTP packets queued for the next flush: offsets and lengths in the mux's send pool. */
  srtpOffsets: Uint32Array | undefined;
  srtpLengths: Uint32Array | undefined;
  srtpCount: number;
  route: TcpSrtpRoute | undefined;
  /** The SFU engine's sink for this connection, made when a consumer needs it. */
  sink: NativeTcpForwardSink | undefined;
  /** Told once when the connection closes (an SFU subscriber leg whose sink this was). */
  readonly closeListeners: Set<() => void>;
}

/** The mux's staging pool for SRTP sends of one event-loop turn (all connections). */
const SEND_POOL_BYTES = 256 * 1024;

const SWEEP_MS = 500;
/** A connection closed gracefully (its transport closed) is destroyed after this at the latest. */
const GRACEFUL_CLOSE_MS = 2000;
/** A connection's first frame must be a Binding request; one longer than this is not one of ours. */
const MAX_FIRST_FRAME = 2048;

/** A listening TCP port shared by the passive ICE-TCP candidates of any number of {@link IceTransport}s. */
export class TcpMux {
  /** The bound local address. */
  readonly local: TransportAddress;
  private readonly server: Server;
  private readonly announced: string | undefined;
  private readonly connections = new Map<number | string, Connection>();
  private readonly byUfrag = new Map<string, IceTransport>();
  private readonly ufrags = new Map<IceTransport, Set<string>>();
  private readonly connectionsOf = new Map<IceTransport, Set<Connection>>();
  private readonly port: IceMuxPort;
  private readonly checkTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly maxConnections: number;
  private readonly maxPending: number;
  private readonly maxQueuedBytes: number;
  private readonly maxFrameBytes: number;
  private readonly frameTimeoutMs: number;
  private pending = 0;
  /** Connections holding part of a frame (watched for slow-loris). */
  private readonly stalling = new Set<Connection>();
  /** Connections with an SFU engine sink. */
  private readonly sinks = new Set<Connection>();
  /** SRTP sends of this turn: one pool for every connection, flushed once per turn. */
  private sendPool: Buffer | undefined;
  private sendPoolUsed = 0;
  private readonly sendDirty = new Set<Connection>();
  private sendFlushScheduled = false;
  private readonly flushSrtpCallback = (): void => this.flushSrtp();
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly counters = {
    connectionsAccepted: 0, framesReceived: 0, framesSent: 0, routedByUfrag: 0,
    framesSplitNatively: 0, srtpUnprotected: 0, srtpRejected: 0, srtpProtected: 0, nativeReads: 0,
    forwarded: 0, forwardFramesSent: 0, forwardWrites: 0, forwardDrops: 0,
  };
  private readonly dropCounts: Record<TcpMuxDropReason, number> = {
    'not-stun-first': 0,
    'unknown-ufrag': 0,
    'no-check-in-time': 0,
    idle: 0,
    'too-many-connections': 0,
    'too-many-pending': 0,
    'empty-frame': 0,
    'send-no-connection': 0,
    'send-oversize': 0,
    'send-queue-full': 0,
    'frame-too-big': 0,
    'frame-stalled': 0,
    'srtp-protect-failed': 0,
  };

  private constructor(server: Server, options: TcpMuxOptions) {
    this.server = server;
    this.announced = options.announcedAddress;
    this.checkTimeoutMs = options.checkTimeoutMs ?? 5000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.maxConnections = options.maxConnections ?? 10_000;
    this.maxPending = options.maxPendingConnections ?? 256;
    this.maxQueuedBytes = options.maxQueuedBytes ?? 1 << 20;
    this.maxFrameBytes = options.maxFrameBytes ?? 0xffff;
    this.frameTimeoutMs = options.frameTimeoutMs ?? 10_000;
    const a = server.address();
    if (!a || typeof a === 'string') throw new InvalidStateError('ERR_TCP_MUX_ADDRESS', 'the TCP port has no address');
    this.local = { address: canonicalIp(a.address), port: a.port };
    server.on('connection', (socket) => this.accept(socket));
    // Accept errors (EMFILE...) must not crash the process; the listener keeps running.
    server.on('error', () => undefined);
    const socket: IceUdpSocket = {
      onBatch: () => undefined,
      send: (data, port, address) => this.send(data, port, address),
      address: () => ({ address: this.local.address, port: this.local.port, family: this.local.address.includes(':') ? 'IPv6' : 'IPv4' }),
      close: () => undefined,
    };
    this.port = {
      socket,
      local: this.local,
      announced: this.announced,
      drops: createPortDrops(),
      register: (t, ufrag) => this.register(t, ufrag),
      learn: (t, remote) => this.learn(t, remote),
      release: (t) => this.release(t),
      tcpSrtpRoute: (t, remote, session) => this.srtpRoute(t, remote, session),
    };
  }

  /** Listens on the shared port. */
  static async listen(options: TcpMuxOptions): Promise<TcpMux> {
    const frameBytes = options.maxFrameBytes;
    if (frameBytes !== undefined && !(Number.isInteger(frameBytes) && frameBytes >= 1 && frameBytes <= 0xffff)) {
      throw new InvalidArgumentError('ERR_TCP_MUX_OPTION', 'maxFrameBytes must be an integer in 1..65535 (RFC 4571 length field)');
    }
    const frameMs = options.frameTimeoutMs;
    if (frameMs !== undefined && !(Number.isFinite(frameMs) && frameMs > 0)) {
      throw new InvalidArgumentError('ERR_TCP_MUX_OPTION', 'frameTimeoutMs must be a finite number of ms above 0');
    }
    const wildcard = options.address === '0.0.0.0' || options.address === '::';
    if (wildcard && !options.announcedAddress) {
      throw new InvalidArgumentError('ERR_MUX_ADDRESS', 'a wildcard listen needs announcedAddress for the candidate');
    }
    const server = createServer({ noDelay: true, pauseOnConnect: false });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: options.address, port: options.port ?? 0, backlog: 511 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new TcpMux(server, options);
  }

  /**
   * Adds this port's passive TCP host candidate to `transport` (call before it gathers); checks
   * on connections opened to the port with its ufrag reach it.
   */
  attach(transport: IceTransport): void {
    if (this.closed) throw new InvalidStateError('ERR_MUX_CLOSED', 'the TcpMux is closed');
    transport.attachTcpPort(this.port);
  }

  /** Counters (a snapshot). */
  get stats(): TcpMuxStats {
    let buffered = 0;
    for (const c of this.stalling) buffered += c.pendingBytes;
    let forwardFramesSent = this.counters.forwardFramesSent;
    let forwardDrops = this.counters.forwardDrops;
    for (const c of this.sinks) {
      const [frames, drops] = c.sink?.stats() ?? [0, 0];
      forwardFramesSent += frames;
      forwardDrops += drops;
    }
    return {
      ...this.counters,
      forwardFramesSent,
      forwardDrops,
      connectionsOpen: this.connections.size,
      connectionsPending: this.pending,
      transports: this.ufrags.size,
      bufferedBytes: buffered,
      drops: { ...this.dropCounts },
    };
  }

  /** Closes every connection and the listening socket (the transports stay open on their other candidates). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const c of [...this.connections.values()]) this.drop(c);
    this.server.close();
  }

  private accept(socket: Socket): void {
    const address = socket.remoteAddress;
    const port = socket.remotePort;
    if (this.closed || address === undefined || port === undefined) {
      socket.destroy();
      return;
    }
    if (this.connections.size >= this.maxConnections) {
      this.dropCounts['too-many-connections']++;
      socket.destroy();
      return;
    }
    if (this.pending >= this.maxPending) {
      this.dropCounts['too-many-pending']++;
      socket.destroy();
      return;
    }
    this.counters.connectionsAccepted++;
    const remote = { address: canonicalIp(address), port };
    const c: Connection = {
      socket,
      key: remoteKey(remote.address, port),
      remote,
      reader: createTcpFrameReader(TcpFraming.rfc4571, this.maxFrameBytes),
      acceptedAt: performance.now(),
      transport: undefined,
      authenticated: false,
      corked: false,
      pendingBytes: 0,
      pendingSince: 0,
      srtpOffsets: undefined,
      srtpLengths: undefined,
      srtpCount: 0,
      route: undefined,
      sink: undefined,
      closeListeners: new Set(),
    };
    const previous = this.connections.get(c.key);
    if (previous) this.drop(previous);
    this.connections.set(c.key, c);
    this.pending++;
    this.armSweeper();
    socket.setNoDelay(true);
    socket.setTimeout(this.idleTimeoutMs, () => {
      this.dropCounts.idle++;
      this.drop(c);
    });
    socket.on('data', (chunk: Buffer) => this.onChunk(c, chunk));
    // Resets, half-closes and write errors end the connection; none reaches the application.
    socket.on('error', () => this.drop(c));
    socket.on('close', () => this.drop(c));
    socket.on('end', () => this.drop(c));
  }

  /**
   * One chunk of the stream: native code splits it into frames and unprotects the connection's SRTP
   * in place, one call per batch of frames (docs/udp.md "TCP framing"); each batch is then handed to
   * the transport and ended (its views are reused by the next read).
   */
  private onChunk(c: Connection, chunk: Buffer): void {
    const { batch, arrays } = tcpFrameBatch();
    let offset = 0;
    while (offset < chunk.length && this.connections.get(c.key) === c) {
      const now = performance.now();
      const empty = arrays.counters[TcpCounter.emptyFrames]!;
      const n = batch.read(c.reader, chunk, offset, now);
      this.dropCounts['empty-frame'] += arrays.counters[TcpCounter.emptyFrames]! - empty;
      if (n < 0) return;
      const consumed = arrays.info[0]!;
      const error = arrays.info[1]! as TcpFrameError;
      const pendingBytes = arrays.info[2]!;
      const pendingBegan = arrays.info[3] === 1;
      offset += consumed;
      this.counters.nativeReads++;
      this.counters.framesSplitNatively += n;
      this.counters.framesReceived += n;
      if (!this.deliverFrames(c, n, arrays)) return;
      if (error !== TcpFrameError.none) {
        // A length past the bound (or garbage): the stream cannot be resynchronised.
        this.dropCounts['frame-too-big']++;
        this.drop(c);
        return;
      }
      this.notePending(c, pendingBytes, pendingBegan, now);
      if (consumed === 0 && n === 0) break;
    }
    // A first frame announcing more than any check needs (an HTTP request read as a length,
    // a lying length) is not waited for.
    if (!c.transport && c.pendingBytes >= 2 && this.connections.get(c.key) === c) {
      const state = new Float64Array(4);
      c.reader.state(state);
      if (state[2]! > MAX_FIRST_FRAME) {
        this.dropCounts['not-stun-first']++;
        this.drop(c);
      }
    }
  }

  /** Hands frames [0, n) of the batch to the connection's transport; false when the connection was dropped. */
  private deliverFrames(c: Connection, n: number, arrays: ReturnType<typeof tcpFrameBatch>['arrays']): boolean {
    for (let i = 0; i < n; i++) {
      const start = arrays.offsets[i]!;
      const frame = arrays.buffer.subarray(start, start + arrays.lengths[i]!);
      const status = arrays.status[i]!;
      let t = c.transport;
      if (!t) {
        // The first frame decides: a Binding request whose USERNAME names a transport on this port.
        const ufrag = peekBindingRequestUfrag(frame);
        t = ufrag === undefined ? undefined : this.byUfrag.get(ufrag);
        if (!t) {
          this.dropCounts[ufrag === undefined ? 'not-stun-first' : 'unknown-ufrag']++;
          this.drop(c);
          return false;
        }
        this.counters.routedByUfrag++;
        c.transport = t;
        let set = this.connectionsOf.get(t);
        if (!set) {
          set = new Set();
          this.connectionsOf.set(t, set);
        }
        set.add(c);
      }
      if (status === UdpSrtpStatus.forwarded) {
        // Consumed by a router's engine in the read batch (docs/sfu.md "Legs over TCP").
        this.counters.forwarded++;
        continue;
      }
      if (status === UdpSrtpStatus.unprotected) this.counters.srtpUnprotected++;
      else if (status >= UdpSrtpStatus.refusedBase) this.counters.srtpRejected++;
      try {
        t.receiveFromTcpMux(frame, c.key, c.remote, status);
      } catch (err) {
        reportListenerError(err);
      }
    }
    // One flush per batch: the layer above handles every frame of it together and is done with the
    // views before the next read reuses the batch (docs/architecture.md "Data path").
    if (n > 0) c.transport?.flushFromMux();
    return this.connections.get(c.key) === c;
  }

  /** Tracks a frame begun and not completed (the sweeper closes it after frameTimeoutMs). */
  private notePending(c: Connection, pendingBytes: number, began: boolean, now: number): void {
    if (pendingBytes === 0) {
      c.pendingBytes = 0;
      this.stalling.delete(c);
      return;
    }
    if (began || c.pendingBytes === 0) c.pendingSince = now;
    c.pendingBytes = pendingBytes;
    this.stalling.add(c);
    this.armSweeper();
  }

  private send(data: Uint8Array, port: number, address: string): void {
    const c = this.connections.get(remoteKey(canonicalIp(address), port));
    if (!c || c.socket.destroyed) {
      this.dropCounts['send-no-connection']++;
      return;
    }
    if (data.length > 0xffff) {
      this.dropCounts['send-oversize']++;
      return;
    }
    if (c.socket.writableLength > this.maxQueuedBytes) {
      this.dropCounts['send-queue-full']++;
      return;
    }
    // Writes of one event-loop turn leave together.
    if (!c.corked) {
      c.corked = true;
      c.socket.cork();
      process.nextTick(() => {
        c.corked = false;
        c.socket.uncork();
      });
    }
    c.socket.write(frameRfc4571(data));
    this.counters.framesSent++;
  }

  /**
   * The native SRTP route of the connection from `remote` of `transport` (its selected pair): the
   * reader unprotects its frames in the read batch and `send` queues packets that the flush protects
   * and frames natively. Undefined when no such connection is open.
   */
  private srtpRoute(transport: IceTransport, remote: TransportAddress, session: SrtpSession): TcpSrtpRoute | undefined {
    const c = this.connections.get(remoteKey(remote.address, remote.port));
    if (!c || c.transport !== transport || c.socket.destroyed) return undefined;
    // An older route of the connection goes first: its removal clears the reader's session.
    c.route?.remove();
    if (!c.reader.setSrtpSession(session.nativeHandle)) return undefined;
    const route: TcpSrtpRoute = {
      send: (packet) => this.queueSrtp(c, packet),
      remove: () => {
        if (c.route !== route) return;
        c.route = undefined;
        // Packets queued before the route went away still leave with the session they were sent under.
        if (c.srtpCount > 0) this.flushConnection(c);
        c.reader.setSrtpSession(null);
        // The engine goes with the route: a rebuilt route gets it again from the router.
        c.reader.setForwardEngine(null);
      },
    };
    // Detaching always works (a router's stale reference must not keep the engine alive); attaching
    // only on the connection's current route.
    route.setForwardEngine = (engine) => (engine === null ? (c.reader.setForwardEngine(null), true) : c.route === route && c.reader.setForwardEngine(engine));
    route.forwardSink = () => (c.route === route ? this.forwardSinkOf(c) : undefined);
    route.onConnectionClosed = (listener) => {
      if (this.connections.get(c.key) !== c || c.socket.destroyed) return () => undefined;
      // Wrapped so that one listener added twice is two subscriptions, each removed by its own call.
      const once = (): void => listener();
      c.closeListeners.add(once);
      return () => void c.closeListeners.delete(once);
    };
    c.route = route;
    return route;
  }

  /** The connection's engine sink: framed datagrams arrive once per turn and leave in one write. */
  private forwardSinkOf(c: Connection): NativeTcpForwardSink | undefined {
    if (this.connections.get(c.key) !== c || c.socket.destroyed) return undefined;
    c.sink ??= createTcpForwardSink((bytes) => {
      if (this.connections.get(c.key) !== c || c.socket.destroyed) return;
      if (c.socket.writableLength > this.maxQueuedBytes) {
        this.dropCounts['send-queue-full']++;
        return;
      }
      c.socket.write(bytes);
      this.counters.forwardWrites++;
    }, this.maxQueuedBytes);
    this.sinks.add(c);
    return c.sink;
  }

  /** Copies a clear packet into the turn's send pool; the flush protects and frames it. */
  private queueSrtp(c: Connection, packet: Uint8Array): boolean {
    if (this.connections.get(c.key) !== c || c.socket.destroyed || c.route === undefined) return false;
    if (packet.length > 0xffff - 64) {
      this.dropCounts['send-oversize']++;
      return true;
    }
    let pool = this.sendPool;
    if (!pool) pool = this.sendPool = Buffer.allocUnsafe(SEND_POOL_BYTES);
    if (this.sendPoolUsed + packet.length > pool.length) this.flushSrtp();
    let offsets = c.srtpOffsets;
    let lengths = c.srtpLengths;
    if (!offsets || !lengths || c.srtpCount === offsets.length) {
      const size = offsets ? offsets.length * 2 : 32;
      const grownOffsets = new Uint32Array(size);
      const grownLengths = new Uint32Array(size);
      if (offsets && lengths) {
        grownOffsets.set(offsets);
        grownLengths.set(lengths);
      }
      offsets = c.srtpOffsets = grownOffsets;
      lengths = c.srtpLengths = grownLengths;
    }
    pool.set(packet, this.sendPoolUsed);
    offsets[c.srtpCount] = this.sendPoolUsed;
    lengths[c.srtpCount] = packet.length;
    c.srtpCount++;
    this.sendPoolUsed += packet.length;
    this.sendDirty.add(c);
    if (!this.sendFlushScheduled) {
      this.sendFlushScheduled = true;
      setImmediate(this.flushSrtpCallback);
    }
    return true;
  }

  /** Protects and frames every connection's queued packets, one native call and one write each. */
  private flushSrtp(): void {
    this.sendFlushScheduled = false;
    for (const c of this.sendDirty) this.flushConnection(c);
    this.sendDirty.clear();
    this.sendPoolUsed = 0;
  }

  private flushConnection(c: Connection): void {
    const count = c.srtpCount;
    c.srtpCount = 0;
    const pool = this.sendPool;
    if (count === 0 || !pool || !c.srtpOffsets || !c.srtpLengths) return;
    if (this.connections.get(c.key) !== c || c.socket.destroyed) return;
    const { batch, arrays } = tcpFrameBatch();
    let offsets = c.srtpOffsets;
    let lengths = c.srtpLengths;
    let left = count;
    while (left > 0) {
      const bytes = batch.protect(c.reader, pool, offsets, lengths, Math.min(left, arrays.results.length));
      if (bytes < 0) return;
      const taken = arrays.info[0]!;
      for (let i = 0; i < taken; i++) {
        if (arrays.results[i] === 0) this.counters.srtpProtected++;
        else this.dropCounts['srtp-protect-failed']++;
      }
      if (bytes > 0) {
        if (c.socket.writableLength > this.maxQueuedBytes) this.dropCounts['send-queue-full'] += taken;
        else {
          // One write per connection and flush; the stream keeps the copy until the kernel takes it.
          c.socket.write(Buffer.from(arrays.out.subarray(0, bytes)));
          this.counters.framesSent += taken;
        }
      }
      if (taken === 0) return;
      left -= taken;
      offsets = offsets.subarray(taken);
      lengths = lengths.subarray(taken);
    }
  }

  /**
   * Forgets the connection and closes its socket: at once (`destroy`, what a bad or dead
   * connection gets), or, `graceful` (its transport is closing), after what was written leaves,
   * with a FIN: the close's last records (an SCTP ABORT, DTLS close_notify) were corked this turn
   * and a destroy would discard them (docs/sctp.md "Closing"). At most GRACEFUL_CLOSE_MS.
   */
  private drop(c: Connection, graceful = false): void {
    if (this.connections.get(c.key) !== c) return;
    this.connections.delete(c.key);
    if (!c.authenticated) this.pending--;
    if (c.transport) this.connectionsOf.get(c.transport)?.delete(c);
    this.stalling.delete(c);
    this.sendDirty.delete(c);
    c.srtpCount = 0;
    c.route = undefined;
    c.reader.setSrtpSession(null);
    c.reader.setForwardEngine(null);
    if (c.sink) {
      const [frames, drops] = c.sink.stats();
      this.counters.forwardFramesSent += frames;
      this.counters.forwardDrops += drops;
      // Closing the native sink makes the engine drop what it would still send there (counted as
      // sink-closed per consumer) before any listener runs: nothing is written to a closed socket.
      c.sink.close();
      this.sinks.delete(c);
    }
    if (graceful && !c.socket.destroyed) {
      if (c.corked) {
        c.corked = false;
        c.socket.uncork();
      }
      c.socket.end();
      // Cleared when the socket closes first (the peer's FIN came): nothing left to destroy.
      const force = setTimeout(() => c.socket.destroy(), GRACEFUL_CLOSE_MS);
      force.unref();
      c.socket.once('close', () => clearTimeout(force));
    } else c.socket.destroy();
    const listeners = [...c.closeListeners];
    c.closeListeners.clear();
    for (const l of listeners) {
      try {
        l();
      } catch (err) {
        reportListenerError(err);
      }
    }
    // The transport's pairs on this connection fail at once (RFC 6544 §7.2), whoever closed it
    // (the peer, a reset, a timeout, this port); a transport that is closing ignores it.
    if (c.transport) {
      try {
        c.transport.tcpConnectionClosed(c.remote);
      } catch (err) {
        reportListenerError(err);
      }
    }
  }

  /**
   * Closes connections whose first check did not authenticate in time (slowloris, silent
   * connections) and connections that began a frame and did not finish it in time.
   */
  private armSweeper(): void {
    if (this.sweeper || this.closed) return;
    this.sweeper = setInterval(() => {
      const now = performance.now();
      const deadline = now - this.checkTimeoutMs;
      if (this.pending > 0) {
        for (const c of [...this.connections.values()]) {
          if (!c.authenticated && c.acceptedAt <= deadline) {
            this.dropCounts['no-check-in-time']++;
            this.drop(c);
          }
        }
      }
      const frameDeadline = now - this.frameTimeoutMs;
      for (const c of [...this.stalling]) {
        if (c.pendingSince <= frameDeadline) {
          this.dropCounts['frame-stalled']++;
          this.drop(c);
        }
      }
      if (this.pending === 0 && this.stalling.size === 0 && this.sweeper) {
        clearInterval(this.sweeper);
        this.sweeper = undefined;
      }
    }, SWEEP_MS);
    this.sweeper.unref();
  }

  private register(transport: IceTransport, ufrag: string): void {
    let set = this.ufrags.get(transport);
    if (!set) {
      set = new Set();
      this.ufrags.set(transport, set);
    }
    set.add(ufrag);
    this.byUfrag.set(ufrag, transport);
  }

  /** The transport's agent authenticated a check from `remote`: its connection is no longer pending. */
  private learn(transport: IceTransport, remote: TransportAddress): void {
    const c = this.connections.get(remoteKey(remote.address, remote.port));
    if (!c || c.transport !== transport || c.authenticated) return;
    c.authenticated = true;
    this.pending--;
  }

  private release(transport: IceTransport): void {
    for (const u of this.ufrags.get(transport) ?? []) if (this.byUfrag.get(u) === transport) this.byUfrag.delete(u);
    this.ufrags.delete(transport);
    for (const c of [...(this.connectionsOf.get(transport) ?? [])]) this.drop(c, true);
    this.connectionsOf.delete(transport);
  }
}
