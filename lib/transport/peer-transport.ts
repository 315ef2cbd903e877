// PeerTransport: what one BUNDLE transport of a peer connection does with its datagrams, the same
// on every path (docs/architecture.md): ICE (RFC 8445) → DTLS (RFC 6347, RFC 5764) → SRTP (RFC 3711)
// and SCTP (RFC 8261), demultiplexed by the first byte as RFC 7983 section 7 says (STUN 0-3, DTLS
// 20-63, RTP/RTCP 128-191). Where the datagrams come from — own UDP sockets, a shared UdpMux port,
// a TURN relay — is the IceTransport's business (ice-transport.ts and the sources beside it).
//
// Driving: every input (a batch end, a timer, an API call) ends with `drive()`, which drains DTLS
// and SCTP until nothing moves and re-arms ONE timer at their earliest pollTimeout; the ICE driver
// runs the agent and its own timer. All cores see the same monotonic clock.
// Media data path: once SRTP is keyed, the selected pair's remote gets a route in its socket's
// native session table (IceTransport.setSrtpSession; docs/udp.md "Session table"): RTP/RTCP arrive
// unprotected inside the receive batch and leave protected inside the send flush, with no
// per-packet native call. Media the table did not handle (a relayed pair, a pair switch in flight)
// is unprotected in JS with ONE native call per batch (SrtpBatch). Either way the clear packets
// go up with ONE call per batch (`onMedia`).
import { interfaceAddresses } from './source/host-addresses.js';
import { systemClock, type Clock } from '../common/clock.js';
import { reportListenerError } from '../common/typed-emitter.js';
import type { DtlsCertificate } from '../dtls/dtls-certificate.js';
import { DtlsTransport, type DtlsRole, type DtlsTransportState } from '../dtls/dtls-transport.js';
import type { DtlsFingerprint } from '../dtls/fingerprint.js';
import type { SrtpProfileName } from '../dtls/srtp-profile.js';
import type { IceAgent, IceConnectionState, IceDropReason, IceGatheringState, IceSelectedPair } from '../ice/ice-agent.js';
import type { IceCredentials } from '../ice/ice-credentials.js';
import type { IceCandidate } from '../ice/candidate.js';
import type { TransportAddress } from '../ice/transport-address.js';
import { DataChannelManager } from '../sctp/data-channel-manager.js';
import { SrtpBatch } from '../srtp/srtp-batch.js';
import { SrtpPacketKind, SrtpSession } from '../srtp/srtp-session.js';
import { SrtpStatus } from '../srtp/srtp-status.js';
import type { IceMdnsStats, IceServer, IceTransport, IceTransportStats } from './ice-transport.js';
import type { TurnLinkStreamStats } from './source/turn-link.js';
import type { TcpSrtpRoute } from './source/tcp-mux.js';
import type { TurnDropReason } from '../ice/turn-client.js';
import { nativeHeapTrimmer } from './native-heap-trimmer.js';
import { withPortDrops } from './source/port-drops.js';
import { UdpSrtpStatus, type UdpSocket } from './source/udp-socket.js';
import { loggedDropCounters } from '../common/log.js';
import { emptyArray } from '../common/empty-array.js';
import { timerWork } from '../common/turn-queue.js';

/** Packets sent before the transport is connected wait in a queue of at most this many. */
export const PENDING_MEDIA_LIMIT = 512;
const BATCH_SLOTS = 64;
const SLOT_SIZE = 2048;
/**
 * Media that arrives while SRTP is not keyed yet but the DTLS handshake's result is still on the
 * handshake thread (the peer connected first and streams at once) waits for the keys: at most this
 * many packets (each at most SLOT_SIZE bytes), in arrival order; beyond, counted in `srtpNotReady`.
 */
const HELD_MEDIA_LIMIT = 256;
const SCRATCH_SIZE = 1500 + 64;
// How long close() keeps the socket for what the handshake thread still owes (docs/dtls.md).
const CLOSE_FLUSH_MS = 2000;
/** SO_RCVBUF/SO_SNDBUF request per own socket (the kernel caps it at rmem_max/wmem_max). */
export const PEER_SOCKET_BUFFER_BYTES = 2 * 1024 * 1024;

// Shared by every transport of the thread (each worker loads its own copy): a packet is serialized
// into the scratch and leaves it within the same synchronous sendMedia call, and onMedia's
// starts/lengths are reused after the call, so per-connection copies would only cost memory.
const sharedScratch = Buffer.alloc(SCRATCH_SIZE);
const sharedRxStarts = new Uint32Array(BATCH_SLOTS);
const sharedRxLengths = new Uint32Array(BATCH_SLOTS);

/** What the transport reports upward (to RTCPeerConnection). Called synchronously. */
export interface PeerTransportHandler {
  /**
   * A new local candidate with its `candidate:` line as lib/ice writes it, or null once gathering
   * is complete.
   */
  onLocalCandidate(candidate: IceCandidate | null, line?: string): void;
  onIceGatheringState(state: IceGatheringState): void;
  onIceConnectionState(state: IceConnectionState): void;
  onDtlsState(state: DtlsTransportState, reason?: string): void;
  /**
   * Clear RTP/RTCP packets of one receive batch: packet i is `data[starts[i], starts[i] + lengths[i])`.
   * `data` is fresh memory the receiver may keep; `starts`/`lengths` are reused after the call.
   */
  onMedia(data: Buffer, starts: Uint32Array, lengths: Uint32Array, count: number): void;
}

