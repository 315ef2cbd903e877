// PeerTransport: the driver of one BUNDLE transport of a peer connection. It owns the UDP sockets
// (one per host address), the timer and the clock, and routes datagrams between the sans-I/O cores:
// ICE (RFC 8445) → DTLS (RFC 6347, RFC 5764) → SRTP (RFC 3711) and SCTP (RFC 8261), demultiplexed
// by the first byte as RFC 7983 section 7 says (STUN 0-3, DTLS 20-63, RTP/RTCP 128-191).
//
// Driving: every input (a socket batch, a timer, an API call) ends with `drive()`, which drains
// every core's pollTransmit/pollEvent until nothing moves and re-arms ONE timer at the earliest
// pollTimeout of ICE, DTLS and SCTP. All cores see the same monotonic clock.
// Media data path: once SRTP is keyed, the selected pair's remote address gets a native SRTP route
// on its socket (UdpSocket.addSrtpRoute): RTP/RTCP arrive unprotected inside the receive batch and
// leave protected inside the send flush, with no per-packet native call. Media from an unrouted
// address (a pair switch in flight) is unprotected in JS with ONE native call per batch
// (SrtpBatch). Either way the clear packets go up with ONE call per batch (`onMedia`).
import { networkInterfaces } from 'node:os';
import { systemClock, type Clock } from '../common/clock.js';
import { InvalidStateError } from '../common/errors.js';
import { cryptoRng, type Rng } from '../common/rng.js';
import { reportListenerError } from '../common/typed-emitter.js';
import type { DtlsCertificate } from '../dtls/dtls-certificate.js';
import { DtlsTransport, type DtlsRole, type DtlsTransportState } from '../dtls/dtls-transport.js';
import type { DtlsFingerprint } from '../dtls/fingerprint.js';
import type { SrtpProfileName } from '../dtls/srtp-profile.js';
import { IceAgent, type IceConnectionState, type IceGatheringState, type IceRole, type IceSelectedPair } from '../ice/ice-agent.js';
import type { IceCredentials } from '../ice/ice-credentials.js';
import { parseCandidate, type IceCandidate } from '../ice/candidate.js';
import { addressKey, type TransportAddress } from '../ice/transport-address.js';
import { DataChannelManager } from '../sctp/data-channel-manager.js';
import { SrtpBatch } from '../srtp/srtp-batch.js';
import { SrtpPacketKind, SrtpSession } from '../srtp/srtp-session.js';
import { SrtpStatus } from '../srtp/srtp-status.js';
import type { IceTransport, IceTransportStats } from './ice-transport.js';
import { remoteKey } from './ice-udp-socket.js';
import { UdpSocket, UdpSrtpStatus, type UdpBatch, type UdpDestination, type UdpSrtpRoute } from './udp-socket.js';
import { createLogger, loggedDropCounters } from '../common/log.js';

const iceLog = createLogger('ice');

/** Packets sent before the transport is connected wait in a queue of at most this many. */
export const PENDING_MEDIA_LIMIT = 512;
const BATCH_SLOTS = 64;
const SLOT_SIZE = 2048;
const SCRATCH_SIZE = 1500 + 64;
/** SO_RCVBUF/SO_SNDBUF request per socket (the kernel caps it at rmem_max/wmem_max). */
const SOCKET_BUFFER_BYTES = 2 * 1024 * 1024;

/** What the transport reports upward (to RTCPeerConnection). Called synchronously. */
export interface PeerTransportHandler {
  /** A new local candidate, or null once gathering is complete. */
  onLocalCandidate(candidate: IceCandidate | null): void;
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
  /** Local IP addresses to gather host candidates on; default {@link defaultHostAddresses}. */
  hostAddresses?: readonly string[];
  /** STUN servers for server-reflexive candidates. */
  stunServers?: readonly TransportAddress[];
  /** ICE role at creation (the offerer is controlling). */
  iceRole: IceRole;
  /** Be an ICE-lite agent (servers with public addresses). */
  iceLite?: boolean;
  /** use_srtp profiles in preference order. */
  srtpProfiles?: readonly SrtpProfileName[];
  /** Ports to bind host candidates in, inclusive; default ephemeral ports. */
  portRange?: { min: number; max: number };
  /**
   * Run ICE through this driver (lib/transport/ice-transport.ts: TURN, STUN by name, the one-port
   * UdpMux) instead of our own sockets. Media is then protected/unprotected in JS per batch and
   * the socket's native SRTP route is not used. Its role and mode are the driver's.
   */
  iceDriver?: IceTransport;
  clock?: Clock;
  rng?: Rng;
}

