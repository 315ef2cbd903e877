// Drives automatic layer selection for a router's consumers (docs/sfu.md "Automatic layer
// selection"): keeps each subscriber connection's bandwidth estimate (REMB,
// draft-alvestrand-rmcat-remb-03, or where the subscriber sends none a send-side estimate from its
// transport-cc feedback, draft-holmer-rmcat-transport-wide-cc-extensions-01 §3) and reported loss (RFC 3550 §6.4.1 fraction lost), measures each
// producer layer's bitrate from the engine's byte counters (and what the connection's other consumers receive, taken
// off its estimate), and every AUTO_LAYER_INTERVAL_MS hands
// both to the connection's LayerSelectionPolicy (lib/policy, sans-I/O), applying what it returns.
import { performance } from 'node:perf_hooks';
import { reportListenerError } from '../common/typed-emitter.js';
import { PRODUCER_LAYER_RECEIVE_COUNT } from '../native/forward.js';
import { SendSideBandwidthEstimator } from '../policy/bandwidth-estimator.js';
import { LayerBitrateMeter } from '../policy/layer-bitrate-meter.js';
import { BandwidthLayerSelection, type LayerSelectionConsumer, type LayerSelectionPolicy } from '../policy/layer-selection.js';
import type { RtcpPacket } from '../rtp/rtcp/compound.js';
import { RtcpReceiverEstimatedMaxBitrate } from '../rtp/rtcp/receiver-estimated-max-bitrate.js';
import type { RtcpReportBlock } from '../rtp/rtcp/report-block.js';
import { RtcpTransportCcFeedback } from '../rtp/rtcp/transport-cc-feedback.js';
import type { Consumer } from './consumer.js';
import type { Producer } from './producer.js';

/** How often automatic layer selection looks at the estimates and the layers' bitrates (ms). */
export const AUTO_LAYER_INTERVAL_MS = 250;

/**
 * A REMB counts this long (ms); after that without a new one the connection's transport-cc estimate
 * is used, if it has one (a subscriber that stopped sending REMB must not pin a stale estimate).
 */
export const REMB_EXPIRY_MS = 5000;

/** Transport-cc send records kept per subscriber connection (numbers; about 4 s at 1000 packets/s). */
export const LEG_SEND_LOG_CAPACITY = 4096;

/**
 * Start of a subscriber connection's send-side estimate (bits/s): high, so that the first feedback
 * does not move a viewer below what it receives; the estimator brings it down to 1.5 × what is
 * acknowledged, and lower on overuse or loss (docs/sfu.md "Automatic layer selection").
 */
const SEND_SIDE_START_BPS = 20_000_000;

/** @internal The engine's per-leg transport-cc send records (lib/native/forward.ts). */
export interface LegSendLog {
  /** Starts keeping records for engine transport `transport`; false when refused. */
  enable(transport: number): boolean;
  /** Stops keeping them (the connection has no automatic consumer left). */
  disable(transport: number): void;
  /** Records sent since the last call: number, bytes, µs since sent; returns how many. */
  collect(transport: number, seqs: Uint16Array, sizes: Uint32Array, agesUs: Float64Array): number;
  /** Records overwritten before they were collected, so far. */
  overwritten(transport: number): number;
}

/** Transport-cc feedback from subscriber connections, as automatic layer selection used it. */
export interface AutoLayerFeedbackStats {
  /** Feedback packets fed to a connection's send-side estimator. */
  transportCcFeedback: number;
  /** Sequence numbers they reported that no send record matched (never sent, too old, repeated). */
  transportCcUnknown: number;
  /** Feedback not used: the connection sent a REMB in the last REMB_EXPIRY_MS, or its engine transport keeps no records. */
  transportCcIgnored: number;
  /** Send records the engine overwrote before a feedback collected them (more than 4096 packets between two). */
  transportSendsOverwritten: number;
}

/** Makes the policy of one subscriber connection (default: a BandwidthLayerSelection). */
export type LayerSelectionFactory = () => LayerSelectionPolicy;

