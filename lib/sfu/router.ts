// An SFU router on one shared UdpMux port (docs/sfu.md): it owns a native ForwardEngine attached to
// the port's socket and turns router/producer/consumer calls into engine rules. JavaScript keeps the
// policy (who consumes what, pause, keyframe requests); the engine forwards with no JavaScript per
// packet, and the counters say so.
import { InvalidArgumentError, InvalidStateError, OperationError, OutOfRangeError, PwtError } from '../common/errors.js';
import { reportListenerError, TypedEventEmitter } from '../common/typed-emitter.js';
import type { TcpSrtpRoute } from '../transport/source/tcp-mux.js';
import type { IceSelectedPair } from '../ice/ice-agent.js';
import type { RTCPeerConnection, RTCPeerConnectionEvents } from '../peer/peer-connection.js';
import type { RTCRtpTransceiver } from '../peer/rtp-transceiver.js';
import type { RtcpEvent } from '../peer/rtp-sender.js';
import type { RtpPolicyChain } from '../peer/rtp-policy-chain.js';
import { HeaderExtensionUri } from '../sdp/capabilities.js';
import { compoundHasGenericNack } from '../rtp/rtcp/compound-has-nack.js';
import { RtcpFullIntraRequest } from '../rtp/rtcp/full-intra-request.js';
import { RtcpPictureLossIndication } from '../rtp/rtcp/picture-loss-indication.js';
import type { UdpMux } from '../transport/source/udp-mux.js';
import type { UdpSocket } from '../transport/source/udp-socket.js';
import {
  createNativeForwardEngine,
  MAX_CACHE_PACKETS,
  nativeForwardCounterCount,
  nativeForwardDropNames,
  FORWARD_UNMAPPED,
  MAX_SPATIAL_LAYERS,
  MAX_TEMPORAL_LAYER,
  NativeForwardCounter,
  NativeForwardLayerCounter,
  NativeRtcpKind,
  NativeLayerCodec,
  type NativeForwardEngine,
} from '../native/forward.js';
import type { ReceiverStreamBound } from '../peer/rtp-receiver.js';
import { checkPreferredLayers, Consumer, type ConsumerCounterBase, type ForwardDropReason, type PreferredLayers } from './consumer.js';
import { Producer } from './producer.js';
import { mapConsumer, type NegotiatedRtp } from './rtp-mapping.js';
import { PlainTransport, type PlainTransportOptions } from './plain-transport.js';
import { PipeTransport, type PipeTransportOptions } from './pipe-transport.js';
import { LegSenderReports } from './leg-sender-reports.js';
import { AutoLayerDriver, LEG_SEND_LOG_CAPACITY, type AutoLayerFeedbackStats, type LayerSelectionFactory } from './auto-layers.js';

/** The engine's codec table for a producer's payload types (layer selection reads VP8 and H.264). */
function layerCodecs(codecs: readonly { payloadType: number; mimeType: string }[]): Uint8Array {
  const table = new Uint8Array(128);
  for (const c of codecs) {
    if (c.payloadType > 127) continue;
    const mime = c.mimeType.toLowerCase();
    if (mime === 'video/vp8') table[c.payloadType] = NativeLayerCodec.Vp8;
    else if (mime === 'video/h264') table[c.payloadType] = NativeLayerCodec.H264;
  }
  return table;
}

/** How often the engine's arrival logs reach the publishers' transport-cc feedback modules. */
const ARRIVAL_POLL_MS = 50;
/**
 * Missed numbers one compound's NACKs can report back for the upstream request: a 1,500-byte
 * compound names at most 6,375 (17 per 4-byte FCI entry); beyond this many they are not asked for.
 */
const NACK_MISS_CAPACITY = 8192;
/** RTCP packet types a compound starts with (RFC 3550 §6.4.1 SR, §6.4.2 RR). */
const RTCP_SR = 200;
const RTCP_RR = 201;

/** Options of {@link Router.produce}. */
export interface ProduceOptions {
  /** The stream's SSRC when the remote description announced none (default: the receiver's first). */
  ssrc?: number;
  /** Also deliver the packets to the publisher connection's JavaScript (default false). */
  tap?: boolean;
  /**
   * Packets kept to answer consumers' NACKs without asking the publisher (0..32768, rounded up to a
   * power of two; default 512 for video, 0 for audio). Each costs a 1500-byte slot; a simulcast
   * producer keeps one cache per spatial layer.
   */
  cachePackets?: number;
  /**
   * Simulcast (the remote sends several rids on this transceiver): the rids, lowest resolution
   * first; their index is the `spatialLayer` of consumers. Default: the order of the remote
   * description's a=simulcast rids (Chromium writes them in sendEncodings order, so a page should
   * list its encodings low to high, e.g. scaleResolutionDownBy 4, 2, 1). Must name each rid once.
   * With `ssrc` set the transceiver is not treated as simulcast: that one stream is the producer.
   */
  spatialLayers?: string[];
}

/** Options of {@link Router.consume}. */
export interface ConsumeOptions {
  /** Start paused (default false). */
  paused?: boolean;
  /**
   * The layers to send (default: the highest spatial layer, every temporal layer). A temporal layer
   * (VP8 TID 0..3) makes even a single-stream producer's consumer select layers.
   */
  preferredLayers?: PreferredLayers;
  /**
   * Chooses the layers from the subscriber connection's bandwidth estimate, under `preferredLayers`
   * (default false; `consumer.setAutoLayers()` turns it on and off; docs/sfu.md "Automatic layer selection").
   */
  autoLayers?: boolean;
}

/** What the engine consumes of a subscriber's RTCP when nothing in JavaScript asked for it (docs/sfu.md). */
const NATIVE_RTCP_KINDS = NativeRtcpKind.ReceiverReport | NativeRtcpKind.SourceDescription | NativeRtcpKind.Nack |
  NativeRtcpKind.Pli | NativeRtcpKind.Fir | NativeRtcpKind.TransportCc | NativeRtcpKind.Remb;

/** Options of {@link Router.create}. */
export interface RouterOptions {
  /** The automatic layer selection of each subscriber connection (default: BandwidthLayerSelection with its defaults). */
  layerSelection?: LayerSelectionFactory;
}

/** How often the router looks for completed layer switches ('layerschange'), in milliseconds. */
export const LAYER_POLL_INTERVAL_MS = 50;

