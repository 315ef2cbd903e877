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

  /** Counters (a snapshot). */
  get stats(): ReuseportHandoffStats {
    const c = this.counters;
    return {
      sent: c[NativeHandoffCounter.Sent]!,
      received: c[NativeHandoffCounter.Received]!,
      drops: c[NativeHandoffCounter.Dropped]!,
      steeringFull: c[NativeHandoffCounter.SteeringFull]!,
    };
  }
}
