// The policy interface (docs/policy.md): what a sans-I/O RTP/RTCP policy module sees (batches of
// outgoing and incoming RTP, incoming RTCP, `now`) and what it may do (send RTCP, send or retransmit
// RTP, drop outgoing packets, emit typed events, ask for a timeout). lib/policy holds ready modules.
import type { RtcpPacket } from '../rtp/rtcp/compound.js';
import type { RtcpFeedback } from '../sdp/model.js';
import type { MediaKind } from './media-stream-track.js';

/**
 * Where a module is installed: `transceiver` (one instance per transceiver, seeing that
 * transceiver's packets and the RTCP about them) or `transport` (one instance per connection,
 * seeing every RTP packet and every RTCP packet of the BUNDLE transport).
 */
export type RtpPolicyScope = 'transceiver' | 'transport';

/** Flags of one packet of an {@link RtpPacketBatch}. */
export const RtpPacketFlags = {
  /** Incoming: arrived as RTX (RFC 4588) and was unwrapped; outgoing: a retransmission. */
  RETRANSMISSION: 1,
  /** Outgoing: a module asked that this packet not be sent (it dropped or held it). */
  DROP: 0x80,
} as const;

/** Most packets in one batch (a receive batch of the transport holds at most 64). */
export const RTP_BATCH_CAPACITY = 64;

/**
 * A batch of RTP packets, column-wise: packet i is `data[offsets[i], offsets[i] + lengths[i])` with
 * its header fields in the typed arrays. The batch and its arrays are reused: they are valid only
 * during the call that hands them over (copy what you keep). No object is made per packet.
 * Incoming RTX packets are reported with the original SSRC and sequence number and the
 * RETRANSMISSION flag; their `data` is the RTX packet as received.
 */
export class RtpPacketBatch {
  /** Packets in the batch. */
  count = 0;
  /** The bytes (clear RTP) the offsets point into. */
  data: Buffer = Buffer.alloc(0);
  readonly offsets = new Uint32Array(RTP_BATCH_CAPACITY);
  readonly lengths = new Uint32Array(RTP_BATCH_CAPACITY);
  readonly ssrc = new Uint32Array(RTP_BATCH_CAPACITY);
  readonly sequenceNumber = new Uint16Array(RTP_BATCH_CAPACITY);
  readonly timestamp = new Uint32Array(RTP_BATCH_CAPACITY);
  readonly payloadType = new Uint8Array(RTP_BATCH_CAPACITY);
  readonly marker = new Uint8Array(RTP_BATCH_CAPACITY);
  /** Payload bytes (without header and padding). */
  readonly payloadLength = new Uint32Array(RTP_BATCH_CAPACITY);
  /** Transport-wide sequence number (transport-cc extension), or -1 when absent. */
  readonly transportSequence = new Int32Array(RTP_BATCH_CAPACITY);
  /** {@link RtpPacketFlags}. */
  readonly flags = new Uint8Array(RTP_BATCH_CAPACITY);

  /** @internal Empties the batch over new bytes. */
  reset(data: Buffer): void {
    this.count = 0;
    this.data = data;
  }

  /** @internal Appends one packet; false when the batch is full. */
  push(
    offset: number, length: number, ssrc: number, sequenceNumber: number, timestamp: number, payloadType: number,
    marker: boolean, payloadLength: number, transportSequence: number, flags: number,
  ): boolean {
    const i = this.count;
    if (i >= RTP_BATCH_CAPACITY) return false;
    this.offsets[i] = offset;
    this.lengths[i] = length;
    this.ssrc[i] = ssrc;
    this.sequenceNumber[i] = sequenceNumber;
    this.timestamp[i] = timestamp;
    this.payloadType[i] = payloadType;
    this.marker[i] = marker ? 1 : 0;
    this.payloadLength[i] = payloadLength;
    this.transportSequence[i] = transportSequence;
    this.flags[i] = flags;
    this.count = i + 1;
    return true;
  }

  /** The bytes of packet i (a view, valid during the call). */
  packet(i: number): Buffer {
    return this.data.subarray(this.offsets[i]!, this.offsets[i]! + this.lengths[i]!);
  }
}