/** Engine-wide counters of a router. */
export interface RouterStats {
  /** Received packets that belonged to a producer. */
  packetsReceived: number;
  bytesReceived: number;
  /** Datagrams sent to consumers (one per packet per consumer). */
  packetsForwarded: number;
  bytesForwarded: number;
  /** Engine flushes (each is one sendmmsg/GSO pass over its datagrams). */
  flushes: number;
  /** Receive batches that held producer packets, and those of them that needed no JavaScript call. */
  batches: number;
  batchesWithoutJs: number;
  /** Producer packets also delivered to JavaScript (producers with `tap`), since the router was made. */
  jsDeliveries: number;
  /**
   * jsDeliveries / packetsForwarded since the router was made: 0 unless a producer tapped. It stays
   * above 0 after the last tap is turned off (a ratio of totals); `tappingProducers` 0 and an unchanged
   * `jsDeliveries` between two reads say that no JavaScript runs per packet any more.
   */
  jsCallbacksPerForwardedPacket: number;
  /** Open producers whose tap is on now (each costs one JavaScript delivery per received packet). */
  tappingProducers: number;
  /** Sequence numbers consumers asked for again (NACK), answered from a cache, and not answered. */
  nackedPackets: number;
  retransmittedPackets: number;
  nackMisses: number;
  /** NACKed numbers of consumers whose producer is closed: neither answered nor counted as misses. */
  nackUnknownProducer: number;
  /**
   * Subscribers' report blocks (RFC 3550 §6.4) read natively: about a consumer leg (kept in its
   * counters, `Consumer.getStats().pwtRemoteInbound`) and about an SSRC that is no consumer of the
   * connection; blocks past the engine's cap of 64 per compound (counted, not read); compounds that
   * were malformed (the walk stopped, the rest was not read); leg RTTs the engine measured against
   * its own SRs (docs/sfu.md "RTCP per leg").
   */
  receiverReportBlocks: number;
  receiverReportBlocksUnknownSsrc: number;
  receiverReportBlocksSkipped: number;
  receiverReportsMalformed: number;
  roundTripTimesMeasured: number;
  /** Completed layer switches of all consumers (spatial, including each consumer's first, and temporal). */
  layerSwitches: number;
  /** Packets of simulcast producers' RTX (repaired-rid) streams, dropped (the engine answers NACKs itself). */
  repairPacketsDropped: number;
  /**
   * SR + SDES compound packets the engine sent on consumer legs, and the native calls that sent them
   * (one per report tick for every leg due in it; docs/sfu.md "RTCP per leg").
   */
  senderReportsSent: number;
  senderReportCalls: number;
  /** Reports the reporters queued that the engine could not send (the leg had no route or had sent nothing). */
  senderReportsNotSent: number;
  /**
   * Subscribers' compound RTCP packets (docs/sfu.md "What a subscriber's RTCP costs"): consumed by
   * the engine in the receive batch without JavaScript; handed to JavaScript on a leg with consumers
   * (counted there, each well-formed compound once: a kind the engine leaves to JavaScript, a leg
   * whose RTCP JavaScript asked for, or native RTCP off); the PLI/FIR entries and transport-cc/REMB
   * packets of the consumed ones; the engine's keyframe-request polls that found requests.
   */
  rtcpCompoundsConsumed: number;
  rtcpCompoundsToJs: number;
  rtcpKeyFrameRequests: number;
  rtcpTransportFeedbackConsumed: number;
  /**
   * XR RRTR packets (RFC 3611 §4.4) in consumed compounds (subscribers that negotiated `rcvr-rtt`,
   * such as our own RTCPeerConnections), and the DLRRs (§4.5) that answered them: in the legs' native
   * SRs, or (an idle leg, no native SR) in the report its reporter built in JavaScript (docs/sfu.md
   * "What a subscriber's RTCP costs").
   */
  rtcpReceiverReferenceTimes: number;
  dlrrSent: number;
  /** Subscriber pair switches the engine followed (a later nomination, an ICE restart; UDP and passive ICE-TCP). */
  pairsFollowed: number;
  /** Selected pairs it could not send on natively (relayed by the server's own allocation, TCP without a sink): the last destination stays. */
  pairsNotFollowed: number;
  /**
   * Subscribers over passive ICE-TCP whose connection closed while the engine sent on it (counted
   * once per connection): their packets drop as `sink-closed` until ICE selects another pair, which
   * the engine then follows (`pairsFollowed`; docs/sfu.md "Legs over TCP").
   */
  pairsLost: number;
  /** Packets not sent to a consumer, by reason. */
  drops: Record<ForwardDropReason, number>;
  /** Transport-cc feedback from subscriber connections under automatic layer selection. */
  autoLayerFeedback: AutoLayerFeedbackStats;
  /** Looks automatic layer selection took (one every AUTO_LAYER_INTERVAL_MS while a consumer is automatic). */
  autoLayerLooks: number;
  /** Consumers under automatic layer selection now. */
  autoLayerConsumers: number;
}

interface Leg {
  transport: number;
  /** Stops following the connection's selected pair. */
  offPair?: () => void;
  /** Stops following the connection's passive ICE-TCP route. */
  offTcpRoute?: () => void;
  /** A publisher over passive ICE-TCP: the connection whose read batches run the engine (docs/sfu.md "Legs over TCP"). */
  tcpRoute?: TcpSrtpRoute;
  /** A subscriber over passive ICE-TCP: the connection's sink the engine transport writes into. */
  tcpSink?: object;
  /** Stops watching the connection of `tcpSink` for its close. */
  offSinkClosed?: () => void;
  /** Stops passing the connection's compound RTCP packets to the engine's NACK answer. */
  offRtcpBytes?: () => void;
  /** NativeRtcpKind bits the engine consumes of the subscriber's RTCP (0: all of it goes to JavaScript). */
  rtcpKinds: number;
  /** The subscriber's compounds that reached JavaScript while the leg had consumers. */
  rtcpToJs: number;
  readonly producers: Set<Producer>;
  readonly consumers: Set<Consumer>;
  readonly onState: () => void;
  readonly offClosed: () => void;
}

/** Events of a {@link Router}. */
export type RouterEvents = {
  /**
   * A producer was made on this router (`produce()`, a plain or pipe transport's `produce()`), just
   * before the call returns it: where a room makes its consumers (docs/sfu.md "Your first SFU").
   */
  producer: [producer: Producer];
};

/** Forwarding rules over one shared port; create with {@link Router.create}. */
export class Router extends TypedEventEmitter<RouterEvents> {
  /** @internal */
  readonly engine: NativeForwardEngine;
  /** @internal */
  readonly dropNames: readonly string[];
  private readonly counters: Float64Array;
  private pairsFollowed = 0;
  private pairsNotFollowed = 0;
  private pairsLost = 0;
  private readonly mux: UdpMux;
  private readonly legs = new Map<RTCPeerConnection, Leg>();
  private readonly consumerCleanup = new Map<Consumer, () => void>();
  /** Open producers with `tap` on (RouterStats.tappingProducers). */
  private readonly tapping = new Set<Producer>();
  private readonly producerCleanup = new Map<Producer, () => void>();
  /** Transport chains of publishers whose arrivals the engine logs, polled every ARRIVAL_POLL_MS. */
  private readonly arrivalChains = new Map<Producer, RtpPolicyChain>();
  /** Where the engine writes the NACKed numbers no cache held (made on the first NACK of a pipe producer's consumer). */
  private nackMisses: { consumers: Uint32Array; seqs: Uint16Array; layers: Uint8Array } | undefined;
  private arrivalPoll: NodeJS.Timeout | undefined;
  private readonly attached = new Set<{ close(): void }>();
  private readonly layerWatch = new Set<Consumer>();
  /** The subscriber connection of each peer-connection consumer (the key of its automatic layer selection). */
  private readonly consumerLegs = new Map<Consumer, RTCPeerConnection>();
  private layerTimer: ReturnType<typeof setInterval> | undefined;
  /** Consumers of peer connections by engine id (the engine's keyframe requests name them so). */
  private readonly consumersById = new Map<number, Consumer>();
  private readonly keyFrameOut = new Uint32Array(64);
  /** Subscribers' compounds handed to JavaScript on legs with consumers (RouterStats.rtcpCompoundsToJs). */
  private rtcpToJs = 0;
  private lastLayerSwitches = 0;
  private layerTicks = 0;
  private closedValue = false;
  private readonly autoLayers: AutoLayerDriver;
  /** Consumer legs' SRs, sent by the engine in one call per report tick (docs/sfu.md "RTCP per leg"). */
  private readonly senderReports: LegSenderReports;

  private constructor(mux: UdpMux, options: RouterOptions) {
    super();
    const socket = mux.nativeSocket;
    if (!socket) throw new InvalidStateError('ERR_SFU_NO_NATIVE_PORT', 'the router needs an open UdpMux on the native UDP socket');
    this.mux = mux;
    this.counters = new Float64Array(nativeForwardCounterCount());
    this.engine = createNativeForwardEngine(this.counters);
    this.dropNames = nativeForwardDropNames();
    if (!socket.setForwardEngine(this.engine)) throw new OperationError('ERR_SFU_ATTACH', 'the port refused the forwarding engine (another router is attached to it)');
    this.senderReports = new LegSenderReports(this.engine, () => (this.closedValue ? undefined : this.mux.nativeSocket));
    this.autoLayers = new AutoLayerDriver(options.layerSelection, (producer, layer, out) => this.engine.producerLayerReceive(producer.id, layer, out), {
      enable: (transport) => this.engine.enableTransportSendLog(transport, LEG_SEND_LOG_CAPACITY),
      disable: (transport) => void this.engine.enableTransportSendLog(transport, 0),
      collect: (transport, seqs, sizes, ages) => this.engine.collectTransportSends(transport, seqs, sizes, ages),
      overwritten: (transport) => this.engine.transportSendsOverwritten(transport),
    }, (pc) => this.legs.get(pc as RTCPeerConnection)?.consumers ?? []);
  }

