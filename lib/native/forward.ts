// Typed view of the addon's ForwardEngine class (binding/forward_engine_binding.cpp; docs/sfu.md).
import { nativeExport } from './addon.js';

/** Native forwarding engine handle; every method is thin and validated by lib/sfu. */
export interface NativeForwardEngine {
  /** `socket` (a native UdpSocket): the transport's datagrams leave through it, whichever socket received them. */
  addTransport(srtpSession: object, addressRecord: Uint8Array, socket?: object): number;
  /** A plain/pipe transport (docs/scaling.md): sends to `filter`'s remote, SRTP-protected only with a session. */
  addPlainTransport(filter: object, srtpSession: object | null, socket: object): number;
  setTransportAddress(id: number, addressRecord: Uint8Array): boolean;
  /**
   * Moves a (not plain) transport onto another route: its SRTP session, address and sink (a native
   * UdpSocket or a TcpForwardSink); false when unknown, plain, or an argument is wrong.
   */
  setTransportRoute(id: number, srtpSession: object, addressRecord: Uint8Array, sink: object): boolean;
  removeTransport(id: number): boolean;
  /** `source`: the SrtpSession that unprotects the stream, or the PlainRtpFilter that admits it. */
  addProducer(source: object, ssrc: number, tap: boolean, cachePackets: number): number;
  setProducerTap(id: number, tap: boolean): boolean;
  /** The producer codec's RTP clock rate (for the interarrival jitter of its receive stats). */
  setProducerClockRate(id: number, clockRate: number): boolean;
  /** Logs each packet's transport-wide sequence number (extension id on the publisher's connection; 0: off). */
  setProducerTransportCc(id: number, extensionId: number): boolean;
  /** Moves the oldest logged arrivals out: sequence numbers and µs since each arrived; returns the count. */
  drainProducerArrivals(id: number, seqs: Uint16Array, agesUs: Float64Array): number;
  /** Arrivals the producer's log overwrote before JavaScript drained them (-1: unknown producer). */
  producerArrivalsOverwritten(id: number): number;
  /** Logs the producer's packets (not RTX) with the abs-send-time element `extensionId` (0: stop), for REMB. */
  setProducerAbsSendTime(id: number, extensionId: number): boolean;
  /** Moves the oldest logged packets out: SSRC, abs-send-time (-1: none), bytes, µs since arrival; returns how many. */
  drainProducerSendTimes(id: number, ssrcs: Uint32Array, absSendTimes: Int32Array, lengths: Uint32Array, agesUs: Float64Array): number;
  /** Keeps transport `id`'s transport-cc send records in a ring of `capacity` (≤ 65536; 0: off). */
  enableTransportSendLog(id: number, capacity: number): boolean;
  /** Moves out the records sent since the last call: transport-wide number, bytes, µs since sent; returns how many. */
  collectTransportSends(id: number, seqs: Uint16Array, sizes: Uint32Array, agesUs: Float64Array): number;
  /** Records overwritten before they were collected. */
  transportSendsOverwritten(id: number): number;
  removeProducer(id: number): boolean;
  /** A simulcast producer of `layers` (2..8) spatial layers, lowest first; 0 when refused. */
  addSimulcastProducer(srtpSession: object, layers: number, tap: boolean, cachePackets: number): number;
  /** Binds `ssrc` as spatial layer `layer`; false when out of range or the SSRC is taken. */
  setProducerLayer(id: number, layer: number, ssrc: number): boolean;
  /** An RTX (repaired-rid) SSRC whose packets the engine drops and counts. */
  addProducerRepairSsrc(id: number, ssrc: number): boolean;
  /** An RTX stream (RFC 4588) of the producer, unwrapped into it before its cache and consumers (docs/scaling.md). */
  addProducerRtx(id: number, rtxSsrc: number, rtxPayloadType: number, originalPayloadType: number): boolean;
  /** Codec per payload type (NativeLayerCodec values), 128 bytes. */
  setProducerCodecs(id: number, codecs: Uint8Array): boolean;
  /** Target layers: spatial index, temporal 0..3 (3: all). */
  setConsumerLayers(id: number, spatial: number, temporal: number): boolean;
  /**
   * The consumer leg's round-trip time in µs (0: unknown) from its RTCP: a NACKed packet is resent
   * to it at most once per round trip (100 ms while unknown, clamped to [20 ms, 1 s]); false when unknown.
   */
  setConsumerRoundTripTime(id: number, microseconds: number): boolean;
  /** The CNAME (UTF-8, at most 255 bytes) of the consumer leg's natively sent reports; false when unknown or too long. */
  setConsumerCname(id: number, cname: Uint8Array): boolean;
  /**
   * Takes the consumer's RRTR (RFC 3611 §4.4) the engine consumed and no native SR answered yet:
   * out = [RRTR sender SSRC, LRR, delay since it arrived in 1/65536 s]; false when none is pending.
   */
  takeConsumerReceiverReferenceTime(id: number, out: Float64Array): boolean;
  /** [currentSpatial (-1: none), currentTemporal (-1: none), targetSpatial, targetTemporal, switches] */
  consumerLayers(id: number, out: Float64Array): boolean;
  addConsumer(producer: number, transport: number, ssrc: number, payloadTypes: Uint8Array, extensionIds: Uint8Array,
    absSendTimeId: number, transportCcId: number, clockRate: number, rtxPayloadType: number, rtxSsrc: number): number;
  setConsumerPaused(id: number, paused: boolean): boolean;
  setConsumerProducer(id: number, producer: number): boolean;
  /** New consumer `id` continues the sequence numbers, timestamps, RTX and VP8 numbering of `from` (same transport and SSRC), about to be removed. */
  continueConsumerNumbering(id: number, from: number): boolean;
  removeConsumer(id: number): boolean;
  /**
   * [packets, bytes, forwarded, lastSequence, lastTimestamp, cached, baseSequence,
   *  extendedHighestSequence, receivedA1, jitter (timestamp units), rtxReceived, rtxDropped] (RFC 3550 §A.1, §A.8)
   */
  producerStats(id: number, out: Float64Array): boolean;
  /** Packets accepted on each spatial layer, lowest first (RTX not counted); returns the layers written (0: unknown). */
  producerLayerPackets(id: number, out: Float64Array): number;
  /**
   * One spatial layer's SSRC as the engine received it, into out (PRODUCER_LAYER_RECEIVE_COUNT):
   * [packets, bytes, baseSequence, extendedHighestSequence, receivedA1, jitter (timestamp units),
   *  bytes of VP8 TID 0, 1, 2, 3 (counted while the producer is layer-aware)]
   * (RFC 3550 §A.1, §A.8); false for an unknown producer or layer.
   */
  producerLayerReceive(id: number, layer: number, out: Float64Array): boolean;
  /**
   * [packets, bytes, nacks, retransmitted, payloadBytes, lastTimestamp, µs since the last send (-1: none),
   *  resend interval µs, the RTT it came from µs (0: unknown), ...drops by native ForwardDrop order]
   */
  consumerStats(id: number, out: Float64Array): boolean;
  /**
   * Reads the SR/RR report blocks of one compound RTCP packet (`rtcp[offset, offset + length)`) that
   * engine transport `transport` received: blocks about its consumers' SSRCs update their legs'
   * receiver-report counters and round-trip times (docs/sfu.md "RTCP per leg"). Returns the blocks applied.
   */
  readReceiverReports(transport: number, rtcp: Uint8Array, offset: number, length: number): number;
  /**
   * Legs ids[0, count) into out (CONSUMER_REPORT_STAT_COUNT doubles each): [report blocks (-1:
   * unknown), fraction lost (1/256), cumulative lost, extended highest sequence, jitter (timestamp
   * units), µs since the last block (-1: none), last RTT µs (0: none), RTT measurements, total RTT µs,
   * LSRs that matched no natively sent SR]. Returns the legs written.
   */
  consumerReceiverReports(ids: Uint32Array, count: number, out: Float64Array): number;
  /**
   * Which kinds of the subscriber's compound RTCP the engine consumes in the receive batch on
   * transport `transport` (NativeRtcpKind bits; 0: none, all of it reaches JavaScript): a compound
   * whose packets are all of those kinds and all about the transport's consumers never reaches
   * JavaScript (docs/sfu.md "What a subscriber's RTCP costs"). False for an unknown or plain transport.
   */
  setTransportRtcpKinds(transport: number, kinds: number): boolean;
  /**
   * Consumers whose subscriber sent a PLI/FIR in a consumed compound since the last call, as pairs
   * (consumer id, requests) in `out`; returns how many pairs (at most out.length / 2).
   */
  takeKeyFrameRequests(out: Uint32Array): number;
}

