// One UDP port shared by several worker threads (SO_REUSEPORT; docs/scaling.md "One port across
// workers"): the kernel picks a socket by hashing the 4-tuple, so a worker may receive a flow another
// worker owns. Each worker's UdpMux claims its flows (local ufrags, RFC 8445 §7.2.2; remote addresses)
// in a steering table all workers share, and the native receive path passes a datagram it does not
// own to its owner's channel before JavaScript runs; the owner reads it as if its socket had.
import { InvalidStateError, OperationError } from '../../common/errors.js';
import type { TransportAddress } from '../../ice/transport-address.js';
import { NativeHandoffCounter, nativeHandoffCounterCount, steeringEntryWords } from '../../native/reuseport-handoff.js';
import type { UdpSocket } from './udp-socket.js';

/** What a worker needs to join the hand-off (the pool creates it, see lib/sfu/worker). */
export interface ReuseportHandoffConfig {
  /** The steering table (a SharedArrayBuffer from {@link ReuseportHandoff.createTable}). */
  readonly table: SharedArrayBuffer;
  /** Read end of this worker's channel. */
  readonly inboxFd: number;
  /** Write ends of every worker's channel, by worker index. */
  readonly outboxFds: readonly number[];
  /**
   * Connected flow sockets this worker may hold at most (docs/scaling.md "Connected flow sockets"): each
   * established flow (an ICE transport's selected pair) gets a socket of its own, bound to the shared
   * port and connect()ed to the remote, so the kernel delivers it to this worker without a hand-off.
   * One file descriptor each; past the limit flows stay on the hand-off. 0 turns them off. Default 1024.
   */
  readonly flowSockets?: number;
}

/** Counters of one worker's hand-off. */
export interface ReuseportHandoffStats {
  /** Datagrams this worker received for flows another worker owns, and passed on. */
  sent: number;
  /** Datagrams other workers passed to this one. */
  received: number;
  /** Datagrams that could not be passed on (the owner's channel full or closed). */
  drops: number;
  /** Claims the steering table refused because it was full (that flow reaches its owner only by chance). */
  steeringFull: number;
  /** Connected flow sockets open now. */
  flowSockets: number;
  /** Datagrams the kernel delivered on connected flow sockets (no hand-off needed). */
  flowReceived: number;
  /** Established flows left on the hand-off: the `flowSockets` limit reached, or the OS refused the socket. */
  flowRefused: number;
}

/** A worker's part in a shared port's hand-off; give it to {@link UdpMux.bind} as `handoff`. */
export class ReuseportHandoff {
  /** The worker's index (its channel in `outboxFds`). */
  readonly index: number;
  private readonly config: ReuseportHandoffConfig;
  private readonly counters: Float64Array;
  private socket: UdpSocket | undefined;

  private constructor(index: number, config: ReuseportHandoffConfig) {
    this.index = index;
    this.config = config;
    this.counters = new Float64Array(Math.max(nativeHandoffCounterCount(), NativeHandoffCounter.Count));
  }

  /** Connected flow sockets per worker when the configuration names none. */
  static readonly defaultFlowSockets = 1024;

  /** A zeroed steering table for `entries` flows (rounded down to a power of two natively). */
  static createTable(entries: number): SharedArrayBuffer {
    return new SharedArrayBuffer(entries * steeringEntryWords() * 4);
  }

  /** Worker `index`'s part, from the pool's configuration. */
  static attach(index: number, config: ReuseportHandoffConfig): ReuseportHandoff {
    return new ReuseportHandoff(index, config);
  }

  /** @internal Joins with the mux's socket (bound with reusePort); throws when the socket refuses. */
  join(socket: UdpSocket): void {
    if (this.socket) throw new InvalidStateError('ERR_HANDOFF_JOINED', 'this hand-off already serves a socket');
    const ok = socket.setHandoff({
      table: new Int32Array(this.config.table),
      self: this.index,
      inboxFd: this.config.inboxFd,
      outboxFds: Int32Array.from(this.config.outboxFds),
      counters: this.counters,
      flowSockets: this.config.flowSockets ?? ReuseportHandoff.defaultFlowSockets,
    });
    if (!ok) throw new OperationError('ERR_HANDOFF_JOIN', 'the socket could not join the shared-port hand-off');
    this.socket = socket;
  }

  /** @internal Binding requests naming `ufrag` belong to this worker (or no longer). */
  steerUfrag(claim: boolean, ufrag: string): void {
    this.socket?.steerUfrag(claim, ufrag);
  }

  /** @internal The flow from `remote` belongs to this worker (or no longer). */
  steerAddress(claim: boolean, remote: TransportAddress): void {
    this.socket?.steerAddress(claim, remote);
  }

  /**
   * @internal The flow from `remote` is established on this worker (an ICE transport selected it): the
   * worker takes it from the kernel on a connected socket of its own (or stops, `open` false).
   */
  connectFlow(open: boolean, remote: TransportAddress): boolean {
    return this.socket?.connectFlow(open, remote) ?? false;
  }

  /** Counters (a snapshot). */
  get stats(): ReuseportHandoffStats {
    const c = this.counters;
    return {
      sent: c[NativeHandoffCounter.Sent]!,
      received: c[NativeHandoffCounter.Received]!,
      drops: c[NativeHandoffCounter.Dropped]!,
      steeringFull: c[NativeHandoffCounter.SteeringFull]!,
      flowSockets: c[NativeHandoffCounter.FlowSockets]!,
      flowReceived: c[NativeHandoffCounter.FlowReceived]!,
      flowRefused: c[NativeHandoffCounter.FlowRefused]!,
    };
  }
}