  /** A router forwarding among the connections on `mux` (created with `{ udpMux: mux }`). */
  static create(mux: UdpMux, options: RouterOptions = {}): Router {
    if (typeof mux !== 'object' || mux === null || !('nativeSocket' in mux)) {
      throw new InvalidArgumentError('ERR_SFU_ARGUMENT', 'Router.create needs a UdpMux (await UdpMux.bind(...))');
    }
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('ERR_SFU_ARGUMENT', 'Router.create: the options must be an object');
    if (options.layerSelection !== undefined && typeof options.layerSelection !== 'function') {
      throw new InvalidArgumentError('ERR_SFU_ARGUMENT', 'Router.create: layerSelection must be a function returning a LayerSelectionPolicy');
    }
    return new Router(mux, options);
  }

  get closed(): boolean {
    return this.closedValue;
  }

  /**
   * Forwards what `transceiver` of the publisher connection `pc` receives. Waits until `pc` is
   * connected (DTLS-SRTP keyed). Its packets no longer reach `pc`'s JavaScript unless `tap` is set.
   */
  async produce(pc: RTCPeerConnection, transceiver: RTCRtpTransceiver, options: ProduceOptions = {}): Promise<Producer> {
    this.assertOpen();
    checkLegArguments('produce', pc, transceiver, options);
    checkBooleanOption('produce', options.tap, 'tap');
    if (options.ssrc !== undefined && (!Number.isInteger(options.ssrc) || options.ssrc < 0 || options.ssrc > 0xffffffff)) {
      throw new OutOfRangeError('ERR_SFU_SSRC', 'produce: ssrc must be an integer in 0..4294967295');
    }
    if (options.spatialLayers !== undefined && (!Array.isArray(options.spatialLayers) || options.spatialLayers.some((r) => typeof r !== 'string'))) {
      throw new InvalidArgumentError('ERR_SFU_ARGUMENT', 'produce: spatialLayers must be an array of rids (strings)');
    }
    this.assertOnPort(pc);
    const cachePackets = options.cachePackets ?? (transceiver.kind === 'video' ? 512 : 0);
    if (!Number.isInteger(cachePackets) || cachePackets < 0 || cachePackets > MAX_CACHE_PACKETS) {
      throw new OutOfRangeError('ERR_SFU_CACHE_SIZE', `cachePackets must be an integer in 0..${MAX_CACHE_PACKETS}`);
    }
    await pc.connected();
    this.assertOpen();
    this.assertNotSelfRelayed(pc);
    const srtp = pc.mediaTransport?.srtp;
    if (!srtp || pc.connectionState !== 'connected') throw new InvalidStateError('ERR_SFU_NOT_CONNECTED', 'the publisher connection is not connected');
    const rtp = transceiver.sender.getParameters();
    if (rtp.codecs.length === 0) throw new InvalidStateError('ERR_SFU_NOT_NEGOTIATED', 'the transceiver has no negotiated codec');
    const tap = options.tap ?? false;
    const rids = transceiver.receiver.params?.rids ?? [];
    const negotiated = { codecs: rtp.codecs, headerExtensions: rtp.headerExtensions };
    const producer = rids.length > 1 && options.ssrc === undefined
      ? this.produceSimulcast(srtp.nativeHandle, transceiver, rids, options.spatialLayers, tap, cachePackets, negotiated)
      : this.produceStream(srtp.nativeHandle, transceiver, options.ssrc, tap, cachePackets, negotiated);
    this.engine.setProducerCodecs(producer.id, layerCodecs(rtp.codecs));
    const leg = this.leg(pc);
    leg.producers.add(producer);
    // A publisher over passive ICE-TCP: its frames are forwarded inside the TCP read batch.
    this.attachTcpEngine(pc, leg);
    // The publisher's receiver reports come from the engine's counters, its transport-cc feedback
    // from the engine's arrival log (docs/sfu.md "RTCP per leg").
    const offReports = transceiver.policies.addNativeSource(() => producer.nativeTotals());
    const twccId = rtp.headerExtensions.find((e) => e.uri === HeaderExtensionUri.transportWideCc)?.id;
    const twcc = twccId !== undefined && producer.logArrivals(twccId);
    // REMB (goog-remb) where the publisher negotiated it for this stream with abs-send-time: the
    // engine logs each packet's send time for the connection's REMB module.
    const absId = rtp.headerExtensions.find((e) => e.uri === HeaderExtensionUri.absSendTime)?.id;
    const remb = transceiver.policies.parameters?.rtcpFeedback.has('goog-remb') ?? false;
    const rembFed = remb && absId !== undefined && producer.logSendTimes(absId);
    let offArrivals = (): void => {};
    if (twcc || rembFed) {
      const chain = pc.transportPolicies;
      const offSource = chain.addNativeSource((now) => producer.arrivalTotals(now));
      this.arrivalChains.set(producer, chain);
      this.armArrivalPoll();
      offArrivals = () => {
        offSource();
        this.arrivalChains.delete(producer);
        // The same timer polls the keyframe requests of legs whose RTCP the engine consumes.
        if (this.arrivalChains.size === 0 && this.arrivalPoll && !this.anyNativeRtcpLeg()) {
          clearInterval(this.arrivalPoll);
          this.arrivalPoll = undefined;
        }
      };
    }
    // produceSimulcast may have registered a cleanup already (its layer-binding listener): keep it.
    const earlier = this.producerCleanup.get(producer);
    this.producerCleanup.set(producer, () => {
      earlier?.();
      offReports();
      offArrivals();
    });
    this.producerTapChanged(producer);
    this.safeEmit('producer', producer);
    return producer;
  }

  private produceStream(srtp: object, transceiver: RTCRtpTransceiver, wanted: number | undefined, tap: boolean, cachePackets: number,
    rtp: NegotiatedRtp): Producer {
    const ssrc = wanted ?? transceiver.receiver.streams.keys().next().value;
    if (ssrc === undefined) {
      throw new InvalidStateError('ERR_SFU_NO_SSRC', 'the remote description announced no SSRC for this transceiver: pass options.ssrc');
    }
    const id = this.engine.addProducer(srtp, ssrc >>> 0, tap, cachePackets);
    if (id === 0) throw new InvalidStateError('ERR_SFU_PRODUCER_EXISTS', `SSRC ${ssrc} of this connection is already a producer`);
    return new Producer(this, id, transceiver, ssrc >>> 0, rtp, tap);
  }

  // One producer for all rids of the transceiver; each layer's SSRC goes to the engine as the
  // publisher connection learns it (RFC 8852 rtp-stream-id on its first packets), RTX SSRCs
  // (repaired-rid) too, so that from then on no packet of the transceiver reaches JavaScript.
  private produceSimulcast(srtp: object, transceiver: RTCRtpTransceiver, rids: readonly string[], wanted: string[] | undefined,
    tap: boolean, cachePackets: number, rtp: NegotiatedRtp): Producer {
    const layers = wanted ?? [...rids];
    if (layers.length < 2 || layers.length > MAX_SPATIAL_LAYERS || new Set(layers).size !== layers.length || layers.some((r) => !rids.includes(r))) {
      throw new OutOfRangeError('ERR_SFU_LAYERS', `spatialLayers must name 2..${MAX_SPATIAL_LAYERS} distinct rids of the transceiver (${rids.join(', ')})`);
    }
    const receiver = transceiver.receiver;
    for (const p of this.allProducers()) {
      if (p.transceiver === transceiver && !p.closed) throw new InvalidStateError('ERR_SFU_PRODUCER_EXISTS', 'this transceiver is already a producer');
    }
    const id = this.engine.addSimulcastProducer(srtp, layers.length, tap, cachePackets);
    if (id === 0) throw new OperationError('ERR_SFU_PRODUCER', 'the engine refused the simulcast producer');
    const producer = new Producer(this, id, transceiver, undefined, rtp, tap, layers);
    const onBound = (e: ReceiverStreamBound): void => {
      if (producer.closed) return;
      if (e.repair) {
        if (e.rid !== undefined && layers.includes(e.rid)) this.engine.addProducerRepairSsrc(producer.id, e.ssrc >>> 0);
        return;
      }
      const layer = producer.bindLayer(e.rid, e.ssrc);
      // A consumer waiting for this layer needs its first key frame.
      if (layer >= 0 && producer.consumerCount > 0) this.requestKeyFrame(producer, layer);
    };
    for (const [ssrc, rid] of receiver.layerStreams) onBound({ ssrc, rid, repair: false });
    for (const [ssrc, rid] of receiver.repairStreams) onBound({ ssrc, rid, repair: true });
    receiver.boundListeners.add(onBound);
    this.producerCleanup.set(producer, () => receiver.boundListeners.delete(onBound));
    return producer;
  }