/** Drop counters of the transport (by reason). */
export interface PeerTransportDrops {
  /** First byte outside the RFC 7983 ranges. */
  unknownFirstByte: number;
  /** DTLS or media from an address ICE has not authenticated. */
  unauthenticatedSource: number;
  /** Media before the SRTP session is keyed. */
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
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) out.push(a.address);
  }
  return out.length > 0 ? out : ['127.0.0.1'];
}

interface LocalSocket {
  socket: UdpSocket;
  base: TransportAddress;
}

/** One ICE/DTLS/SRTP/SCTP transport (see the file header). */
export class PeerTransport {
  readonly ice: IceAgent;
  /** Counters of dropped input and output. */
  readonly drops: PeerTransportDrops = loggedDropCounters('transport', {
    unknownFirstByte: 0, unauthenticatedSource: 0, srtpNotReady: 0, srtpRejected: 0, pendingOverflow: 0, sendAfterClose: 0,
  });
  private readonly handler: PeerTransportHandler;
  private readonly clock: Clock;
  private readonly options: PeerTransportOptions;
  private readonly sockets: LocalSocket[] = [];
  private readonly socketByBase = new Map<string, LocalSocket>();
  private dtlsValue: DtlsTransport | undefined;
  private srtpValue: SrtpSession | undefined;
  private sctpValue: DataChannelManager | undefined;
  private readonly authenticated = new Set<string | number>();
  private selected: { socket: UdpSocket; dest: UdpDestination; pair: IceSelectedPair } | undefined;
  /** The native SRTP route of the selected pair, once SRTP is keyed. */
  private route: UdpSrtpRoute | undefined;
  /** Where DTLS answers go before ICE selected a pair: the last authenticated DTLS source. */
  private dtlsFallback: { socket: UdpSocket; dest: UdpDestination } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private driving = false;
  private wakeScheduled = false;
  private isClosed = false;
  private gathered = false;
  private readonly driver: IceTransport | undefined;
  /** Driver mode: ICE selected a pair, so data can be sent. */
  private driverRoute = false;
  /** Driver mode: media staged in rxBatch waits for the end of the socket batch (a microtask). */
  private stagedMedia = 0;
  private stagedFlushQueued = false;
  /** Media unprotected in JS (sources without a native route); allocated on first use. */
  private rxBatchValue: SrtpBatch | undefined;
  private readonly rxStarts = new Uint32Array(BATCH_SLOTS);
  private readonly rxLengths = new Uint32Array(BATCH_SLOTS);
  /** Datagram indexes of the receive batch that the socket unprotected natively. */
  private readonly rxNative = new Uint32Array(BATCH_SLOTS);
  private readonly dtlsIn: Buffer[] = [];
  private readonly scratch = Buffer.alloc(SCRATCH_SIZE);
  private pending: { kind: 0 | 1; data: Buffer }[] = [];
  private sctpConnected = false;
  private srtpRequired = false;
  private srtpFailureReported = false;