/** Options of a PeerTransport. */
export interface PeerTransportOptions {
  handler: PeerTransportHandler;
  certificate: DtlsCertificate;
  /**
   * The ICE driver and its datagram sources (own sockets, a shared UdpMux port, TURN relays):
   * lib/transport/ice-transport.ts. Its role and mode are the transport's.
   */
  ice: IceTransport;
  /** use_srtp profiles in preference order. */
  srtpProfiles?: readonly SrtpProfileName[];
  clock?: Clock;
  /**
   * Run the DTLS handshake's OpenSSL work on the native handshake thread (true) or on this thread
   * (false) (docs/dtls.md, "Handshake thread"). Default adaptive: each handshake chooses when it
   * starts, on this thread while fewer than two handshakes of the thread are in flight (one
   * connection at a time saves the thread hops), on the handshake thread otherwise (a burst).
   * The environment's `PWT_DTLS_HANDSHAKE_THREAD=1` / `=0` forces either for the default (read
   * once, at the first connection).
   */
  dtlsHandshakeThread?: boolean;
}

/**
 * Where SRTP work happened, per packet: natively inside the socket's receive batch / send flush
 * (the session table, docs/udp.md) or in JavaScript (one native call per batch, SrtpBatch).
 */
export interface PeerTransportSrtpCounters {
  unprotectedNatively: number;
  unprotectedInJs: number;
  protectedNatively: number;
  protectedInJs: number;
  /** Native calls made for the packets counted in `unprotectedInJs` / `protectedInJs` (one per batch). */
  jsBatchCalls: number;
}

/** Drop counters of the transport (by reason). */
export interface PeerTransportDrops {
  /** First byte outside the RFC 7983 ranges. */
  unknownFirstByte: number;
  /** DTLS or media from an address ICE has not authenticated. */
  unauthenticatedSource: number;
  /** Media before the SRTP session is keyed (beyond what waits for the handshake thread's keys, HELD_MEDIA_LIMIT). */
  srtpNotReady: number;
  /** Media packets SRTP rejected (authentication, replay, ...); details in the SRTP counters. */
  srtpRejected: number;
  /** Packets sent before connected that did not fit the pending queue. */
  pendingOverflow: number;
  /** Media sent after the transport failed or closed. */
  sendAfterClose: number;
}

/** The non-internal IPv4 addresses of this host, or 127.0.0.1 when there are none. */
export function defaultHostAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(interfaceAddresses())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) out.push(a.address);
  }
  return out.length > 0 ? out : ['127.0.0.1'];
}

/**
 * `PWT_DTLS_HANDSHAKE_THREAD` (`1` the thread, `0` this thread, else adaptive), read once: a read of
 * process.env costs about 1 µs, and this was one per connection.
 */
let handshakeThreadEnv: boolean | 'adaptive' | undefined;
function handshakeThreadFromEnv(): boolean | 'adaptive' {
  if (handshakeThreadEnv === undefined) {
    const v = process.env.PWT_DTLS_HANDSHAKE_THREAD;
    handshakeThreadEnv = v === '0' ? false : v === '1' ? true : 'adaptive';
  }
  return handshakeThreadEnv;
}

/** One ICE/DTLS/SRTP/SCTP transport (see the file header). */
export class PeerTransport {
  /** Counters of dropped input and output. */
  readonly drops: PeerTransportDrops = loggedDropCounters('transport', {
    unknownFirstByte: 0, unauthenticatedSource: 0, srtpNotReady: 0, srtpRejected: 0, pendingOverflow: 0, sendAfterClose: 0,
  });
  /** Where SRTP was done (see {@link PeerTransportSrtpCounters}). */
  readonly srtpCounters: PeerTransportSrtpCounters = { unprotectedNatively: 0, unprotectedInJs: 0, protectedNatively: 0, protectedInJs: 0, jsBatchCalls: 0 };
  private readonly handler: PeerTransportHandler;
  private readonly clock: Clock;
  private readonly options: PeerTransportOptions;
  private readonly driver: IceTransport;
  private dtlsValue: DtlsTransport | undefined;
  private srtpValue: SrtpSession | undefined;
  private sctpValue: DataChannelManager | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private driving = false;
  private wakeScheduled = false;
  private isClosed = false;
  // close() while the handshake thread held work: the socket waits for it, bounded.
  private released = false;
  private closeFlushTimer: NodeJS.Timeout | undefined;
  private gathered = false;
  /** ICE selected a pair, so data can be sent. */
  private pairSelected = false;
  /** Media staged in rxBatch until the driver's batch ends. */
  private stagedMedia = 0;
  /** Views of packets the socket's session table unprotected, until the batch ends. */
  private readonly clearViews: Buffer[] = [];
  /** Media unprotected in JS (no native route); allocated on first use. */
  private rxBatchValue: SrtpBatch | undefined;
  private readonly rxStarts = sharedRxStarts;
  private readonly rxLengths = sharedRxLengths;
  private dtlsIn: Buffer[] = [];
  /** dtlsIn still has the storage the handshake's flights grew (replaced once after it: idle memory, docs/peer.md). */
  private dtlsInFromHandshake = true;
  private readonly scratch = sharedScratch;
  private pending: { kind: 0 | 1; data: Buffer }[] = [];
  /** Received media (copies) waiting for SRTP keys the handshake thread is still deriving (HELD_MEDIA_LIMIT). */
  private heldMedia: Buffer[] = [];
  /** Media for a relayed pair staged for one protect call per turn (see sendMedia). */
  private txBatchValue: SrtpBatch | undefined;
  private txStaged = 0;
  private txFlushScheduled = false;
  private readonly txFlushCallback = (): void => {
    this.txFlushScheduled = false;
    this.flushTx();
  };
  private sctpConnected = false;
  /** DTLS reported 'connected': what it sends from then on is application data, flushed per turn. */
  private handshakeDone = false;
  private srtpRequired = false;
  private srtpFailureReported = false;