  private *allProducers(): Iterable<Producer> {
    for (const leg of this.legs.values()) yield* leg.producers;
  }

  /**
   * Sends `producer`'s stream on `transceiver`'s sender of the subscriber connection `pc`, rewritten
   * to that sender's SSRC, payload type and extension ids. Waits until `pc` is connected.
   */
  async consume(producer: Producer, pc: RTCPeerConnection, transceiver: RTCRtpTransceiver, options: ConsumeOptions = {}): Promise<Consumer> {
    this.assertOpen();
    if (!(producer instanceof Producer)) throw new InvalidArgumentError('ERR_SFU_ARGUMENT', 'consume: the first argument must be a Producer (from router.produce())');
    if (producer.host !== this) throw new PwtError('InvalidAccessError', 'ERR_SFU_OTHER_ROUTER', "consume: the producer is another router's: carry it over a pipe transport (docs/scaling.md)");
    checkLegArguments('consume', pc, transceiver, options);
    checkBooleanOption('consume', options.paused, 'paused');
    checkBooleanOption('consume', options.autoLayers, 'autoLayers');
    this.assertOnPort(pc);
    if (producer.closed) throw new InvalidStateError('ERR_SFU_PRODUCER_CLOSED', 'the producer is closed');
    this.assertNoConsumer(transceiver);
    // Checked once, before the wait: a producer's layer count is fixed when it is made, and the
    // copy keeps a caller's later change to its options object from bypassing the check.
    const wanted = options.preferredLayers;
    if (wanted !== undefined && (typeof wanted !== 'object' || wanted === null)) {
      throw new InvalidArgumentError('ERR_SFU_ARGUMENT', 'consume: preferredLayers must be an object { spatialLayer, temporalLayer? }');
    }
    const preferred = wanted === undefined ? undefined : { ...wanted };
    if (preferred !== undefined) checkPreferredLayers(preferred, producer);
    await pc.connected();
    this.assertOpen();
    if (producer.closed) throw new InvalidStateError('ERR_SFU_PRODUCER_CLOSED', 'the producer is closed');
    // Two consume() calls for one transceiver may both have waited for 'connected'.
    this.assertNoConsumer(transceiver);
    this.assertNotSelfRelayed(pc);
    const media = pc.mediaTransport;
    const srtp = media?.srtp;
    const pair = media?.selectedPair;
    const socket = this.mux.nativeSocket;
    if (!srtp || !pair || !socket || pc.connectionState !== 'connected') {
      throw new InvalidStateError('ERR_SFU_NOT_CONNECTED', 'the subscriber connection is not connected');
    }
    const leg = this.leg(pc);
    if (leg.transport === 0) {
      const destination = socket.destination(pair.remoteAddress.port, pair.remoteAddress.address);
      // The socket is named: a packet that arrives on a plain/pipe transport's socket still leaves here.
      // A subscriber over passive ICE-TCP gets the connection's sink instead: the engine frames its
      // datagrams (RFC 4571) and they leave in one write per turn (docs/sfu.md "Legs over TCP").
      const tcpRoute = media.tcpLegRoute;
      const tcpSink = tcpRoute?.forwardSink?.();
      // A TCP pair whose connection is gone has no sink: without this the engine would send UDP
      // datagrams to the TCP peer's address.
      if (pair.local.protocol === 'tcp' && tcpSink === undefined) {
        throw new InvalidStateError('ERR_SFU_NOT_CONNECTED', "the subscriber's TCP connection is closed");
      }
      leg.transport = this.engine.addTransport(srtp.nativeHandle, destination.record, tcpSink ?? socket.nativeHandle);
      if (leg.transport === 0) throw new OperationError('ERR_SFU_TRANSPORT', 'the engine refused the subscriber transport');
      this.watchSink(pc, leg, tcpSink, tcpRoute);
      // Every NACK of each compound RTCP packet the subscriber sends, for all its consumers, in one
      // native call (docs/sfu.md "Retransmission").
      const l = leg;
      leg.offRtcpBytes = pc.onRtcpBytes((data, start, length) => {
        if (l.consumers.size === 0) return;
        l.rtcpToJs++;
        this.rtcpToJs++;
        // Report blocks about the leg's consumers (a compound starts with an SR or RR, RFC 3550
        // §6.1) go into their native counters and RTTs, one call per compound (docs/sfu.md "RTCP per leg").
        const pt = length >= 2 ? data[start + 1]! : 0;
        if (pt === RTCP_SR || pt === RTCP_RR) this.engine.readReceiverReports(l.transport, data, start, length);
        const s = this.mux.nativeSocket;
        if (s && compoundHasGenericNack(data, start, length)) {
          this.retransmitCompound(l.transport, data, start, length, s, l.consumers);
        }
      });
    }
    const params = transceiver.sender.getParameters();
    const mapping = mapConsumer(producer.rtp, params);
    const ssrc = transceiver.sender.ssrc;
    const rtxSsrc = mapping.rtxPayloadType !== FORWARD_UNMAPPED ? params.encodings[0]?.rtx?.ssrc ?? 0 : 0;
    const id = this.engine.addConsumer(producer.id, leg.transport, ssrc, mapping.payloadTypes, mapping.extensionIds,
      mapping.absSendTimeId, mapping.transportCcId, mapping.clockRate, rtxSsrc ? mapping.rtxPayloadType : FORWARD_UNMAPPED, rtxSsrc);
    if (id === 0) throw new OperationError('ERR_SFU_CONSUMER', 'the engine refused the consumer');
    // Nothing awaits between the check after the wait and here: every consumer left on the sender has a closed producer.
    const continued = this.replaceStaleConsumers(transceiver, id);
    const paused = options.paused ?? false;
    // A paused producer's consumers start paused in the engine (their own `paused` is the option's).
    if (paused || producer.paused) this.engine.setConsumerPaused(id, true);
    const target = preferred ?? { spatialLayer: producer.layerCount - 1 };
    if (producer.simulcast || preferred?.temporalLayer !== undefined) {
      this.engine.setConsumerLayers(id, target.spatialLayer, preferred?.temporalLayer ?? MAX_TEMPORAL_LAYER);
    }
    const consumer = new Consumer(this, id, producer, transceiver, ssrc, paused, preferred);
    if (continued) consumer.continueCounters(continued);
    leg.consumers.add(consumer);
    producer.consumerCount++;
    // NACKs are answered natively from the producer's cache, one native call per compound RTCP
    // packet of the leg (above); keyframe requests go to the publisher through its keyframe module,
    // which aggregates and throttles them (docs/policy.md).
    const onRtcp = (e: RtcpEvent): void => {
      if (consumer.closed || producer.closed) return;
      this.autoLayers.onRtcp(pc, consumer, e.packet);
      if (consumer.paused) return;
      if (e.packet instanceof RtcpPictureLossIndication || e.packet instanceof RtcpFullIntraRequest) {
        // The layer the subscriber decodes now (simulcast: the one it waits for if none yet).
        this.requestKeyFrame(producer, producer.simulcast ? consumer.currentLayers?.spatialLayer ?? consumer.targetLayers.spatialLayer : undefined);
      }
    };
    transceiver.sender.on('rtcp', onRtcp);
    this.consumersById.set(id, consumer);
    // Another 'rtcp' listener on the sender (the application's) wants the raw packets: the leg's
    // RTCP goes to JavaScript while it listens (docs/sfu.md "What a subscriber's RTCP costs").
    const onListeners = (event: string | symbol): void => {
      if (event === 'rtcp') queueMicrotask(() => this.updateLegRtcp(pc));
    };
    const sender = transceiver.sender as unknown as NodeJS.EventEmitter;
    sender.on('newListener', onListeners);
    sender.on('removeListener', onListeners);
    // The leg's RTT from its RTCP (RR/XR, the policy layer's 'rtt' event): the engine resends a
    // NACKed packet to this consumer at most once per round trip (docs/sfu.md "Retransmission").
    const onPolicy = (e: RTCPeerConnectionEvents['policy']): void => {
      if (e.name !== 'rtt' || e.detail.ssrc !== ssrc || consumer.closed) return;
      // 0 µs means "not measured" to the engine: a loopback RTT that rounds to 0 is 1 µs.
      this.engine.setConsumerRoundTripTime(id, Math.max(1, Math.round(e.detail.roundTripTime * 1e6)));
    };
    pc.on('policy', onPolicy);
    // A policy module the application adds or removes (transport or transceiver chain) may need the
    // leg's RTCP in JavaScript (updateLegRtcp).
    const onChain = (): void => queueMicrotask(() => this.updateLegRtcp(pc));
    const offTransportChain = pc.transportPolicies.watch(onChain);
    const offChain = transceiver.policies.watch(onChain);
    // The leg's sender reports map the engine's last rewritten timestamp (docs/sfu.md "RTCP per leg").
    const offNative = transceiver.policies.addNativeSource((now) => consumer.nativeTotals(now));
    this.consumerCleanup.set(consumer, () => {
      sender.off('newListener', onListeners);
      sender.off('removeListener', onListeners);
      this.consumersById.delete(id);
      transceiver.sender.off('rtcp', onRtcp);
      pc.off('policy', onPolicy);
      offNative();
      offTransportChain();
      offChain();
    });
    if (producer.kind === 'video' && !paused && !producer.paused) this.requestKeyFrame(producer, producer.simulcast ? target.spatialLayer : undefined);
    if (consumer.watchesLayers) this.watchLayers(consumer);
    this.consumerLegs.set(consumer, pc);
    if (options.autoLayers) consumer.setAutoLayers(true);
    this.updateLegRtcp(pc);
    // A subscriber over passive ICE-TCP: its RTCP is read in the TCP connection's batches.
    this.attachTcpEngine(pc, leg);
    return consumer;
  }

