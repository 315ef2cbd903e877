// Sans-I/O SCTP association (RFC 9260) as used by WebRTC over DTLS (RFC 8261, RFC 8831), with
// PR-SCTP (RFC 3758), stream reset (RFC 6525), I-DATA (RFC 8260) and zero checksum (RFC 9653).
//
// Contract: feed each received SCTP packet (the payload of one DTLS application-data record)
// with handleInput(now, bytes) and call handleTimeout(now) when pollTimeout() is reached;
// after any input or API call drain pollTransmit() (packets to hand to DTLS) and pollEvent()
// until both return undefined. `now` is monotonic milliseconds; an older `now` than one seen
// before is ignored (the latest wins). The association never reads a clock, never starts a
// timer and never throws on network input: bad input is dropped and counted in `stats.drops`.
// handleInput keeps views into the packet it is given, so the caller must not reuse that buffer.
import { cryptoRng, type Rng } from '../common/rng.js';
import { InvalidArgumentError, InvalidStateError, OperationError } from '../common/errors.js';
import type { AbortChunk } from './chunks/abort.js';
import { chunkPaddedLength, type Chunk, type UnknownChunk } from './chunks/chunk.js';
import { ChunkType, pad4, unknownChunkAction } from './chunks/chunk-type.js';
import type { CookieEchoChunk } from './chunks/cookie-echo.js';
import { DATA_HEADER_LENGTH, type DataChunk } from './chunks/data.js';
import { CauseCode, describeCauses, type ErrorCause } from './chunks/error-cause.js';
import type { ForwardTsnChunk } from './chunks/forward-tsn.js';
import type { HeartbeatChunk } from './chunks/heartbeat.js';
import { I_DATA_HEADER_LENGTH, type IDataChunk } from './chunks/i-data.js';
import type { IForwardTsnChunk } from './chunks/i-forward-tsn.js';
import type { InitChunk } from './chunks/init.js';
import type { ReConfigChunk } from './chunks/re-config.js';
import type { SackChunk } from './chunks/sack.js';
import { DataTracker } from './data-tracker.js';
import type { SctpAssociationState, SctpEvent, SctpStats, SctpWindowState } from './events.js';
import { COMMON_HEADER_LENGTH, decodePacket, encodePacket, verifyPacket } from './packet.js';
import {
  ReconfigResult,
  decodeOutgoingResetRequest,
  decodeReconfigResponse,
  encodeOutgoingResetRequest,
  encodeReconfigResponse,
} from './parameters/reconfig.js';
import { ParamType, parametersLength, unknownParameterAction, u32Value, writeParameters, type Parameter } from './parameters/tlv.js';
import { ReassemblyQueue, type AssembledMessage } from './reassembly.js';
import { RtoEstimator } from './rto.js';
import { SendQueue, type OutMessage } from './send-queue.js';
import { openCookie, signCookie, type CookieState } from './state-cookie.js';
import { tsnAdd, tsnDiff, tsnLt, tsnLte } from './tsn.js';
import { createLogger } from '../common/log.js';

const log = createLogger('sctp');
const dropLog = createLogger('drop');

/** Error Detection Method Identifier for "SCTP over DTLS" (RFC 9653 section 5.1). */
const EDMID_DTLS = 1;

/** Options of an association. Every field has a WebRTC-friendly default. */
export interface SctpAssociationOptions {
  /** SCTP ports from `a=sctp-port` (RFC 8841); both default to 5000. */
  localPort?: number;
  remotePort?: number;
  /** Largest SCTP packet handed to DTLS (default 1200, as common WebRTC stacks use). */
  mtu?: number;
  /** Receive buffer, advertised as a_rwnd (default 1 MiB). */
  receiveBufferSize?: number;
  /** Largest message we accept (our `a=max-message-size`, default 256 KiB). */
  maxReceiveMessageSize?: number;
  /** Largest message the peer accepts (its `a=max-message-size`, default 65536 per RFC 8841). */
  remoteMaxMessageSize?: number;
  /** Most bytes queued for sending over all streams (default 16 MiB). */
  maxSendBuffer?: number;
  /** Stream counts offered in INIT (default 65535). */
  outboundStreams?: number;
  inboundStreams?: number;
  /** RTO.Initial / RTO.Min / RTO.Max in ms (defaults 1000 / 400 / 60000). */
  rtoInitial?: number;
  rtoMin?: number;
  rtoMax?: number;
  /** HB.interval in ms (default 30000). */
  heartbeatInterval?: number;
  /** Association.Max.Retrans (default 10). */
  maxRetransmissions?: number;
  /** Max.Init.Retransmits (default 8). */
  maxInitRetransmits?: number;
  /** Valid.Cookie.Life in ms (default 60000). */
  cookieLifetime?: number;
  /** Delayed SACK timeout in ms (default 200, RFC 9260 section 6.2 allows up to 500). */
  delayedAckTimeout?: number;
  /** Offer I-DATA / I-FORWARD-TSN (RFC 8260); used when the peer offers them too. Default true. */
  interleaving?: boolean;
  /**
   * Announce Zero Checksum Acceptable with the DTLS method (RFC 9653). Set only when SCTP runs
   * over DTLS; checksums are omitted on send only if the peer announced it too. Default false.
   */
  zeroChecksum?: boolean;
  /** Randomness for tags, initial TSNs and the cookie key (default crypto). */
  rng?: Rng;
}

/** Per-message send options (PR-SCTP policies of RFC 3758 / RFC 8831 section 6.6). */
export interface SctpSendOptions {
  unordered?: boolean;
  maxRetransmits?: number;
  /** Lifetime in ms from the send call. */
  maxPacketLifeTime?: number;
}

/** One DATA/I-DATA chunk handed to the network, kept until acknowledged or abandoned. */
interface OutChunk {
  tsn: number;
  msg: OutMessage;
  data: Uint8Array;
  fsn: number;
  beginning: boolean;
  ending: boolean;
  sentAt: number;
  transmissions: number;
  acked: boolean;
  abandoned: boolean;
  inFlight: boolean;
  retransmit: boolean;
  missIndications: number;
  fastRetransmitted: boolean;
  /**
   * The next new TSN when this chunk was last retransmitted: once fast retransmitted, only a
   * SACK newly acking this TSN or a later one (data sent after the retransmission) says the
   * retransmission itself was lost (docs/sctp.md, loss recovery).
   */
  sentBeforeTsn: number;
}

/** Negotiated capabilities of the established association. */
interface Negotiated {
  peerTag: number;
  forwardTsn: boolean;
  interleaving: boolean;
  reconfig: boolean;
  peerZeroChecksum: boolean;
}

/** Association state with the data each state carries (RFC 9260 section 4). */
type State =
  | { kind: 'new' }
  | { kind: 'cookie-wait'; init: InitChunk; localTag: number; localInitialTsn: number }
  | { kind: 'cookie-echoed'; cookie: Uint8Array; localTag: number; localInitialTsn: number }
  | { kind: 'established' }
  | { kind: 'shutdown-pending' }
  | { kind: 'shutdown-sent' }
  | { kind: 'shutdown-received' }
  | { kind: 'shutdown-ack-sent' }
  | { kind: 'closed'; reason: string; error: boolean };

/** The SCTP association. See the contract at the top of this file. */
export class SctpAssociation {
  /** Activity and drop counters. */
  readonly stats: SctpStats = {
    packetsReceived: 0,
    packetsSent: 0,
    dataChunksSent: 0,
    dataChunksReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    messagesSent: 0,
    messagesReceived: 0,
    retransmissions: 0,
    fastRetransmits: 0,
    t3Expirations: 0,
    abandonedMessages: 0,
    expiredBeforeSend: 0,
    forwardTsnSent: 0,
    heartbeatsSent: 0,
    drops: {},
  };

  private readonly opts: Required<Omit<SctpAssociationOptions, 'rng'>>;
  private readonly rng: Rng;
  private readonly cookieKey: Buffer;
  private st: State = { kind: 'new' };
  private now = 0;
  private neg: Negotiated | undefined;
  private localTag = 0;
  /** Queue with a moving head; drained slots are cleared so events can be collected. */
  private readonly events: (SctpEvent | undefined)[] = [];
  private eventHead = 0;
  private control: Chunk[] = [];
  private readonly rto: RtoEstimator;
  private errorCount = 0;

  // Timers (absolute `now` deadlines).
  private t1At: number | undefined;
  private t1Count = 0;
  private t2At: number | undefined;
  private t3At: number | undefined;
  private sackAt: number | undefined;
  private heartbeatAt: number | undefined;
  private reconfigAt: number | undefined;

  // Send side.
  private readonly sendQueue = new SendQueue();
  /** Chunks from cumAckPoint+1 on, in TSN order, from index outHead (acked slots are cleared). */
  private outstanding: (OutChunk | undefined)[] = [];
  private outHead = 0;
  private nextTsn = 0;
  private cumAckPoint = 0;
  private advancedPeerAckPoint = 0;
  private forwardTsnPending = false;
  private flightSize = 0;
  private retransmitCount = 0;
  private cwnd = 0;
  private ssthresh = 0;
  private partialBytesAcked = 0;
  private peerRwnd = 0;
  private inFastRecovery = false;
  private fastRecoveryExit = 0;
  private fastRetransmitBurst = false;
  private rttChunk: OutChunk | undefined;