  constructor(options: PeerTransportOptions) {
    this.options = options;
    this.handler = options.handler;
    this.clock = options.clock ?? systemClock;
    this.driver = options.ice;
    this.attachDriver(this.driver);
  }

  /** The sans-I/O ICE agent (for stats and the peer connection's ICE state). */
  get ice(): IceAgent {
    return this.driver.agent;
  }

  /**
   * Drop counters for stats: the transport's own, non-STUN datagrams the ICE driver refused from
   * unauthenticated sources, and on a shared port the datagrams no connection claimed
   * (lib/transport/source/port-drops.ts; they show in every connection on that port).
   */
  dropStats(): PeerTransportDrops {
    const out = { ...this.drops };
    out.unauthenticatedSource += this.driver.stats.drops['unknown-source'];
    out.unknownFirstByte += this.driver.stats.drops['unknown-first-byte'];
    const port = this.driver.portDrops;
    if (port) {
      out.unknownFirstByte += port.transport.unknownFirstByte;
      out.unauthenticatedSource += port.transport.unauthenticatedSource;
    }
    return out;
  }

  /** mDNS lookups of remote `.local` candidates and their unused answers (docs/ice.md "mDNS"). */
  mdnsStats(): IceMdnsStats {
    return this.driver.stats.mdns;
  }

  /** ICE drop counters for stats: the agent's, plus the shared port's unclaimed STUN (see {@link dropStats}). */
  iceDropStats(): Record<IceDropReason, number> {
    return withPortDrops(this.ice.stats.drops, this.driver.portDrops?.ice);
  }

  /** Local ICE credentials. */
  get localCredentials(): IceCredentials {
    return this.ice.localCredentials;
  }

  /** The DTLS transport, once the role is known. */
  get dtls(): DtlsTransport | undefined {
    return this.dtlsValue;
  }

  /** The SRTP session, once keyed. */
  get srtp(): SrtpSession | undefined {
    return this.srtpValue;
  }

  /** The data-channel manager, once SCTP was negotiated. */
  get sctp(): DataChannelManager | undefined {
    return this.sctpValue;
  }

  /** The transport's own sockets with their local addresses (for stats; none on a shared port). */
  get localSockets(): readonly { base: TransportAddress; socket: UdpSocket }[] {
    return this.driver.localSockets;
  }

  /** The ICE driver's counters (data datagrams in and out, drops), for stats. */
  get iceDriverStats(): IceTransportStats {
    return this.driver.stats;
  }

  /** The selected pair's route on a passive ICE-TCP port, for SFU legs (docs/sfu.md "Legs over TCP"). */
  get tcpLegRoute(): TcpSrtpRoute | undefined {
    return this.driver.tcpLegRoute;
  }

  /** The native routes of the ICE driver's TURN TCP/TLS streams (docs/udp.md "TCP framing"). */
  get turnStreamStats(): TurnLinkStreamStats {
    return this.driver.turnStreamStats;
  }

  /** True while the selected pair's SRTP is done in a native socket's session table (docs/udp.md). */
  get srtpRouted(): boolean {
    return this.driver.srtpRouted;
  }

  /** True while that route is a TURN channel whose ChannelData is framed natively (docs/udp.md "TURN channels"). */
  get relayRouted(): boolean {
    return this.driver.relayRouted;
  }

  /** Drops of the transport's TURN clients by reason (undefined without TURN servers), for stats. */
  turnDropStats(): Record<TurnDropReason, number> | undefined {
    return this.driver.turnDrops;
  }

  /** The selected candidate pair, once ICE nominated one. */
  get selectedPair(): IceSelectedPair | undefined {
    return this.driver.selectedPair;
  }

  /**
   * Calls `listener` with every candidate pair ICE selects from now on (a later nomination, the pair
   * of an ICE restart); returns the function that stops it. For lib/sfu, whose engine sends to the
   * selected pair without this transport (docs/sfu.md).
   */
  onSelectedPair(listener: (pair: IceSelectedPair) => void): () => void {
    const l = (pair: IceSelectedPair): void => {
      if (!this.isClosed) listener(pair);
    };
    this.driver.on('selectedcandidatepairchange', l);
    return () => {
      this.driver.off('selectedcandidatepairchange', l);
    };
  }