/** Kinds of a subscriber's RTCP the engine can consume (native ForwardRtcpKind). */
export const enum NativeRtcpKind {
  ReceiverReport = 1 << 0,
  SourceDescription = 1 << 1,
  Nack = 1 << 2,
  Pli = 1 << 3,
  Fir = 1 << 4,
  TransportCc = 1 << 5,
  Remb = 1 << 6,
  /** An XR of RRTR blocks only (RFC 3611 §4.4), answered with a DLRR in the leg's next native SR. */
  ReceiverReferenceTime = 1 << 7,
}

/** Indexes of the engine's counters array (native/forward/forward_engine.hpp ForwardCounter). */
export const enum NativeForwardCounter {
  PacketsIn = 0,
  BytesIn,
  Forwarded,
  BytesOut,
  Flushes,
  Batches,
  BatchesWithoutJs,
  Tapped,
  NackRequested,
  Retransmitted,
  NackMissed,
  DropBase,
}

/** Codec kinds the engine reads for layer selection (native ForwardLayerCodec). */
export const enum NativeLayerCodec {
  Other = 0,
  Vp8 = 1,
  H264 = 2,
}

/** Counters after the drop block: DropBase + number of drop names + these. */
export const enum NativeForwardLayerCounter {
  LayerSwitches = 0,
  RepairDropped = 1,
  /** SR + SDES compound packets the engine sent on consumer legs (UdpSocket.forwardSenderReports). */
  SenderReports = 2,
  /** Report blocks about consumer legs read natively (readReceiverReports), and about unknown SSRCs. */
  ReportBlocks = 3,
  ReportBlocksUnknownSsrc = 4,
  /** Subscriber compounds whose walk stopped at a malformed header or a report count their length cannot hold. */
  RtcpMalformed = 5,
  /** Leg round-trip times measured natively (LSR/DLSR against the engine's own SRs). */
  RoundTrips = 6,
  /** NACKed numbers of consumers whose producer is closed: neither answered nor a cache miss. */
  NackUnknownProducer = 7,
  /** Report blocks past the engine's cap per compound (64), counted and not read. */
  ReportBlocksSkipped = 8,
  /** Subscriber compounds consumed in the receive batch (no JavaScript), and those of such legs left to JavaScript. */
  RtcpConsumed = 9,
  RtcpToJs = 10,
  /** PLI/FIR entries naming a consumer in consumed compounds. */
  KeyFrameRequests = 11,
  /** transport-cc and REMB packets in consumed compounds. */
  TransportFeedback = 12,
  /** XR RRTR packets (RFC 3611 §4.4) in consumed compounds, and the DLRRs (§4.5) that answered them in the legs' SRs. */
  ReceiverReferenceTimes = 13,
  DlrrSent = 14,
}