/** One stream we send, as negotiated (simulcast senders have several). */
export interface PolicySendStream {
  readonly ssrc: number;
  /** RTX SSRC, when RTX (RFC 4588) was negotiated for the codec. */
  readonly rtxSsrc: number | undefined;
  readonly rid: string | undefined;
  /** The sending transceiver's kind (transport-scope modules use it, e.g. the pacer sends audio first); RTCPeerConnection always sets it. */
  readonly kind?: MediaKind;
}

/** What a module learns from negotiation (given again after each renegotiation). */
export interface RtpPolicyParameters {
  /** `audio` or `video` (transceiver scope); undefined for transport-scope modules. */
  readonly kind: MediaKind | undefined;
  /** Our RTCP CNAME (RFC 3550 §6.5.1). */
  readonly cname: string;
  /** SSRC our RTCP about this transceiver is sent from (the sender's primary SSRC). */
  readonly localSsrc: number;
  /** Streams we send (empty when the negotiated direction does not send). */
  readonly sendStreams: readonly PolicySendStream[];
  /** Payload type, clock rate and RTX payload type of the codec we send, when we send. */
  readonly sendCodec: { readonly payloadType: number; readonly clockRate: number; readonly rtxPayloadType: number | undefined } | undefined;
  /** Clock rate per payload type we accept (for jitter), empty when we do not receive. */
  readonly receiveClockRates: ReadonlyMap<number, number>;
  /** rtcp-fb negotiated for the codec(s), as `type` or `type parameter` ("nack", "nack pli", "ccm fir", "transport-cc", "goog-remb"). */
  readonly rtcpFeedback: ReadonlySet<string>;
  /** Header extension id per URI, as negotiated. */
  readonly headerExtensions: ReadonlyMap<string, number>;
  /** `a=rtcp-rsize` was negotiated (RFC 5506): feedback may be sent without a report. */
  readonly reducedSizeRtcp: boolean;
  /** `a=rtcp-xr:rcvr-rtt=all` was negotiated (RFC 3611 §5.1): RRTR/DLRR may be sent. */
  readonly receiverRtt?: boolean;
}

/** Events modules emit, by name (the detail each carries). */
export interface RtpPolicyEventMap {
  /** The remote asked for a keyframe (PLI or FIR received); the application's encoder should send one. */
  'keyframe-request': { readonly ssrc: number; readonly kind: 'pli' | 'fir' };
  /** A new round-trip time estimate from RTCP (RFC 3550 §6.4.1 LSR/DLSR). */
  'rtt': { readonly ssrc: number; readonly roundTripTime: number };
  /** The NACK generator gave up on packets (too old or too many retries). */
  'nack-give-up': { readonly ssrc: number; readonly count: number };
  /** A send-side bandwidth estimate (bits per second) the application should encode at. */
  'target-bitrate': { readonly bitrate: number };
}

/** One event as the application receives it (RTCPeerConnection `policy` event). */
export type RtpPolicyEvent = {
  [K in keyof RtpPolicyEventMap]: { readonly name: K; readonly module: string; readonly detail: RtpPolicyEventMap[K] }
}[keyof RtpPolicyEventMap];

/** What a module may do during a call. Effects are queued and carried out after the call returns. */
export interface RtpPolicyOutput {
  /** Sends RTCP packets as one compound (or, with reduced-size RTCP, a lone feedback) packet. */
  sendRtcp(packets: readonly RtcpPacket[]): void;
  /**
   * Sends a clear, serialized RTP packet: a retransmission (`retransmission` true: counted as
   * retransmitted, given a fresh transport-wide sequence number) or a packet the module held.
   * The bytes are copied.
   */
  sendRtp(data: Uint8Array, retransmission: boolean): void;
  /** Emits an event to the application. */
  emit<K extends keyof RtpPolicyEventMap>(name: K, detail: RtpPolicyEventMap[K]): void;
  /**
   * Asks the chain's keyframe module (the first whose `requestKeyframe` serves it) for a keyframe
   * from remote sender `ssrc`, after this call: modules compose without knowing each other.
   */
  requestKeyframe(ssrc: number | undefined): void;
}