  /**
   * Calls `listener` whenever {@link tcpLegRoute} is built, rebuilt or removed (before the pair's
   * {@link onSelectedPair} listeners when a pair switch caused it); returns the function that stops it.
   * For lib/sfu, whose engine sends into that route's sink (docs/sfu.md "Legs over TCP").
   */
  onTcpLegRoute(listener: () => void): () => void {
    const l = (): void => {
      if (!this.isClosed) listener();
    };
    this.driver.on('tcplegroutechange', l);
    return () => {
      this.driver.off('tcplegroutechange', l);
    };
  }

  /** True after close(). */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Gathers candidates through the driver: host candidates (own sockets or the shared port) are
   * announced synchronously; server-reflexive and relayed ones trickle later. Idempotent. Throws
   * the socket's typed error when no address can be bound and no server is configured.
   */
  gather(): void {
    if (this.gathered || this.isClosed) return;
    this.gathered = true;
    this.driver.gather().catch((err: unknown) => reportListenerError(err));
  }

  /** Applies the remote ICE parameters (RFC 8839): credentials, candidates, end-of-candidates. */
  setRemoteIce(credentials: IceCredentials, lite: boolean, candidates: readonly (string | IceCandidate)[], endOfCandidates: boolean): void {
    if (this.isClosed) return;
    this.driver.setRemoteParameters({ usernameFragment: credentials.ufrag, password: credentials.password, iceLite: lite });
    for (const c of candidates) this.driver.addRemoteCandidate(c);
    if (endOfCandidates) this.driver.addRemoteCandidate(null);
    this.drive();
  }

  /**
   * Adds one remote candidate (a line or lib/ice's parsed form), or null for end-of-candidates.
   * A malformed line throws lib/ice's IceCandidateSyntaxError.
   */
  addRemoteCandidate(candidate: string | IceCandidate | null): void {
    if (this.isClosed) return;
    this.driver.addRemoteCandidate(candidate);
    this.drive();
  }

  /**
   * New ICE servers and transport policy (RTCPeerConnection.setConfiguration): used from the next
   * gathering phase, the next {@link restartIce} (IceTransport.setConfiguration).
   */
  setIceConfiguration(config: { iceServers: readonly IceServer[]; iceTransportPolicy: 'all' | 'relay' }): void {
    this.driver.setConfiguration(config);
  }

  /** Local ICE restart (RFC 8445 §9): new credentials, candidates announced again. */
  restartIce(): IceCredentials {
    return this.driver.restart();
  }

  /**
   * Creates the DTLS transport with its role (RFC 5763 §5) once, and (re)sets the remote
   * fingerprints. The client starts its handshake when ICE has a pair it may send on (its first
   * valid pair, RFC 8445 §12.1, or the selected pair); the server listens now.
   */
  setDtls(role: DtlsRole, fingerprints: readonly DtlsFingerprint[]): void {
    if (this.isClosed) return;
    if (!this.dtlsValue) {
      this.dtlsValue = new DtlsTransport({
        certificate: this.options.certificate,
        role,
        remoteFingerprints: fingerprints,
        ...(this.options.srtpProfiles ? { srtpProfiles: this.options.srtpProfiles } : {}),
        handshakeThread: this.options.dtlsHandshakeThread ?? handshakeThreadFromEnv(),
        // The handshake thread's flights and state changes: drained, sent and re-timed at once.
        // After close(): only what the posted work produced is sent (close_notify, an ABORT).
        onAsyncOutput: () => (this.isClosed ? this.flushAfterClose() : this.drive()),
      });
      if (role === 'server' || this.pairSelected || this.driver.hasValidPair) this.dtlsValue.start(this.clock.now());
      this.sctpValue?.setDtlsRole(role);
    } else if (this.dtlsValue.state !== 'closed' && this.dtlsValue.state !== 'failed') {
      this.dtlsValue.setRemoteFingerprints(fingerprints);
    }
    this.drive();
  }

  /**
   * Runs the data channels of `manager` over this DTLS transport (RFC 8261, RFC 8841): its role
   * (stream-id parity) follows DTLS, and the association starts once DTLS is connected.
   */
  attachSctp(manager: DataChannelManager): void {
    if (this.isClosed || this.sctpValue) return;
    this.sctpValue = manager;
    manager.on('wakeup', () => this.wake());
    if (this.dtlsValue) manager.setDtlsRole(this.dtlsValue.role);
    this.drive();
  }

  /**
   * Protects and sends one RTP (kind 0) or RTCP (kind 1) packet serialized at `scratch[0, length)`
   * (see {@link scratchBuffer}). Before DTLS is connected the packet is queued (bounded, in order).
   */
  sendMedia(kind: 0 | 1, length: number): void {
    if (this.isClosed || this.dtlsValue?.state === 'failed') {
      this.drops.sendAfterClose++;
      return;
    }
    const srtp = this.srtpValue;
    if (!srtp || !this.pairSelected) {
      if (this.pending.length >= PENDING_MEDIA_LIMIT) {
        this.pending.shift();
        this.drops.pendingOverflow++;
      }
      this.pending.push({ kind, data: Buffer.from(this.scratch.subarray(0, length)) });
      return;
    }
    const view = this.scratch.subarray(0, length);
    // The socket's session table protects at flush; a relayed pair protects here.
    if (this.driver.sendSrtp(view)) {
      this.srtpCounters.protectedNatively++;
      return;
    }
    // No socket route (a TURN-relayed pair): protect in the batch, with ONE native call for
    // everything sent this event-loop turn, then let the driver frame it for TURN.
    if (this.txStaged === BATCH_SLOTS) this.flushTx();
    this.txBatch().set(this.txStaged++, view);
    if (!this.txFlushScheduled) {
      this.txFlushScheduled = true;
      setImmediate(this.txFlushCallback);
    }
  }

