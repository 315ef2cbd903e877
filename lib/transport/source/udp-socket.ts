// UdpSocket: the native batch socket (recvmmsg/sendmmsg on the libuv loop) behind a typed API.
// Receives arrive as one UdpBatch per syscall batch; sends are queued in a JS-owned pool and
// flushed with one native call (sendmmsg) per event-loop turn or when the pool fills.
import { isIP } from 'node:net';
import { InvalidArgumentError, InvalidStateError, OperationError, OutOfRangeError, PwtError } from '../../common/errors.js';
import { reportListenerError } from '../../common/typed-emitter.js';
import {
  createNativeUdpSocket,
  NativeUdpCounter,
  NativeUdpStatus,
  nativeUdpCounterCount,
  type NativeUdpSocket,
  type NativeHandoffOptions,
  type NativeConsentCheckSetup,
  type NativeConsentStats,
} from '../../native/udp.js';
import type { SrtpSession } from '../../srtp/srtp-session.js';

/** Largest UDP payload over IPv4 (65535 - 8 - 20). */
export const MAX_UDP_PAYLOAD = 65507;
const BATCH_SLOTS = 64;
const ADDRESS_RECORD = 28;
// The send pool starts small (an idle connection holds little) and doubles, up to the maximum,
// whenever one event-loop turn queues more than it holds.
const SEND_POOL_BYTES = 256 * 1024;
const SEND_POOL_ENTRIES = 512;
// 4 KiB holds a DTLS flight or a few media packets; a busy socket doubles it within a few turns.
const SEND_POOL_INITIAL_BYTES = 4 * 1024;
const SEND_POOL_INITIAL_ENTRIES = 16;
const DESTINATION_CACHE_LIMIT = 4096;
/** Room reserved after a packet queued with sendSrtp for the SRTP tag and SRTCP index. */
const SRTP_ROOM = 32;
/** Room reserved before a packet queued on a TURN channel route for the ChannelData header (RFC 8656 §12.4). */
const CHANNEL_HEADER = 4;

/** Options of {@link UdpSocket.bind}. */
export interface UdpSocketOptions {
  /** Address family of the socket. */
  type: 'udp4' | 'udp6';
  /** Local address to bind (default: all interfaces). */
  address?: string;
  /** Local port (default 0: an ephemeral port). */
  port?: number;
  /** Set SO_REUSEPORT, so that several sockets (e.g. one per worker) share the port. */
  reusePort?: boolean;
  /** For udp6: refuse IPv4-mapped traffic (default false: dual stack). */
  ipv6Only?: boolean;
  /** SO_RCVBUF request in bytes (capped by the kernel's rmem_max). */
  recvBufferSize?: number;
  /** SO_SNDBUF request in bytes. */
  sendBufferSize?: number;
  /** Largest datagram received intact (default 2048); larger ones are dropped and counted as truncated. */
  maxDatagramSize?: number;
  /** Send same-destination, same-size runs as one UDP_SEGMENT (GSO) send where the kernel supports it (default true). */
  gso?: boolean;
  /**
   * Receive with UDP_GRO where the kernel offers it: a burst the kernel coalesced arrives with one
   * receive and is split into datagrams (default false: it costs a 512 KiB receive area per socket;
   * UdpMux turns it on for its one shared port). `groEnabled` says whether the kernel accepted it.
   */
  gro?: boolean;
}

/** Address of a bound socket. */
export interface UdpAddressInfo {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

/** Counters of one socket; drops are counted by reason, nothing is lost silently. */
export interface UdpSocketStats {
  packetsReceived: number;
  bytesReceived: number;
  packetsSent: number;
  bytesSent: number;
  recvSyscalls: number;
  sendSyscalls: number;
  batches: number;
  /**
   * Receive batches handed to JavaScript, one listener call each. A batch the native engine consumed
   * entirely (forwarded media only, docs/sfu.md) makes none. On a port of its own, `jsCalls / batches`
   * is the share of receive batches that entered JavaScript. On a port shared by workers
   * (docs/scaling.md) this also counts batches that another worker handed off and batches read from
   * this worker's connected flow sockets, which this socket's `batches` does not count: there the
   * ratio can exceed 1.
   */
  jsCalls: number;
  gsoSends: number;
  /** Times the kernel refused a GSO (UDP_SEGMENT) send; the socket then sent those datagrams one by one and stays off GSO. */
  gsoFallbacks: number;
  /** Receives that returned a buffer the kernel had coalesced (UDP_GRO), and the datagrams split from them. */
  groReceives: number;
  groSegments: number;
  /** Times a send would have blocked (the rest waited, in order, for writability). */
  sendBlocked: number;
  /** Datagrams waiting natively for the socket to become writable. */
  sendQueued: number;
  /** Received datagrams unprotected in place by an SRTP route. */
  srtpUnprotected: number;
  /** Sent datagrams protected at flush by an SRTP route. */
  srtpProtected: number;
  /** TURN ChannelData from a routed channel whose header was stripped inside the receive batch. */
  channelDataReceived: number;
  /** TURN ChannelData framed at flush for a channel route. */
  channelDataSent: number;
  drops: {
    truncated: number;
    receiveError: number;
    sendTooBig: number;
    sendUnreachable: number;
    sendRefused: number;
    sendOther: number;
    /** Routed datagrams SRTP refused (the SrtpSession's stats give the reason). */
    srtpReceive: number;
    /** Datagrams queued with sendSrtp that could not be protected (e.g. session not keyed). */
    srtpProtect: number;
    /** ChannelData of a routed channel whose length runs past the datagram (RFC 8656 §12.6). */
    channelData: number;
  };
}

/**
 * An SRTP route on a socket: datagrams from `destination` are unprotected natively inside the
 * receive batch, and packets queued with `sendSrtp` are protected natively at flush, by `session`.
 */
export interface UdpSrtpRoute {
  readonly id: number;
  readonly destination: UdpDestination;
  readonly session: SrtpSession;
  /**
   * 0 for a direct route. Else a TURN channel (RFC 8656 §12) bound on the server at `destination`:
   * ChannelData of that channel is unframed inside the receive batch (`UdpBatch.relayRoute`) and
   * `sendSrtp` packets leave framed for it.
   */
  readonly channel: number;
}

/**
 * `UdpBatch.srtpStatus(i)` values below 2; 2 + an SrtpStatus code means SRTP refused it;
 * `forwarded` (255): a ForwardEngine consumed the clear packet natively (docs/sfu.md): skip it;
 * `handedOff` (254): passed to the worker that owns its flow on a shared port (docs/scaling.md): skip it.
 * `rejected` (253): a plain/pipe transport's filter refused it (docs/scaling.md): skip it.
 * `consentAnswered` (251): a consent check on a selected pair answered natively (docs/ice.md
 * "Consent checks answered natively"): skip it.
 * `channelDataMalformed` (252): ChannelData of a routed TURN channel whose length runs past the
 * datagram (RFC 8656 §12.6): dropped and counted natively, skip it.
 */
export const UdpSrtpStatus = { none: 0, unprotected: 1, refusedBase: 2, consentAnswered: 251, channelDataMalformed: 252, rejected: 253, handedOff: 254, forwarded: 255 } as const;

/** A resolved destination; reuse it on hot paths instead of (port, address) strings. */
export interface UdpDestination {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** @internal sockaddr bytes written by native code. */
  readonly record: Uint8Array;
}

/**
 * One received batch. Valid only during the listener call: the pool is reused for the next
 * batch, so copy (`Buffer.from(batch.data(i))`) what must outlive it.
 */
export class UdpBatch {
  /** Number of datagrams in this batch. */
  count = 0;