  // Receive side.
  private tracker = new DataTracker(0);
  private reassembly: ReassemblyQueue;
  private ackImmediately = false;
  private packetsSinceSack = 0;
  /**
   * SACK packets built while input was still arriving: a caller feeds a whole receive batch
   * before it polls, and one SACK per batch leaves a cwnd-limited sender waiting for T3 whenever
   * that SACK is lost (docs/sctp.md, SACK per packet).
   */
  private readonly sackPackets: Buffer[] = [];
  private readonly delivered: AssembledMessage[] = [];

  // Heartbeat (RFC 9260 section 8.3).
  private heartbeatNonce: Buffer | undefined;

  // Stream reset (RFC 6525).
  private readonly resetWanted = new Set<number>();
  private resetInFlight: { seq: number; streams: number[]; lastTsn: number } | undefined;
  private nextReqSeq = 0;
  private peerReqSeq = 0;
  private lastResponse: { seq: number; result: number } | undefined;

  constructor(options: SctpAssociationOptions = {}) {
    this.opts = {
      localPort: 5000,
      remotePort: 5000,
      mtu: 1200,
      receiveBufferSize: 1024 * 1024,
      maxReceiveMessageSize: 256 * 1024,
      remoteMaxMessageSize: 65536,
      maxSendBuffer: 16 * 1024 * 1024,
      outboundStreams: 65535,
      inboundStreams: 65535,
      rtoInitial: 1000,
      rtoMin: 400,
      rtoMax: 60000,
      heartbeatInterval: 30000,
      maxRetransmissions: 10,
      maxInitRetransmits: 8,
      cookieLifetime: 60000,
      delayedAckTimeout: 200,
      interleaving: true,
      zeroChecksum: false,
      ...stripUndefined(options),
    };
    const o = this.opts;
    if (!(o.mtu >= 256 && o.mtu <= 65535)) throw new InvalidArgumentError('ERR_SCTP_MTU', `mtu must be in [256, 65535], got ${o.mtu}`);
    if (!(o.maxReceiveMessageSize >= 1 && o.maxReceiveMessageSize <= o.receiveBufferSize)) {
      throw new InvalidArgumentError('ERR_SCTP_MAX_MESSAGE_SIZE', 'maxReceiveMessageSize must be in [1, receiveBufferSize]');
    }
    this.rng = options.rng ?? cryptoRng;
    this.cookieKey = this.rng.bytes(32);
    this.rto = new RtoEstimator(o);
    this.reassembly = new ReassemblyQueue(false, o.maxReceiveMessageSize);
  }

  // ---------------------------------------------------------------- public surface

  /** Current state (RFC 9260 section 4 names, kebab-case). */
  get state(): SctpAssociationState {
    return this.st.kind;
  }

  /** Why the association closed, once `state` is 'closed'. */
  get closeReason(): { reason: string; error: boolean } | undefined {
    return this.st.kind === 'closed' ? { reason: this.st.reason, error: this.st.error } : undefined;
  }

  /**
   * Congestion and window state of the send path (RFC 9260 sections 6.3.1, 7.2), for
   * RTCSctpTransportStats; undefined until the association was negotiated.
   */
  get windowState(): SctpWindowState | undefined {
    if (!this.neg) return undefined;
    let unacked = 0;
    for (let i = this.outHead; i < this.outstanding.length; i++) {
      const oc = this.outstanding[i];
      if (oc && !oc.acked && !oc.abandoned) unacked++;
    }
    return { cwnd: this.cwnd, peerRwnd: this.peerRwnd, mtu: this.opts.mtu, unackedChunks: unacked, ...(this.rto.srtt !== undefined ? { srtt: this.rto.srtt } : {}) };
  }

  /** True once I-DATA was negotiated (RFC 8260). */
  get interleaving(): boolean {
    return this.neg?.interleaving ?? false;
  }

  /** True once both sides agreed to omit checksums (RFC 9653). */
  get zeroChecksumInUse(): boolean {
    return this.opts.zeroChecksum && (this.neg?.peerZeroChecksum ?? false);
  }

  /** Smoothed RTT in ms, when measured. */
  get srtt(): number | undefined {
    return this.rto.srtt;
  }

  /** Bytes held for reassembly or in-order delivery (bounded by the receive buffer). */
  get receiveBuffered(): number {
    return this.reassembly.bufferedBytes;
  }

  /** Current congestion window in bytes. */
  get congestionWindow(): number {
    return this.cwnd;
  }

  /** The peer's `a=max-message-size` (0 means no limit, RFC 8841 section 6). */
  get remoteMaxMessageSize(): number {
    return this.opts.remoteMaxMessageSize;
  }

  set remoteMaxMessageSize(bytes: number) {
    if (!(Number.isInteger(bytes) && bytes >= 0)) throw new InvalidArgumentError('ERR_SCTP_MAX_MESSAGE_SIZE', 'max message size must be a non-negative integer');
    this.opts.remoteMaxMessageSize = bytes;
  }

  /** Our own receive limit (what we advertise as `a=max-message-size`). */
  get maxReceiveMessageSize(): number {
    return this.opts.maxReceiveMessageSize;
  }

  /**
   * Starts the association by sending INIT (RFC 9260 section 5.1 A). Either or both sides may
   * call it; once a handshake is under way or done (e.g. the peer's INIT arrived first) it does
   * nothing. Throws InvalidStateError after close.
   */
  connect(now: number): void {
    this.tick(now);
    if (this.st.kind === 'closed') throw new InvalidStateError('ERR_SCTP_STATE', 'connect() after the association closed');
    if (this.st.kind !== 'new') return;
    const localTag = this.randomTag();
    const localInitialTsn = this.rng.uint32();
    const init: InitChunk = {
      type: ChunkType.INIT,
      initiateTag: localTag,
      aRwnd: this.opts.receiveBufferSize,
      outboundStreams: this.opts.outboundStreams,
      inboundStreams: this.opts.inboundStreams,
      initialTsn: localInitialTsn,
      params: this.capabilityParams(),
    };
    this.st = { kind: 'cookie-wait', init, localTag, localInitialTsn };
    log('INIT sent: cookie-wait');
    this.control.push(init);
    this.t1Count = 0;
    this.t1At = this.now + this.rto.rto;
  }

  /**
   * Queues a message on `streamId` with payload protocol identifier `ppid`.
   * Throws InvalidStateError unless established, TypeError (ERR_SCTP_MESSAGE_TOO_LARGE) above the
   * peer's max message size, OperationError (ERR_SCTP_SEND_BUFFER_FULL) when the buffer is full.
   */
  send(now: number, streamId: number, ppid: number, data: Uint8Array, options: SctpSendOptions = {}): void {
    this.tick(now);
    if (this.st.kind !== 'established') throw new InvalidStateError('ERR_SCTP_STATE', `cannot send in state ${this.st.kind}`);
    if (!(Number.isInteger(streamId) && streamId >= 0 && streamId <= 65534)) throw new InvalidArgumentError('ERR_SCTP_STREAM_ID', `invalid stream id ${streamId}`);
    if (data.length === 0) throw new InvalidArgumentError('ERR_SCTP_EMPTY_MESSAGE', 'SCTP cannot carry an empty message (RFC 9260 section 3.3.1); send a placeholder byte');
    const max = this.opts.remoteMaxMessageSize;
    if (max > 0 && data.length > max) {
      throw new InvalidArgumentError('ERR_SCTP_MESSAGE_TOO_LARGE', `message of ${data.length} bytes exceeds the peer's max-message-size ${max}`);
    }
    if (this.sendQueue.totalBuffered + data.length > this.opts.maxSendBuffer) {
      throw new OperationError('ERR_SCTP_SEND_BUFFER_FULL', `send buffer full (${this.sendQueue.totalBuffered} bytes queued)`);
    }
    const partial = this.neg?.forwardTsn ?? false;
    this.sendQueue.enqueue({
      streamId,
      ppid,
      data,
      unordered: options.unordered ?? false,
      maxRetransmits: partial ? options.maxRetransmits : undefined,
      expiresAt: partial && options.maxPacketLifeTime !== undefined ? this.now + options.maxPacketLifeTime : undefined,
      offset: 0,
      sequence: -1,
      nextFsn: 0,
      abandoned: false,
    });
    this.stats.messagesSent++;
  }

  /** Bytes queued on `streamId` and not yet handed to the network. */
  bufferedAmount(streamId: number): number {
    return this.sendQueue.bufferedAmount(streamId);
  }

  /** Threshold for the 'buffered-amount-low' event of `streamId`. */
  setBufferedAmountLowThreshold(streamId: number, bytes: number): void {
    this.sendQueue.setLowThreshold(streamId, bytes);
  }

  /**
   * Resets our outgoing `streams` (RFC 6525 section 5.1.2) once their queued data is sent;
   * completion is reported by a 'stream-reset' event with direction 'outgoing'.
   */
  resetStreams(now: number, streams: readonly number[]): void {
    this.tick(now);
    if (this.st.kind !== 'established') return;
    for (const s of streams) this.resetWanted.add(s);
    this.maybeSendReset();
  }