  /** The JS protect batch for relayed pairs, created on first use. */
  private txBatch(): SrtpBatch {
    this.txBatchValue ??= new SrtpBatch({ slots: BATCH_SLOTS, slotSize: SLOT_SIZE });
    return this.txBatchValue;
  }

  /** Protects the staged packets with one call and sends them on the selected (relayed) pair. */
  private flushTx(): void {
    const n = this.txStaged;
    this.txStaged = 0;
    const srtp = this.srtpValue;
    const b = this.txBatchValue;
    if (n === 0 || !b || !srtp || srtp.closed || this.isClosed) return;
    srtp.protectBatch(b, n, SrtpPacketKind.auto);
    this.srtpCounters.protectedInJs += n;
    this.srtpCounters.jsBatchCalls++;
    for (let i = 0; i < n; i++) if (b.results[i] === SrtpStatus.ok) this.driver.send(b.view(i));
  }

  /** Where to serialize a packet for {@link sendMedia}: room for 1500 B plus SRTP overhead. */
  get scratchBuffer(): Buffer {
    return this.scratch;
  }

  /** @internal Received media held for SRTP keys the handshake thread is deriving (tests read it). */
  get heldMediaCount(): number {
    return this.heldMedia.length;
  }

  /** Largest clear packet sendMedia accepts. */
  get maxMediaSize(): number {
    return SCRATCH_SIZE - 64;
  }

  /** Stops the timer, closes DTLS (close_notify), SCTP, the ICE driver and SRTP. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    const now = this.clock.now();
    if (this.sctpValue && this.sctpConnected) {
      try {
        this.sctpValue.association.abort(now, 'peer connection closed');
        this.flushSctp();
      } catch (err) {
        reportListenerError(err);
      }
    }
    this.flushTx();
    if (this.dtlsValue) {
      this.dtlsValue.close();
      this.flushTransmits();
    }
    this.isClosed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
    this.clearViews.length = 0;
    // Media held for keys will never be read now: counted, let go.
    this.dropHeldMedia();
    if (this.dtlsValue?.awaitingHandshakeThread) {
      // Work posted to the handshake thread (received records, the ABORT's record, the close)
      // comes back with the next onAsyncOutput: the socket stays until then so the close_notify
      // and the ABORT leave (docs/dtls.md "Handshake thread"), at most CLOSE_FLUSH_MS.
      this.closeFlushTimer = setTimeout(() => this.release(), CLOSE_FLUSH_MS);
      this.closeFlushTimer.unref();
      return;
    }
    this.release();
  }

  // After close(), with the handshake thread's results: sends them, then lets the socket go.
  private flushAfterClose(): void {
    if (this.released) return;
    try {
      this.flushTransmits();
    } catch (err) {
      reportListenerError(err);
    }
    if (!this.dtlsValue?.awaitingHandshakeThread) this.release();
  }

  // The end of close(): the ICE driver (and its socket) and SRTP go. Once.
  private release(): void {
    if (this.released) return;
    this.released = true;
    this.dropHeldMedia();
    if (this.closeFlushTimer) clearTimeout(this.closeFlushTimer);
    this.closeFlushTimer = undefined;
    // The driver removes the SRTP route before the session closes.
    this.driver.close();
    this.srtpValue?.close();
    nativeHeapTrimmer.noteFreed();
  }

  // ---- receive ------------------------------------------------------------------------

  /** The JS unprotect batch (128 KiB), created when the first unrouted media arrives. */
  private rxBatch(): SrtpBatch {
    this.rxBatchValue ??= new SrtpBatch({ slots: BATCH_SLOTS, slotSize: SLOT_SIZE });
    return this.rxBatchValue;
  }

  private feedDtls(now: number): void {
    if (this.dtlsIn.length > 0 && this.dtlsValue) {
      this.dtlsValue.handleInput(now, this.dtlsIn);
      this.drainDtls();
    }
    emptyArray(this.dtlsIn);
    if (this.dtlsInFromHandshake && this.handshakeDone) {
      this.dtlsInFromHandshake = false;
      this.dtlsIn = [];
    }
  }