  constructor(options: PeerTransportOptions) {
    this.options = options;
    this.handler = options.handler;
    this.clock = options.clock ?? systemClock;
    this.driver = options.iceDriver;
    if (this.driver) {
      this.ice = this.driver.agent;
      this.attachDriver(this.driver);
      return;
    }
    this.ice = new IceAgent({
      rng: options.rng ?? cryptoRng,
      role: options.iceRole,
      mode: options.iceLite === true ? 'lite' : 'full',
      ...(options.stunServers ? { stunServers: options.stunServers } : {}),
    });
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

  /** The sockets' local addresses (for stats). */
  get localSockets(): readonly { base: TransportAddress; socket: UdpSocket }[] {
    return this.sockets;
  }

  /** The ICE driver's counters when datagrams come through it (udpMux, TURN), else undefined (for stats). */
  get iceDriverStats(): IceTransportStats | undefined {
    return this.driver?.stats;
  }

  /** The selected candidate pair, once ICE nominated one. */
  get selectedPair(): IceSelectedPair | undefined {
    return this.driver ? this.driver.selectedPair : this.selected?.pair;
  }

  /** True after close(). */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Binds one socket per host address and announces host candidates (RFC 8445 §5.1.1.1).
   * Idempotent. Throws the socket's typed error when no address can be bound.
   */
  gather(): void {
    if (this.gathered || this.isClosed) return;
    this.gathered = true;
    if (this.driver) {
      // Host (or mux) candidates are announced synchronously; srflx/relay ones trickle later.
      this.driver.gather().catch((err: unknown) => reportListenerError(err));
      return;
    }
    const now = this.clock.now();
    const addresses = this.options.hostAddresses ?? defaultHostAddresses();
    let lastError: unknown;
    for (const address of addresses) {
      try {
        const socket = this.bindSocket(address);
        const port = socket.address().port;
        const base: TransportAddress = { address, port };
        const entry = { socket, base };
        this.sockets.push(entry);
        this.socketByBase.set(addressKey(base), entry);
        socket.onBatch((batch) => this.onBatch(entry, batch));
        this.ice.addLocalCandidate(now, { type: 'host', address, port, localPreference: 65535 - this.sockets.length });
      } catch (err) {
        lastError = err;
      }
    }
    if (this.sockets.length === 0 && lastError !== undefined) throw lastError;
    this.ice.endOfLocalCandidates(now);
    this.drive();
  }

  private bindSocket(address: string): UdpSocket {
    const type = address.includes(':') ? 'udp6' : 'udp4';
    // Large buffers absorb bursts (a video keyframe, a batch of sends) that the loop drains later.
    const buffers = { recvBufferSize: SOCKET_BUFFER_BYTES, sendBufferSize: SOCKET_BUFFER_BYTES };
    const range = this.options.portRange;
    if (!range) return UdpSocket.bindSync({ type, address, ...buffers });
    let lastError: unknown;
    for (let port = range.min; port <= range.max; port++) {
      try {
        return UdpSocket.bindSync({ type, address, port, ...buffers });
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError ?? new InvalidStateError('ERR_PEER_PORT_RANGE', 'empty port range');
  }

  /** Applies the remote ICE parameters (RFC 8839): credentials, candidates, end-of-candidates. */
  setRemoteIce(credentials: IceCredentials, lite: boolean, candidates: readonly string[], endOfCandidates: boolean): void {
    if (this.isClosed) return;
    if (this.driver) {
      this.driver.setRemoteParameters({ usernameFragment: credentials.ufrag, password: credentials.password, iceLite: lite });
      for (const c of candidates) this.driver.addRemoteCandidate(c);
      if (endOfCandidates) this.driver.addRemoteCandidate(null);
      return;
    }
    const now = this.clock.now();
    this.ice.setRemoteCredentials(now, credentials, { lite });
    for (const c of candidates) this.addRemoteCandidate(c);
    if (endOfCandidates) this.ice.addRemoteCandidate(now, null);
    this.drive();
  }

  /** Adds one remote candidate line, or null for end-of-candidates. Bad lines are ignored and counted by ICE. */
  addRemoteCandidate(candidate: string | null): void {
    if (this.isClosed) return;
    if (this.driver) this.driver.addRemoteCandidate(candidate);
    else this.ice.addRemoteCandidate(this.clock.now(), candidate);
    this.drive();
  }

  /** Local ICE restart (RFC 8445 §9): new credentials, candidates announced again. */
  restartIce(): IceCredentials {
    if (this.driver) return this.driver.restart();
    const creds = this.ice.restart(this.clock.now());
    this.drive();
    return creds;
  }

  /**
   * Creates the DTLS transport with its role (RFC 5763 §5) once, and (re)sets the remote
   * fingerprints. The client starts its handshake when ICE selects a pair; the server listens now.
   */
  setDtls(role: DtlsRole, fingerprints: readonly DtlsFingerprint[]): void {
    if (this.isClosed) return;
    if (!this.dtlsValue) {
      this.dtlsValue = new DtlsTransport({
        certificate: this.options.certificate,
        role,
        remoteFingerprints: fingerprints,
        ...(this.options.srtpProfiles ? { srtpProfiles: this.options.srtpProfiles } : {}),
      });
      if (role === 'server' || this.canSend()) this.dtlsValue.start(this.clock.now());
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
    const out = this.selected;
    if (!srtp || !this.canSend()) {
      if (this.pending.length >= PENDING_MEDIA_LIMIT) {
        this.pending.shift();
        this.drops.pendingOverflow++;
      }
      this.pending.push({ kind, data: Buffer.from(this.scratch.subarray(0, length)) });
      return;
    }
    const view = this.scratch.subarray(0, length);
    if (this.route && out) {
      out.socket.sendSrtp(view, this.route);
      return;
    }
    const n = kind === 0 ? srtp.protectRtp(view, this.scratch) : srtp.protectRtcp(view, this.scratch);
    if (out) out.socket.sendTo(this.scratch.subarray(0, n), out.dest);
    else this.driver?.send(this.scratch.subarray(0, n));
  }

  /** Where to serialize a packet for {@link sendMedia}: room for 1500 B plus SRTP overhead. */
  get scratchBuffer(): Buffer {
    return this.scratch;
  }

  /** Largest clear packet sendMedia accepts. */
  get maxMediaSize(): number {
    return SCRATCH_SIZE - 64;
  }

  /** Stops the timer, closes DTLS (close_notify), SCTP, SRTP and every socket. Idempotent. */
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
    if (this.dtlsValue) {
      this.dtlsValue.close();
      this.flushTransmits();
    }
    this.isClosed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.driver) this.driver.close();
    else this.ice.close();
    this.srtpValue?.close();
    for (const s of this.sockets) s.socket.close();
    this.pending = [];
  }

  // ---- receive ------------------------------------------------------------------------

  private onBatch(entry: LocalSocket, batch: UdpBatch): void {
    if (this.isClosed) return;
    const now = this.clock.now();
    const buf = batch.buffer;
    let media = 0;
    let native = 0;
    for (let i = 0; i < batch.count; i++) {
      const off = batch.offset(i);
      const len = batch.length(i);
      if (len === 0) {
        this.drops.unknownFirstByte++;
        continue;
      }
      const b = buf[off]!;
      if (b <= 3) {
        this.ice.handleInput(now, { local: entry.base, remote: { address: batch.address(i), port: batch.port(i) }, data: batch.data(i) });
      } else if (b >= 20 && b <= 63) {
        if (!this.isTrusted(batch, i)) {
          this.drops.unauthenticatedSource++;
          continue;
        }
        if (!this.selected && !this.dtlsFallback) {
          this.dtlsFallback = { socket: entry.socket, dest: entry.socket.destination(batch.port(i), batch.address(i)) };
        }
        this.dtlsIn.push(batch.data(i));
      } else if (b >= 128 && b <= 191) {
        const srtpStatus = batch.srtpStatus(i);
        if (srtpStatus === UdpSrtpStatus.unprotected) {
          this.rxNative[native++] = i;
          continue;
        }
        if (srtpStatus !== UdpSrtpStatus.none) {
          this.drops.srtpRejected++;
          continue;
        }
        if (!this.isTrusted(batch, i)) {
          this.drops.unauthenticatedSource++;
          continue;
        }
        if (!this.srtpValue && this.dtlsIn.length > 0) {
          // The DTLS Finished that keys SRTP may precede media in the same batch.
          this.feedDtls(now);
        }
        if (!this.srtpValue) {
          this.drops.srtpNotReady++;
          continue;
        }
        this.rxBatch().set(media++, batch.data(i));
      } else {
        this.drops.unknownFirstByte++;
      }
    }
    this.feedDtls(now);
    if (media > 0 || native > 0) this.receiveMedia(batch, native, media);
    this.drive();
  }

  /** The JS unprotect batch (128 KiB), created when the first unrouted media arrives. */
  private rxBatch(): SrtpBatch {
    this.rxBatchValue ??= new SrtpBatch({ slots: BATCH_SLOTS, slotSize: SLOT_SIZE });
    return this.rxBatchValue;
  }

  /**
   * True when ICE authenticated the datagram's source. A full agent facing an ICE-lite peer hears
   * no requests from it (RFC 8445 §2.5), only responses: a valid pair with that remote counts too.
   */
  private isTrusted(batch: UdpBatch, i: number): boolean {
    const key = batch.addressKey(i);
    if (this.authenticated.has(key)) return true;
    if (!this.ice.isValidatedRemote({ address: batch.address(i), port: batch.port(i) })) return false;
    this.authenticated.add(key);
    return true;
  }

  private feedDtls(now: number): void {
    if (this.dtlsIn.length > 0 && this.dtlsValue) {
      this.dtlsValue.handleInput(now, this.dtlsIn);
      this.drainDtls();
    }
    this.dtlsIn.length = 0;
  }

  /**
   * Hands up the clear packets of one receive batch: `native` datagrams the socket already
   * unprotected (indexes in rxNative) and `staged` ones in rxBatch, unprotected here with one call.
   */
  private receiveMedia(batch: UdpBatch | undefined, native: number, staged: number): void {
    const b = this.rxBatchValue!;
    if (staged > 0) this.srtpValue!.unprotectBatch(b, staged, SrtpPacketKind.auto);
    let total = 0;
    for (let k = 0; k < native; k++) total += batch!.length(this.rxNative[k]!);
    for (let i = 0; i < staged; i++) {
      if (b.results[i] === SrtpStatus.ok) total += b.lengths[i]!;
      else this.drops.srtpRejected++;
    }
    if (total === 0) return;
    // One copy per batch: the socket and SRTP pools are reused, the receiver keeps views of this.
    const data = Buffer.allocUnsafe(total);
    let n = 0;
    let at = 0;
    for (let k = 0; k < native; k++) {
      const i = this.rxNative[k]!;
      const off = batch!.offset(i);
      const len = batch!.length(i);
      data.set(batch!.buffer.subarray(off, off + len), at);
      this.rxStarts[n] = at;
      this.rxLengths[n++] = len;
      at += len;
    }
    for (let i = 0; i < staged; i++) {
      if (b.results[i] !== SrtpStatus.ok) continue;
      const off = b.offsets[i]!;
      const len = b.lengths[i]!;
      data.set(b.buffer.subarray(off, off + len), at);
      this.rxStarts[n] = at;
      this.rxLengths[n++] = len;
      at += len;
    }
    try {
      this.handler.onMedia(data, this.rxStarts, this.rxLengths, n);
    } catch (err) {
      reportListenerError(err);
    }
  }

  /** Routes the selected pair's SRTP through the socket's native fast path (see the file header). */
  private updateRoute(): void {
    const sel = this.selected;
    const srtp = this.srtpValue;
    if (this.route && (!sel || this.route.destination !== sel.dest)) {
      for (const s of this.sockets) if (!s.socket.closed) s.socket.removeSrtpRoute(this.route);
      this.route = undefined;
    }
    if (!this.route && sel && srtp && !sel.socket.closed) this.route = sel.socket.addSrtpRoute(sel.dest, srtp);
  }

  // ---- the drive loop -----------------------------------------------------------------

  /** Drains every core until nothing moves and re-arms the timer. Re-entrant calls are folded. */
  drive(): void {
    if (this.driving || this.isClosed) return;
    this.driving = true;
    try {
      for (let round = 0; round < 64; round++) {
        let moved = this.drainIce();
        moved = this.drainDtls() || moved;
        moved = this.flushSctp() || moved;
        this.flushTransmits();
        if (!moved) break;
      }
    } finally {
      this.driving = false;
    }
    this.armTimer();
  }

  private drainIce(): boolean {
    // In driver mode the driver drains the agent.
    if (this.driver) return false;
    let moved = false;
    for (let t = this.ice.pollTransmit(); t; t = this.ice.pollTransmit()) {
      moved = true;
      const entry = this.socketByBase.get(addressKey(t.local));
      if (!entry) continue;
      try {
        entry.socket.sendTo(t.data, entry.socket.destination(t.remote.port, t.remote.address));
      } catch {
        // An address of the other family or an unreachable candidate: ICE fails that pair by timeout.
      }
    }
    for (let e = this.ice.pollEvent(); e; e = this.ice.pollEvent()) {
      moved = true;
      switch (e.type) {
        case 'local-candidate':
          this.emit(() => this.handler.onLocalCandidate(e.candidate));
          break;
        case 'gathering-state':
          this.emit(() => this.handler.onIceGatheringState(e.state));
          break;
        case 'connection-state':
          this.emit(() => this.handler.onIceConnectionState(e.state));
          break;
        case 'remote-validated':
          this.authenticated.add(remoteKey(e.remote.address, e.remote.port));
          break;
        case 'selected-pair':
          this.onSelectedPair(e.pair);
          break;
        default:
          break;
      }
    }
    return moved;
  }

  private onSelectedPair(pair: IceSelectedPair): void {
    iceLog('selected pair %s %s:%d -> %s %s:%d', pair.local.type, pair.localBase.address, pair.localBase.port, pair.remote.type, pair.remoteAddress.address, pair.remoteAddress.port);
    const entry = this.socketByBase.get(addressKey(pair.localBase));
    if (!entry) return;
    this.authenticated.add(remoteKey(pair.remoteAddress.address, pair.remoteAddress.port));
    this.selected = { socket: entry.socket, dest: entry.socket.destination(pair.remoteAddress.port, pair.remoteAddress.address), pair };
    this.updateRoute();
    const dtls = this.dtlsValue;
    if (dtls && dtls.state === 'new') dtls.start(this.clock.now());
    this.flushPending();
  }

  private drainDtls(): boolean {
    const dtls = this.dtlsValue;
    if (!dtls) return false;
    let moved = false;
    // Handshake datagrams leave first: the peer needs our Finished before the media it keys.
    for (let d = dtls.pollTransmit(); d; d = dtls.pollTransmit()) {
      moved = true;
      this.sendDatagram(d);
    }
    for (let e = dtls.pollEvent(); e; e = dtls.pollEvent()) {
      moved = true;
      if (e.type === 'data') {
        const sctp = this.sctpValue;
        if (!sctp) continue;
        const now = this.clock.now();
        for (const r of e.records) sctp.handleInput(now, r);
      } else {
        if (e.state === 'connected') this.onDtlsConnected(dtls);
        if (e.state === 'connected' && this.srtpMissing()) {
          this.failNoSrtp();
          continue;
        }
        const reason = e.reason;
        this.emit(() => this.handler.onDtlsState(e.state, reason));
      }
    }
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
    this.emit(() => this.handler.onDtlsState('failed', reason));
  }

  private onDtlsConnected(dtls: DtlsTransport): void {
    if (dtls.srtpProfile !== undefined && !this.srtpValue) {
      const srtp = new SrtpSession();
      if (dtls.keySrtp(srtp)) this.srtpValue = srtp;
      else srtp.close();
      this.updateRoute();
    }
    // Before any application data of this flight reaches SCTP: a peer INIT arriving while our
    // association is still 'new' would otherwise get an INIT ACK whose tag our own INIT replaces.
    this.connectSctp();
    this.flushPending();
  }

  private connectSctp(): void {
    const sctp = this.sctpValue;
    if (!sctp || this.sctpConnected) return;
    this.sctpConnected = true;
    // Both sides send INIT (RFC 8831 §6 lets either start; some stacks wait for the other's INIT
    // whatever their DTLS role); RFC 9260 §5.2.1 makes the two handshakes converge.
    if (sctp.association.state === 'new') sctp.association.connect(this.clock.now());
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
    for (let d = dtls.pollTransmit(); d; d = dtls.pollTransmit()) this.sendDatagram(d);
  }

  /** Sends a DTLS datagram on the selected pair (or, before one, to the last DTLS source). */
  private sendDatagram(d: Buffer): void {
    if (this.driver) {
      this.driver.send(d);
      return;
    }
    const out = this.selected ?? this.dtlsFallback;
    if (out) out.socket.sendTo(d, out.dest);
  }

  /** True once ICE selected a pair that data can be sent on. */
  private canSend(): boolean {
    return this.driver ? this.driverRoute : this.selected !== undefined;
  }

  // ---- driver mode --------------------------------------------------------------------

  private attachDriver(driver: IceTransport): void {
    driver.on('icecandidate', (line) => {
      let c: IceCandidate | null = null;
      if (line !== null) {
        try {
          c = parseCandidate(line);
        } catch {
          return;
        }
      }
      this.emit(() => this.handler.onLocalCandidate(c));
    });
    driver.on('gatheringstatechange', (state) => this.emit(() => this.handler.onIceGatheringState(state)));
    driver.on('statechange', (state) => {
      if (this.isClosed) return;
      this.emit(() => this.handler.onIceConnectionState(state));
    });
    driver.on('selectedcandidatepairchange', () => {
      if (this.isClosed) return;
      this.driverRoute = true;
      const dtls = this.dtlsValue;
      if (dtls && dtls.state === 'new') dtls.start(this.clock.now());
      this.flushPending();
      this.drive();
    });
    driver.setDataHandler((data) => this.onDriverData(data));
  }

  /**
   * One non-STUN datagram from the driver (already from a trusted source). DTLS is copied,
   * media is staged in rxBatch; both are processed once the socket batch ends (a microtask).
   */
  private onDriverData(data: Buffer): void {
    if (this.isClosed || data.length === 0) return;
    const b = data[0]!;
    if (b >= 20 && b <= 63) this.dtlsIn.push(Buffer.from(data));
    else if (b >= 128 && b <= 191) {
      if (!this.srtpValue && this.dtlsIn.length === 0) {
        this.drops.srtpNotReady++;
        return;
      }
      if (data.length > SLOT_SIZE) {
        this.drops.srtpRejected++;
        return;
      }
      if (this.stagedMedia === BATCH_SLOTS) this.flushStaged();
      this.rxBatch().set(this.stagedMedia++, data);
    } else {
      this.drops.unknownFirstByte++;
      return;
    }
    if (!this.stagedFlushQueued) {
      this.stagedFlushQueued = true;
      queueMicrotask(() => {
        this.stagedFlushQueued = false;
        this.flushStaged();
      });
    }
  }

  private flushStaged(): void {
    if (this.isClosed) return;
    this.feedDtls(this.clock.now());
    const staged = this.stagedMedia;
    this.stagedMedia = 0;
    if (staged > 0) {
      if (this.srtpValue) this.receiveMedia(undefined, 0, staged);
      else this.drops.srtpNotReady += staged;
    }
    this.drive();
  }

  private flushPending(): void {
    if (!this.srtpValue || !this.canSend() || this.pending.length === 0) return;
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
    let at = this.driver ? Infinity : (this.ice.pollTimeout() ?? Infinity);
    const d = this.dtlsValue?.pollTimeout();
    if (d !== undefined && d < at) at = d;
    const s = this.sctpValue?.pollTimeout();
    if (s !== undefined && s < at) at = s;
    if (at === this.timerAt && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (!Number.isFinite(at)) return;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, Math.ceil(at - this.clock.now())));
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.isClosed) return;
    const now = this.clock.now();
    if (!this.driver) this.ice.handleTimeout(now);
    this.dtlsValue?.handleTimeout(now);
    this.sctpValue?.handleTimeout(now);
    this.drive();
  }

  private emit(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      reportListenerError(err);
    }
  }
}