  /** Graceful close (RFC 9260 section 9.2): sends queued data, then SHUTDOWN. */
  shutdown(now: number): void {
    this.tick(now);
    if (this.st.kind === 'established') {
      this.st = { kind: 'shutdown-pending' };
      this.maybeProgressShutdown();
    } else if (this.st.kind === 'new' || this.st.kind === 'cookie-wait' || this.st.kind === 'cookie-echoed') {
      this.abort(now, 'shutdown before established');
    }
  }

  /** Immediate close (RFC 9260 section 9.1): sends ABORT with a User-Initiated Abort cause. */
  abort(now: number, reason = 'aborted by user'): void {
    this.tick(now);
    if (this.st.kind === 'closed') return;
    if (this.neg) {
      this.control = [{ type: ChunkType.ABORT, reflected: false, causes: [{ code: CauseCode.USER_INITIATED_ABORT, info: Buffer.from(reason.slice(0, 200)) }] }];
    }
    this.terminate(reason, false);
  }

  /**
   * The layer below (the DTLS transport, RFC 8261) ended and can carry nothing more: the
   * association is closed at once, with nothing sent and timers stopped, and reports `closed`
   * with `reason` (`error` true when that layer failed). A no-op once closed (docs/sctp.md,
   * "Closing").
   */
  transportEnded(now: number, reason: string, error: boolean): void {
    this.tick(now);
    if (this.st.kind === 'closed') return;
    this.control = [];
    this.initAcks.length = 0;
    this.terminate(reason, error);
  }

  /** Processes one received SCTP packet. Never throws. */
  handleInput(now: number, packet: Uint8Array): void {
    this.tick(now);
    this.stats.packetsReceived++;
    const buf = Buffer.isBuffer(packet) ? packet : Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
    const bad = verifyPacket(buf, this.opts.zeroChecksum);
    if (bad) return this.drop(bad);
    const pkt = decodePacket(buf);
    if (pkt.sourcePort !== this.opts.remotePort || pkt.destinationPort !== this.opts.localPort) return this.drop('bad-port');
    if (pkt.truncated) this.drop('malformed-chunk');
    const chunks = pkt.chunks;
    if (chunks.length === 0) return this.drop('no-chunks');
    const first = chunks[0]!;
    // Section 8.5.1: INIT has tag 0 and is alone; ABORT / SHUTDOWN COMPLETE may be reflected;
    // COOKIE ECHO is checked against the tag inside the cookie.
    if (first.type === ChunkType.INIT) {
      if (chunks.length !== 1 || pkt.verificationTag !== 0) return this.drop('bad-init-packet');
      return this.onInit(first);
    }
    if (first.type !== ChunkType.COOKIE_ECHO && !this.tagOk(pkt.verificationTag, first)) return this.drop('bad-vtag');
    // Section 6.2: a SACK for at least every second packet, not one per batch the caller feeds
    // before polling. A SACK still owed when the next DATA packet arrives is built now.
    if (this.ackImmediately && chunks.some((c) => c.type === ChunkType.DATA || c.type === ChunkType.I_DATA)) this.buildOwedSack();
    let dataSeen = false;
    const hadGaps = this.tracker.hasGaps;
    const cumBefore = this.tracker.cumTsn;
    for (const c of chunks) {
      if (this.st.kind === 'closed') break;
      if (c.type === ChunkType.DATA || c.type === ChunkType.I_DATA) {
        dataSeen = true;
        this.onData(c);
        continue;
      }
      if (!this.onChunk(c, pkt.verificationTag)) break;
    }
    if (dataSeen) this.afterData(hadGaps && this.tracker.cumTsn !== cumBefore);
    this.flushDelivered();
  }

  /** Fires expired timers. */
  handleTimeout(now: number): void {
    this.tick(now);
    const t = this.now;
    if (this.t1At !== undefined && t >= this.t1At) this.onT1();
    if (this.t2At !== undefined && t >= this.t2At) this.onT2();
    if (this.t3At !== undefined && t >= this.t3At) this.onT3();
    if (this.sackAt !== undefined && t >= this.sackAt) {
      this.sackAt = undefined;
      this.ackImmediately = true;
    }
    if (this.reconfigAt !== undefined && t >= this.reconfigAt) this.onReconfigTimer();
    if (this.heartbeatAt !== undefined && t >= this.heartbeatAt) this.onHeartbeatTimer();
  }

  /** Earliest time handleTimeout must be called, or undefined when no timer runs. */
  pollTimeout(): number | undefined {
    let m: number | undefined;
    for (const t of [this.t1At, this.t2At, this.t3At, this.sackAt, this.heartbeatAt, this.reconfigAt]) {
      if (t !== undefined && (m === undefined || t < m)) m = t;
    }
    return m;
  }

  /** Next event, or undefined. */
  pollEvent(): SctpEvent | undefined {
    if (this.eventHead >= this.events.length) return undefined;
    const e = this.events[this.eventHead];
    this.events[this.eventHead++] = undefined;
    if (this.eventHead === this.events.length) {
      this.events.length = 0;
      this.eventHead = 0;
    }
    return e;
  }

  /** Next SCTP packet to send through DTLS, or undefined when nothing is due. */
  pollTransmit(): Buffer | undefined {
    const initAck = this.initAcks.shift();
    if (initAck) {
      // Section 5.1 B: the INIT ACK travels alone, tagged with the INIT's Initiate Tag.
      this.stats.packetsSent++;
      const h = { sourcePort: this.opts.localPort, destinationPort: this.opts.remotePort, verificationTag: initAck.tag };
      return encodePacket(h, [initAck.chunk]);
    }
    const owed = this.sackPackets.shift();
    if (owed) {
      this.stats.packetsSent++;
      return owed;
    }
    const chunks: Chunk[] = [];
    const mtu = this.opts.mtu;
    let size = COMMON_HEADER_LENGTH;
    while (this.control.length) {
      const c = this.control[0]!;
      const l = chunkPaddedLength(c);
      if (chunks.length && size + l > mtu) break;
      chunks.push(c);
      size += l;
      this.control.shift();
    }
    const k = this.st.kind;
    const canData = k === 'established' || k === 'shutdown-pending' || k === 'shutdown-received';
    const canAck = canData || k === 'shutdown-sent';
    let sack: SackChunk | undefined;
    // A delayed SACK rides along when something else is sent anyway (bundling, section 6.2).
    const othersLikely = chunks.length > 0 || this.forwardTsnPending || (canData && (this.retransmitCount > 0 || this.sendQueue.hasData));
    if (canAck && (this.ackImmediately || (this.sackAt !== undefined && othersLikely))) {
      sack = this.buildSack(Math.floor((mtu - size - 16) / 4));
      size += chunkPaddedLength(sack);
    }
    let fwd: ForwardTsnChunk | IForwardTsnChunk | undefined;
    if (canData && this.forwardTsnPending) {
      fwd = this.buildForwardTsn();
      size += chunkPaddedLength(fwd);
    }
    let dataCount = 0;
    if (canData) dataCount = this.fillData(chunks, size);
    // Section 5.1 E: a COOKIE ACK must stay the first chunk; SACK and FORWARD TSN follow it.
    const at = chunks[0]?.type === ChunkType.COOKIE_ACK ? 1 : 0;
    if (sack && (this.ackImmediately || dataCount > 0 || chunks.length > 0 || fwd)) {
      chunks.splice(at, 0, sack);
      this.tracker.takeDuplicates();
      this.ackImmediately = false;
      this.sackAt = undefined;
      this.packetsSinceSack = 0;
    }
    if (fwd) {
      chunks.splice(sack && chunks[at] === sack ? at + 1 : at, 0, fwd);
      this.forwardTsnPending = false;
      this.stats.forwardTsnSent++;
      if (this.t3At === undefined) this.t3At = this.now + this.rto.rto;
    }
    this.collectLowEvents();
    if (chunks.length === 0) return undefined;
    const first = chunks[0]!;
    const vtag = first.type === ChunkType.INIT ? 0 : first.type === ChunkType.ABORT && first.reflected ? this.localTag : this.neg?.peerTag ?? 0;
    const zero = this.zeroChecksumInUse && first.type !== ChunkType.INIT && first.type !== ChunkType.INIT_ACK;
    const out = encodePacket({ sourcePort: this.opts.localPort, destinationPort: this.opts.remotePort, verificationTag: vtag }, chunks, zero);
    this.stats.packetsSent++;
    return out;
  }

  // ---------------------------------------------------------------- handshake

  /**
   * Our INIT / INIT ACK parameters. `offerZeroChecksum` is false for an INIT ACK answering an INIT
   * without Zero Checksum Acceptable: RFC 9653 section 5.2 makes the parameter optional, and
   * pion/sctp before 1.8.13 (pion/webrtc 3.1/3.2, still in Debian) refuses a whole INIT ACK that
   * carries it (pion/webrtc#2618), which would leave every data channel closed (docs/sctp.md).
   */
  private capabilityParams(offerZeroChecksum = true): Parameter[] {
    const ext: number[] = [ChunkType.RE_CONFIG, ChunkType.FORWARD_TSN];
    if (this.opts.interleaving) ext.push(ChunkType.I_DATA, ChunkType.I_FORWARD_TSN);
    const params: Parameter[] = [
      { type: ParamType.SUPPORTED_EXTENSIONS, value: Uint8Array.from(ext) },
      { type: ParamType.FORWARD_TSN_SUPPORTED, value: new Uint8Array(0) },
    ];
    if (this.opts.zeroChecksum && offerZeroChecksum) params.push({ type: ParamType.ZERO_CHECKSUM_ACCEPTABLE, value: u32Value(EDMID_DTLS) });
    return params;
  }