  /** @internal */
  constructor(
    /** The pooled receive buffer; datagram i starts at `offset(i)`. */
    readonly buffer: Buffer,
    private readonly slotSize: number,
    private readonly lengths: Uint32Array,
    private readonly addresses: Uint8Array,
    private readonly ports: Uint16Array,
    private readonly families: Uint8Array,
    private readonly srtp: Uint8Array,
    private readonly relays: Uint16Array,
  ) {}

  /**
   * The id of the TURN channel route ({@link UdpSrtpRoute.channel}) whose ChannelData header native
   * code stripped from datagram i, or 0. Such a datagram came from the TURN server (its source
   * address) on behalf of that route's peer; `data(i)` is the inner datagram.
   */
  relayRoute(i: number): number {
    return this.relays[i]!;
  }

  /**
   * SRTP outcome of datagram i: 0 not routed (STUN, DTLS, unknown source: bytes as received),
   * 1 unprotected in place (`data(i)` is clear RTP/RTCP), 2 + SrtpStatus when SRTP refused it
   * (dropped and counted; its bytes are not to be used).
   */
  srtpStatus(i: number): number {
    return this.srtp[i]!;
  }

  /** Byte offset of datagram i in `buffer`. */
  offset(i: number): number {
    return i * this.slotSize;
  }
  /** Length in bytes of datagram i. */
  length(i: number): number {
    return this.lengths[i]!;
  }
  /** A view (no copy) of datagram i. */
  data(i: number): Buffer {
    const start = i * this.slotSize;
    return this.buffer.subarray(start, start + this.lengths[i]!);
  }
  /** Source port of datagram i. */
  port(i: number): number {
    return this.ports[i]!;
  }
  /** Source address family of datagram i (IPv4-mapped sources on udp6 report 4). */
  family(i: number): 4 | 6 {
    return this.families[i] === 6 ? 6 : 4;
  }
  /** Source address of datagram i as text. */
  address(i: number): string {
    const a = this.addresses;
    const o = i * 16;
    if (this.families[i] !== 6) return `${a[o]}.${a[o + 1]}.${a[o + 2]}.${a[o + 3]}`;
    return formatIPv6(a, o);
  }
  /**
   * A cheap key for the source (address, port): a number for IPv4 (no allocation), a string
   * for IPv6. Equal sources give equal keys.
   */
  addressKey(i: number): number | string {
    const a = this.addresses;
    const o = i * 16;
    if (this.families[i] !== 6) {
      return (((a[o]! << 24) | (a[o + 1]! << 16) | (a[o + 2]! << 8) | a[o + 3]!) >>> 0) * 65536 + this.ports[i]!;
    }
    return `${formatIPv6(a, o)}|${this.ports[i]}`;
  }
}

/** Receive pool arrays; one set per slot size is shared by every socket of the thread. */
interface RecvPool {
  buffer: Buffer;
  lengths: Uint32Array;
  addresses: Uint8Array;
  ports: Uint16Array;
  families: Uint8Array;
  status: Uint8Array;
  relays: Uint16Array;
  /** The batch view over these arrays handed to listeners (one per pool: a batch is valid only during its call). */
  batch: UdpBatch;
}

// Module state is per thread (each worker loads its own copy). Sharing is safe because native
// code fills the pool and calls JavaScript synchronously, one batch at a time, and a batch is
// valid only during that call.
const recvPools = new Map<number, RecvPool>();

function sharedRecvPool(slotSize: number): RecvPool {
  let pool = recvPools.get(slotSize);
  if (!pool) {
    const buffer = Buffer.alloc(slotSize * BATCH_SLOTS);
    const lengths = new Uint32Array(BATCH_SLOTS);
    const addresses = new Uint8Array(BATCH_SLOTS * 16);
    const ports = new Uint16Array(BATCH_SLOTS);
    const families = new Uint8Array(BATCH_SLOTS);
    const status = new Uint8Array(BATCH_SLOTS);
    const relays = new Uint16Array(BATCH_SLOTS);
    const batch = new UdpBatch(buffer, slotSize, lengths, addresses, ports, families, status, relays);
    pool = { buffer, lengths, addresses, ports, families, status, relays, batch };
    recvPools.set(slotSize, pool);
  }
  return pool;
}

/** Canonical (RFC 5952) text of the IPv6 address at bytes[o..o+16). */
function formatIPv6(bytes: Uint8Array, o: number): string {
  const words: number[] = [];
  for (let k = 0; k < 8; k++) words.push((bytes[o + 2 * k]! << 8) | bytes[o + 2 * k + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let k = 0; k < 8; ) {
    if (words[k] !== 0) {
      k++;
      continue;
    }
    let j = k;
    while (j < 8 && words[j] === 0) j++;
    if (j - k > bestLen && j - k > 1) {
      bestStart = k;
      bestLen = j - k;
    }
    k = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

/**
 * Counters of the sockets of this thread, COUNTER_SLAB_SOCKETS sockets' worth per slab: a socket's
 * counters are a view into a slab, so that a socket adds no ArrayBuffer of its own to the C heap
 * (its backing store, V8's record of it and the reference native code held on it: about 0.5 KiB;
 * docs/udp.md "Cost per connection"). A closed socket keeps a copy and gives its slot back.
 */
const COUNTER_SLAB_SOCKETS = 64;
const freeCounterSlots: Float64Array[] = [];

function takeCounterSlot(): Float64Array {
  let slot = freeCounterSlots.pop();
  if (!slot) {
    const count = NativeUdpCounter.Count;
    const slab = new Float64Array(COUNTER_SLAB_SOCKETS * count);
    for (let i = COUNTER_SLAB_SOCKETS - 1; i > 0; i--) freeCounterSlots.push(slab.subarray(i * count, (i + 1) * count));
    slot = slab.subarray(0, count);
  }
  return slot;
}

function giveCounterSlot(slot: Float64Array): void {
  slot.fill(0);
  freeCounterSlots.push(slot);
}

/** Listener of received batches. */
export type UdpBatchListener = (batch: UdpBatch) => void;

/**
 * The send pool every socket of this thread starts on (docs/udp.md "Send pools"): an idle socket
 * (an idle connection's, sending a consent check every few seconds) holds no send buffer of its
 * own. One socket at a time has datagrams queued in it: a socket that queues while another one
 * does sends the other's first (one sendmmsg, as that socket's own flush at the end of the turn
 * would have). A socket that queues again in a turn after that, or fills the pool, moves to a
 * pool of its own (as every socket had before), and comes back once it has sent at most one
 * datagram a turn for QUIET_TURNS_TO_SHARE turns in a row (a connection that went idle after its
 * handshake's flights).
 */
interface SharedSendPool {
  readonly buffer: Buffer;
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
  readonly addresses: Uint8Array;
  readonly routes: Uint16Array;
  /** The socket whose datagrams are queued in it (undefined: none). */
  owner: UdpSocket | undefined;
}

let sharedSendPool: SharedSendPool | undefined;

/**
 * Times other sockets sent what this one had queued in the shared pool, in one turn, after which its
 * next datagram of that turn moves it to a pool of its own. Two, not one: a connection answering a
 * check and then sending its own in one turn (in a burst of set-ups, between other connections'
 * sends) is not a busy interleaved sender, and a 4 KiB pool of its own (allocated, handed to native
 * code, given back by the sweep) cost more than the one extra `sendmmsg` (docs/udp.md "Send pools").
 */
const OWN_POOL_AFTER_FLUSHES_BY_OTHERS = 2;

/** Turns (of this socket's flushes) with at most one datagram after which an own pool is given up. */
const QUIET_TURNS_TO_SHARE = 4;

/**
 * How often the sockets on a pool of their own are checked for having queued nothing since the
 * last check (`sweepOwnPools`): a socket that stopped sending from JavaScript altogether (an
 * idle connection's consent checks and answers are native) has no more flushes to count quiet
 * turns on, and would otherwise keep the pool it took during its handshake's burst for good.
 */
const OWN_POOL_SWEEP_MS = 1000;

/**
 * The sockets of this thread on a send pool of their own, and the one unreferenced interval that
 * runs while there are any: each run returns to the shared pool every socket that queued nothing
 * since the previous run (nothing queued, no flush pending), the others are looked at again next
 * time. O(sockets on own pools) a second; none on own pools, no timer.
 */
const ownPoolSockets = new Set<UdpSocket>();
let ownPoolSweep: ReturnType<typeof setInterval> | undefined;

function watchOwnPool(socket: UdpSocket): void {
  ownPoolSockets.add(socket);
  if (!ownPoolSweep) {
    ownPoolSweep = setInterval(sweepOwnPools, OWN_POOL_SWEEP_MS);
    ownPoolSweep.unref();
  }
}

function unwatchOwnPool(socket: UdpSocket): void {
  if (!ownPoolSockets.delete(socket) || ownPoolSockets.size > 0 || !ownPoolSweep) return;
  clearInterval(ownPoolSweep);
  ownPoolSweep = undefined;
}

function sweepOwnPools(): void {
  // A socket returning is deleted from the set while it is iterated: a Set allows that.
  for (const socket of ownPoolSockets) socket.returnIfQuiet();
}

/** Sockets of this thread on a send pool of their own now (tests, docs/udp.md "Send pools"). */
export function ownSendPoolCount(): number {
  return ownPoolSockets.size;
}

function threadSendPool(): SharedSendPool {
  return (sharedSendPool ??= {
    buffer: Buffer.allocUnsafe(SEND_POOL_INITIAL_BYTES),
    offsets: new Uint32Array(SEND_POOL_INITIAL_ENTRIES),
    lengths: new Uint32Array(SEND_POOL_INITIAL_ENTRIES),
    addresses: new Uint8Array(SEND_POOL_INITIAL_ENTRIES * ADDRESS_RECORD),
    routes: new Uint16Array(SEND_POOL_INITIAL_ENTRIES),
    owner: undefined,
  });
}

/**
 * Sockets of this thread with datagrams queued in this event-loop turn, in the order they queued
 * the first one: ONE setImmediate flushes them all, instead of one per socket and turn (a
 * connection's set-up made about a dozen; docs/peer.md "Setup cost"). They still leave at the end
 * of the turn that queued them, each socket in one sendmmsg.
 */
const socketsToFlush: UdpSocket[] = [];
let socketFlushScheduled = false;

function flushQueuedSockets(): void {
  socketFlushScheduled = false;
  // Sockets that queue while these flush (none does: a flush is one native call) wait for the next turn.
  const n = socketsToFlush.length;
  let failure: { error: unknown } | undefined;
  for (let i = 0; i < n; i++) {
    try {
      socketsToFlush[i]!.endTurn();
    } catch (error) {
      // The others still flush; the first error is thrown as a socket's own setImmediate threw it.
      failure ??= { error };
    }
  }
  socketsToFlush.copyWithin(0, n);
  socketsToFlush.length -= n;
  if (socketsToFlush.length > 0) scheduleSocketFlush();
  if (failure) throw failure.error;
}

function scheduleSocketFlush(): void {
  if (socketFlushScheduled) return;
  socketFlushScheduled = true;
  setImmediate(flushQueuedSockets);
}

/** A UDP socket with batched receive (recvmmsg) and batched send (sendmmsg, GSO). */
export class UdpSocket {
  private readonly native: NativeUdpSocket;
  private readonly family: 4 | 6;
  private listener: UdpBatchListener | null = null;
  /** The attached forwarding engine (setForwardEngine). */
  private forwardEngine: object | undefined;
  /** A slot of the thread's counter slabs while open; a copy of its last values once closed. */
  private counters: Float64Array;
  private sendBuffer: Buffer;
  private sendOffsets: Uint32Array;
  private sendLengths: Uint32Array;
  private sendAddresses: Uint8Array;
  private sendRoutes: Uint16Array;
  private sendEntries = SEND_POOL_INITIAL_ENTRIES;
  /** On the thread's shared send pool (see SharedSendPool), not one of its own. */
  private onSharedPool = true;
  /** This turn, how often another socket sent what this one had queued in the shared pool. */
  private flushesByOther = 0;
  /** Datagrams queued this turn, and turns in a row with at most one (see QUIET_TURNS_TO_SHARE). */
  private turnDatagrams = 0;
  private quietTurns = 0;
  /** Set when the pool filled within one turn: the next overflow grows it. */
  private filledThisTurn = false;
  /** Something was queued since the last run of the own-pool sweep (OWN_POOL_SWEEP_MS). */
  private queuedSinceSweep = false;
  /**
   * The SRTP routes: the one route in a field while there is one (an own socket's connection), a
   * Map from the second on (152 bytes of table per socket otherwise: docs/peer.md "Memory per idle
   * connection"). See hasRoute.
   */
  private soleRoute: UdpSrtpRoute | undefined;
  private routes: Map<number, UdpSrtpRoute> | undefined;
  private sendCount = 0;
  private sendUsed = 0;
  private flushScheduled = false;
  private isClosed = false;
  private groOn = false;
  /** The address the kernel bound (getsockname once, at bind: it never changes while open). */
  private boundAddress = '';
  private boundPort = 0;
  private recvRequested = 0;
  /**
   * Destinations resolved before, by `address|port`: made when a second one is resolved (until
   * then the one is lastDestination; an own socket's connection talks to one remote).
   */
  private destinations: Map<string, UdpDestination> | undefined;
  /** The last destination returned: a run of sends to one remote builds no key string. */
  private lastDestination: UdpDestination | undefined;
  /**
   * @internal The end of a turn in which this socket queued datagrams (flushQueuedSockets): sends
   * them and settles the turn's send-pool bookkeeping.
   */
  endTurn(): void {
    this.flushScheduled = false;
    this.filledThisTurn = false;
    this.flushesByOther = 0;
    if (this.isClosed) return;
    this.flush();
    if (!this.onSharedPool) {
      this.quietTurns = this.turnDatagrams <= 1 ? this.quietTurns + 1 : 0;
      if (this.quietTurns >= QUIET_TURNS_TO_SHARE) this.returnToSharedPool();
    }
    this.turnDatagrams = 0;
  }

  private constructor(options: UdpSocketOptions) {
    this.family = options.type === 'udp6' ? 6 : 4;
    const slotSize = options.maxDatagramSize ?? 2048;
    const rp = sharedRecvPool(slotSize);
    const recvBuffer = rp.buffer;
    const recvLengths = rp.lengths;
    const recvAddresses = rp.addresses;
    const recvPorts = rp.ports;
    const recvFamilies = rp.families;
    const recvStatus = rp.status;
    const recvRelays = rp.relays;
    this.counters = takeCounterSlot();
    const shared = threadSendPool();
    this.sendBuffer = shared.buffer;
    this.sendOffsets = shared.offsets;
    this.sendLengths = shared.lengths;
    this.sendAddresses = shared.addresses;
    this.sendRoutes = shared.routes;
    // The pool's one batch object: every socket of the thread reads into the same arrays.
    const batch = rp.batch;
    const onBatch = (count: number): void => {
      const listener = this.listener;
      if (!listener) return;
      batch.count = count;
      try {
        listener(batch);
      } catch (err) {
        reportListenerError(err);
      }
    };
    this.native = createNativeUdpSocket({
      recvBuffer, slotSize, recvLengths, recvAddresses, recvPorts, recvFamilies, recvStatus, recvRelays,
      sendBuffer: this.sendBuffer, sendOffsets: this.sendOffsets, sendLengths: this.sendLengths,
      sendAddresses: this.sendAddresses, sendRoutes: this.sendRoutes, counters: this.counters, onBatch,
    });
  }

  /**
   * Creates and binds a socket. Rejects with a typed error: `ERR_UDP_ADDRESS_IN_USE`,
   * `ERR_UDP_INVALID_ADDRESS`, `ERR_UDP_ADDRESS_NOT_AVAILABLE`, `ERR_UDP_PERMISSION_DENIED`,
   * `ERR_UDP_BIND_FAILED`, or `ERR_UDP_INVALID_OPTION` for bad options.
   */
  static async bind(options: UdpSocketOptions): Promise<UdpSocket> {
    return UdpSocket.bindSync(options);
  }

  /** Synchronous form of {@link UdpSocket.bind}; throws the same typed errors. */
  static bindSync(options: UdpSocketOptions): UdpSocket {
    validateOptions(options);
    if (nativeUdpCounterCount() !== NativeUdpCounter.Count) {
      throw new OperationError('ERR_NATIVE_MISMATCH', 'UdpSocket: the native addon does not match this JavaScript (rebuild it)');
    }
    const socket = new UdpSocket(options);
    const family = socket.family;
    // One native call binds, sets GSO and returns the bound address (docs/peer.md "Setup cost").
    const bound = socket.native.bind(family, options.address ?? '', options.port ?? 0,
      options.reusePort ?? false, options.ipv6Only ?? false, options.recvBufferSize ?? 0, options.sendBufferSize ?? 0,
      options.gso ?? true);
    if (bound[0] !== NativeUdpStatus.Ok) {
      socket.isClosed = true;
      socket.native.close();
      socket.releaseCounters();
      throw bindError(bound[0], bound[1], options);
    }
    socket.boundAddress = bound[2]!;
    socket.boundPort = bound[3]!;
    socket.groOn = options.gro === true && socket.native.setGro(true);
    socket.recvRequested = options.recvBufferSize ?? 0;
    return socket;
  }

  /** Sets (or clears with null) the listener that receives every batch. */
  onBatch(listener: UdpBatchListener | null): void {
    this.listener = listener;
  }

  /** The bound local address. */
  address(): UdpAddressInfo {
    this.assertOpen();
    return { address: this.boundAddress, port: this.boundPort, family: this.family === 6 ? 'IPv6' : 'IPv4' };
  }

  /**
   * The receive buffer: what was asked (`recvBufferSize`, 0 = the system default) and what the
   * kernel granted (SO_RCVBUF read back; Linux reports twice the granted bytes, halved here).
   * `capped` when it granted less than asked (net.core.rmem_max; docs/udp.md "Socket buffers").
   * Undefined after close().
   */
  get receiveBuffer(): { requested: number; granted: number; capped: boolean } | undefined {
    if (this.isClosed) return undefined;
    const sizes = this.native.bufferSizes();
    if (!sizes) return undefined;
    const granted = process.platform === 'linux' ? Math.floor(sizes[0] / 2) : sizes[0];
    return { requested: this.recvRequested, granted, capped: granted < this.recvRequested };
  }

  /** True after close(). */
  get closed(): boolean {
    return this.isClosed;
  }

  /** True when the socket receives with UDP_GRO (asked for with `gro` and accepted by the kernel). */
  get groEnabled(): boolean {
    return this.groOn;
  }

  /**
   * Resolves (and caches) a destination. Throws `ERR_UDP_INVALID_ADDRESS` for text that is not an
   * IP address of this socket's family (udp6 sockets also reach IPv4 through mapped addresses).
   * The last one returned is compared first, so callers that send a run to one remote (ICE checks
   * and answers, send(port, address)) need no cache of their own.
   */
  destination(port: number, address: string): UdpDestination {
    const last = this.lastDestination;
    if (last !== undefined && last.port === port && last.address === address) return last;
    const key = `${address}|${port}`;
    const cached = this.destinations?.get(key);
    if (cached) return (this.lastDestination = cached);
    validatePort(port, 'port');
    const kind = isIP(address);
    if (kind === 0 || (kind === 6 && this.family === 4)) {
      throw new PwtError('TypeError', 'ERR_UDP_INVALID_ADDRESS', `UdpSocket: '${address}' is not a valid IPv${this.family} address`);
    }
    const record = new Uint8Array(ADDRESS_RECORD);
    if (this.native.resolve(this.family, address, port, record, 0) === 0) {
      throw new PwtError('TypeError', 'ERR_UDP_INVALID_ADDRESS', `UdpSocket: '${address}' is not a valid address for this socket`);
    }
    const dest: UdpDestination = { address, port, family: kind === 6 ? 6 : 4, record };
    if (this.destinations === undefined) {
      // The first destination is only the last one; the second makes the cache, with both.
      if (last !== undefined) this.destinations = new Map([[`${last.address}|${last.port}`, last]]);
    } else if (this.destinations.size >= DESTINATION_CACHE_LIMIT) this.destinations.clear();
    this.destinations?.set(key, dest);
    return (this.lastDestination = dest);
  }

  /** Queues one datagram; it leaves with the next flush (this event-loop turn). */
  send(data: Uint8Array, port: number, address: string): void {
    this.sendTo(data, this.destination(port, address));
  }

  /** Queues one datagram to a resolved destination (the hot-path form). */
  sendTo(data: Uint8Array, destination: UdpDestination): void {
    this.enqueue(data, destination.record, 0, 0);
  }

  /**
   * Registers an SRTP route for a remote address: its RTP/RTCP datagrams are unprotected in
   * place inside the receive batch (see `UdpBatch.srtpStatus`), and `sendSrtp` protects at
   * flush. A newer route for the same address replaces the older one for receiving. With a
   * `channel` (0x4000..0x4FFF) `destination` is a TURN server and the route carries that bound
   * channel's ChannelData (RFC 8656 §12; docs/udp.md "TURN channels").
   */
  addSrtpRoute(destination: UdpDestination, session: SrtpSession, channel = 0): UdpSrtpRoute {
    this.assertOpen();
    const handle: unknown = (session as { nativeHandle?: unknown } | null)?.nativeHandle;
    if (typeof handle !== 'object' || handle === null) {
      throw new InvalidArgumentError('ERR_UDP_SRTP_ROUTE', 'UdpSocket: addSrtpRoute needs an SrtpSession');
    }
    if (channel !== 0 && (!Number.isInteger(channel) || channel < 0x4000 || channel > 0x4fff)) {
      throw new OutOfRangeError('ERR_UDP_SRTP_ROUTE', `UdpSocket: TURN channel ${String(channel)} is outside 0x4000..0x4FFF`);
    }
    const id = this.native.addSrtpRoute(destination.record, handle, channel);
    if (id === 0) throw new OperationError('ERR_UDP_SRTP_ROUTE', 'UdpSocket: SRTP route refused (not a native SrtpSession, or 65535 routes in use)');
    const route: UdpSrtpRoute = { id, destination, session, channel };
    if (this.routes === undefined && this.soleRoute === undefined) this.soleRoute = route;
    else {
      if (this.routes === undefined) {
        this.routes = new Map([[this.soleRoute!.id, this.soleRoute!]]);
        this.soleRoute = undefined;
      }
      this.routes.set(id, route);
    }
    return route;
  }

  /** Whether `route` is one of this socket's (not removed). */
  private hasRoute(route: UdpSrtpRoute): boolean {
    return this.routes !== undefined ? this.routes.get(route.id) === route : this.soleRoute === route;
  }

  /** Removes a route; queued sendSrtp packets of that route are dropped and counted. */
  removeSrtpRoute(route: UdpSrtpRoute): void {
    if (!this.hasRoute(route)) return;
    this.flush();
    if (this.routes !== undefined) this.routes.delete(route.id);
    else this.soleRoute = undefined;
    if (!this.isClosed) this.native.removeSrtpRoute(route.id);
  }

  /**
   * @internal Runs a native forwarding engine (lib/sfu, docs/sfu.md) inside each receive batch,
   * after the session table unprotects; null detaches. Used by lib/sfu's Router. False while
   * another engine is attached: a second router on the port would silently unhook the first.
   */
  setForwardEngine(engine: object | null): boolean {
    this.assertOpen();
    if (engine !== null && this.forwardEngine !== undefined && this.forwardEngine !== engine) return false;
    const attached = this.native.setForwardEngine(engine);
    this.forwardEngine = attached ? engine! : undefined;
    return attached;
  }

  /**
   * @internal The attached forwarding engine sends an SR + SDES CNAME on each consumer leg
   * ids[0, count) in one flush (lib/sfu/leg-sender-reports.ts); returns how many left.
   */
  forwardSenderReports(ids: Uint32Array, unixMs: Float64Array, count: number, sent: Uint8Array): number {
    if (this.isClosed) return 0;
    return this.native.forwardSenderReports(ids, unixMs, count, sent);
  }

  /**
   * @internal Lets the attached engine answer every NACK of one compound RTCP packet that engine
   * transport `transport` received (lib/sfu, one call per compound); with the miss arrays, returns
   * how many numbers no cache held (written there: consumer id, producer-space number, layer).
   */
  forwardRetransmitCompound(transport: number, rtcp: Uint8Array, offset: number, length: number,
    missConsumers?: Uint32Array, missSeqs?: Uint16Array, missLayers?: Uint8Array): number {
    if (this.isClosed) return 0;
    return this.native.forwardRetransmitCompound(transport, rtcp, offset, length, missConsumers, missSeqs, missLayers);
  }

  /**
   * @internal Makes this socket a plain/pipe transport's (lib/sfu, docs/scaling.md): each batch passes
   * `filter` (a native PlainRtpFilter) before the engine runs; refused datagrams have
   * `srtpStatus(i) === UdpSrtpStatus.rejected`. null switches it off.
   */
  setPlainFilter(filter: object | null): boolean {
    this.assertOpen();
    return this.native.setPlainFilter(filter);
  }

  /** @internal The native socket, for engine transports that send through it (lib/sfu). */
  get nativeHandle(): object {
    return this.native;
  }

  /**
   * @internal Joins the hand-off of a port shared by several workers (lib/transport/source/udp-reuseport-handoff.ts,
   * docs/scaling.md "One port across workers"); false when the socket cannot.
   */
  setHandoff(options: NativeHandoffOptions): boolean {
    this.assertOpen();
    return this.native.setHandoff(options);
  }

  /** @internal Claims (or releases) the flow from `remote` for this worker; false when refused. */
  steerAddress(claim: boolean, remote: { address: string; port: number }): boolean {
    if (this.isClosed) return false;
    return this.native.steerAddress(claim, remote.address.includes(':') ? 6 : 4, remote.address, remote.port);
  }

  /**
   * @internal Opens (or closes) a socket on this port connect()ed to `remote`, so that the kernel delivers
   * that flow here directly (docs/scaling.md "Connected flow sockets"); false when refused.
   */
  connectFlow(open: boolean, remote: { address: string; port: number }): boolean {
    if (this.isClosed) return false;
    return this.native.connectFlow(open, remote.address.includes(':') ? 6 : 4, remote.address, remote.port);
  }

  /**
   * @internal Answers consent checks from `remote` natively inside the receive batch (docs/ice.md
   * "Consent checks answered natively"); returns the registration id (0: refused or closed).
   */
  addConsentResponder(remote: UdpDestination, localUfrag: string, remoteUfrag: string, password: string, controlling: boolean, checks?: NativeConsentCheckSetup): number {
    if (this.isClosed) return 0;
    if (!checks) return this.native.addConsentResponder(remote.record, localUfrag, remoteUfrag, password, controlling);
    return this.native.addConsentResponder(remote.record, localUfrag, remoteUfrag, password, controlling, checks.remotePassword, checks.tieBreaker, checks.priority, checks.timeoutMs);
  }

  /** @internal Sends a consent check to each of the first `count` registrations in `ids` (docs/ice.md "Consent checks sent natively"). */
  sendConsentChecks(ids: Uint32Array, count: number): number {
    return this.isClosed ? 0 : this.native.sendConsentChecks(ids, count);
  }

  /**
   * @internal The agent sent the Binding request `request` to registration `id`'s remote itself: its
   * verified answer is counted as the agent's (`consentStats.responsesToAgent`), not as a drop.
   */
  noteAgentConsentCheck(id: number, request: Uint8Array): boolean {
    return this.isClosed ? false : this.native.noteAgentConsentCheck(id, request);
  }

  /** @internal Sends that remote's STUN to JavaScript again. */
  removeConsentResponder(id: number): void {
    if (!this.isClosed) this.native.removeConsentResponder(id);
  }

  /** @internal (id, answered, of those with USE-CANDIDATE, verified answers to our checks, ms since the last) entries into `out`; returns the entries written. */
  takeConsentAnswers(out: Uint32Array): number {
    return this.isClosed ? 0 : this.native.takeConsentAnswers(out);
  }

  /** Consent checks answered natively on this socket, and Binding requests from registered remotes left to JavaScript. */
  get consentStats(): NativeConsentStats {
    return this.isClosed
      ? { answered: 0, declined: 0, registrations: 0, checksSent: 0, responsesVerified: 0, responsesToAgent: 0, responsesDropped: { unknownTransaction: 0, badIntegrity: 0, badFingerprint: 0, errorResponse: 0, malformed: 0 } }
      : this.native.consentStats();
  }

  /** @internal Claims (or releases) Binding requests naming the local `ufrag` for this worker. */
  steerUfrag(claim: boolean, ufrag: string): boolean {
    if (this.isClosed) return false;
    return this.native.steerUfrag(claim, ufrag);
  }

  /** Queues a clear RTP or RTCP packet, protected natively by the route's session at flush. */
  sendSrtp(packet: Uint8Array, route: UdpSrtpRoute): void {
    if (!this.hasRoute(route)) {
      throw new InvalidStateError('ERR_UDP_SRTP_ROUTE_REMOVED', 'UdpSocket: that SRTP route was removed');
    }
    this.enqueue(packet, route.destination.record, route.id, SRTP_ROOM, route.channel === 0 ? 0 : CHANNEL_HEADER);
  }

  private enqueue(data: Uint8Array, record: Uint8Array, routeId: number, room: number, headroom = 0): void {
    this.assertOpen();
    const length = data.byteLength + headroom;
    if (length + room > MAX_UDP_PAYLOAD) {
      throw new OutOfRangeError('ERR_UDP_DATAGRAM_TOO_BIG', `UdpSocket: datagram of ${length} bytes exceeds ${MAX_UDP_PAYLOAD - room}`);
    }
    if (this.onSharedPool) this.claimSharedPool();
    this.turnDatagrams++;
    this.queuedSinceSweep = true;
    if (this.sendCount === this.sendEntries || this.sendUsed + length + room > this.sendBuffer.length) {
      this.flush();
      if (this.filledThisTurn || length + room > this.sendBuffer.length) this.growSendPool(length + room);
      this.filledThisTurn = true;
    }
    const n = this.sendCount;
    // Headroom (a TURN channel's ChannelData header) is written natively at flush.
    this.sendBuffer.set(data, this.sendUsed + headroom);
    this.sendOffsets[n] = this.sendUsed;
    this.sendLengths[n] = length;
    this.sendRoutes[n] = routeId;
    this.sendAddresses.set(record, n * ADDRESS_RECORD);
    this.sendCount = n + 1;
    this.sendUsed += length + room;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      socketsToFlush.push(this);
      scheduleSocketFlush();
    }
  }

  /** Queues several datagrams to one destination, or each to its own (port, address). */
  sendBatch(datagrams: readonly Uint8Array[], destination: UdpDestination): void;
  sendBatch(datagrams: readonly { data: Uint8Array; port: number; address: string }[]): void;
  sendBatch(
    datagrams: readonly Uint8Array[] | readonly { data: Uint8Array; port: number; address: string }[],
    destination?: UdpDestination,
  ): void {
    if (destination) {
      for (const d of datagrams as readonly Uint8Array[]) this.sendTo(d, destination);
      return;
    }
    for (const d of datagrams as readonly { data: Uint8Array; port: number; address: string }[]) {
      this.sendTo(d.data, this.destination(d.port, d.address));
    }
  }

  /** Sends everything queued now (one native call, sendmmsg). */
  flush(): void {
    if (this.sendCount === 0 || this.isClosed) return;
    const n = this.sendCount;
    this.sendCount = 0;
    this.sendUsed = 0;
    this.native.flush(n);
  }

  /**
   * Before queueing in the shared pool: sends what another socket queued there, or, when another
   * socket already did that to this one in this turn (several sockets sending interleaved), moves
   * this socket to a pool of its own so that its datagrams leave in one batch again.
   */
  private claimSharedPool(): void {
    const shared = threadSendPool();
    if (shared.owner === this) return;
    if (this.flushesByOther >= OWN_POOL_AFTER_FLUSHES_BY_OTHERS) {
      this.leaveSharedPool(SEND_POOL_INITIAL_BYTES, SEND_POOL_INITIAL_ENTRIES);
      return;
    }
    const previous = shared.owner;
    if (previous && previous.sendCount > 0) {
      previous.flush();
      previous.flushesByOther++;
    }
    shared.owner = this;
  }

  /**
   * The own-pool sweep's check: back to the shared pool when nothing was queued since the previous
   * check (and nothing waits for a flush); otherwise looked at again next time.
   * @internal
   */
  returnIfQuiet(): void {
    if (this.onSharedPool || this.isClosed) {
      unwatchOwnPool(this);
      return;
    }
    if (this.queuedSinceSweep || this.sendCount > 0 || this.flushScheduled) {
      this.queuedSinceSweep = false;
      return;
    }
    this.returnToSharedPool();
  }

  /** Back to the thread's shared pool after quiet turns (nothing is queued: the turn's flush ran). */
  private returnToSharedPool(): void {
    const shared = threadSendPool();
    unwatchOwnPool(this);
    this.onSharedPool = true;
    this.quietTurns = 0;
    this.sendBuffer = shared.buffer;
    this.sendOffsets = shared.offsets;
    this.sendLengths = shared.lengths;
    this.sendAddresses = shared.addresses;
    this.sendRoutes = shared.routes;
    this.sendEntries = SEND_POOL_INITIAL_ENTRIES;
    this.native.setSendPool({
      sendBuffer: shared.buffer, sendOffsets: shared.offsets, sendLengths: shared.lengths,
      sendAddresses: shared.addresses, sendRoutes: shared.routes,
    });
  }

  /** Gives this socket a send pool of its own (nothing is queued: the caller flushed). */
  private leaveSharedPool(bytes: number, entries: number): void {
    if (sharedSendPool?.owner === this) sharedSendPool.owner = undefined;
    this.onSharedPool = false;
    this.quietTurns = 0;
    this.queuedSinceSweep = true;
    watchOwnPool(this);
    this.installOwnSendPool(bytes, entries);
  }

  /** Doubles the send pool (up to its maximum) after a flush, so no queued entry refers to it. */
  private growSendPool(atLeast: number): void {
    const bytes = Math.max(atLeast, Math.min(SEND_POOL_BYTES, this.sendBuffer.length * 2));
    const entries = Math.min(SEND_POOL_ENTRIES, this.sendEntries * 2);
    if (this.onSharedPool) {
      this.leaveSharedPool(bytes, entries);
      return;
    }
    if (bytes === this.sendBuffer.length && entries === this.sendEntries) return;
    this.installOwnSendPool(bytes, entries);
  }

  /** Allocates a send pool of `bytes` and `entries` for this socket alone and hands it to native. */
  private installOwnSendPool(bytes: number, entries: number): void {
    this.sendBuffer = Buffer.allocUnsafe(bytes);
    this.sendOffsets = new Uint32Array(entries);
    this.sendLengths = new Uint32Array(entries);
    this.sendAddresses = new Uint8Array(entries * ADDRESS_RECORD);
    this.sendRoutes = new Uint16Array(entries);
    this.sendEntries = entries;
    this.native.setSendPool({
      sendBuffer: this.sendBuffer, sendOffsets: this.sendOffsets, sendLengths: this.sendLengths,
      sendAddresses: this.sendAddresses, sendRoutes: this.sendRoutes,
    });
  }

  /** Counters (a fresh snapshot object). */
  get stats(): UdpSocketStats {
    const c = this.counters;
    return {
      packetsReceived: c[NativeUdpCounter.PacketsIn]!,
      bytesReceived: c[NativeUdpCounter.BytesIn]!,
      packetsSent: c[NativeUdpCounter.PacketsOut]!,
      bytesSent: c[NativeUdpCounter.BytesOut]!,
      recvSyscalls: c[NativeUdpCounter.RecvSyscalls]!,
      sendSyscalls: c[NativeUdpCounter.SendSyscalls]!,
      batches: c[NativeUdpCounter.Batches]!,
      jsCalls: c[NativeUdpCounter.JsCalls]!,
      gsoSends: c[NativeUdpCounter.GsoSends]!,
      gsoFallbacks: c[NativeUdpCounter.GsoFallbacks]!,
      groReceives: c[NativeUdpCounter.GroReceives]!,
      groSegments: c[NativeUdpCounter.GroSegments]!,
      sendBlocked: c[NativeUdpCounter.SendBlocked]!,
      sendQueued: this.isClosed ? 0 : this.native.pendingCount(),
      srtpUnprotected: c[NativeUdpCounter.SrtpUnprotected]!,
      srtpProtected: c[NativeUdpCounter.SrtpProtected]!,
      channelDataReceived: c[NativeUdpCounter.ChannelDataReceived]!,
      channelDataSent: c[NativeUdpCounter.ChannelDataSent]!,
      drops: {
        truncated: c[NativeUdpCounter.DropTruncated]!,
        receiveError: c[NativeUdpCounter.DropRecvError]!,
        sendTooBig: c[NativeUdpCounter.DropSendTooBig]!,
        sendUnreachable: c[NativeUdpCounter.DropSendUnreachable]!,
        sendRefused: c[NativeUdpCounter.DropSendRefused]!,
        sendOther: c[NativeUdpCounter.DropSendOther]!,
        srtpReceive: c[NativeUdpCounter.SrtpRecvDropped]!,
        srtpProtect: c[NativeUdpCounter.SrtpProtectFailed]!,
        channelData: c[NativeUdpCounter.ChannelDataMalformed]!,
      },
    };
  }

  /** Keeps the event loop alive while open (default). */
  ref(): this {
    if (!this.isClosed) this.native.ref();
    return this;
  }

  /** Lets the process exit even though this socket is open. */
  unref(): this {
    if (!this.isClosed) this.native.unref();
    return this;
  }

  /** Sends what is queued, then closes the socket. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.flush();
    if (sharedSendPool?.owner === this) sharedSendPool.owner = undefined;
    unwatchOwnPool(this);
    this.isClosed = true;
    this.listener = null;
    this.routes?.clear();
    this.soleRoute = undefined;
    this.native.close();
    this.releaseCounters();
  }

  /** After the native close (nothing counts any more): keeps a copy, gives the slab slot back. */
  private releaseCounters(): void {
    const slot = this.counters;
    this.counters = slot.slice();
    giveCounterSlot(slot);
  }

  private assertOpen(): void {
    if (this.isClosed) throw new InvalidStateError('ERR_UDP_CLOSED', 'UdpSocket: the socket is closed');
  }
}

function validatePort(port: unknown, name: string): void {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new OutOfRangeError('ERR_UDP_INVALID_PORT', `UdpSocket: ${name} must be an integer in 0..65535, got ${String(port)}`);
  }
}

function validateOptions(o: UdpSocketOptions): void {
  if (!o || (o.type !== 'udp4' && o.type !== 'udp6')) {
    throw new InvalidArgumentError('ERR_UDP_INVALID_OPTION', "UdpSocket: options.type must be 'udp4' or 'udp6'");
  }
  if (o.port !== undefined) validatePort(o.port, 'options.port');
  if (o.address !== undefined) {
    const kind = isIP(o.address);
    if (kind === 0 || (kind === 6) !== (o.type === 'udp6')) {
      throw new PwtError('TypeError', 'ERR_UDP_INVALID_ADDRESS', `UdpSocket: '${o.address}' is not a valid ${o.type === 'udp6' ? 'IPv6' : 'IPv4'} address`);
    }
  }
  for (const key of ['recvBufferSize', 'sendBufferSize'] as const) {
    const v = o[key];
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 2 ** 30)) {
      throw new OutOfRangeError('ERR_UDP_INVALID_OPTION', `UdpSocket: options.${key} must be an integer in 0..2^30`);
    }
  }
  const m = o.maxDatagramSize;
  if (m !== undefined && (!Number.isInteger(m) || m < 64 || m > 65536)) {
    throw new OutOfRangeError('ERR_UDP_INVALID_OPTION', 'UdpSocket: options.maxDatagramSize must be an integer in 64..65536');
  }
}

function bindError(status: number, errno: number, o: UdpSocketOptions): PwtError {
  const where = `${o.address ?? (o.type === 'udp6' ? '::' : '0.0.0.0')}:${o.port ?? 0}`;
  switch (status) {
    case NativeUdpStatus.AddressInUse:
      return new OperationError('ERR_UDP_ADDRESS_IN_USE', `UdpSocket: address in use (EADDRINUSE): ${where}`);
    case NativeUdpStatus.InvalidAddress:
      return new PwtError('TypeError', 'ERR_UDP_INVALID_ADDRESS', `UdpSocket: invalid address for ${o.type}: ${where}`);
    case NativeUdpStatus.AddressNotAvailable:
      return new OperationError('ERR_UDP_ADDRESS_NOT_AVAILABLE', `UdpSocket: address not available on this host (EADDRNOTAVAIL): ${where}`);
    case NativeUdpStatus.PermissionDenied:
      return new OperationError('ERR_UDP_PERMISSION_DENIED', `UdpSocket: permission denied binding ${where}`);
    default:
      return new OperationError('ERR_UDP_BIND_FAILED', `UdpSocket: bind ${where} failed (errno ${errno})`);
  }
}