  /**
   * Which kinds of the subscriber's RTCP the engine consumes without JavaScript (docs/sfu.md "What a
   * subscriber's RTCP costs"): all it knows (RR, SDES, NACK, PLI, FIR, transport-cc, REMB; an XR of
   * RRTRs, answered with a DLRR in the leg's native SR, or by the leg's reporter in a report it builds
   * while the leg is idle, where every consumer negotiated rcvr-rtt) unless
   * something in JavaScript needs the raw packets: a consumer of the leg selects layers
   * automatically (it reads the leg's REMB, transport-cc and RR loss), or the application listens to
   * 'rtcp' on a consumer's sender, or a policy module it added (not the library's own) reads
   * incomingRtcp on the connection's transport chain or a consumer's transceiver chain. PLI/FIR the
   * engine consumed come back by the keyframe poll.
   */
  private updateLegRtcp(pc: RTCPeerConnection): void {
    const leg = this.legs.get(pc);
    if (!leg || leg.transport === 0) return;
    let kinds = leg.consumers.size > 0 && !pc.transportPolicies.hasForeignIncomingRtcp ? NATIVE_RTCP_KINDS : 0;
    let rrtr = true;
    for (const c of leg.consumers) {
      if (c.transceiver?.policies.hasForeignIncomingRtcp) kinds = 0;
      // One 'rtcp' listener is the router's own (consume()).
      if (c.autoLayers || (c.transceiver?.sender.listenerCount('rtcp') ?? 0) > 1) kinds = 0;
      // A pipe producer's misses are asked for upstream from JavaScript (retransmitCompound); once
      // it is closed nothing is asked (the engine counts the NACK in nackUnknownProducer).
      if (c.producer.upstream?.nack && !c.producer.closed) kinds &= ~NativeRtcpKind.Nack;
      // An RRTR is answered (DLRR in the leg's native SR) only where `rcvr-rtt` was negotiated (RFC
      // 3611 §5.1); elsewhere JavaScript gets it, whose reporter ignores it as before.
      if (c.transceiver?.policies.parameters?.receiverRtt !== true) rrtr = false;
    }
    if (rrtr && kinds !== 0) kinds |= NativeRtcpKind.ReceiverReferenceTime;
    if (kinds === leg.rtcpKinds) return;
    leg.rtcpKinds = kinds;
    this.engine.setTransportRtcpKinds(leg.transport, kinds);
    if (kinds !== 0) this.armArrivalPoll();
    else if (this.arrivalChains.size === 0 && this.arrivalPoll && !this.anyNativeRtcpLeg()) {
      clearInterval(this.arrivalPoll);
      this.arrivalPoll = undefined;
    }
  }

  /** Whether any leg lets the engine consume its RTCP (the arrival poll then collects keyframe requests). */
  private anyNativeRtcpLeg(): boolean {
    for (const leg of this.legs.values()) if (leg.rtcpKinds !== 0) return true;
    return false;
  }

  /**
   * Keyframe requests (PLI/FIR) the engine consumed, polled with the arrival logs: each goes to the
   * publisher as the 'rtcp' listener of consume() sends one (merged per SSRC by its keyframe module).
   */
  private pollKeyFrameRequests(): void {
    const out = this.keyFrameOut;
    for (;;) {
      const n = this.engine.takeKeyFrameRequests(out);
      for (let i = 0; i < n; i++) {
        const consumer = this.consumersById.get(out[2 * i]!);
        // One request per consumer per poll, whatever the count (the publisher's keyframe module would
        // merge them anyway; a hostile FIR burst must not become a long loop): the count itself is
        // already in the leg's plis/firs and the engine's keyFrameRequests counters.
        if (out[2 * i + 1]! <= 0 || !consumer || consumer.closed || consumer.paused || consumer.producer.closed) continue;
        const producer = consumer.producer;
        this.requestKeyFrame(producer, producer.simulcast ? consumer.currentLayers?.spatialLayer ?? consumer.targetLayers.spatialLayer : undefined);
      }
      if (n < out.length / 2) return;
    }
  }

  /**
   * @internal Answers every NACK of one compound RTCP packet that engine transport `transport`
   * received, for its consumers, in one native call (docs/sfu.md "Retransmission"). For consumers of
   * pipe producers, the numbers no cache held are asked for upstream: one NACK per layer SSRC.
   */
  retransmitCompound(transport: number, data: Uint8Array, start: number, length: number, socket: UdpSocket,
    consumers: Iterable<Consumer>): void {
    let asksUpstream = false;
    for (const c of consumers) {
      if (c.producer.upstream?.nack && !c.producer.closed) {
        asksUpstream = true;
        break;
      }
    }
    if (!asksUpstream) {
      socket.forwardRetransmitCompound(transport, data, start, length);
      return;
    }
    const m = (this.nackMisses ??= {
      consumers: new Uint32Array(NACK_MISS_CAPACITY), seqs: new Uint16Array(NACK_MISS_CAPACITY), layers: new Uint8Array(NACK_MISS_CAPACITY),
    });
    const count = socket.forwardRetransmitCompound(transport, data, start, length, m.consumers, m.seqs, m.layers);
    if (count === 0) return;
    // Grouped by consumer, then by the layer each number came from (its upstream SSRC); misses are
    // rare, so the lists are made only for them.
    const byConsumer = new Map<number, Map<number, number[]>>();
    for (let i = 0; i < count; ++i) {
      let byLayer = byConsumer.get(m.consumers[i]!);
      if (!byLayer) byConsumer.set(m.consumers[i]!, (byLayer = new Map()));
      const list = byLayer.get(m.layers[i]!);
      if (list) list.push(m.seqs[i]!);
      else byLayer.set(m.layers[i]!, [m.seqs[i]!]);
    }
    for (const c of consumers) {
      const byLayer = byConsumer.get(c.id);
      const upstream = c.producer.upstream;
      // A closed producer's numbers are not asked for (the engine counts them under nackUnknownProducer).
      if (!byLayer || c.producer.closed || !upstream?.nack) continue;
      for (const [layer, numbers] of byLayer) {
        const ssrc = c.producer.layerSsrc(layer);
        if (ssrc !== undefined) upstream.nack(ssrc, numbers);
      }
    }
  }