  /**
   * Reads the peer's INIT / INIT ACK parameters. Unknown ones follow their high bits
   * (RFC 9260 section 3.2.1): stop or skip, and collect the ones to report.
   */
  private readPeerParams(params: readonly Parameter[]): { cookie?: Uint8Array; caps: Omit<Negotiated, 'peerTag'>; unrecognized: Parameter[] } {
    let ext: Uint8Array | undefined;
    let fwdSupported = false;
    let zero = false;
    let cookie: Uint8Array | undefined;
    const unrecognized: Parameter[] = [];
    for (const p of params) {
      switch (p.type) {
        case ParamType.STATE_COOKIE:
          cookie = p.value;
          continue;
        case ParamType.SUPPORTED_EXTENSIONS:
          ext = p.value;
          continue;
        case ParamType.FORWARD_TSN_SUPPORTED:
          fwdSupported = true;
          continue;
        case ParamType.ZERO_CHECKSUM_ACCEPTABLE:
          zero = p.value.length >= 4 && Buffer.from(p.value.buffer, p.value.byteOffset, 4).readUInt32BE(0) === EDMID_DTLS;
          continue;
        case 5: // IPv4 address
        case 6: // IPv6 address
        case 9: // Cookie Preservative
        case 11: // Host Name Address (deprecated)
        case 12: // Supported Address Types
        case 0x8000: // ECN capable (no ECN over DTLS)
        case 0x8002: // Random (RFC 4895)
        case 0x8003: // Chunk List (RFC 4895)
        case 0x8004: // Requested HMAC Algorithm (RFC 4895)
        case 0xc006: // Adaptation Layer Indication (RFC 5061)
          continue;
      }
      const action = unknownParameterAction(p.type);
      if (action === 'stop-report' || action === 'skip-report') unrecognized.push(p);
      if (action === 'stop' || action === 'stop-report') break;
    }
    const has = (t: number): boolean => ext !== undefined && ext.includes(t);
    const interleaving = this.opts.interleaving && has(ChunkType.I_DATA) && has(ChunkType.I_FORWARD_TSN);
    return {
      ...(cookie ? { cookie } : {}),
      caps: {
        forwardTsn: fwdSupported || has(ChunkType.FORWARD_TSN),
        interleaving,
        reconfig: has(ChunkType.RE_CONFIG),
        peerZeroChecksum: zero,
      },
      unrecognized,
    };
  }

  /** INIT received (section 5.1 B; section 5.2.1 for INIT in COOKIE-WAIT / COOKIE-ECHOED). */
  private onInit(init: InitChunk): void {
    const k = this.st.kind;
    if (k === 'closed') return this.drop('closed');
    if (k !== 'new' && k !== 'cookie-wait' && k !== 'cookie-echoed') {
      // Section 5.2.2 (restart) is not supported: WebRTC never restarts an association.
      return this.drop('init-when-established');
    }
    const { caps, unrecognized } = this.readPeerParams(init.params);
    // Collision: answer with the tag and TSN of our own INIT so both handshakes converge.
    const localTag = k === 'new' ? this.randomTag() : this.st.localTag;
    const localInitialTsn = k === 'new' ? this.rng.uint32() : this.st.localInitialTsn;
    const cookie = signCookie(
      {
        localTag,
        peerTag: init.initiateTag,
        localInitialTsn,
        peerInitialTsn: init.initialTsn,
        peerARwnd: init.aRwnd,
        peerOutboundStreams: init.outboundStreams,
        peerInboundStreams: init.inboundStreams,
        ...caps,
        createdAt: this.now,
      },
      this.cookieKey,
    );
    const params = this.capabilityParams(caps.peerZeroChecksum);
    params.push({ type: ParamType.STATE_COOKIE, value: cookie });
    for (const u of unrecognized) params.push({ type: ParamType.UNRECOGNIZED_PARAMETER, value: encodeParam(u) });
    const ack: InitChunk = {
      type: ChunkType.INIT_ACK,
      initiateTag: localTag,
      aRwnd: this.opts.receiveBufferSize,
      outboundStreams: this.opts.outboundStreams,
      inboundStreams: this.opts.inboundStreams,
      initialTsn: localInitialTsn,
      params,
    };
    if (this.initAcks.length < 8) this.initAcks.push({ chunk: ack, tag: init.initiateTag });
  }

  /** INIT ACK received in COOKIE-WAIT (section 5.1 C). */
  private onInitAck(ack: InitChunk): void {
    if (this.st.kind !== 'cookie-wait') return this.drop('unexpected-init-ack');
    const { cookie, caps, unrecognized } = this.readPeerParams(ack.params);
    if (!cookie) {
      // Section 5.1 C: a missing State Cookie is a protocol error.
      this.control = [{ type: ChunkType.ABORT, reflected: false, causes: [{ code: CauseCode.MISSING_MANDATORY_PARAMETER, info: u32Value(0x00010007) }] }];
      this.neg = { peerTag: ack.initiateTag, ...caps };
      return this.terminate('INIT ACK without state cookie', true);
    }
    const { localTag, localInitialTsn } = this.st;
    this.neg = { peerTag: ack.initiateTag, ...caps };
    const echo: CookieEchoChunk = { type: ChunkType.COOKIE_ECHO, cookie: Buffer.from(cookie) };
    this.st = { kind: 'cookie-echoed', cookie: echo.cookie, localTag, localInitialTsn };
    log('INIT ACK received: cookie-echoed');
    this.control.push(echo);
    if (unrecognized.length) {
      this.control.push({ type: ChunkType.ERROR, causes: unrecognized.map((u) => ({ code: CauseCode.UNRECOGNIZED_PARAMETERS, info: encodeParam(u) })) });
    }
    this.peerInit = { aRwnd: ack.aRwnd, initialTsn: ack.initialTsn };
    this.t1Count = 0;
    this.t1At = this.now + this.rto.rto;
  }

  private peerInit: { aRwnd: number; initialTsn: number } | undefined;

  /** COOKIE ECHO received (section 5.1 D; section 5.2.4 table for the collision cases). */
  private onCookieEcho(c: CookieEchoChunk, vtag: number): boolean {
    const state = openCookie(c.cookie, this.cookieKey, this.now, this.opts.cookieLifetime);
    if (state === 'bad-cookie') {
      this.drop('bad-cookie');
      return false;
    }
    if (state === 'stale-cookie') {
      this.drop('stale-cookie');
      return false;
    }
    if (vtag !== state.localTag) {
      this.drop('bad-vtag');
      return false;
    }
    const k = this.st.kind;
    if (k === 'new' || ((k === 'cookie-wait' || k === 'cookie-echoed') && this.st.localTag === state.localTag)) {
      this.establish(state);
      this.control.push({ type: ChunkType.COOKIE_ACK });
      return true;
    }
    if (this.neg && this.localTag === state.localTag && this.neg.peerTag === state.peerTag) {
      // Section 5.2.4 case D: a duplicate; the COOKIE ACK was probably lost.
      this.control.push({ type: ChunkType.COOKIE_ACK });
      return true;
    }
    this.drop('cookie-for-other-association');
    return false;
  }

  /** COOKIE ACK received in COOKIE-ECHOED (section 5.1 E). */
  private onCookieAck(): void {
    if (this.st.kind !== 'cookie-echoed' || !this.neg || !this.peerInit) return;
    const { localTag, localInitialTsn } = this.st;
    this.establish({
      localTag,
      peerTag: this.neg.peerTag,
      localInitialTsn,
      peerInitialTsn: this.peerInit.initialTsn,
      peerARwnd: this.peerInit.aRwnd,
      peerOutboundStreams: 0,
      peerInboundStreams: 0,
      forwardTsn: this.neg.forwardTsn,
      interleaving: this.neg.interleaving,
      reconfig: this.neg.reconfig,
      peerZeroChecksum: this.neg.peerZeroChecksum,
      createdAt: this.now,
    });
  }

  private establish(s: CookieState): void {
    this.localTag = s.localTag;
    this.neg = { peerTag: s.peerTag, forwardTsn: s.forwardTsn, interleaving: s.interleaving, reconfig: s.reconfig, peerZeroChecksum: s.peerZeroChecksum };
    this.st = { kind: 'established' };
    this.t1At = undefined;
    const mtu = this.opts.mtu;
    this.nextTsn = s.localInitialTsn;
    this.cumAckPoint = tsnAdd(s.localInitialTsn, -1);
    this.advancedPeerAckPoint = this.cumAckPoint;
    this.cwnd = Math.min(4 * mtu, Math.max(2 * mtu, 4380));
    this.ssthresh = s.peerARwnd;
    this.peerRwnd = s.peerARwnd;
    this.tracker = new DataTracker(s.peerInitialTsn);
    this.reassembly = new ReassemblyQueue(s.interleaving, this.opts.maxReceiveMessageSize);
    this.sendQueue.setInterleaving(s.interleaving);
    this.nextReqSeq = s.localInitialTsn;
    this.peerReqSeq = s.peerInitialTsn;
    this.heartbeatAt = this.now + this.rto.rto + this.opts.heartbeatInterval;
    this.events.push({ type: 'established' });
    log('established');
  }