  /**
   * Hands up the clear packets of one batch: the views the socket's session table unprotected
   * (clearViews) and `staged` ones in rxBatch, unprotected here with one call.
   */
  private receiveMedia(staged: number): void {
    const b = this.rxBatchValue;
    if (staged > 0) {
      this.srtpValue!.unprotectBatch(b!, staged, SrtpPacketKind.auto);
      this.srtpCounters.unprotectedInJs += staged;
      this.srtpCounters.jsBatchCalls++;
    }
    const views = this.clearViews;
    this.srtpCounters.unprotectedNatively += views.length;
    let total = 0;
    for (let i = 0; i < views.length; i++) total += views[i]!.length;
    for (let i = 0; i < staged; i++) {
      if (b!.results[i] === SrtpStatus.ok) total += b!.lengths[i]!;
      else this.drops.srtpRejected++;
    }
    if (total === 0) {
      emptyArray(views);
      return;
    }
    // One copy per batch: the socket and SRTP pools are reused, the receiver keeps views of this.
    const data = Buffer.allocUnsafe(total);
    let n = 0;
    let at = 0;
    for (let i = 0; i < views.length; i++) {
      const v = views[i]!;
      if (n === BATCH_SLOTS) {
        this.handOver(data, n);
        n = 0;
      }
      data.set(v, at);
      this.rxStarts[n] = at;
      this.rxLengths[n++] = v.length;
      at += v.length;
    }
    emptyArray(views);
    for (let i = 0; i < staged; i++) {
      if (b!.results[i] !== SrtpStatus.ok) continue;
      const off = b!.offsets[i]!;
      const len = b!.lengths[i]!;
      if (n === BATCH_SLOTS) {
        this.handOver(data, n);
        n = 0;
      }
      data.set(b!.buffer.subarray(off, off + len), at);
      this.rxStarts[n] = at;
      this.rxLengths[n++] = len;
      at += len;
    }
    this.handOver(data, n);
  }

  private handOver(data: Buffer, n: number): void {
    if (n === 0) return;
    try {
      this.handler.onMedia(data, this.rxStarts, this.rxLengths, n);
    } catch (err) {
      reportListenerError(err);
    }
  }

  // ---- the drive loop -----------------------------------------------------------------

  /** Drains DTLS and SCTP until nothing moves and re-arms the timer. Re-entrant calls are folded. */
  drive(): void {
    if (this.driving || this.isClosed) return;
    this.driving = true;
    try {
      for (let round = 0; round < 64; round++) {
        let moved = this.drainDtls();
        moved = this.flushSctp() || moved;
        this.flushTransmits();
        if (!moved) break;
      }
    } finally {
      this.driving = false;
    }
    this.armTimer();
  }

  private drainDtls(): boolean {
    const dtls = this.dtlsValue;
    if (!dtls) return false;
    let moved = false;
    // Handshake datagrams leave first: the peer needs our Finished before the media it keys.
    for (let d = dtls.pollTransmit(); d; d = dtls.pollTransmit()) {
      moved = true;
      this.driver.send(d);
    }
    // A handshake flight (the last one included: its 'connected' event comes below) leaves the
    // socket now, before this side keys SRTP, runs the state listeners and starts SCTP.
    if (moved && !this.handshakeDone) this.driver.flushNow();
    for (let e = dtls.pollEvent(); e; e = dtls.pollEvent()) {
      moved = true;
      if (e.type === 'data') {
        const sctp = this.sctpValue;
        if (!sctp) continue;
        const now = this.clock.now();
        for (const r of e.records) sctp.handleInput(now, r);
      } else {
        if (e.state === 'connected') {
          this.handshakeDone = true;
          this.onDtlsConnected(dtls);
        }
        if (e.state === 'connected' && this.srtpMissing()) {
          this.failNoSrtp();
          continue;
        }
        if (e.state === 'closed' || e.state === 'failed') this.endSctp(e.state, e.reason);
        const reason = e.reason;
        this.emitDtlsState(e.state, reason);
      }
    }
    // The thread's work came back without SRTP keys (failed, closed, or no profile): what was held
    // for them is dropped now rather than kept until close.
    if (this.heldMedia.length > 0 && !this.srtpValue) this.releaseHeldMedia();
    this.flushTransmits();
    return moved;
  }

  /**
   * Set by the peer connection when the negotiation has RTP m-sections: DTLS must then agree on
   * an SRTP protection profile, or the connection fails (RFC 5764 §4.1.1; WebRTC has no
   * unprotected media).
   */
  set requireSrtp(required: boolean) {
    this.srtpRequired = required;
    if (this.dtlsValue?.state === 'connected' && this.srtpMissing()) this.failNoSrtp();
  }

  private srtpMissing(): boolean {
    return this.srtpRequired && !this.srtpValue && !this.srtpFailureReported;
  }

  private failNoSrtp(): void {
    this.srtpFailureReported = true;
    const reason = 'DTLS connected without an SRTP protection profile in common (RFC 5764 §4.1.1)';
    this.emitDtlsState('failed', reason);
  }

  private onDtlsConnected(dtls: DtlsTransport): void {
    if (dtls.srtpProfile !== undefined && !this.srtpValue) {
      const srtp = new SrtpSession();
      if (dtls.keySrtp(srtp)) {
        this.srtpValue = srtp;
        this.driver.setSrtpSession(srtp);
      } else srtp.close();
    }
    // Before any application data of this flight reaches SCTP: a peer INIT arriving while our
    // association is still 'new' would otherwise get an INIT ACK whose tag our own INIT replaces.
    this.connectSctp();
    this.flushPending();
    // Media that came while the thread held the work that keyed SRTP (a wake, not a receive batch).
    if (this.heldMedia.length > 0 && this.srtpValue) {
      this.releaseHeldMedia();
      const staged = this.stagedMedia;
      this.stagedMedia = 0;
      if (staged > 0) this.receiveMedia(staged);
    }
    // The handshake's buffers are freed now (docs/dtls.md); their pages go back to the kernel
    // at the thread's next trim (docs/architecture.md, "What a connection costs").
    nativeHeapTrimmer.noteFreed();
  }

