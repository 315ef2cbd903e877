// One listening TCP port for the passive ICE-TCP candidates of many connections (RFC 6544 §4.1,
// tcptype passive; RFC 4571 framing): a new TCP connection is routed by the ufrag of its first
// STUN Binding request, as UdpMux routes a new UDP sender (docs/ice.md "ICE-TCP").
import { createServer, type Server, type Socket } from 'node:net';
import { InvalidArgumentError, InvalidStateError } from '../../common/errors.js';
import { reportListenerError } from '../../common/typed-emitter.js';
import { frameRfc4571, Rfc4571Framer } from '../../ice/rfc4571-framer.js';
import { peekBindingRequestUfrag } from '../../ice/stun-peek.js';
import { canonicalIp, type TransportAddress } from '../../ice/transport-address.js';
import type { IceMuxPort, IceTransport } from '../ice-transport.js';
import { remoteKey, type IceUdpSocket } from './datagram-socket.js';
import { createPortDrops } from './port-drops.js';

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
  | 'send-queue-full';

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
  /** Bytes held by framers waiting for the rest of a frame (bounded: 65,537 per connection). */
  bufferedBytes: number;
  drops: Record<TcpMuxDropReason, number>;
}

interface Connection {
  readonly socket: Socket;
  readonly key: number | string;
  readonly remote: TransportAddress;
  readonly framer: Rfc4571Framer;
  readonly acceptedAt: number;
  transport: IceTransport | undefined;
  authenticated: boolean;
  corked: boolean;
}

const SWEEP_MS = 500;
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
  private pending = 0;
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly counters = { connectionsAccepted: 0, framesReceived: 0, framesSent: 0, routedByUfrag: 0 };
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
  };

  private constructor(server: Server, options: TcpMuxOptions) {
    this.server = server;
    this.announced = options.announcedAddress;
    this.checkTimeoutMs = options.checkTimeoutMs ?? 5000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.maxConnections = options.maxConnections ?? 10_000;
    this.maxPending = options.maxPendingConnections ?? 256;
    this.maxQueuedBytes = options.maxQueuedBytes ?? 1 << 20;
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
    };
  }

  /** Listens on the shared port. */
  static async listen(options: TcpMuxOptions): Promise<TcpMux> {
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
    for (const c of this.connections.values()) buffered += c.framer.pendingBytes;
    return {
      ...this.counters,
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
      framer: new Rfc4571Framer(),
      acceptedAt: performance.now(),
      transport: undefined,
      authenticated: false,
      corked: false,
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

  private onChunk(c: Connection, chunk: Buffer): void {
    if (this.connections.get(c.key) !== c) return;
    const empty = c.framer.emptyFrames;
    const frames = c.framer.push(chunk);
    this.dropCounts['empty-frame'] += c.framer.emptyFrames - empty;
    for (const frame of frames) {
      this.counters.framesReceived++;
      let t = c.transport;
      if (!t) {
        // The first frame decides: a Binding request whose USERNAME names a transport on this port.
        const ufrag = peekBindingRequestUfrag(frame);
        t = ufrag === undefined ? undefined : this.byUfrag.get(ufrag);
        if (!t) {
          this.dropCounts[ufrag === undefined ? 'not-stun-first' : 'unknown-ufrag']++;
          this.drop(c);
          return;
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
      try {
        t.receiveFromTcpMux(frame, c.key, c.remote);
      } catch (err) {
        reportListenerError(err);
      }
    }
    // One flush per TCP chunk: the layer above handles every frame of it in one batch
    // (docs/architecture.md "Data path").
    if (frames.length > 0) c.transport?.flushFromMux();
    // A first frame announcing more than any check needs (an HTTP request read as a length,
    // a lying length) is not waited for.
    if (!c.transport && (c.framer.nextFrameLength ?? 0) > MAX_FIRST_FRAME && this.connections.get(c.key) === c) {
      this.dropCounts['not-stun-first']++;
      this.drop(c);
    }
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

  private drop(c: Connection): void {
    if (this.connections.get(c.key) !== c) return;
    this.connections.delete(c.key);
    if (!c.authenticated) this.pending--;
    if (c.transport) this.connectionsOf.get(c.transport)?.delete(c);
    c.socket.destroy();
  }

  /** Closes connections whose first check did not authenticate in time (slowloris, silent connections). */
  private armSweeper(): void {
    if (this.sweeper || this.closed) return;
    this.sweeper = setInterval(() => {
      const deadline = performance.now() - this.checkTimeoutMs;
      for (const c of [...this.connections.values()]) {
        if (!c.authenticated && c.acceptedAt <= deadline) {
          this.dropCounts['no-check-in-time']++;
          this.drop(c);
        }
      }
      if (this.pending === 0 && this.sweeper) {
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
    for (const c of [...(this.connectionsOf.get(transport) ?? [])]) this.drop(c);
    this.connectionsOf.delete(transport);
  }
}