  // ---------------------------------------------------------------- chunk dispatch

  /** Processes one non-DATA chunk; false stops processing the rest of the packet. */
  private onChunk(c: Chunk | UnknownChunk, vtag: number): boolean {
    switch (c.type) {
      case ChunkType.INIT:
        this.drop('init-bundled');
        return false;
      case ChunkType.INIT_ACK:
        this.onInitAck(c);
        return true;
      case ChunkType.COOKIE_ECHO:
        return this.onCookieEcho(c, vtag);
      case ChunkType.COOKIE_ACK:
        this.onCookieAck();
        return true;
      case ChunkType.SACK:
        if (this.hasAssociation()) this.onSack(c);
        return true;
      case ChunkType.HEARTBEAT:
        if (this.hasAssociation()) this.control.push({ type: ChunkType.HEARTBEAT_ACK, info: Buffer.from(c.info) });
        return true;
      case ChunkType.HEARTBEAT_ACK:
        this.onHeartbeatAck(c);
        return true;
      case ChunkType.ABORT:
        this.onAbort(c);
        return false;
      case ChunkType.SHUTDOWN:
        this.onShutdown(c.cumTsnAck);
        return true;
      case ChunkType.SHUTDOWN_ACK:
        this.onShutdownAck();
        return true;
      case ChunkType.SHUTDOWN_COMPLETE:
        if (this.st.kind === 'shutdown-ack-sent') this.terminate('shutdown complete', false);
        return false;
      case ChunkType.ERROR:
        this.count('peer-error');
        return true;
      case ChunkType.FORWARD_TSN:
      case ChunkType.I_FORWARD_TSN:
        this.onForwardTsn(c);
        return true;
      case ChunkType.RE_CONFIG:
        this.onReConfig(c);
        return true;
      case ChunkType.DATA:
      case ChunkType.I_DATA:
        return true;
      case -1:
        return this.onUnknownChunk(c);
      default:
        this.drop('unexpected-chunk');
        return true;
    }
  }

  /** Section 3.2: the two high bits of an unknown chunk type say stop/skip and report or not. */
  private onUnknownChunk(c: UnknownChunk): boolean {
    this.count('unknown-chunk');
    const action = unknownChunkAction(c.chunkType);
    if ((action === 'stop-report' || action === 'skip-report') && this.hasAssociation()) {
      this.control.push({ type: ChunkType.ERROR, causes: [{ code: CauseCode.UNRECOGNIZED_CHUNK_TYPE, info: Buffer.from(c.raw) }] });
    }
    return action === 'skip' || action === 'skip-report';
  }

  private hasAssociation(): boolean {
    const k = this.st.kind;
    return k !== 'new' && k !== 'cookie-wait' && k !== 'cookie-echoed' && k !== 'closed';
  }

  private tagOk(vtag: number, first: Chunk | UnknownChunk): boolean {
    const k = this.st.kind;
    const local = k === 'cookie-wait' || k === 'cookie-echoed' ? this.st.localTag : this.localTag;
    if (k === 'new' || k === 'closed') return false;
    if ((first.type === ChunkType.ABORT || first.type === ChunkType.SHUTDOWN_COMPLETE) && first.reflected) {
      return this.neg !== undefined && vtag === this.neg.peerTag;
    }
    return vtag === local;
  }

  /** INIT ACKs waiting to be sent, each with the tag of the INIT it answers. */
  private readonly initAcks: { chunk: InitChunk; tag: number }[] = [];

  // ---------------------------------------------------------------- receive path

  private onData(c: DataChunk | IDataChunk): void {
    const k = this.st.kind;
    if (k !== 'established' && k !== 'shutdown-pending' && k !== 'shutdown-sent') return this.drop('data-in-wrong-state');
    const interleaved = this.neg?.interleaving ?? false;
    if ((c.type === ChunkType.I_DATA) !== interleaved) return this.drop('wrong-data-chunk-type');
    this.packetsWithData = true;
    if (c.userData.length === 0) return this.drop('empty-data');
    const cls = this.tracker.classify(c.tsn);
    if (cls === 'too-far') return this.drop('tsn-too-far');
    if (cls === 'duplicate') {
      this.tracker.observe(c.tsn);
      this.ackImmediately = true;
      return this.drop('duplicate-tsn');
    }
    // Section 6.2: without room, drop (the sender retransmits). The next in-order TSN is still
    // taken, up to one message beyond the window, because it may complete what the window holds.
    const held = this.reassembly.bufferedBytes + c.userData.length;
    const inOrder = c.tsn === tsnAdd(this.tracker.cumTsn, 1);
    if (held > this.opts.receiveBufferSize && !(inOrder && held <= this.opts.receiveBufferSize + this.opts.maxReceiveMessageSize)) {
      this.ackImmediately = true;
      return this.drop('rwnd-full');
    }
    this.tracker.observe(c.tsn);
    this.stats.dataChunksReceived++;
    this.stats.bytesReceived += c.userData.length;
    const r = this.reassembly.add(
      {
        tsn: c.tsn,
        streamId: c.streamId,
        sequence: c.type === ChunkType.I_DATA ? c.mid : c.ssn,
        fsn: c.type === ChunkType.I_DATA ? c.fsn : 0,
        ppid: c.ppid,
        unordered: c.unordered,
        beginning: c.beginning,
        ending: c.ending,
        data: c.userData,
      },
      this.delivered,
    );
    if (r === 'too-large') {
      this.control = [{ type: ChunkType.ABORT, reflected: false, causes: [{ code: CauseCode.PROTOCOL_VIOLATION, info: Buffer.from('message exceeds max-message-size') }] }];
      this.terminate(`peer sent a message larger than max-message-size ${this.opts.maxReceiveMessageSize}`, true);
    }
  }

  private packetsWithData = false;

  /**
   * Section 6.2 / 6.7: SACK at once on gaps or duplicates, else every second packet or after the
   * delay. A packet that fills a reported gap (`filledGap`) is acknowledged at once too, as TCP
   * does (RFC 5681 section 4.2): the sender is in fast recovery or after a T3 timeout with one
   * packet of window, and a delayed SACK would stall it for the whole delay.
   */
  private afterData(filledGap: boolean): void {
    if (!this.packetsWithData) return;
    this.packetsWithData = false;
    this.packetsSinceSack++;
    this.maybeFinishIncomingReset();
    if (filledGap || this.tracker.hasGaps || this.tracker.hasDuplicates || this.packetsSinceSack >= 2 || this.st.kind === 'shutdown-sent') {
      this.ackImmediately = true;
    } else if (this.sackAt === undefined) {
      this.sackAt = this.now + this.opts.delayedAckTimeout;
    }
  }

  private flushDelivered(): void {
    const d = this.delivered;
    if (d.length === 0) return;
    for (const m of d) {
      this.stats.messagesReceived++;
      this.events.push({ type: 'message', streamId: m.streamId, ppid: m.ppid, unordered: m.unordered, data: m.data });
    }
    d.length = 0;
    this.maybeFinishIncomingReset();
  }

  /** Builds the owed SACK into its own packet now (at most 16 wait; later ones fold into the last). */
  private buildOwedSack(): void {
    const k = this.st.kind;
    if (!this.neg || this.sackPackets.length >= 16) return;
    if (k !== 'established' && k !== 'shutdown-pending' && k !== 'shutdown-received' && k !== 'shutdown-sent') return;
    const sack = this.buildSack(Math.floor((this.opts.mtu - COMMON_HEADER_LENGTH - 16) / 4));
    this.tracker.takeDuplicates();
    this.ackImmediately = false;
    this.sackAt = undefined;
    this.packetsSinceSack = 0;
    const h = { sourcePort: this.opts.localPort, destinationPort: this.opts.remotePort, verificationTag: this.neg.peerTag };
    this.sackPackets.push(encodePacket(h, [sack], this.zeroChecksumInUse));
  }

  /** Builds a SACK; the duplicates it reports are cleared only when it is actually sent. */
  private buildSack(maxGaps: number): SackChunk {
    const dups = this.tracker.peekDuplicates();
    const gaps = this.tracker.gapBlocks(Math.max(0, Math.min(maxGaps - dups.length, 128)));
    return {
      type: ChunkType.SACK,
      cumTsnAck: this.tracker.cumTsn,
      aRwnd: Math.max(0, this.opts.receiveBufferSize - this.reassembly.bufferedBytes),
      gaps,
      duplicates: dups,
    };
  }

  /** FORWARD TSN / I-FORWARD-TSN received (RFC 3758 section 3.6, RFC 8260 section 2.3.1). */
  private onForwardTsn(c: ForwardTsnChunk | IForwardTsnChunk): void {
    const k = this.st.kind;
    if (k !== 'established' && k !== 'shutdown-pending' && k !== 'shutdown-sent') return this.drop('forward-tsn-in-wrong-state');
    if (!this.neg?.forwardTsn || (c.type === ChunkType.I_FORWARD_TSN) !== this.neg.interleaving) return this.drop('forward-tsn-not-negotiated');
    this.ackImmediately = true;
    if (tsnLte(c.newCumTsn, this.tracker.cumTsn)) return;
    if (tsnDiff(c.newCumTsn, this.tracker.cumTsn) > 0xffff * 16) return this.drop('forward-tsn-too-far');
    this.tracker.forwardTo(c.newCumTsn);
    const skipped =
      c.type === ChunkType.FORWARD_TSN
        ? c.streams.map((s) => ({ streamId: s.streamId, sequence: s.ssn, unordered: false }))
        : c.entries.map((e) => ({ streamId: e.streamId, sequence: e.mid, unordered: e.unordered }));
    this.reassembly.forward(c.newCumTsn, skipped, this.delivered);
    this.maybeFinishIncomingReset();
  }