  /** @internal A plain/pipe transport's producer (lib/sfu/plain-rtp-transport.ts); `onClose` runs when it closes. */
  adoptProducer(producer: Producer, onClose: () => void): void {
    this.producerCleanup.set(producer, onClose);
    this.safeEmit('producer', producer);
  }

  /** @internal A plain/pipe transport's consumer; `onClose` runs when it closes. */
  adoptConsumer(consumer: Consumer, onClose: () => void): void {
    consumer.producer.consumerCount++;
    this.consumerCleanup.set(consumer, onClose);
    if (consumer.kind === 'video' && !consumer.paused) this.requestKeyFrame(consumer.producer);
  }

  /** @internal A plain/pipe transport closed with the router. */
  attach(transport: { close(): void }): void {
    this.attached.add(transport);
  }

  /** @internal */
  detach(transport: { close(): void }): void {
    this.attached.delete(transport);
  }

  /** @internal A consumer's keyframe request, merged per producer (docs/sfu.md "Keyframe requests"). */
  keyFrameRequested(producer: Producer): void {
    if (!producer.closed) this.requestKeyFrame(producer);
  }

  /**
   * A plain RTP transport on a port of its own (docs/scaling.md "Plain transport"): RTP/RTCP in the
   * clear from/to one remote (ffmpeg, GStreamer). Throws the UdpSocket bind errors.
   */
  createPlainTransport(options: PlainTransportOptions): PlainTransport {
    this.assertOpen();
    return PlainTransport.create(this, options);
  }

  /** One end of a pipe to another router (docs/scaling.md "Pipe transport"). */
  createPipeTransport(options: PipeTransportOptions): PipeTransport {
    this.assertOpen();
    return PipeTransport.create(this, options);
  }

  /** @internal */
  autoLayersChanged(c: Consumer): void {
    const pc = this.consumerLegs.get(c);
    if (c.autoLayers && pc) this.autoLayers.add(c, pc, this.legs.get(pc)?.transport ?? 0);
    else this.autoLayers.remove(c);
    if (pc) this.updateLegRtcp(pc);
  }

  /** @internal */
  layersRequested(c: Consumer): void {
    if (c.producer.simulcast) {
      const current = c.currentLayers;
      const wanted = c.targetLayers.spatialLayer;
      if (!current || current.spatialLayer !== wanted) this.requestKeyFrame(c.producer, wanted);
    }
    if (c.watchesLayers) this.watchLayers(c);
  }

  // 'layerschange' is found by polling, never per packet: each tick reads one shared counter, and
  // only when it moved (or once a second, for a temporal layer first seen) asks the engine for the
  // watched consumers' layers.
  private watchLayers(c: Consumer): void {
    this.layerWatch.add(c);
    c.pollLayers();
    if (this.layerTimer) return;
    this.layerTimer = setInterval(() => this.pollLayers(), LAYER_POLL_INTERVAL_MS);
    this.layerTimer.unref();
  }

  private pollLayers(): void {
    const switches = this.counters[this.layerCounterBase + NativeForwardLayerCounter.LayerSwitches]!;
    const full = ++this.layerTicks % Math.round(1000 / LAYER_POLL_INTERVAL_MS) === 0;
    if (switches !== this.lastLayerSwitches || full) {
      this.lastLayerSwitches = switches;
      for (const c of this.layerWatch) {
        if (c.watchesLayers) c.pollLayers();
        else this.layerWatch.delete(c);
      }
    }
    if (full) {
      // A publisher may ignore a key-frame request (Chromium drops some that come soon after
      // another): while a consumer waits for a spatial layer, ask again once a second.
      for (const c of this.layerWatch) {
        const wanted = c.targetLayers.spatialLayer;
        if (c.producer.simulcast && !c.paused && c.currentLayers?.spatialLayer !== wanted) this.requestKeyFrame(c.producer, wanted);
      }
    }
    if (this.layerWatch.size === 0 && this.layerTimer) {
      clearInterval(this.layerTimer);
      this.layerTimer = undefined;
    }
  }

  private get layerCounterBase(): number {
    return NativeForwardCounter.DropBase + this.dropNames.length;
  }

  /** Engine counters (a snapshot). */
  get stats(): RouterStats {
    const c = this.counters;
    const drops: Record<string, number> = {};
    this.dropNames.forEach((name, i) => {
      if (i > 0) drops[name] = c[NativeForwardCounter.DropBase + i]!;
    });
    const forwarded = c[NativeForwardCounter.Forwarded]!;
    const tapped = c[NativeForwardCounter.Tapped]!;
    return {
      packetsReceived: c[NativeForwardCounter.PacketsIn]!,
      bytesReceived: c[NativeForwardCounter.BytesIn]!,
      packetsForwarded: forwarded,
      bytesForwarded: c[NativeForwardCounter.BytesOut]!,
      flushes: c[NativeForwardCounter.Flushes]!,
      batches: c[NativeForwardCounter.Batches]!,
      batchesWithoutJs: c[NativeForwardCounter.BatchesWithoutJs]!,
      jsDeliveries: tapped,
      jsCallbacksPerForwardedPacket: forwarded > 0 ? tapped / forwarded : 0,
      tappingProducers: this.tapping.size,
      nackedPackets: c[NativeForwardCounter.NackRequested]!,
      retransmittedPackets: c[NativeForwardCounter.Retransmitted]!,
      nackMisses: c[NativeForwardCounter.NackMissed]!,
      nackUnknownProducer: c[this.layerCounterBase + NativeForwardLayerCounter.NackUnknownProducer]!,
      receiverReportBlocks: c[this.layerCounterBase + NativeForwardLayerCounter.ReportBlocks]!,
      receiverReportBlocksUnknownSsrc: c[this.layerCounterBase + NativeForwardLayerCounter.ReportBlocksUnknownSsrc]!,
      receiverReportBlocksSkipped: c[this.layerCounterBase + NativeForwardLayerCounter.ReportBlocksSkipped]!,
      receiverReportsMalformed: c[this.layerCounterBase + NativeForwardLayerCounter.RtcpMalformed]!,
      roundTripTimesMeasured: c[this.layerCounterBase + NativeForwardLayerCounter.RoundTrips]!,
      layerSwitches: c[this.layerCounterBase + NativeForwardLayerCounter.LayerSwitches]!,
      repairPacketsDropped: c[this.layerCounterBase + NativeForwardLayerCounter.RepairDropped]!,
      senderReportsSent: c[this.layerCounterBase + NativeForwardLayerCounter.SenderReports]!,
      rtcpCompoundsConsumed: c[this.layerCounterBase + NativeForwardLayerCounter.RtcpConsumed]!,
      rtcpCompoundsToJs: this.rtcpToJs,
      rtcpKeyFrameRequests: c[this.layerCounterBase + NativeForwardLayerCounter.KeyFrameRequests]!,
      rtcpTransportFeedbackConsumed: c[this.layerCounterBase + NativeForwardLayerCounter.TransportFeedback]!,
      rtcpReceiverReferenceTimes: c[this.layerCounterBase + NativeForwardLayerCounter.ReceiverReferenceTimes]!,
      dlrrSent: c[this.layerCounterBase + NativeForwardLayerCounter.DlrrSent]!,
      senderReportCalls: this.senderReports.stats.calls,
      senderReportsNotSent: this.senderReports.stats.notSent,
      pairsFollowed: this.pairsFollowed,
      pairsNotFollowed: this.pairsNotFollowed,
      pairsLost: this.pairsLost,
      drops: drops as Record<ForwardDropReason, number>,
      autoLayerFeedback: { ...this.autoLayers.feedbackStats },
      autoLayerLooks: this.autoLayers.looks,
      autoLayerConsumers: this.autoLayers.consumerCount,
    };
  }