// One subscriber connection's view: its estimate, its last loss report, its policy.
interface AutoLeg {
  readonly policy: LayerSelectionPolicy;
  readonly consumers: Set<Consumer>;
  /** The last REMB, bits/s; while it is fresh (REMB_EXPIRY_MS), transport-cc feedback is not used. */
  estimateBps: number | undefined;
  /** When it came (ms). */
  rembAt: number;
  lossFraction: number | undefined;
  /** Engine transport of the connection (0: none), whose send records feed `sendSide`. */
  transport: number;
  sendSide: SendSideBandwidthEstimator | undefined;
  sendSideBps: number | undefined;
  /** The send log's overwritten count when last read. */
  overwrittenSeen: number;
  /** The feedback packet last fed (one packet reaches every consumer of the connection). */
  lastFeedback: RtcpPacket | undefined;
}

function rembFresh(leg: AutoLeg, now: number): boolean {
  return leg.estimateBps !== undefined && now - leg.rembAt <= REMB_EXPIRY_MS;
}

function legEstimate(leg: AutoLeg, now: number): number | undefined {
  return rembFresh(leg, now) ? leg.estimateBps : leg.sendSideBps ?? leg.estimateBps;
}

/** @internal One per router; the key of a leg is whatever object names the subscriber connection. */
export class AutoLayerDriver {
  private readonly legs = new Map<object, AutoLeg>();
  private readonly legOf = new Map<Consumer, object>();
  private readonly meters = new Map<Producer, LayerBitrateMeter>();
  private readonly layerOut = new Float64Array(PRODUCER_LAYER_RECEIVE_COUNT);
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly factory: LayerSelectionFactory;
  private readonly readLayer: (producer: Producer, layer: number, out: Float64Array) => boolean;
  private readonly sendLog: LegSendLog | undefined;
  private readonly othersOf: (legKey: object) => Iterable<Consumer>;
  private readonly sendSeqs = new Uint16Array(LEG_SEND_LOG_CAPACITY);
  private readonly sendSizes = new Uint32Array(LEG_SEND_LOG_CAPACITY);
  private readonly sendAges = new Float64Array(LEG_SEND_LOG_CAPACITY);
  /** Looks taken (for tests and stats). */
  looks = 0;

  /** Consumers under automatic selection. */
  get consumerCount(): number {
    return this.legOf.size;
  }
  readonly feedbackStats: AutoLayerFeedbackStats = { transportCcFeedback: 0, transportCcUnknown: 0, transportCcIgnored: 0, transportSendsOverwritten: 0 };

  /**
   * `connectionConsumers(legKey)` lists every consumer of a subscriber connection (automatic or not,
   * audio included): those not chosen automatically are measured and taken off its estimate.
   */
  constructor(factory: LayerSelectionFactory | undefined, readLayer: (producer: Producer, layer: number, out: Float64Array) => boolean,
    sendLog?: LegSendLog, connectionConsumers?: (legKey: object) => Iterable<Consumer>) {
    this.factory = factory ?? (() => new BandwidthLayerSelection());
    this.readLayer = readLayer;
    this.sendLog = sendLog;
    this.othersOf = connectionConsumers ?? (() => []);
  }