  // ---------------------------------------------------------------- send path

  /** Appends retransmissions and new DATA within cwnd and the peer's window; returns the count. */
  private fillData(chunks: Chunk[], size: number): number {
    const mtu = this.opts.mtu;
    const interleaved = this.neg?.interleaving ?? false;
    const header = interleaved ? I_DATA_HEADER_LENGTH : DATA_HEADER_LENGTH;
    let count = 0;
    // Section 7.2.4: the first fast-retransmit packet may exceed cwnd.
    const ignoreCwnd = this.fastRetransmitBurst;
    this.fastRetransmitBurst = false;
    if (this.retransmitCount > 0) {
      for (let i = this.outHead; i < this.outstanding.length && this.retransmitCount > 0; i++) {
        const oc = this.outstanding[i]!;
        if (!oc.retransmit) continue;
        const l = pad4(header + oc.data.length);
        if (size + l > mtu) break;
        if (!ignoreCwnd && this.flightSize >= this.cwnd) break;
        oc.retransmit = false;
        this.retransmitCount--;
        oc.transmissions++;
        oc.sentAt = this.now;
        oc.inFlight = true;
        oc.missIndications = 0;
        oc.sentBeforeTsn = this.nextTsn;
        if (this.rttChunk === oc) this.rttChunk = undefined;
        this.flightSize += oc.data.length;
        chunks.push(this.toChunk(oc, interleaved));
        size += l;
        count++;
        this.stats.retransmissions++;
      }
    }
    if (this.retransmitCount === 0 && this.st.kind !== 'shutdown-received') {
      while (this.sendQueue.hasData) {
        if (this.flightSize >= this.cwnd) break;
        const room = mtu - size - header;
        if (room < 64 && count > 0) break;
        if (room <= 0) break;
        // Section 6.1 B: respect the peer's window, but allow one probe when nothing is in flight.
        if (this.peerRwnd <= 0 && this.flightSize > 0) break;
        const maxPayload = Math.max(1, this.flightSize > 0 ? Math.min(room, this.peerRwnd) : room);
        if (maxPayload < room && maxPayload < 256 && this.flightSize > 0) break;
        const f = this.sendQueue.next(maxPayload, this.now);
        if (!f) break;
        const oc: OutChunk = {
          tsn: this.nextTsn,
          msg: f.msg,
          data: f.data,
          fsn: f.fsn,
          beginning: f.beginning,
          ending: f.ending,
          sentAt: this.now,
          transmissions: 1,
          acked: false,
          abandoned: false,
          inFlight: true,
          retransmit: false,
          missIndications: 0,
          fastRetransmitted: false,
          sentBeforeTsn: tsnAdd(this.nextTsn, 1),
        };
        this.nextTsn = tsnAdd(this.nextTsn, 1);
        this.outstanding.push(oc);
        this.flightSize += f.data.length;
        this.peerRwnd = Math.max(0, this.peerRwnd - f.data.length);
        if (this.rttChunk === undefined) this.rttChunk = oc;
        chunks.push(this.toChunk(oc, interleaved));
        size += pad4(header + f.data.length);
        count++;
        this.stats.dataChunksSent++;
        this.stats.bytesSent += f.data.length;
      }
    }
    this.stats.expiredBeforeSend = this.sendQueue.expiredUnsent;
    if (count > 0) {
      if (this.t3At === undefined) this.t3At = this.now + this.rto.rto;
      this.heartbeatAt = this.now + this.rto.rto + this.opts.heartbeatInterval;
    }
    this.maybeSendReset();
    return count;
  }

  private toChunk(oc: OutChunk, interleaved: boolean): DataChunk | IDataChunk {
    const m = oc.msg;
    if (interleaved) {
      return {
        type: ChunkType.I_DATA,
        tsn: oc.tsn,
        streamId: m.streamId,
        mid: m.sequence,
        fsn: oc.fsn,
        ppid: m.ppid,
        unordered: m.unordered,
        beginning: oc.beginning,
        ending: oc.ending,
        immediate: false,
        userData: oc.data,
      };
    }
    return {
      type: ChunkType.DATA,
      tsn: oc.tsn,
      streamId: m.streamId,
      ssn: m.sequence,
      ppid: m.ppid,
      unordered: m.unordered,
      beginning: oc.beginning,
      ending: oc.ending,
      immediate: false,
      userData: oc.data,
    };
  }

  private chunkAt(tsn: number): OutChunk | undefined {
    const idx = this.outHead + tsnDiff(tsn, tsnAdd(this.cumAckPoint, 1));
    return idx < this.outstanding.length ? this.outstanding[idx] : undefined;
  }

  /** SACK received (section 6.2.1 for acks, 7.2 for congestion control, 7.2.4 fast retransmit). */
  private onSack(s: SackChunk): void {
    const cum = s.cumTsnAck;
    if (tsnLt(cum, this.cumAckPoint)) return this.drop('stale-sack');
    if (!tsnLt(cum, this.nextTsn)) return this.drop('sack-beyond-sent');
    const flightBefore = this.flightSize;
    let bytesAcked = 0;
    const cumAdvanced = tsnLt(this.cumAckPoint, cum);
    let highestNewlyAcked = cum;
    let rttSample: number | undefined;
    while (cumAdvanced && this.outHead < this.outstanding.length && tsnLte(this.outstanding[this.outHead]!.tsn, cum)) {
      const oc = this.outstanding[this.outHead]!;
      this.outstanding[this.outHead++] = undefined;
      if (!oc.acked && !oc.abandoned) bytesAcked += oc.data.length;
      this.release(oc);
      if (oc === this.rttChunk) {
        if (oc.transmissions === 1) rttSample = this.now - oc.sentAt;
        this.rttChunk = undefined;
      }
    }
    if (cumAdvanced) {
      this.cumAckPoint = cum;
      if (tsnLt(this.advancedPeerAckPoint, cum)) this.advancedPeerAckPoint = cum;
      if (this.outHead > 1024 && this.outHead * 2 > this.outstanding.length) {
        this.outstanding = this.outstanding.slice(this.outHead);
        this.outHead = 0;
      }
    }
    // Blocks must ascend without overlap (section 3.3.4); stopping at the first that does not
    // keeps the work per SACK within the outstanding chunks even for a hostile block list.
    let lastEnd = 0;
    for (const g of s.gaps) {
      if (g.start <= lastEnd) {
        this.count('overlapping-gap-blocks');
        break;
      }
      lastEnd = g.end;
      for (let i = g.start; i <= g.end; i++) {
        const oc = this.chunkAt(tsnAdd(cum, i));
        if (!oc) break;
        if (oc.acked) continue;
        if (!oc.abandoned) bytesAcked += oc.data.length;
        this.release(oc);
        oc.acked = true;
        if (oc === this.rttChunk) {
          if (oc.transmissions === 1) rttSample = this.now - oc.sentAt;
          this.rttChunk = undefined;
        }
        if (tsnLt(highestNewlyAcked, oc.tsn)) highestNewlyAcked = oc.tsn;
      }
    }
    if (rttSample !== undefined) this.rto.measure(rttSample);
    if (bytesAcked > 0) this.errorCount = 0;
    // Section 7.2.4 (HTNA): chunks below the highest newly acked TSN get a miss indication; in
    // fast recovery a SACK that advances the cumulative ack counts one for every TSN it reports
    // missing (below its last gap block). A chunk already fast retransmitted is counted only by
    // a SACK that newly acks data sent after its retransmission, so a lost retransmission is
    // found by three such SACKs instead of waiting for T3 (docs/sctp.md, loss recovery).
    let lossDetected = false;
    let missingBelow = highestNewlyAcked;
    const lastGap = s.gaps.length > 0 ? s.gaps[s.gaps.length - 1]! : undefined;
    if (this.inFastRecovery && cumAdvanced && lastGap !== undefined && lastGap.end > 0) {
      const reported = tsnAdd(cum, Math.min(lastGap.end, 0xffff));
      if (tsnLt(missingBelow, reported)) missingBelow = reported;
    }
    if (tsnLt(cum, missingBelow)) {
      const end = this.outHead + tsnDiff(missingBelow, tsnAdd(cum, 1));
      for (let i = this.outHead; i < end && i < this.outstanding.length; i++) {
        const oc = this.outstanding[i]!;
        if (oc.acked || oc.abandoned || oc.retransmit) continue;
        if (oc.fastRetransmitted && tsnLt(highestNewlyAcked, oc.sentBeforeTsn)) continue;
        if (++oc.missIndications >= 3) {
          oc.fastRetransmitted = true;
          this.markForRetransmit(oc);
          lossDetected = true;
          this.stats.fastRetransmits++;
        }
      }
    }
    if (this.inFastRecovery && tsnLte(this.fastRecoveryExit, cum)) this.inFastRecovery = false;
    if (lossDetected) {
      if (!this.inFastRecovery) {
        this.inFastRecovery = true;
        this.fastRecoveryExit = tsnAdd(this.nextTsn, -1);
        this.ssthresh = Math.max(this.cwnd / 2, 4 * this.opts.mtu);
        this.cwnd = this.ssthresh;
        this.partialBytesAcked = 0;
      }
      this.fastRetransmitBurst = true;
      this.applyPartialReliability();
    } else if (cumAdvanced && !this.inFastRecovery) {
      const mtu = this.opts.mtu;
      const fullyUsed = flightBefore + mtu >= this.cwnd;
      if (this.cwnd <= this.ssthresh) {
        // Section 7.2.1 slow start.
        if (fullyUsed) this.cwnd += Math.min(bytesAcked, mtu);
      } else {
        // Section 7.2.2 congestion avoidance.
        this.partialBytesAcked += bytesAcked;
        if (this.partialBytesAcked >= this.cwnd && fullyUsed) {
          this.partialBytesAcked -= this.cwnd;
          this.cwnd += mtu;
        }
      }
    }
    this.peerRwnd = Math.max(0, s.aRwnd - this.flightSize);
    // Section 6.3.2 R2/R3: stop T3 when nothing is outstanding, restart when cum advances.
    if (this.flightSize === 0 && this.retransmitCount === 0) this.t3At = undefined;
    else if (cumAdvanced) this.t3At = this.now + this.rto.rto;
    this.advanceAckPoint();
    if (this.resetInFlight === undefined) this.maybeSendReset();
    this.maybeProgressShutdown();
  }