  /** Closes every producer and consumer and detaches the engine from the port. Idempotent. */
  close(): void {
    if (this.closedValue) return;
    for (const pc of [...this.legs.keys()]) this.closeLeg(pc);
    for (const t of [...this.attached]) t.close();
    this.closedValue = true;
    if (this.layerTimer) clearInterval(this.layerTimer);
    this.layerTimer = undefined;
    // The arrival and keyframe-request poll (kept while a leg's RTCP is consumed natively).
    if (this.arrivalPoll) clearInterval(this.arrivalPoll);
    this.arrivalPoll = undefined;
    this.layerWatch.clear();
    this.autoLayers.stop();
    const socket = this.mux.nativeSocket;
    if (socket) socket.setForwardEngine(null);
  }

  /** @internal Queues consumer `c`'s SR + SDES for the engine (NativeSenderReporter, lib/sfu/leg-sender-reports.ts). */
  queueSenderReport(c: Consumer, unixMs: number, cname: string): boolean {
    return this.senderReports.queue(c, unixMs, cname);
  }

  /** @internal */
  producerTapChanged(p: Producer): void {
    if (p.tap && !p.closed) this.tapping.add(p);
    else this.tapping.delete(p);
  }

  /** @internal */
  producerPausedChanged(p: Producer): void {
    let resumed = false;
    for (const c of this.consumerCleanup.keys()) {
      if (c.producer !== p) continue;
      c.producerPausedChanged();
      if (!c.paused && !p.paused) resumed = true;
    }
    // One key-frame request for the stream (every known layer of a simulcast producer), merged by the producer.
    if (resumed && p.kind === 'video') this.requestKeyFrame(p);
  }

  /** @internal */
  consumerResumed(c: Consumer): void {
    const p = c.producer;
    if (p.kind !== 'video' || p.closed) return;
    this.requestKeyFrame(p, p.simulcast ? c.currentLayers?.spatialLayer ?? c.targetLayers.spatialLayer : undefined);
  }

  /** @internal */
  producerClosed(p: Producer): void {
    this.producerCleanup.get(p)?.();
    this.producerCleanup.delete(p);
    this.tapping.delete(p);
    for (const c of [...this.consumerCleanup.keys()]) if (c.producer === p) c.producerClosed();
    // A TCP leg left with neither producer nor consumer stops running the engine in its reads.
    for (const [pc, leg] of this.legs) if (leg.producers.delete(p)) this.attachTcpEngine(pc, leg);
    // Its consumers stay open and forward nothing: a closed pipe producer's misses are no longer
    // asked upstream, so the legs that held NACKs back for it consume them again.
    if (p.upstream?.nack) {
      for (const [pc, leg] of this.legs) {
        for (const c of leg.consumers) {
          if (c.producer === p) {
            this.updateLegRtcp(pc);
            break;
          }
        }
      }
    }
  }

  /** @internal */
  consumerClosed(c: Consumer): void {
    this.senderReports.forget(c.id);
    this.consumerCleanup.get(c)?.();
    this.consumerCleanup.delete(c);
    c.producer.consumerCount--;
    this.layerWatch.delete(c);
    this.autoLayers.remove(c);
    const pc = this.consumerLegs.get(c);
    this.consumerLegs.delete(c);
    for (const leg of this.legs.values()) leg.consumers.delete(c);
    if (pc) {
      this.updateLegRtcp(pc);
      const leg = this.legs.get(pc);
      if (leg) this.attachTcpEngine(pc, leg);
    }
  }

  /**
   * One timer for the whole router moves the engine's arrival logs into the publishers'
   * transport-cc modules (which then send feedback on their own schedule); unref'd.
   */
  private armArrivalPoll(): void {
    if (this.arrivalPoll) return;
    this.arrivalPoll = setInterval(() => {
      for (const chain of this.arrivalChains.values()) chain.pollNative(chain.clock());
      this.pollKeyFrameRequests();
    }, ARRIVAL_POLL_MS);
    this.arrivalPoll.unref();
  }

  private requestKeyFrame(producer: Producer, spatialLayer?: number): void {
    if (producer.closed) return;
    try {
      producer.requestKeyFrame(spatialLayer);
    } catch (err) {
      // Only misuse can throw here (e.g. a closed connection's sender): report, never into the loop.
      reportListenerError(err);
    }
  }

  private leg(pc: RTCPeerConnection): Leg {
    let leg = this.legs.get(pc);
    if (!leg) {
      const onState = (): void => {
        if (pc.connectionState === 'closed' || pc.connectionState === 'failed') this.closeLeg(pc);
      };
      // close() fires no connectionstatechange (webrtc-pc §4.4.1.5), hence whenClosed.
      const offClosed = pc.whenClosed(() => this.closeLeg(pc));
      leg = { transport: 0, rtcpKinds: 0, rtcpToJs: 0, producers: new Set(), consumers: new Set(), onState, offClosed };
      this.legs.set(pc, leg);
      pc.on('connectionstatechange', onState);
      // ICE may select another pair later (a later nomination, an ICE restart after the subscriber
      // moved): the engine follows it where it can (docs/sfu.md "Limits").
      const l = leg;
      leg.offPair = pc.mediaTransport?.onSelectedPair((p) => this.followPair(pc, l, p));
      // A TCP route is rebuilt without a pair switch too (a new SRTP session on the same connection,
      // docs/sfu.md "Legs over TCP"); on a switch this comes first and followPair finds it done.
      leg.offTcpRoute = pc.mediaTransport?.onTcpLegRoute(() => this.followTcpRoute(pc, l));
    }
    return leg;
  }

  /**
   * Points the leg's engine transport at a newly selected pair (docs/sfu.md "Legs over TCP"): a UDP
   * pair on the port gets its remote address and the port's socket, a pair on a passive ICE-TCP
   * connection that connection's sink, whichever the leg had before (counted in `pairsFollowed`).
   * A pair relayed by a TURN allocation of the server's own, or on a TCP connection with no sink
   * (an active one of ours, or gone), is not followed: `pairsNotFollowed`.
   */
  private followPair(pc: RTCPeerConnection, leg: Leg, pair: IceSelectedPair): void {
    this.attachTcpEngine(pc, leg);
    if (leg.transport === 0 || !this.mux.nativeSocket) return;
    if (this.routeSubscriber(pc, leg, pair)) this.pairsFollowed++;
    else this.pairsNotFollowed++;
  }

  /** The leg's TCP route was built, rebuilt or removed: the publisher's engine and the subscriber's sink follow it. */
  private followTcpRoute(pc: RTCPeerConnection, leg: Leg): void {
    // A refusal is counted once, by the pair switch that follows.
    this.attachTcpEngine(pc, leg, false);
    const pair = pc.mediaTransport?.selectedPair;
    if (leg.transport !== 0 && pair) this.routeSubscriber(pc, leg, pair);
  }

  /** Moves the subscriber transport onto `pair`'s route; false where the engine cannot send on it. */
  private routeSubscriber(pc: RTCPeerConnection, leg: Leg, pair: IceSelectedPair): boolean {
    const media = pc.mediaTransport;
    const socket = this.mux.nativeSocket;
    const srtp = media?.srtp;
    if (!socket || !srtp || pair.local.type === 'relay') return false;
    const destination = socket.destination(pair.remoteAddress.port, pair.remoteAddress.address);
    if (pair.local.protocol === 'tcp') {
      const route = media?.tcpLegRoute;
      const sink = route?.forwardSink?.();
      if (!sink || !this.engine.setTransportRoute(leg.transport, srtp.nativeHandle, destination.record, sink)) return false;
      if (leg.tcpSink !== sink) this.watchSink(pc, leg, sink, route);
      return true;
    }
    if (leg.tcpSink === undefined) return this.engine.setTransportAddress(leg.transport, destination.record);
    if (!this.engine.setTransportRoute(leg.transport, srtp.nativeHandle, destination.record, socket.nativeHandle)) return false;
    this.watchSink(pc, leg, undefined, undefined);
    return true;
  }

