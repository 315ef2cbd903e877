// A consumer of an SFU router: one subscriber connection's sender that the native engine feeds from
// a producer, rewritten to the sender's SSRC, payload type and extension ids, with the spatial
// (simulcast, RFC 8853) and VP8 temporal layer (RFC 7741 §4.2) it prefers (docs/sfu.md).
import { InvalidArgumentError, InvalidStateError, OutOfRangeError } from '../common/errors.js';
import { TypedEventEmitter } from '../common/typed-emitter.js';
import type { MediaKind } from '../peer/media-stream-track.js';
import type { RTCRtpTransceiver } from '../peer/rtp-transceiver.js';
import type { NativeForwardEngine } from '../native/forward.js';
import { CONSUMER_FEEDBACK_STAT_COUNT, CONSUMER_LAYER_STAT_COUNT, CONSUMER_REPORT_STAT_COUNT, CONSUMER_STAT_BASE, MAX_TEMPORAL_LAYER } from '../native/forward.js';
import { NO_NATIVE_TOTALS, type NativeDlrrItem, type NativeRemoteFeedback, type NativeSendTotals, type NativeStreamTotals } from '../peer/rtp-policy.js';
import type { LayerSelectionReason } from '../policy/layer-selection.js';
import type { Producer } from './producer.js';

/** Why the engine did not send a packet to a consumer (native ForwardDrop names). */
export type ForwardDropReason = 'malformed' | 'payload-type' | 'paused' | 'protect' | 'no-transport' | 'too-big' | 'layer' | 'sink-closed' | 'resend-within-rtt';

/** The layers a consumer receives: a spatial layer (index into `producer.spatialLayers`) and a VP8 temporal layer. */
export interface ConsumerLayers {
  readonly spatialLayer: number;
  readonly temporalLayer: number;
}

/** The layers a consumer asks for; `temporalLayer` omitted: every temporal layer. */
export interface PreferredLayers {
  readonly spatialLayer: number;
  readonly temporalLayer?: number;
}

/** A target the automatic layer selection chose (docs/sfu.md "Automatic layer selection"). */
export interface TargetLayersChange extends ConsumerLayers {
  readonly reason: LayerSelectionReason;
  /** The subscriber connection's bandwidth estimate at the time (bits/s), if any. */
  readonly estimateBps: number | undefined;
  /** The measured bitrate of the new target (bits/s). */
  readonly bitrateBps: number;
}

/** @internal Counters of an SSRC a replacing consumer continues (Consumer.addCountersTo). */
export interface ConsumerCounterBase {
  packets: number;
  bytes: number;
  payloadBytes: number;
  nacked: number;
  retransmitted: number;
  nackPackets: number;
  plis: number;
  firs: number;
}

/** Events of a {@link Consumer}. */
export type ConsumerEvents = {
  /** A layer switch completed (at a key frame, or a temporal switch point): the layers now sent. */
  layerschange: [layers: ConsumerLayers];
  /** Automatic layer selection moved the target (the switch itself completes later: 'layerschange'). */
  targetlayerschange: [change: TargetLayersChange];
  /** The consumer closed: `close()`, its connection closed or failed, or the router closed. Fired once. */
  close: [];
  /** Its producer closed: this consumer stays open and sends nothing (close it, or keep it for nothing). */
  producerclose: [];
  /** Its producer was paused or resumed (`producerPaused`). */
  producerpause: [];
  producerresume: [];
};

/**
 * What the subscriber's receiver reports said about this leg (RFC 3550 §6.4.1 report blocks, read by
 * the engine, docs/sfu.md "RTCP per leg"), shaped like W3C remote-inbound-rtp where a name exists.
 */
export interface ConsumerRemoteInboundStats {
  /** Report blocks about this leg received so far. */
  readonly reportsReceived: number;
  /** The last block's fraction lost, 0..1. */
  readonly fractionLost: number;
  /** The last block's cumulative number of packets lost (may be negative with duplicates). */
  readonly packetsLost: number;
  /** The last block's extended highest sequence number received. */
  readonly pwtExtendedHighestSequence: number;
  /** The last block's interarrival jitter in seconds (0 when the codec's clock rate is unknown). */
  readonly jitter: number;
  /** Seconds since the last block was read. */
  readonly pwtSecondsSinceLastReport: number;
  /** The last RTT measured from an LSR/DLSR against one of the engine's own SRs, seconds. */
  readonly roundTripTime?: number;
  readonly totalRoundTripTime: number;
  readonly roundTripTimeMeasurements: number;
}