  private connectSctp(): void {
    const sctp = this.sctpValue;
    if (!sctp || this.sctpConnected) return;
    this.sctpConnected = true;
    // Both sides send INIT (RFC 8831 §6 lets either start; some stacks wait for the other's INIT
    // whatever their DTLS role); RFC 9260 §5.2.1 makes the two handshakes converge.
    if (sctp.association.state === 'new') sctp.association.connect(this.clock.now());
  }

  // The peer's close_notify (or a DTLS failure) ends the association it carried: its ABORT, if it
  // sent one, came first (docs/sctp.md, "Closing"); a peer that sent none is not waited for.
  private endSctp(state: 'closed' | 'failed', reason: string | undefined): void {
    const sctp = this.sctpValue;
    if (!sctp) return;
    const why = state === 'closed' ? 'DTLS transport closed (close_notify)' : `DTLS transport failed: ${reason ?? 'error'}`;
    sctp.transportEnded(this.clock.now(), why, state === 'failed');
  }

  private flushSctp(): boolean {
    const sctp = this.sctpValue;
    const dtls = this.dtlsValue;
    if (!sctp || !dtls || dtls.state !== 'connected') return false;
    if (!this.sctpConnected) this.connectSctp();
    let records: Buffer[] | undefined;
    for (let p = sctp.pollTransmit(); p; p = sctp.pollTransmit()) (records ??= []).push(p);
    if (!records) return false;
    dtls.send(records);
    return true;
  }

  private flushTransmits(): void {
    const dtls = this.dtlsValue;
    if (!dtls) return;
    for (let d = dtls.pollTransmit(); d; d = dtls.pollTransmit()) this.driver.send(d);
  }

  // ---- the ICE driver -----------------------------------------------------------------

  private attachDriver(driver: IceTransport): void {
    // The driver hands over the candidate with its line: neither is parsed or written again here.
    driver.on('icecandidate', (line, c) => {
      this.emit(() => (c === null || line === null ? this.handler.onLocalCandidate(null) : this.handler.onLocalCandidate(c, line)));
    });
    driver.on('gatheringstatechange', (state) => this.emit(() => this.handler.onIceGatheringState(state)));
    driver.on('statechange', (state) => {
      if (this.isClosed) return;
      this.emit(() => this.handler.onIceConnectionState(state));
    });
    driver.on('selectedcandidatepairchange', () => {
      if (this.isClosed) return;
      this.pairSelected = true;
      const dtls = this.dtlsValue;
      if (dtls && dtls.state === 'new') dtls.start(this.clock.now());
      this.flushPending();
      this.drive();
    });
    // RFC 8445 §12.1: data may go on a valid pair before a pair is selected, so the DTLS client
    // starts its handshake on ICE's first valid pair (the controlled agent's own check succeeded)
    // instead of waiting for the controlling agent's nomination (about 0.3-0.5 ms of one pair's
    // setup on loopback); its flights follow the pair ICE selects later, whichever it is (the
    // driver's route). Media still waits for the selected pair. docs/ice.md "Data before the nomination".
    driver.on('validpair', () => {
      if (this.isClosed) return;
      const dtls = this.dtlsValue;
      if (!dtls || dtls.state !== 'new' || dtls.role !== 'client') return;
      dtls.start(this.clock.now());
      this.drive();
    });
    driver.setDataHandler((data, _from, srtp) => this.onDriverData(data, srtp), () => this.flushStaged());
  }

  /**
   * One non-STUN datagram from the driver (already from a trusted source), valid until the
   * driver's batch ends (then {@link flushStaged} runs). Media the socket's session table
   * unprotected and DTLS are kept as views; other media is staged in rxBatch.
   */
  private onDriverData(data: Buffer, srtp: number): void {
    if (this.isClosed) return;
    if (data.length === 0) {
      this.drops.unknownFirstByte++;
      return;
    }
    if (srtp === UdpSrtpStatus.unprotected) {
      if (this.clearViews.length === BATCH_SLOTS) this.flushStaged();
      this.clearViews.push(data);
      return;
    }
    if (srtp !== UdpSrtpStatus.none) {
      this.drops.srtpRejected++;
      return;
    }
    const b = data[0]!;
    // DTLS is fed at the batch end (flushStaged, while the views are valid) and the engine copies
    // it into its own pool there: no copy here (docs/peer.md "Setup cost").
    if (b >= 20 && b <= 63) this.dtlsIn.push(data);
    else if (b >= 128 && b <= 191) {
      if (data.length > SLOT_SIZE) {
        this.drops.srtpRejected++;
        return;
      }
      if (!this.srtpValue) {
        // DTLS in this batch may key SRTP (flushStaged feeds it first), or the handshake thread
        // may still hold the work that will: kept (copied) until then, else dropped.
        if (this.dtlsIn.length === 0 && !this.dtlsValue?.awaitingHandshakeThread) this.drops.srtpNotReady++;
        else if (this.heldMedia.length >= HELD_MEDIA_LIMIT) this.drops.srtpNotReady++;
        else this.heldMedia.push(Buffer.from(data));
        return;
      }
      if (this.stagedMedia === BATCH_SLOTS) this.flushStaged();
      this.rxBatch().set(this.stagedMedia++, data);
    } else {
      this.drops.unknownFirstByte++;
    }
  }