/** Fields a module adds to getStats() entries (W3C webrtc-stats names). */
export interface RtpPolicyStatsCollector {
  /** inbound-rtp of a remote SSRC we receive. */
  inbound(ssrc: number, fields: Readonly<Record<string, number>>): void;
  /** outbound-rtp of an SSRC we send. */
  outbound(ssrc: number, fields: Readonly<Record<string, number>>): void;
  /** remote-inbound-rtp: what the remote reports about an SSRC we send (RR/SR report blocks). */
  remoteInbound(ssrc: number, fields: Readonly<Record<string, number>>): void;
  /** remote-outbound-rtp: what the remote says about an SSRC it sends (its SR). */
  remoteOutbound(ssrc: number, fields: Readonly<Record<string, number>>): void;
  /** Transport-wide fields (candidate-pair, e.g. availableOutgoingBitrate). */
  transport(fields: Readonly<Record<string, number>>): void;
}

/** A stream an engine outside JavaScript sends (lib/sfu's forwarding engine): totals since it began. */
export interface NativeSendTotals {
  readonly ssrc: number;
  readonly packets: number;
  /** Payload octets (RFC 3550 §6.4.1 sender's octet count). */
  readonly payloadBytes: number;
  /** RTP bytes, headers included (what the RTCP interval's bandwidth estimate counts). */
  readonly bytes: number;
  /** The last RTP timestamp sent and when (`now` clock, ms); undefined before the first packet. */
  readonly lastRtpTimestamp: number;
  readonly lastSentAt: number | undefined;
  /** Set when the engine can send this stream's sender report itself (see NativeSenderReporter). */
  readonly reporter?: NativeSenderReporter;
  /** What the remote's RTCP about this stream said, as the engine read it (see NativeRemoteFeedback). */
  readonly remote?: NativeRemoteFeedback;
}

/**
 * The remote's RTCP about a stream a native engine sends, read by the engine (lib/sfu, docs/sfu.md
 * "What a subscriber's RTCP costs"): report blocks of every compound (also of those JavaScript gets),
 * so a module takes these in place of reading the blocks itself; NACK/PLI/FIR counts only of the
 * compounds the engine consumed, which never reached the module, so a module adds them to its own.
 */
export interface NativeRemoteFeedback {
  /** Report blocks read (RFC 3550 §6.4.1); the fields below are the last one's. 0: none yet. */
  readonly reports: number;
  /** Fraction lost, 0..1. */
  readonly fractionLost: number;
  readonly packetsLost: number;
  /** Interarrival jitter in timestamp units. */
  readonly jitter: number;
  readonly extendedHighestSequence: number;
  /** Last round-trip time in seconds (undefined: none measured), their sum and count. */
  readonly roundTripTime: number | undefined;
  readonly totalRoundTripTime: number;
  readonly roundTripTimeMeasurements: number;
  /**
   * Generic NACK packets, PLIs and FIR entries about the stream in compounds the engine consumed
   * (the NACK responder adds the first to nackCount, the keyframe requester the others to pliCount/firCount).
   */
  readonly nackPackets: number;
  readonly plis: number;
  readonly firs: number;
}

/**
 * An engine outside JavaScript that builds, protects and sends a stream's RTCP sender report
 * itself: lib/sfu's forwarding engine, for all legs due in one report tick in one native call
 * (docs/sfu.md "RTCP per leg"). The policy module still decides whether and when a report is due.
 */
export interface NativeSenderReporter {
  /**
   * Queues a compound SR + SDES CNAME for the stream (RFC 3550 §6.1, §6.4.1, §6.5.1): packet and
   * octet counts and the RTP timestamp from the engine's counters, the NTP time of `unixMs` (the
   * module's wall clock now). It leaves at the end of the current tick. False when the engine cannot
   * send it (no route, closed, a CNAME over 255 bytes): the module then builds the report itself.
   */
  queueSenderReport(unixMs: number, cname: string): boolean;
  /**
   * Takes the subscriber's RRTR (RFC 3611 §4.4) that the engine consumed and has not answered yet
   * (it answers in the SR it sends; an idle leg sends none), for the report the module builds itself
   * to answer with a DLRR item (§4.5): `out` gets the RRTR sender's SSRC, its LRR and the delay since
   * it arrived (1/65536 s, now). False when none is pending (`out` untouched). One native call.
   */
  takeReceiverReferenceTime?(out: NativeDlrrItem): boolean;
}

/** A DLRR sub-block (RFC 3611 §4.5) a NativeSenderReporter hands over: filled by takeReceiverReferenceTime. */
export interface NativeDlrrItem {
  ssrc: number;
  lastRr: number;
  delaySinceLastRr: number;
}