/** Consumer stats, shaped like W3C outbound-rtp where a name exists (pwt* fields are ours). */
export interface ConsumerStats {
  readonly type: 'outbound-rtp';
  readonly kind: MediaKind;
  readonly ssrc: number;
  /** Packets the engine sent to this consumer. */
  readonly packetsSent: number;
  /** SRTP bytes sent (headers and tag included). */
  readonly bytesSent: number;
  /** Packets resent from the producer's cache in answer to this subscriber's NACKs. */
  readonly retransmittedPacketsSent: number;
  /** Sequence numbers this subscriber's NACKs asked for. */
  readonly pwtNackedPackets: number;
  /**
   * Seconds within which the engine does not resend a packet it already resent to this subscriber
   * (a repeated NACK counts as the drop `resend-within-rtt`): the leg's RTT + 5 ms within
   * [20 ms, 1 s], 100 ms before an RTT is measured (docs/policy.md "Resend interval").
   */
  readonly pwtResendInterval: number;
  /**
   * The leg's round-trip time in seconds that interval came from (RR/XR: measured by the engine from
   * the leg's RRs, then smoothed (RFC 6298 SRTT, a sample above 4x clamped), by the policy layer, or
   * for plain/pipe legs by their reporter); absent before one is measured. The last sample itself is
   * `pwtRemoteInbound.roundTripTime`.
   */
  readonly pwtRoundTripTime?: number;
  /** What the subscriber's report blocks said about this leg; absent before the first (plain/pipe legs: see docs/scaling.md). */
  readonly pwtRemoteInbound?: ConsumerRemoteInboundStats;
  readonly pwtPaused: boolean;
  /** For a consumer that selects layers: the layers sent now (absent before the first) and the completed switches. */
  readonly pwtCurrentSpatialLayer?: number;
  readonly pwtCurrentTemporalLayer?: number;
  readonly pwtLayerSwitches?: number;
  /** Packets not sent, by reason. */
  readonly pwtDrops: Readonly<Record<ForwardDropReason, number>>;
}

/** @internal What a consumer needs from its router. */
export interface ConsumerHost {
  readonly engine: NativeForwardEngine;
  readonly dropNames: readonly string[];
  consumerClosed(c: Consumer): void;
  /** The consumer's target layers changed: ask for a key frame and watch for the switch. */
  layersRequested(c: Consumer): void;
  /** Automatic layer selection was turned on or off for the consumer. */
  autoLayersChanged(c: Consumer): void;
  /** Queues the consumer leg's SR + SDES for the engine (NativeSenderReporter); false: it cannot. */
  queueSenderReport(c: Consumer, unixMs: number, cname: string): boolean;
  /** The consumer sends again after a pause (its own or its producer's): a video leg needs a key frame. */
  consumerResumed(c: Consumer): void;
}

/** Checks `layers` against `producer` (RangeError ERR_SFU_LAYER). */
export function checkPreferredLayers(layers: PreferredLayers, producer: Producer): void {
  if (typeof layers !== 'object' || layers === null) throw new InvalidArgumentError('ERR_SFU_ARGUMENT', 'the layers must be an object { spatialLayer, temporalLayer? }');
  const s = layers.spatialLayer;
  if (!Number.isInteger(s) || s < 0 || s >= producer.layerCount) {
    throw new OutOfRangeError('ERR_SFU_LAYER', `spatialLayer must be an integer in 0..${producer.layerCount - 1}`);
  }
  const t = layers.temporalLayer;
  if (t !== undefined && (!Number.isInteger(t) || t < 0 || t > MAX_TEMPORAL_LAYER)) {
    throw new OutOfRangeError('ERR_SFU_LAYER', `temporalLayer must be an integer in 0..${MAX_TEMPORAL_LAYER}`);
  }
}