  /** The end of a driver batch: DTLS first (its Finished may key SRTP), then the batch's media. */
  private flushStaged(): void {
    if (this.isClosed) {
      this.clearViews.length = 0;
      emptyArray(this.dtlsIn);
      return;
    }
    this.feedDtls(this.clock.now());
    this.releaseHeldMedia();
    const staged = this.stagedMedia;
    this.stagedMedia = 0;
    if (staged > 0 && !this.srtpValue) {
      this.drops.srtpNotReady += staged;
      if (this.clearViews.length > 0) this.receiveMedia(0);
    } else if (staged > 0 || this.clearViews.length > 0) this.receiveMedia(staged);
    this.drive();
  }

  /** Held media that will never be unprotected: counted in `srtpNotReady`, the copies let go. */
  private dropHeldMedia(): void {
    if (this.heldMedia.length === 0) return;
    this.drops.srtpNotReady += this.heldMedia.length;
    this.heldMedia = [];
  }

  /**
   * Media held for SRTP keys: unprotected and handed up, in arrival order, once SRTP is keyed;
   * dropped (counted in `srtpNotReady`) once nothing that could key it is left (no DTLS work on
   * the handshake thread and none in this batch).
   */
  private releaseHeldMedia(): void {
    const held = this.heldMedia;
    if (held.length === 0) return;
    if (!this.srtpValue) {
      if (this.dtlsValue?.awaitingHandshakeThread && !this.isClosed) return;
      this.dropHeldMedia();
      return;
    }
    this.heldMedia = [];
    let staged = this.stagedMedia;
    for (const data of held) {
      if (staged === BATCH_SLOTS) {
        this.receiveMedia(staged);
        staged = 0;
      }
      this.rxBatch().set(staged++, data);
    }
    this.stagedMedia = staged;
  }

  private flushPending(): void {
    if (!this.srtpValue || !this.pairSelected || this.pending.length === 0) return;
    const queued = this.pending;
    this.pending = [];
    for (const p of queued) {
      p.data.copy(this.scratch, 0);
      this.sendMedia(p.kind, p.data.length);
    }
  }

  private wake(): void {
    if (this.wakeScheduled || this.isClosed) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      this.drive();
    });
  }

  private armTimer(): void {
    if (this.isClosed) return;
    let at = Infinity;
    const d = this.dtlsValue?.pollTimeout();
    if (d !== undefined && d < at) at = d;
    const s = this.sctpValue?.pollTimeout();
    if (s !== undefined && s < at) at = s;
    if (at === this.timerAt && this.timer) return;
    // During the handshake a later deadline, or none, keeps the timer that fires first: it wakes,
    // finds nothing due (DTLS and SCTP act only on expired timers) and arms the real one. OpenSSL
    // stops its timer when a flight is answered and starts it with the next: one Node timer per
    // handshake instead of a setTimeout and a clearTimeout per flight (3.4 and 2.8 per pair in a
    // 1000-pair burst; docs/peer.md "Setup cost"). Once connected, none clears it.
    if (this.timer && !this.handshakeDone && at > this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (!Number.isFinite(at)) return;
    this.timer = setTimeout(this.timerCallback, Math.max(0, Math.ceil(at - this.clock.now())));
  }

  /**
   * A DTLS or SCTP deadline came: its work runs after the I/O of this event-loop turn (with the ICE
   * transports' timer work, one setImmediate for all; it runs after the poll phase, which Node
   * enters right after its timers), so a flight or SACK that already waits in the socket buffer is
   * read first and a loop busy with many connections does not retransmit what the peer has answered
   * (docs/peer.md "Setup cost"). The deadline itself stays a Node timer of its own, on time: in a
   * coalescing group (up to 5 % late) a DTLS timeout reached the handshake thread after the peer's
   * answer instead of before it, a change of behaviour (test/integration/peer-close-holding-media.test.ts
   * stopped finding its window).
   */
  private readonly timerCallback = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.isClosed) return;
    timerWork.push(this.deferredTimer);
  };

  private readonly deferredTimer = (): void => this.onTimer();

  /**
   * Runs from setImmediate, outside any caller's try/catch: an exception from a handleTimeout or a
   * listener is reported (reportListenerError), never thrown into the loop, and the timer is re-armed.
   */
  private onTimer(): void {
    if (this.isClosed) return;
    try {
      const now = this.clock.now();
      this.dtlsValue?.handleTimeout(now);
      this.sctpValue?.handleTimeout(now);
    } catch (err) {
      reportListenerError(err);
    }
    try {
      this.drive();
    } catch (err) {
      reportListenerError(err);
    } finally {
      this.armTimer();
    }
  }

  private emit(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      reportListenerError(err);
    }
  }

  /** The handler's onDtlsState, guarded as {@link emit}, without a closure per state change. */
  private emitDtlsState(state: DtlsTransportState, reason: string | undefined): void {
    try {
      this.handler.onDtlsState(state, reason);
    } catch (err) {
      reportListenerError(err);
    }
  }
}