/**
 * Values consumerStats() writes after the drops when the array has room: the leg's report-block
 * counters ([blocks, fraction lost (1/256), cumulative lost, extended highest sequence, jitter
 * (timestamp units), µs since the last block (-1: none), last RTT µs (0: none), RTT measurements,
 * total RTT µs]) and the feedback the engine consumed itself ([NACK packets, PLIs, FIRs]).
 */
export const CONSUMER_FEEDBACK_STAT_COUNT = 12;

/** Values of consumerLayers(). */
export const CONSUMER_LAYER_STAT_COUNT = 5;
/** Most spatial layers of one producer (ForwardEngine::kMaxLayers); the highest VP8 temporal layer. */
export const MAX_SPATIAL_LAYERS = 8;
export const MAX_TEMPORAL_LAYER = 3;

/** Payload-type mapping value meaning "not negotiated: drop" (kForwardUnmapped). */
export const FORWARD_UNMAPPED = 0xff;
/** Values of producerStats() and consumerStats() before the drops. */
export const PRODUCER_STAT_COUNT = 12;
/** Doubles producerLayerReceive writes. */
export const PRODUCER_LAYER_RECEIVE_COUNT = 10;
export const CONSUMER_STAT_BASE = 9;
/** Doubles per leg of consumerReceiverReports(). */
export const CONSUMER_REPORT_STAT_COUNT = 10;
/** Largest NACK cache per producer, in packets. */
export const MAX_CACHE_PACKETS = 32768;

type NativeForwardEngineCtor = new (counters: Float64Array) => NativeForwardEngine;

/** Number of counters the loaded binary keeps. */
export function nativeForwardCounterCount(): number {
  return nativeExport<number>('forwardCounterCount');
}

/** Drop reasons in native order (ForwardDropName): 'none', 'malformed', 'payload-type', ... */
export function nativeForwardDropNames(): readonly string[] {
  return nativeExport<string[]>('forwardDropNames');
}

/** Creates a native engine writing its counters into `counters` (nativeForwardCounterCount() doubles). */
export function createNativeForwardEngine(counters: Float64Array): NativeForwardEngine {
  const Ctor = nativeExport<NativeForwardEngineCtor>('ForwardEngine');
  return new Ctor(counters);
}

/** A plain/pipe transport's receive filter (binding/forward_plain_source_binding.cpp; docs/scaling.md). */
export interface NativePlainRtpFilter {
  /** Fixes the remote (an address record from UdpSocket.destination); comedia learning stops. */
  setRemote(addressRecord: Uint8Array): boolean;
  setComedia(on: boolean): void;
  /** SRTP pipe: the remote's datagrams are the socket's SRTP route's to unprotect. */
  setSrtp(on: boolean): void;
  /** Writes the current remote's sockaddr into `out` (28 bytes); false while none is known. */
  remote(out: Uint8Array): boolean;
}

/** Indexes of a plain filter's counters (native ForwardPlainCounter). */
export const enum NativePlainCounter {
  Accepted = 0,
  Spoofed,
  NotRtp,
  Learned,
  Count,
}

/** Receive-slot status of a datagram a plain filter refused (native kRecvRejected). */
export const PLAIN_RECV_REJECTED = 253;

type NativePlainRtpFilterCtor = new (counters: Float64Array) => NativePlainRtpFilter;

/** Creates a filter writing its counters into `counters` (NativePlainCounter.Count doubles). */
export function createNativePlainRtpFilter(counters: Float64Array): NativePlainRtpFilter {
  if (nativeExport<number>('plainCounterCount') !== NativePlainCounter.Count) {
    throw new Error('PlainRtpFilter: the native addon does not match this JavaScript (rebuild it)');
  }
  const Ctor = nativeExport<NativePlainRtpFilterCtor>('PlainRtpFilter');
  return new Ctor(counters);
}