/** One subscriber leg; created by {@link Router.consume}. */
export class Consumer extends TypedEventEmitter<ConsumerEvents> {
  readonly kind: MediaKind;
  /** The SSRC the subscriber receives (its sender's). */
  readonly ssrc: number;
  /** The subscriber's transceiver; null for a plain or pipe transport's consumer (docs/scaling.md). */
  readonly transceiver: RTCRtpTransceiver | null;
  /** @internal Engine id. */
  readonly id: number;
  private producerValue: Producer;
  private readonly host: ConsumerHost;
  private pausedValue: boolean;
  private closedValue = false;
  private readonly statsOut: Float64Array;
  private sendTotals: { -readonly [K in keyof NativeSendTotals]: NativeSendTotals[K] } | undefined;
  private nativeTotalsOut: NativeStreamTotals | undefined;
  private remoteOut: { -readonly [K in keyof NativeRemoteFeedback]: NativeRemoteFeedback[K] } | undefined;
  /** takeReceiverReferenceTime's native out array (made on first use). */
  private rrtrOut: Float64Array | undefined;
  private readonly layersOut = new Float64Array(CONSUMER_LAYER_STAT_COUNT);
  private reportsOut: { ids: Uint32Array; out: Float64Array } | undefined;
  private preferredValue: PreferredLayers;
  /** What the engine is told to send: the preferred layers, or the automatic choice under them. */
  private targetValue: ConsumerLayers;
  private autoValue = false;
  private selectsLayers: boolean;
  private reported: ConsumerLayers | null = null;
  /**
   * What the consumers this one replaced on its sender's SSRC had counted (Router consume() on a
   * transceiver whose consumer's producer closed): added to this one's engine counters, so the
   * SSRC's counters go on as its sequence numbers do (docs/sfu.md "Your first SFU").
   */
  private counterBase: ConsumerCounterBase | undefined;

  /** @internal */
  constructor(host: ConsumerHost, id: number, producer: Producer, transceiver: RTCRtpTransceiver | null, ssrc: number, paused: boolean,
    preferred: PreferredLayers | undefined) {
    super();
    this.host = host;
    this.preferredValue = preferred ? { ...preferred } : { spatialLayer: producer.layerCount - 1 };
    this.selectsLayers = producer.simulcast || preferred?.temporalLayer !== undefined;
    this.targetValue = { spatialLayer: this.preferredValue.spatialLayer, temporalLayer: this.preferredValue.temporalLayer ?? MAX_TEMPORAL_LAYER };
    this.id = id;
    this.producerValue = producer;
    this.transceiver = transceiver;
    this.kind = transceiver?.kind ?? producer.kind;
    this.ssrc = ssrc;
    this.pausedValue = paused;
    // The drops, then the leg's report-block and consumed-feedback counters (one native call for all).
    this.statsOut = new Float64Array(CONSUMER_STAT_BASE + host.dropNames.length + CONSUMER_FEEDBACK_STAT_COUNT);
  }

  get producer(): Producer {
    return this.producerValue;
  }

  /** True while this consumer is paused (`pause()`, or `consume(..., { paused: true })`); see also `producerPaused`. */
  get paused(): boolean {
    return this.pausedValue;
  }

  /** True while its producer is paused (`producer.pause()`): nothing is sent whatever `paused` says. */
  get producerPaused(): boolean {
    return this.producerValue.paused;
  }

  get closed(): boolean {
    return this.closedValue;
  }

  /** Stops sending (packets are dropped and counted as 'paused'). No-op when already paused. */
  pause(): void {
    this.assertOpen();
    if (this.pausedValue) return;
    this.pausedValue = true;
    this.host.engine.setConsumerPaused(this.id, true);
  }

  /**
   * Sends again (unless its producer is paused); sequence numbers continue without a gap and
   * timestamps advance by the time paused. For video the router asks the publisher for a key frame
   * (the layer this consumer receives), which the subscriber needs to decode again. No-op when not paused.
   */
  resume(): void {
    this.assertOpen();
    if (!this.pausedValue) return;
    this.pausedValue = false;
    if (this.producerValue.paused) return;
    this.host.engine.setConsumerPaused(this.id, false);
    this.host.consumerResumed(this);
  }

  /** @internal The producer was paused or resumed: the engine's pause is this consumer's or its producer's. */
  producerPausedChanged(): void {
    if (this.closedValue) return;
    const producerPaused = this.producerValue.paused;
    if (!this.pausedValue) this.host.engine.setConsumerPaused(this.id, producerPaused);
    this.safeEmit(producerPaused ? 'producerpause' : 'producerresume');
  }

  /** @internal The producer closed. */
  producerClosed(): void {
    if (!this.closedValue) this.safeEmit('producerclose');
  }