  /**
   * The leg's engine transport now writes into `sink` (undefined: the UDP port): its connection
   * closing while the leg still sends there is a lost pair (`pairsLost`). The engine already drops
   * that leg's packets natively once the sink is closed (`sink-closed`); ICE selecting another pair
   * routes the leg again (docs/sfu.md "Legs over TCP").
   */
  private watchSink(pc: RTCPeerConnection, leg: Leg, sink: object | undefined, route: TcpSrtpRoute | undefined): void {
    leg.offSinkClosed?.();
    leg.offSinkClosed = undefined;
    // The leg's RTCP listener (consume()) stays: the connection's compounds still reach it on the new
    // pair, and the NACKs and RR blocks left to JavaScript need it (closeLeg() removes it).
    leg.tcpSink = sink;
    if (!sink) return;
    leg.offSinkClosed = route?.onConnectionClosed?.(() => {
      leg.offSinkClosed = undefined;
      // Closing the connection itself (pc.close(), a failed leg) closes its TCP connections too: not a loss.
      if (leg.tcpSink === sink && this.legs.get(pc) === leg && pc.connectionState !== 'closed' && pc.connectionState !== 'failed') this.pairsLost++;
    });
  }

  /**
   * A leg runs the engine in the read batches of its current passive ICE-TCP connection, as the
   * port's receive batch does for UDP legs: a publisher's RTP is forwarded there, and a subscriber's
   * compound RTCP consumed there when its leg lets the engine keep it (docs/sfu.md "What a
   * subscriber's RTCP costs"), with or without a producer in the router. Attached while the leg has
   * a producer or a consumer and the route exists, moved when it is rebuilt, detached when it goes
   * or the leg has neither. A TCP route that cannot run the engine (an active connection of ours) is
   * counted in `pairsNotFollowed`.
   */
  private attachTcpEngine(pc: RTCPeerConnection, leg: Leg, countRefusal = true): void {
    const route = leg.producers.size > 0 || leg.consumers.size > 0 ? pc.mediaTransport?.tcpLegRoute : undefined;
    if (route === leg.tcpRoute) return;
    leg.tcpRoute?.setForwardEngine?.(null);
    leg.tcpRoute = undefined;
    if (!route) return;
    if (route.setForwardEngine?.(this.engine)) leg.tcpRoute = route;
    else if (countRefusal) this.pairsNotFollowed++;
  }

  private closeLeg(pc: RTCPeerConnection): void {
    const leg = this.legs.get(pc);
    if (!leg) return;
    for (const c of [...leg.consumers]) c.close();
    for (const p of [...leg.producers]) p.close();
    leg.offPair?.();
    leg.offTcpRoute?.();
    leg.offSinkClosed?.();
    leg.offSinkClosed = undefined;
    leg.offRtcpBytes?.();
    leg.offRtcpBytes = undefined;
    leg.tcpRoute?.setForwardEngine?.(null);
    if (leg.transport !== 0) this.engine.removeTransport(leg.transport);
    pc.off('connectionstatechange', leg.onState);
    leg.offClosed();
    this.legs.delete(pc);
  }

  private assertOnPort(pc: RTCPeerConnection): void {
    if (pc.getConfiguration().udpMux !== this.mux) {
      throw new PwtError('InvalidAccessError', 'ERR_SFU_OTHER_PORT', "the connection is not on the router's UdpMux (create it with { udpMux })");
    }
  }

  /**
   * A connection whose selected pair goes through a TURN allocation of its own (a relay-only
   * connection on the port) carries its media on that allocation's socket, which the engine does not
   * run on: refused rather than silently not forwarded (docs/sfu.md "Limits"). A client relayed
   * through TURN is a plain remote of the port and is served.
   */
  private assertNotSelfRelayed(pc: RTCPeerConnection): void {
    const media = pc.mediaTransport;
    const local = media?.selectedPair?.local;
    if (local?.type === 'relay') {
      throw new PwtError('NotSupportedError', 'ERR_SFU_RELAYED_LEG', "the connection's selected pair is relayed by its own TURN allocation; the engine forwards on the router's port (and ICE-TCP) only");
    }
    // Over TCP only a passive connection of a TcpMux runs the engine; an active connection of ours
    // (RFC 6544 tcptype active) has no engine sink (docs/sfu.md "Legs over TCP").
    const route = media?.tcpLegRoute;
    if (local?.protocol === 'tcp' && (!route?.setForwardEngine || !route.forwardSink)) {
      throw new PwtError('NotSupportedError', 'ERR_SFU_TCP_LEG', "the connection's selected pair is TCP but not a passive connection of a TcpMux; the engine forwards over passive ICE-TCP only");
    }
  }

  /**
   * One consumer per sender: a second would number the same SSRC's stream twice. A consumer whose
   * producer has closed sends nothing and does not count: consume() replaces it (replaceStaleConsumers).
   */
  private assertNoConsumer(transceiver: RTCRtpTransceiver): void {
    for (const c of this.consumerLegs.keys()) {
      if (c.transceiver === transceiver && !c.closed && !c.producer.closed) {
        throw new InvalidStateError('ERR_SFU_CONSUMER_EXISTS', "this transceiver's sender already carries a consumer: close it first");
      }
    }
  }

  /**
   * The engine consumer `id`, just added on `transceiver`'s sender, takes over from the consumers
   * left there (their producers have closed): it continues their sequence numbers, timestamps, RTX
   * and VP8 numbering on the sender's SSRC (a receiver's SRTP replay window would drop a stream that
   * jumped back), then they close (each fires 'close'), so the SSRC has one consumer again (the
   * engine names one per SSRC for the leg's NACKs and report blocks; docs/sfu.md "Your first SFU").
   */
  private replaceStaleConsumers(transceiver: RTCRtpTransceiver, id: number): ConsumerCounterBase | undefined {
    const stale: Consumer[] = [];
    for (const c of this.consumerLegs.keys()) if (c.transceiver === transceiver && !c.closed) stale.push(c);
    if (stale.length === 0) return undefined;
    // Their counters of the SSRC, which the new consumer's stats and sender totals continue.
    const counters: ConsumerCounterBase = { packets: 0, bytes: 0, payloadBytes: 0, nacked: 0, retransmitted: 0, nackPackets: 0, plis: 0, firs: 0 };
    for (const c of stale) {
      this.engine.continueConsumerNumbering(id, c.id);
      c.addCountersTo(counters);
      c.close();
    }
    return counters;
  }

  private assertOpen(): void {
    if (this.closedValue) throw new InvalidStateError('ERR_SFU_ROUTER_CLOSED', 'the router is closed');
  }
}

/** An optional boolean option: undefined or a boolean (TypeError ERR_SFU_ARGUMENT). */
function checkBooleanOption(method: string, value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'boolean') throw new InvalidArgumentError('ERR_SFU_ARGUMENT', `${method}: ${name} must be a boolean`);
}

/**
 * produce()/consume() arguments a caller can get wrong before anything is waited for: a connection,
 * one of its transceivers, an options object (TypeError / InvalidAccessError, stable codes).
 */
function checkLegArguments(method: string, pc: RTCPeerConnection, transceiver: RTCRtpTransceiver, options: unknown): void {
  if (typeof pc !== 'object' || pc === null || typeof (pc as Partial<RTCPeerConnection>).getTransceivers !== 'function') {
    throw new InvalidArgumentError('ERR_SFU_ARGUMENT', `${method}: expected an RTCPeerConnection`);
  }
  if (!pc.getTransceivers().includes(transceiver)) {
    throw new PwtError('InvalidAccessError', 'ERR_SFU_TRANSCEIVER', `${method}: the transceiver is not one of the connection's (pc.getTransceivers())`);
  }
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('ERR_SFU_ARGUMENT', `${method}: the options must be an object`);
}