  private release(oc: OutChunk): void {
    if (oc.inFlight) {
      oc.inFlight = false;
      this.flightSize -= oc.data.length;
    }
    if (oc.retransmit) {
      oc.retransmit = false;
      this.retransmitCount--;
    }
  }

  private markForRetransmit(oc: OutChunk): void {
    if (oc.inFlight) {
      oc.inFlight = false;
      this.flightSize -= oc.data.length;
    }
    if (!oc.retransmit) {
      oc.retransmit = true;
      this.retransmitCount++;
    }
  }

  /** RFC 3758 section 3.5 A: abandon messages whose chunk is due for retransmission past its policy. */
  private applyPartialReliability(): void {
    if (!this.neg?.forwardTsn) return;
    for (let i = this.outHead; i < this.outstanding.length; i++) {
      const oc = this.outstanding[i]!;
      if (!oc.retransmit || oc.msg.abandoned) continue;
      const m = oc.msg;
      const rtxExceeded = m.maxRetransmits !== undefined && oc.transmissions > m.maxRetransmits;
      const expired = m.expiresAt !== undefined && this.now >= m.expiresAt;
      if (rtxExceeded || expired) this.abandon(m, i);
    }
    this.advanceAckPoint();
  }

  private abandon(m: OutMessage, from: number): void {
    m.abandoned = true;
    this.stats.abandonedMessages++;
    this.sendQueue.abandon(m);
    // Fragments of one message are contiguous in TSN order, so scan around `from`.
    for (let i = from; i >= this.outHead && this.outstanding[i]!.msg === m; i--) this.abandonChunk(this.outstanding[i]!);
    for (let i = from + 1; i < this.outstanding.length && this.outstanding[i]!.msg === m; i++) this.abandonChunk(this.outstanding[i]!);
    if (this.neg?.interleaving) {
      // I-DATA fragments may interleave with other messages: sweep the rest too.
      for (let i = this.outHead; i < this.outstanding.length; i++) if (this.outstanding[i]!.msg === m) this.abandonChunk(this.outstanding[i]!);
    }
  }

  private abandonChunk(oc: OutChunk): void {
    if (oc.abandoned) return;
    this.release(oc);
    oc.abandoned = true;
  }

  /** RFC 3758 section 3.5 C: move the Advanced.Peer.Ack.Point over abandoned chunks. */
  private advanceAckPoint(): void {
    if (!this.neg?.forwardTsn) return;
    let p = this.advancedPeerAckPoint;
    if (tsnLt(p, this.cumAckPoint)) p = this.cumAckPoint;
    // Gap-acked chunks may be passed (the peer has them) when an abandoned one follows.
    for (let t = tsnAdd(p, 1), oc = this.chunkAt(t); oc && (oc.abandoned || oc.acked); t = tsnAdd(t, 1), oc = this.chunkAt(t)) {
      if (oc.abandoned) p = t;
    }
    if (tsnLt(this.advancedPeerAckPoint, p)) this.advancedPeerAckPoint = p;
    if (tsnLt(this.cumAckPoint, this.advancedPeerAckPoint)) this.forwardTsnPending = true;
  }

  private buildForwardTsn(): ForwardTsnChunk | IForwardTsnChunk {
    const newCum = this.advancedPeerAckPoint;
    if (this.neg?.interleaving) {
      const entries = new Map<string, { streamId: number; unordered: boolean; mid: number }>();
      for (let t = tsnAdd(this.cumAckPoint, 1); tsnLte(t, newCum); t = tsnAdd(t, 1)) {
        const oc = this.chunkAt(t);
        if (!oc) break;
        if (!oc.abandoned) continue;
        const m = oc.msg;
        entries.set(`${m.streamId}:${m.unordered ? 1 : 0}`, { streamId: m.streamId, unordered: m.unordered, mid: m.sequence });
      }
      return { type: ChunkType.I_FORWARD_TSN, newCumTsn: newCum, entries: [...entries.values()].slice(0, 128) };
    }
    const streams = new Map<number, number>();
    for (let t = tsnAdd(this.cumAckPoint, 1); tsnLte(t, newCum); t = tsnAdd(t, 1)) {
      const oc = this.chunkAt(t);
      if (!oc) break;
      if (oc.abandoned && !oc.msg.unordered) streams.set(oc.msg.streamId, oc.msg.sequence);
    }
    return { type: ChunkType.FORWARD_TSN, newCumTsn: newCum, streams: [...streams].slice(0, 256).map(([streamId, ssn]) => ({ streamId, ssn })) };
  }

  // ---------------------------------------------------------------- timers

  /** T1-init / T1-cookie expiry (section 5.1 / 6.3.3 analogue). */
  private onT1(): void {
    this.t1Count++;
    if (this.t1Count > this.opts.maxInitRetransmits) {
      this.t1At = undefined;
      return this.terminate('handshake timed out', true);
    }
    this.rto.backOff();
    if (this.st.kind === 'cookie-wait') this.control.push(this.st.init);
    else if (this.st.kind === 'cookie-echoed') this.control.push({ type: ChunkType.COOKIE_ECHO, cookie: this.st.cookie });
    else {
      this.t1At = undefined;
      return;
    }
    this.t1At = this.now + this.rto.rto;
  }

  /** T3-rtx expiry (section 6.3.3): back off, collapse cwnd, retransmit everything in flight. */
  private onT3(): void {
    this.t3At = undefined;
    this.stats.t3Expirations++;
    if (++this.errorCount > this.opts.maxRetransmissions) return this.fail('too many retransmissions (peer unreachable)');
    const mtu = this.opts.mtu;
    this.ssthresh = Math.max(this.cwnd / 2, 4 * mtu);
    this.cwnd = mtu;
    this.partialBytesAcked = 0;
    this.inFastRecovery = false;
    this.rto.backOff();
    this.rttChunk = undefined;
    for (let i = this.outHead; i < this.outstanding.length; i++) {
      const oc = this.outstanding[i]!;
      if (!oc.acked && !oc.abandoned && (oc.inFlight || oc.retransmit)) this.markForRetransmit(oc);
    }
    this.applyPartialReliability();
    if (tsnLt(this.cumAckPoint, this.advancedPeerAckPoint)) this.forwardTsnPending = true;
    if (this.resetInFlight) this.reconfigAt = this.now;
  }

  /** T2-shutdown expiry (section 9.2). */
  private onT2(): void {
    this.t2At = undefined;
    if (++this.errorCount > this.opts.maxRetransmissions) return this.fail('shutdown timed out');
    this.rto.backOff();
    if (this.st.kind === 'shutdown-sent') this.control.push({ type: ChunkType.SHUTDOWN, cumTsnAck: this.tracker.cumTsn });
    else if (this.st.kind === 'shutdown-ack-sent') this.control.push({ type: ChunkType.SHUTDOWN_ACK });
    else return;
    this.t2At = this.now + this.rto.rto;
  }

  /** Heartbeat timer (section 8.3): an unanswered heartbeat counts as an error. */
  private onHeartbeatTimer(): void {
    if (!this.hasAssociation()) {
      this.heartbeatAt = undefined;
      return;
    }
    if (this.heartbeatNonce) {
      this.rto.backOff();
      if (++this.errorCount > this.opts.maxRetransmissions) return this.fail('peer unreachable (heartbeats unanswered)');
    }
    const info = Buffer.alloc(16);
    this.rng.bytes(8).copy(info, 0);
    info.writeDoubleBE(this.now, 8);
    this.heartbeatNonce = info.subarray(0, 8);
    this.control.push({ type: ChunkType.HEARTBEAT, info });
    this.stats.heartbeatsSent++;
    this.heartbeatAt = this.now + this.rto.rto + this.opts.heartbeatInterval;
  }