  /**
   * @internal The RRTR the engine consumed for this leg and no native SR answered (an idle leg: the
   * producer closed or paused, this consumer paused), for the leg's reporter to answer with a DLRR
   * in the report it builds (docs/sfu.md "What a subscriber's RTCP costs").
   */
  takeReceiverReferenceTime(out: NativeDlrrItem): boolean {
    const r = (this.rrtrOut ??= new Float64Array(3));
    if (this.closedValue || !this.host.engine.takeConsumerReceiverReferenceTime(this.id, r)) return false;
    out.ssrc = r[0]!;
    out.lastRr = r[1]!;
    out.delaySinceLastRr = r[2]!;
    return true;
  }

  /**
   * @internal What the subscriber transceiver's policy modules (the RTCP reporter's sender reports)
   * need about what the engine sent on this leg; `now` is the connection's clock (ms).
   */
  nativeTotals(now: number): NativeStreamTotals {
    const s = this.statsOut;
    if (this.closedValue || !this.host.engine.consumerStats(this.id, s)) return NO_NATIVE_TOTALS;
    this.addBase(s);
    const sinceUs = s[6]!;
    // One object per consumer, refilled each call (NativeStreamTotals is valid during the call only).
    const t = (this.sendTotals ??= {
      ssrc: this.ssrc, packets: 0, payloadBytes: 0, bytes: 0, lastRtpTimestamp: 0, lastSentAt: undefined, remote: undefined,
      // The engine sends an SRTP leg's SR itself when the reporter finds it due (docs/sfu.md "RTCP per
      // leg"); a plain or pipe leg's reports are lib/sfu/plain-leg-reports.ts's, built in JavaScript.
      ...(this.transceiver !== null
        ? {
            reporter: {
              queueSenderReport: (unixMs: number, cname: string) => this.host.queueSenderReport(this, unixMs, cname),
              takeReceiverReferenceTime: (out: NativeDlrrItem) => this.takeReceiverReferenceTime(out),
            },
          }
        : {}),
    });
    t.ssrc = this.ssrc;
    t.packets = s[0]!;
    t.payloadBytes = s[4]!;
    t.bytes = s[1]!;
    t.lastRtpTimestamp = s[5]!;
    t.lastSentAt = sinceUs < 0 ? undefined : now - sinceUs / 1000;
    // The subscriber's RTCP about the leg as the engine read it (docs/sfu.md "What a subscriber's RTCP costs").
    const f = CONSUMER_STAT_BASE + this.host.dropNames.length;
    const r = (this.remoteOut ??= {
      reports: 0, fractionLost: 0, packetsLost: 0, jitter: 0, extendedHighestSequence: 0, roundTripTime: undefined,
      totalRoundTripTime: 0, roundTripTimeMeasurements: 0, nackPackets: 0, plis: 0, firs: 0,
    });
    r.reports = s[f]!;
    r.fractionLost = s[f + 1]! / 256;
    r.packetsLost = s[f + 2]!;
    r.extendedHighestSequence = s[f + 3]!;
    r.jitter = s[f + 4]!;
    r.roundTripTime = s[f + 6]! > 0 ? s[f + 6]! / 1e6 : undefined;
    r.roundTripTimeMeasurements = s[f + 7]!;
    r.totalRoundTripTime = s[f + 8]! / 1e6;
    r.nackPackets = s[f + 9]!;
    r.plis = s[f + 10]!;
    r.firs = s[f + 11]!;
    t.remote = r;
    return (this.nativeTotalsOut ??= { sent: [t], received: [] });
  }

  /** Adds the replaced consumers' counters to the engine's (in `s`, just read). */
  private addBase(s: Float64Array): void {
    const b = this.counterBase;
    if (!b) return;
    const f = CONSUMER_STAT_BASE + this.host.dropNames.length;
    s[0] = s[0]! + b.packets;
    s[1] = s[1]! + b.bytes;
    s[2] = s[2]! + b.nacked;
    s[3] = s[3]! + b.retransmitted;
    s[4] = s[4]! + b.payloadBytes;
    s[f + 9] = s[f + 9]! + b.nackPackets;
    s[f + 10] = s[f + 10]! + b.plis;
    s[f + 11] = s[f + 11]! + b.firs;
  }

  /** The layers this consumer asks for (default: the highest spatial layer, every temporal layer). */
  get preferredLayers(): PreferredLayers {
    return { ...this.preferredValue };
  }