  /**
   * Starts choosing `consumer`'s layers; `legKey` names its subscriber connection, `transport` its
   * engine transport (0: none; its send records feed a send-side estimate from transport-cc feedback).
   */
  add(consumer: Consumer, legKey: object, transport = 0): void {
    if (this.legOf.has(consumer)) return;
    let leg = this.legs.get(legKey);
    if (!leg) {
      const logged = transport !== 0 && this.sendLog !== undefined && this.sendLog.enable(transport);
      leg = { policy: this.factory(), consumers: new Set(), estimateBps: undefined, rembAt: -Infinity, lossFraction: undefined,
        transport: logged ? transport : 0, sendSide: undefined, sendSideBps: undefined,
        overwrittenSeen: logged ? this.sendLog!.overwritten(transport) : 0, lastFeedback: undefined };
      this.legs.set(legKey, leg);
    }
    leg.consumers.add(consumer);
    this.legOf.set(consumer, legKey);
    if (!this.timer) {
      this.timer = setInterval(() => this.look(performance.now()), AUTO_LAYER_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /** Stops choosing `consumer`'s layers (turned off or closed). */
  remove(consumer: Consumer): void {
    const key = this.legOf.get(consumer);
    if (key === undefined) return;
    this.legOf.delete(consumer);
    const leg = this.legs.get(key)!;
    leg.consumers.delete(consumer);
    leg.policy.remove(consumer.id);
    if (leg.consumers.size === 0) {
      this.legs.delete(key);
      if (leg.transport !== 0) this.sendLog?.disable(leg.transport);
    }
    const producer = consumer.producer;
    if (![...this.legOf.keys()].some((c) => c.producer === producer)) this.meters.delete(producer);
    if (this.legOf.size === 0) this.stop();
  }

  /** RTCP a subscriber connection sent about one of its consumers (REMB applies to the whole connection). */
  onRtcp(legKey: object, consumer: Consumer, packet: RtcpPacket, now = performance.now()): void {
    const leg = this.legs.get(legKey);
    if (!leg) return;
    if (packet instanceof RtcpReceiverEstimatedMaxBitrate) {
      if (Number.isFinite(packet.bitrate) && packet.bitrate >= 0) {
        leg.estimateBps = packet.bitrate;
        leg.rembAt = now;
        // A transport-cc estimate from before this REMB would be stale when the REMB expires:
        // the estimator starts again from the feedback that follows.
        leg.sendSide = undefined;
        leg.sendSideBps = undefined;
      }
      return;
    }
    if (packet instanceof RtcpTransportCcFeedback) {
      if (packet !== leg.lastFeedback) this.onTransportCc(leg, packet, now);
      leg.lastFeedback = packet;
      return;
    }
    if (!leg.consumers.has(consumer) || !('reports' in packet) || !Array.isArray(packet.reports)) return;
    for (const block of packet.reports as RtcpReportBlock[]) {
      // The worst report since the last look: a later one without loss must not hide it.
      if (block.ssrc === consumer.ssrc) leg.lossFraction = Math.max(leg.lossFraction ?? 0, block.fractionLost / 256);
    }
  }

  /**
   * The estimate of a subscriber connection (bits/s) at `now`: its REMB while fresh, else the
   * transport-cc one, else the last REMB however old, if any.
   */
  estimate(legKey: object, now = performance.now()): number | undefined {
    const leg = this.legs.get(legKey);
    return leg ? legEstimate(leg, now) : undefined;
  }

  // Feeds the send records since the last feedback, then the feedback, to the leg's estimator
  // (lib/policy/bandwidth-estimator.ts, the one the endpoint side uses); one native call.
  private onTransportCc(leg: AutoLeg, fb: RtcpTransportCcFeedback, now: number): void {
    if (leg.transport === 0 || !this.sendLog) {
      this.feedbackStats.transportCcIgnored++;
      return;
    }
    // Collected also while a REMB rules, so the records of that time are not fed in one go (up to
    // 4 s old) once it expires, and ring overwrites then are not counted as this feedback's.
    const n = this.sendLog.collect(leg.transport, this.sendSeqs, this.sendSizes, this.sendAges);
    const overwritten = this.sendLog.overwritten(leg.transport);
    if (rembFresh(leg, now)) {
      leg.overwrittenSeen = overwritten;
      this.feedbackStats.transportCcIgnored++;
      return;
    }
    const est = leg.sendSide ??= new SendSideBandwidthEstimator({ startBitrate: SEND_SIDE_START_BPS });
    this.feedbackStats.transportSendsOverwritten += Math.max(0, overwritten - leg.overwrittenSeen);
    leg.overwrittenSeen = overwritten;
    for (let i = 0; i < n; i++) {
      est.onPacketSent(now - this.sendAges[i]! / 1000, { transportSeq: this.sendSeqs[i]!, size: this.sendSizes[i]! });
    }
    const unknownBefore = est.stats.feedbackUnknown;
    est.onTransportCcFeedback(now, fb);
    this.feedbackStats.transportCcFeedback++;
    this.feedbackStats.transportCcUnknown += est.stats.feedbackUnknown - unknownBefore;
    while (est.pollEvent() !== undefined) { /* the target is read below; events are not kept */ }
    leg.sendSideBps = est.targetBitrate;
  }

  /** One look at every leg: measure, ask each leg's policy, apply its changes. */
  look(now: number): void {
    this.looks++;
    const bitrates = new Map<Producer, readonly (readonly number[])[]>();
    const measure = (producer: Producer): readonly (readonly number[])[] => {
      let rows = bitrates.get(producer);
      if (rows) return rows;
      let meter = this.meters.get(producer);
      if (!meter) {
        meter = new LayerBitrateMeter();
        this.meters.set(producer, meter);
      }
      rows = producer.closed ? [] : meter.update(now, this.layerBytes(producer));
      bitrates.set(producer, rows);
      return rows;
    };
    for (const consumer of this.legOf.keys()) measure(consumer.producer);
    for (const [key, leg] of this.legs) {
      // The connection's other consumers (audio, layers not chosen automatically): what they receive
      // is taken off the estimate before it is shared.
      let reservedBps = 0;
      for (const other of this.othersOf(key)) {
        if (leg.consumers.has(other) || other.closed || other.paused) continue;
        const rows = measure(other.producer);
        const at = other.currentLayers ?? other.targetLayers;
        const row = rows[Math.min(at.spatialLayer, rows.length - 1)];
        if (row && row.length > 0) reservedBps += row[Math.min(at.temporalLayer, row.length - 1)]!;
      }
      this.lookAt(leg, now, bitrates, reservedBps);
    }
    // Meters of producers no consumer here receives any more.
    for (const producer of this.meters.keys()) if (!bitrates.has(producer)) this.meters.delete(producer);
  }

  // One connection's look: its consumers, its estimate less `reservedBps`, its policy's changes applied.
  private lookAt(leg: AutoLeg, now: number, bitrates: Map<Producer, readonly (readonly number[])[]>, reservedBps: number): void {
    const consumers: LayerSelectionConsumer[] = [];
    for (const c of leg.consumers) {
      if (c.closed || c.paused) continue;
      const pref = c.preferredLayers;
      consumers.push({ id: c.id, bitrates: bitrates.get(c.producer) ?? [], cap: { spatialLayer: pref.spatialLayer, temporalLayer: pref.temporalLayer ?? 3 } });
    }
    if (consumers.length === 0) return;
    const loss = leg.lossFraction;
    // A loss report counts once: the next look waits for the next report.
    leg.lossFraction = undefined;
    // REMB while the subscriber sends it, else the send-side estimate from its transport-cc feedback.
    const estimateBps = legEstimate(leg, now);
    let changes;
    try {
      changes = leg.policy.update(now, { estimateBps, ...(loss !== undefined ? { lossFraction: loss } : {}), reservedBps, consumers });
    } catch (err) {
      // A user's policy that throws must not stop the router: report, keep the targets.
      reportListenerError(err);
      return;
    }
    for (const change of changes) {
      for (const c of leg.consumers) {
        if (c.id === change.id) c.applyAutoTarget({ ...change, estimateBps });
      }
    }
  }

  private layerBytes(producer: Producer): number[][] {
    const rows: number[][] = [];
    const out = this.layerOut;
    for (let s = 0; s < producer.layerCount; s++) {
      if (!this.readLayer(producer, s, out)) {
        rows.push([0, 0, 0, 0]);
        continue;
      }
      // Bytes by TID (counted while layer-aware); a layer the engine did not split has them all in TID 0.
      const split = out[6]! + out[7]! + out[8]! + out[9]!;
      rows.push(split > 0 ? [out[6]!, out[7]!, out[8]!, out[9]!] : [out[1]!, 0, 0, 0]);
    }
    return rows;
  }

  /** Stops the timer and forgets everything. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.legOf.size > 0) {
      this.legOf.clear();
      this.legs.clear();
      this.meters.clear();
    }
  }
}