  private onHeartbeatAck(c: HeartbeatChunk): void {
    if (!this.heartbeatNonce || c.info.length !== 16) return this.drop('unexpected-heartbeat-ack');
    const info = Buffer.from(c.info.buffer, c.info.byteOffset, c.info.byteLength);
    if (!info.subarray(0, 8).equals(this.heartbeatNonce)) return this.drop('unexpected-heartbeat-ack');
    this.heartbeatNonce = undefined;
    this.errorCount = 0;
    const sent = info.readDoubleBE(8);
    if (sent <= this.now) this.rto.measure(this.now - sent);
  }

  // ---------------------------------------------------------------- stream reset (RFC 6525)

  private maybeSendReset(): void {
    if (this.resetInFlight || this.resetWanted.size === 0 || this.st.kind !== 'established') return;
    if (!this.neg?.reconfig) {
      // Without RE-CONFIG support the streams can only be reported as not reset.
      const streams = [...this.resetWanted];
      this.resetWanted.clear();
      this.events.push({ type: 'stream-reset', direction: 'outgoing', streams, success: false });
      return;
    }
    const streams = [...this.resetWanted].filter((s) => !this.sendQueue.hasQueued(s));
    if (streams.length === 0) return;
    for (const s of streams) this.resetWanted.delete(s);
    this.resetInFlight = { seq: this.nextReqSeq, streams: streams.slice(0, 256), lastTsn: tsnAdd(this.nextTsn, -1) };
    for (const s of streams.slice(256)) this.resetWanted.add(s);
    this.sendResetRequest();
  }

  private sendResetRequest(): void {
    const r = this.resetInFlight!;
    const chunk: ReConfigChunk = {
      type: ChunkType.RE_CONFIG,
      params: [encodeOutgoingResetRequest({ requestSeq: r.seq, responseSeq: tsnAdd(this.peerReqSeq, -1), senderLastTsn: r.lastTsn, streams: r.streams })],
    };
    this.control.push(chunk);
    this.reconfigAt = this.now + this.rto.rto;
  }

  private onReconfigTimer(): void {
    this.reconfigAt = undefined;
    if (!this.resetInFlight || this.st.kind !== 'established') return;
    this.sendResetRequest();
  }

  private onReConfig(c: ReConfigChunk): void {
    if (!this.hasAssociation()) return this.drop('reconfig-in-wrong-state');
    for (const p of c.params) {
      if (p.type === ParamType.OUTGOING_SSN_RESET_REQUEST) {
        const req = decodeOutgoingResetRequest(p.value);
        if (!req) return this.drop('malformed-reconfig');
        this.onResetRequest(req.requestSeq, req.senderLastTsn, req.streams);
      } else if (p.type === ParamType.RECONFIG_RESPONSE) {
        const res = decodeReconfigResponse(p.value);
        if (!res) return this.drop('malformed-reconfig');
        this.onResetResponse(res.responseSeq, res.result);
      } else {
        this.control.push({ type: ChunkType.RE_CONFIG, params: [encodeReconfigResponse({ responseSeq: 0, result: ReconfigResult.DENIED })] });
        this.count('unsupported-reconfig');
      }
    }
  }

  private pendingIncomingReset: { seq: number; lastTsn: number; streams: number[] } | undefined;

  /** RFC 6525 section 5.2.2: perform once every TSN up to the sender's last one arrived. */
  private onResetRequest(seq: number, lastTsn: number, streams: number[]): void {
    if (seq === tsnAdd(this.peerReqSeq, -1) && this.lastResponse?.seq === seq) {
      this.respond(seq, this.lastResponse.result);
      return;
    }
    if (seq !== this.peerReqSeq) {
      this.respond(seq, ReconfigResult.ERROR_BAD_SEQUENCE_NUMBER);
      return;
    }
    this.pendingIncomingReset = { seq, lastTsn, streams };
    if (!this.maybeFinishIncomingReset()) this.respond(seq, ReconfigResult.IN_PROGRESS);
  }

  private maybeFinishIncomingReset(): boolean {
    const p = this.pendingIncomingReset;
    if (!p || !tsnLte(p.lastTsn, this.tracker.cumTsn)) return false;
    this.pendingIncomingReset = undefined;
    this.reassembly.resetStreams(p.streams);
    this.peerReqSeq = tsnAdd(this.peerReqSeq, 1);
    this.lastResponse = { seq: p.seq, result: ReconfigResult.SUCCESS_PERFORMED };
    this.respond(p.seq, ReconfigResult.SUCCESS_PERFORMED);
    this.events.push({ type: 'stream-reset', direction: 'incoming', streams: p.streams, success: true });
    return true;
  }

  private respond(seq: number, result: number): void {
    this.control.push({ type: ChunkType.RE_CONFIG, params: [encodeReconfigResponse({ responseSeq: seq, result })] });
  }

  private onResetResponse(seq: number, result: number): void {
    const r = this.resetInFlight;
    if (!r || seq !== r.seq) return this.drop('unexpected-reconfig-response');
    if (result === ReconfigResult.IN_PROGRESS) return;
    this.resetInFlight = undefined;
    this.reconfigAt = undefined;
    this.nextReqSeq = tsnAdd(this.nextReqSeq, 1);
    const success = result === ReconfigResult.SUCCESS_PERFORMED || result === ReconfigResult.SUCCESS_NOTHING_TO_DO;
    if (success) for (const s of r.streams) this.sendQueue.resetStream(s);
    this.events.push({ type: 'stream-reset', direction: 'outgoing', streams: r.streams, success });
    this.maybeSendReset();
  }

  // ---------------------------------------------------------------- shutdown and abort

  private allAcked(): boolean {
    return !this.sendQueue.hasData && this.outHead >= this.outstanding.length;
  }

  private maybeProgressShutdown(): void {
    if (this.st.kind === 'shutdown-pending' && this.allAcked()) {
      this.st = { kind: 'shutdown-sent' };
      this.control.push({ type: ChunkType.SHUTDOWN, cumTsnAck: this.tracker.cumTsn });
      this.t2At = this.now + this.rto.rto;
    } else if (this.st.kind === 'shutdown-received' && this.allAcked()) {
      this.st = { kind: 'shutdown-ack-sent' };
      this.control.push({ type: ChunkType.SHUTDOWN_ACK });
      this.t2At = this.now + this.rto.rto;
    }
  }

  /** SHUTDOWN received (section 9.2). */
  private onShutdown(cumTsnAck: number): void {
    const k = this.st.kind;
    if (k === 'established' || k === 'shutdown-pending') {
      this.onSack({ type: ChunkType.SACK, cumTsnAck, aRwnd: this.peerRwnd + this.flightSize, gaps: [], duplicates: [] });
      this.st = { kind: 'shutdown-received' };
      this.maybeProgressShutdown();
    } else if (k === 'shutdown-sent') {
      this.st = { kind: 'shutdown-ack-sent' };
      this.control.push({ type: ChunkType.SHUTDOWN_ACK });
      this.t2At = this.now + this.rto.rto;
    }
  }

  private onShutdownAck(): void {
    const k = this.st.kind;
    if (k !== 'shutdown-sent' && k !== 'shutdown-ack-sent') return this.drop('unexpected-shutdown-ack');
    this.control.push({ type: ChunkType.SHUTDOWN_COMPLETE, reflected: false });
    this.terminate('shutdown complete', false);
  }

  private onAbort(c: AbortChunk): void {
    if (this.st.kind === 'new') return this.drop('abort-without-association');
    this.control = [];
    this.terminate(`peer aborted: ${describeCauses(c.causes)}`, true);
  }

  private fail(reason: string): void {
    const causes: ErrorCause[] = [{ code: CauseCode.USER_INITIATED_ABORT, info: Buffer.from(reason) }];
    this.control = this.neg ? [{ type: ChunkType.ABORT, reflected: false, causes }] : [];
    this.terminate(reason, true);
  }

  private terminate(reason: string, error: boolean): void {
    if (this.st.kind === 'closed') return;
    this.st = { kind: 'closed', reason, error };
    log('closed: %s%s', reason, error ? ' (error)' : '');
    this.t1At = this.t2At = this.t3At = this.sackAt = this.heartbeatAt = this.reconfigAt = undefined;
    this.sackPackets.length = 0;
    this.events.push({ type: 'closed', reason, error });
  }

  // ---------------------------------------------------------------- helpers

  private collectLowEvents(): void {
    for (const streamId of this.sendQueue.takeLowEvents()) this.events.push({ type: 'buffered-amount-low', streamId });
  }

  private tick(now: number): void {
    if (now > this.now) this.now = now;
  }

  private randomTag(): number {
    let t = 0;
    while (t === 0) t = this.rng.uint32();
    return t;
  }

  private drop(reason: string): void {
    dropLog('sctp %s', reason);
    this.count(reason);
  }

  private count(reason: string): void {
    this.stats.drops[reason] = (this.stats.drops[reason] ?? 0) + 1;
  }
}

/** Re-encodes a parameter as TLV bytes (for the Unrecognized Parameter report). */
function encodeParam(p: Parameter): Buffer {
  const b = Buffer.alloc(parametersLength([p]));
  writeParameters([p], b, 0);
  return b;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && k !== 'rng') (out as Record<string, unknown>)[k] = v;
  return out;
}