  /**
   * The layers sent now; null before the first key frame of a simulcast producer, and for a consumer
   * that selects no layers (a single-stream producer and no temporal preference), whose stream is
   * forwarded whole. The temporal layer is the highest one seen on the spatial layer, capped at the target.
   */
  get currentLayers(): ConsumerLayers | null {
    if (this.closedValue || !this.selectsLayers) return null;
    const o = this.layersOut;
    if (!this.host.engine.consumerLayers(this.id, o) || o[0]! < 0) return null;
    return { spatialLayer: o[0]!, temporalLayer: o[1]! };
  }

  /**
   * Asks for other layers. A spatial switch completes at the next key frame of that layer (the router
   * asks the publisher for one); a lower temporal layer at the next frame, a higher one at its next
   * layer-sync frame. 'layerschange' tells when it completed. RangeError ERR_SFU_LAYER for a layer
   * the producer does not have.
   */
  setPreferredLayers(layers: PreferredLayers): void {
    this.assertOpen();
    checkPreferredLayers(layers, this.producerValue);
    this.preferredValue = { spatialLayer: layers.spatialLayer, ...(layers.temporalLayer !== undefined ? { temporalLayer: layers.temporalLayer } : {}) };
    // Under automatic selection the preference is the cap: the next look moves the target under it.
    if (!this.autoValue) this.setTarget({ spatialLayer: layers.spatialLayer, temporalLayer: layers.temporalLayer ?? MAX_TEMPORAL_LAYER });
  }

  /**
   * The layers the engine is told to send now: the preferred layers, or under automatic selection
   * the layers it chose (never above the preferred ones). The switch completes later ('layerschange').
   */
  get targetLayers(): ConsumerLayers {
    return { ...this.targetValue };
  }

  /** True while the router chooses this consumer's layers from the subscriber's bandwidth estimate. */
  get autoLayers(): boolean {
    return this.autoValue;
  }

  /**
   * Turns automatic layer selection on or off (docs/sfu.md "Automatic layer selection"): the
   * preferred layers become the cap, and the router moves the target under it from the subscriber
   * connection's bandwidth estimate ('targetlayerschange'). Turned off, the target goes back to the
   * preferred layers. Only a consumer that selects layers (a simulcast producer, or a temporal
   * preference) has layers to choose from.
   */
  setAutoLayers(on: boolean): void {
    this.assertOpen();
    if (typeof on !== 'boolean') throw new InvalidArgumentError('ERR_SFU_ARGUMENT', 'setAutoLayers: on must be a boolean');
    if (on && this.transceiver === null) {
      throw new InvalidStateError('ERR_SFU_AUTO_LAYERS', "automatic layer selection needs a subscriber connection's bandwidth estimate: a plain or pipe consumer has none");
    }
    if (on === this.autoValue) return;
    this.autoValue = on;
    if (!on) {
      const p = this.preferredValue;
      this.setTarget({ spatialLayer: p.spatialLayer, temporalLayer: p.temporalLayer ?? MAX_TEMPORAL_LAYER });
    }
    this.host.autoLayersChanged(this);
  }

  /** @internal The automatic selection's choice (under the cap, checked by the policy's steps). */
  applyAutoTarget(change: TargetLayersChange): void {
    if (this.closedValue || !this.autoValue) return;
    this.setTarget({ spatialLayer: change.spatialLayer, temporalLayer: change.temporalLayer });
    this.safeEmit('targetlayerschange', change);
  }

  private setTarget(target: ConsumerLayers): void {
    this.host.engine.setConsumerLayers(this.id, target.spatialLayer, target.temporalLayer);
    this.targetValue = target;
    if (target.temporalLayer < MAX_TEMPORAL_LAYER) this.selectsLayers = true;
    this.host.layersRequested(this);
  }

  /** @internal True while the router should watch this consumer's layers. */
  get watchesLayers(): boolean {
    return this.selectsLayers && !this.closedValue;
  }

  /** @internal Emits 'layerschange' when the layers sent differ from the last ones reported. */
  pollLayers(): void {
    const now = this.currentLayers;
    if (!now) return;
    const last = this.reported;
    if (last && last.spatialLayer === now.spatialLayer && last.temporalLayer === now.temporalLayer) return;
    this.reported = now;
    this.safeEmit('layerschange', now);
  }