/** A native source's answer when it has nothing to report (shared, frozen). */
export const NO_NATIVE_TOTALS: NativeStreamTotals = Object.freeze({ sent: Object.freeze([]), received: Object.freeze([]) });

/** A stream an engine outside JavaScript receives: RFC 3550 §A.1/§A.8 state, totals since it began. */
export interface NativeReceiveTotals {
  readonly ssrc: number;
  /** Packets counted by §A.1 (0: none yet). */
  readonly received: number;
  readonly bytes: number;
  readonly baseSequence: number;
  readonly extendedHighestSequence: number;
  /** Interarrival jitter in timestamp units, and the clock rate it is in (0: not measured). */
  readonly jitter: number;
  readonly clockRate: number;
}

/**
 * Packets an engine outside JavaScript received since the last report, for transport-wide feedback:
 * entries [0, count) of the arrays, in arrival order (the arrays are reused after the call).
 */
export interface NativeArrivals {
  readonly count: number;
  /** SSRC of the stream (the feedback's media SSRC). */
  readonly ssrc: number;
  readonly transportSequence: Uint16Array;
  /** Arrival times on the `now` clock, ms. */
  readonly arrivalAt: Float64Array;
}

/**
 * Packets an engine outside JavaScript received since the last report, for a receive-side
 * estimator such as REMB: entries [0, count) of the arrays, in arrival order (reused after the call).
 */
export interface NativeSendTimes {
  readonly count: number;
  readonly ssrc: Uint32Array;
  /** The 24-bit abs-send-time of each packet, -1 when it carried none. */
  readonly absSendTime: Int32Array;
  /** Bytes, RTP header included. */
  readonly length: Uint32Array;
  /** Arrival times on the `now` clock, ms. */
  readonly arrivalAt: Float64Array;
}

/**
 * What a chain's native sources report (see RtpPolicy.nativeTotals). Valid during the call only: a
 * source may reuse the object and its arrays for the next call (lib/sfu does, so that a report tick
 * allocates nothing), so a module copies what it keeps.
 */
export interface NativeStreamTotals {
  readonly sent: readonly NativeSendTotals[];
  readonly received: readonly NativeReceiveTotals[];
  readonly arrivals?: NativeArrivals;
  readonly sendTimes?: NativeSendTimes;
}

/**
 * A policy module. Every hook is optional; `now` is the connection's monotonic clock in ms (an
 * older `now` than seen before must be tolerated). A module never reads a clock, starts a timer or
 * touches a socket: it acts only through `out` and says when it wants `timeout` through
 * `nextTimeout()`. Hooks must not throw for network input (drop and count instead).
 */
export interface RtpPolicy {
  /** A stable name (`nack-generator`, ...), used to remove or replace the module. */
  readonly name: string;
  /** rtcp-fb this module serves for a kind: offered/accepted only while it is installed. */
  rtcpFeedback?(kind: MediaKind): readonly RtcpFeedback[];
  /** Header extension URIs this module needs for a kind (e.g. transport-wide-cc). */
  headerExtensions?(kind: MediaKind): readonly string[];
  /** Whether this module serves `a=rtcp-xr:rcvr-rtt=all` (RFC 3611 RRTR/DLRR) for a kind: offered/accepted only then. */
  receiverRtt?(kind: MediaKind): boolean;
  /** Negotiation (re)configured the transceiver / transport. */
  configure?(now: number, params: RtpPolicyParameters): void;
  /** RTP about to be sent (serialized, clear): set RtpPacketFlags.DROP in `flags[i]` to not send packet i. */
  outgoingRtp?(now: number, batch: RtpPacketBatch, out: RtpPolicyOutput): void;
  /** RTP received (after SRTP, before the track sees it). */
  incomingRtp?(now: number, batch: RtpPacketBatch, out: RtpPolicyOutput): void;
  /** RTCP received in one receive batch (about this transceiver, or all for transport scope); the list is reused after the call. */
  incomingRtcp?(now: number, packets: readonly RtcpPacket[], out: RtpPolicyOutput): void;
  /** RTCP the application sends on this transceiver. */
  outgoingRtcp?(now: number, packets: readonly RtcpPacket[], out: RtpPolicyOutput): void;
  /**
   * The application asks for a keyframe from remote sender `ssrc` (all when undefined; see
   * RTCRtpReceiver.requestKeyframe). Returns true when the module sent (or scheduled) a request.
   */
  requestKeyframe?(now: number, ssrc: number | undefined, out: RtpPolicyOutput): boolean;
  /** The time `nextTimeout()` asked for has come. */
  timeout?(now: number, out: RtpPolicyOutput): void;
  /** When `timeout` should next run (absolute ms of the same clock), or undefined. */
  nextTimeout?(): number | undefined;
  /** The transceiver stops or the connection closes: last words (e.g. RTCP BYE). */
  stop?(now: number, out: RtpPolicyOutput): void;
  /**
   * Streams of this transceiver that a native engine moves without JavaScript (lib/sfu's
   * forwarding engine): absolute totals, given before timeouts run and before stats are collected.
   */
  nativeTotals?(now: number, totals: NativeStreamTotals, out: RtpPolicyOutput): void;
  /** Adds this module's counters to getStats(). */
  collectStats?(stats: RtpPolicyStatsCollector): void;
}