  /**
   * @internal This consumer's counters of its SSRC so far, those it continued included, read before
   * it is replaced (Router replaceStaleConsumers); added into `into`.
   */
  addCountersTo(into: ConsumerCounterBase): void {
    const s = this.statsOut;
    if (this.closedValue || !this.host.engine.consumerStats(this.id, s)) return;
    const f = CONSUMER_STAT_BASE + this.host.dropNames.length;
    const b = this.counterBase;
    into.packets += s[0]! + (b?.packets ?? 0);
    into.bytes += s[1]! + (b?.bytes ?? 0);
    into.nacked += s[2]! + (b?.nacked ?? 0);
    into.retransmitted += s[3]! + (b?.retransmitted ?? 0);
    into.payloadBytes += s[4]! + (b?.payloadBytes ?? 0);
    into.nackPackets += s[f + 9]! + (b?.nackPackets ?? 0);
    into.plis += s[f + 10]! + (b?.plis ?? 0);
    into.firs += s[f + 11]! + (b?.firs ?? 0);
  }

  /** @internal Continues the counters of the consumers this one replaced (see {@link addCountersTo}). */
  continueCounters(base: ConsumerCounterBase): void {
    this.counterBase = { ...base };
  }

  getStats(): ConsumerStats {
    this.assertOpen();
    const s = this.statsOut;
    // Without an engine row the buffer still holds an earlier answer, base included: count the base only.
    if (!this.host.engine.consumerStats(this.id, s)) s.fill(0);
    this.addBase(s);
    const drops: Record<string, number> = {};
    this.host.dropNames.forEach((name, i) => {
      if (i > 0) drops[name] = s[CONSUMER_STAT_BASE + i]!;
    });
    return {
      type: 'outbound-rtp',
      kind: this.kind,
      ssrc: this.ssrc,
      packetsSent: s[0]!,
      bytesSent: s[1]!,
      pwtNackedPackets: s[2]!,
      retransmittedPacketsSent: s[3]!,
      pwtResendInterval: s[7]! / 1e6,
      ...(s[8]! > 0 ? { pwtRoundTripTime: s[8]! / 1e6 } : {}),
      ...this.remoteInbound(),
      pwtPaused: this.pausedValue,
      pwtDrops: drops as Record<ForwardDropReason, number>,
      ...this.layerStats(),
    };
  }

  private remoteInbound(): Pick<ConsumerStats, 'pwtRemoteInbound'> {
    const r = (this.reportsOut ??= { ids: Uint32Array.of(this.id), out: new Float64Array(CONSUMER_REPORT_STAT_COUNT) });
    const o = r.out;
    if (this.host.engine.consumerReceiverReports(r.ids, 1, o) !== 1 || !(o[0]! > 0)) return {};
    const clockRate = this.producerValue.clockRate;
    return {
      pwtRemoteInbound: {
        reportsReceived: o[0]!,
        fractionLost: o[1]! / 256,
        packetsLost: o[2]!,
        pwtExtendedHighestSequence: o[3]!,
        jitter: clockRate > 0 ? o[4]! / clockRate : 0,
        pwtSecondsSinceLastReport: o[5]! / 1e6,
        ...(o[6]! > 0 ? { roundTripTime: o[6]! / 1e6 } : {}),
        totalRoundTripTime: o[8]! / 1e6,
        roundTripTimeMeasurements: o[7]!,
      },
    };
  }

  private layerStats(): Pick<ConsumerStats, 'pwtCurrentSpatialLayer' | 'pwtCurrentTemporalLayer' | 'pwtLayerSwitches'> {
    const o = this.layersOut;
    if (!this.selectsLayers || !this.host.engine.consumerLayers(this.id, o)) return {};
    return {
      ...(o[0]! >= 0 ? { pwtCurrentSpatialLayer: o[0]!, pwtCurrentTemporalLayer: o[1]! } : {}),
      pwtLayerSwitches: o[4]!,
    };
  }

  /** Stops this leg and fires 'close'. Idempotent. */
  close(): void {
    if (this.closedValue) return;
    this.closedValue = true;
    this.host.engine.removeConsumer(this.id);
    this.host.consumerClosed(this);
    this.safeEmit('close');
  }

  private assertOpen(): void {
    if (this.closedValue) throw new InvalidStateError('ERR_SFU_CONSUMER_CLOSED', 'the consumer is closed');
  }
}