/** Makes a module for one transceiver (scope `transceiver`) or one connection (scope `transport`). */
export interface RtpPolicyFactory {
  /** The name of the modules it makes. */
  readonly name: string;
  readonly scope: RtpPolicyScope;
  /** A new module; `kind` is the transceiver's kind (undefined for transport scope). */
  create(kind: MediaKind | undefined): RtpPolicy;
}

let registeredDefaults: () => RtpPolicyFactory[] = () => [];

// Modules lib/policy's own factories made (default-policies.ts): lib/sfu tells them from a module the
// application added, whose incomingRtcp must still see the subscriber's RTCP (docs/sfu.md). A
// symbol-keyed mark on the module, not a WeakSet: five modules per connection were five ephemeron
// entries, each an insertion of about 1 µs and work for every collection (docs/peer.md "Setup cost").
const LIBRARY_POLICY: unique symbol = Symbol('pwt.libraryPolicy');

/** @internal Marks `module` as made by one of the library's own factories; returns it. */
export function markLibraryPolicy<T extends RtpPolicy>(module: T): T {
  // Own and not enumerable: an application's spread copy or Object.create wrapper of a library
  // module is the application's module, and must not carry the mark.
  Object.defineProperty(module, LIBRARY_POLICY, { value: true });
  return module;
}

// The library's own factories (default-policies.ts): their modules answer the negotiation's
// questions (rtcp-fb, header extensions, RRTR) without state and emit nothing before media, so a
// chain of only these can make its modules when first needed (RtpPolicyChain.deferred, docs/policy.md
// "When modules are made"). A WeakSet of a handful of process-wide factories, not a mark per module.
const libraryFactories = new WeakSet<RtpPolicyFactory>();

/** @internal Marks `factory` as one of the library's own (its modules are made lazily); returns it. */
export function markLibraryFactory(factory: RtpPolicyFactory): RtpPolicyFactory {
  libraryFactories.add(factory);
  return factory;
}

/** @internal Whether `factory` is one of the library's own (markLibraryFactory). */
export function isLibraryFactory(factory: RtpPolicyFactory): boolean {
  return libraryFactories.has(factory);
}

/** @internal Whether `module` was made by one of the library's own factories (markLibraryPolicy). */
export function isLibraryPolicy(module: RtpPolicy): boolean {
  return Object.hasOwn(module, LIBRARY_POLICY);
}

/**
 * Sets the modules RTCPeerConnection installs when `RTCConfiguration.rtpPolicies` is not given.
 * lib/policy registers its default set when loaded (the package entry point loads it); lib/peer
 * itself imports nothing from lib/policy (layers point down only, docs/policy.md).
 */
export function setDefaultRtpPolicies(factories: () => RtpPolicyFactory[]): void {
  registeredDefaults = factories;
}

/** The factories installed by default (see {@link setDefaultRtpPolicies}). */
export function defaultRtpPolicies(): RtpPolicyFactory[] {
  return registeredDefaults();
}

/** The key of an rtcp-fb value in {@link RtpPolicyParameters.rtcpFeedback}: `type` or `type parameter`. */
export function feedbackKey(f: RtcpFeedback): string {
  return f.parameter === undefined ? f.type : `${f.type} ${f.parameter}`;
}
