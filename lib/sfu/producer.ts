// A producer of an SFU router: one received RTP stream (a publisher connection's SRTP session +
// SSRC), or the simulcast streams of one transceiver (RFC 8853, one SSRC per rid, learned as they
// arrive), or a plain/pipe transport's socket + SSRC, that the native engine forwards to its
// consumers (docs/sfu.md, docs/scaling.md).
import { performance } from 'node:perf_hooks';
import { InvalidArgumentError, InvalidStateError, OutOfRangeError } from '../common/errors.js';
import { TypedEventEmitter } from '../common/typed-emitter.js';
import type { MediaKind } from '../peer/media-stream-track.js';
import type { RTCRtpTransceiver } from '../peer/rtp-transceiver.js';
import type { NativeForwardEngine } from '../native/forward.js';
import { MAX_SPATIAL_LAYERS, PRODUCER_LAYER_RECEIVE_COUNT, PRODUCER_STAT_COUNT } from '../native/forward.js';
import { RtcpPictureLossIndication } from '../rtp/rtcp/picture-loss-indication.js';
import { NO_NATIVE_TOTALS, type NativeArrivals, type NativeReceiveTotals, type NativeSendTimes, type NativeStreamTotals } from '../peer/rtp-policy.js';
import type { NegotiatedRtp } from './rtp-mapping.js';

/** Producer stats, shaped like W3C inbound-rtp where a name exists (pwt* fields are ours). */
export interface ProducerStats {
  readonly type: 'inbound-rtp';
  readonly kind: MediaKind;
  /** The stream's SSRC; for simulcast the lowest layer's (0 until its first packet arrived). */
  readonly ssrc: number;
  /**
   * Simulcast only: each spatial layer (lowest first), its rid, SSRC (undefined until learned) and
   * the packets the engine received on it (SRTP-authenticated, RTX not counted).
   */
  readonly pwtSpatialLayers?: readonly { readonly rid: string; readonly ssrc: number | undefined; readonly packetsReceived: number }[];
  /** Packets the engine received on this stream (SRTP-authenticated). */
  readonly packetsReceived: number;
  /** Bytes of those packets, RTP headers included. */
  readonly bytesReceived: number;
  /**
   * Single stream only (a simulcast producer's are per layer SSRC, in its receiver reports): packets
   * expected minus received (RFC 3550 §6.4.1 cumulative number lost, §A.3; negative with duplicates)
   * and the interarrival jitter in seconds (§A.8), as the publisher's receiver reports carry them.
   */
  readonly packetsLost?: number;
  readonly jitter?: number;
  /** Sequence number and timestamp of the last packet received. */
  readonly pwtLastSequenceNumber: number;
  readonly pwtLastTimestamp: number;
  /** Copies queued to consumers (one per packet per consumer). */
  readonly pwtForwarded: number;
  readonly pwtConsumers: number;
  /** Packets stored in the NACK cache so far. */
  readonly pwtCached: number;
  /** Keyframe requests sent to the publisher, and requests merged into one already sent. */
  readonly pwtKeyframeRequestsSent: number;
  readonly pwtKeyframeRequestsMerged: number;
  /** True while `pause()` holds the stream back from every consumer (it is still received and cached). */
  readonly pwtPaused: boolean;
  /**
   * Only while the engine logs this producer's arrivals for transport-cc feedback: arrivals it
   * overwrote before they were drained (reported to the publisher as not received).
   */
  readonly pwtArrivalsOverwritten?: number;
}

/** Events of a {@link Producer}. */
export type ProducerEvents = {
  /** The producer closed: `close()`, its connection closed or failed, or the router closed. Fired once. */
  close: [];
  /** `pause()` / `resume()` changed `paused` (not fired for a call that changed nothing). */
  pause: [];
  resume: [];
};

/** @internal What a producer needs from its router. */
export interface ProducerHost {
  readonly engine: NativeForwardEngine;
  producerClosed(p: Producer): void;
  /** `pause()`/`resume()` changed the producer's state: its consumers follow. */
  producerPausedChanged(p: Producer): void;
  /** The tap was turned on or off (RouterStats.tappingProducers). */
  producerTapChanged(p: Producer): void;
}

/** Arrivals moved out of the engine per drain (the engine logs up to 4096 between drains). */
const ARRIVAL_BATCH = 4096;

/**
 * @internal Where a producer that is not a peer connection's (plain or pipe transport,
 * docs/scaling.md) sends keyframe requests and asks for packets its cache did not hold.
 */
export interface ProducerUpstream {
  requestKeyFrame(ssrc: number): void;
  /** Asks the sender again for producer-space sequence numbers (pipes); absent: not possible. */
  nack?(ssrc: number, sequenceNumbers: readonly number[]): void;
}

/** Keyframe requests to one publisher within this interval are merged into one. */
export const KEYFRAME_REQUEST_INTERVAL_MS = 300;

/** One forwarded stream; created by {@link Router.produce}. */
export class Producer extends TypedEventEmitter<ProducerEvents> {
  readonly kind: MediaKind;
  /**
   * Simulcast: the rids of the spatial layers, lowest resolution first (index = `spatialLayer` of
   * `consume()` / `setPreferredLayers()`); empty for a single stream.
   */
  readonly spatialLayers: readonly string[];
  /** The publisher's transceiver (keyframe requests go out through its receiver); null for a plain or pipe transport's producer. */
  readonly transceiver: RTCRtpTransceiver | null;
  /** @internal Set for a plain or pipe transport's producer. */
  readonly upstream: ProducerUpstream | null;
  /** @internal Negotiated codecs and extensions on the publisher's connection. */
  readonly rtp: NegotiatedRtp;
  /** @internal Engine id. */
  readonly id: number;
  /** @internal RTP clock rate of the stream's codec (the engine measures jitter in it). */
  readonly clockRate: number;
  /** @internal The router whose engine forwards it. */
  readonly host: ProducerHost;
  private tapValue: boolean;
  private closedValue = false;
  private pausedValue = false;
  private readonly statsOut = new Float64Array(PRODUCER_STAT_COUNT);
  private receiveTotals: { -readonly [K in keyof NativeReceiveTotals]: NativeReceiveTotals[K] } | undefined;
  private nativeTotalsOut: NativeStreamTotals | undefined;
  private readonly layerPacketsOut = new Float64Array(MAX_SPATIAL_LAYERS);
  private readonly layerReceiveOut = new Float64Array(PRODUCER_LAYER_RECEIVE_COUNT);
  private arrivals: { transportSequence: Uint16Array; ages: Float64Array; arrivalAt: Float64Array } | undefined;
  private sendTimes: { ssrc: Uint32Array; absSendTime: Int32Array; length: Uint32Array; ages: Float64Array; arrivalAt: Float64Array } | undefined;
  /** @internal */
  consumerCount = 0;
  private readonly layerSsrcs: (number | undefined)[];
  private readonly lastKeyframeRequestAt = new Map<number, number>();
  private keyframeRequestsSent = 0;
  private keyframeRequestsMerged = 0;

  /** @internal */
  constructor(host: ProducerHost, id: number, transceiver: RTCRtpTransceiver | null, ssrc: number | undefined, rtp: NegotiatedRtp, tap: boolean,
    spatialLayers: readonly string[] = [], upstream: { kind: MediaKind; upstream: ProducerUpstream } | null = null) {
    super();
    this.host = host;
    this.id = id;
    this.transceiver = transceiver;
    this.upstream = upstream?.upstream ?? null;
    this.kind = upstream?.kind ?? transceiver!.kind;
    this.rtp = rtp;
    this.tapValue = tap;
    this.clockRate = rtp.codecs[0]?.clockRate ?? 0;
    if (this.clockRate > 0) host.engine.setProducerClockRate(id, this.clockRate);
    this.spatialLayers = [...spatialLayers];
    this.layerSsrcs = spatialLayers.length > 0 ? spatialLayers.map(() => undefined) : [ssrc];
  }

  /** True for a simulcast producer (several spatial layers). */
  get simulcast(): boolean {
    return this.spatialLayers.length > 0;
  }

  /** Number of spatial layers (1 for a single stream). */
  get layerCount(): number {
    return this.layerSsrcs.length;
  }

  /** The stream's SSRC; for simulcast the lowest layer's, 0 until its first packet arrived. */
  get ssrc(): number {
    return this.layerSsrcs[0] ?? 0;
  }

  /** The SSRC of spatial layer `layer`, undefined until learned. */
  layerSsrc(layer: number): number | undefined {
    return this.layerSsrcs[layer];
  }

  /**
   * @internal Hands the SSRC the publisher connection learned for `rid` (RFC 8852 rtp-stream-id) to
   * the engine; returns the layer index, or -1 for a rid that is no layer or already bound.
   */
  bindLayer(rid: string | undefined, ssrc: number): number {
    const layer = rid === undefined ? -1 : this.spatialLayers.indexOf(rid);
    if (layer < 0 || this.layerSsrcs[layer] !== undefined || this.closedValue) return -1;
    if (!this.host.engine.setProducerLayer(this.id, layer, ssrc >>> 0)) return -1;
    this.layerSsrcs[layer] = ssrc >>> 0;
    return layer;
  }

  get closed(): boolean {
    return this.closedValue;
  }

  /** True while paused: none of its consumers is sent anything (each drops as `paused`). */
  get paused(): boolean {
    return this.pausedValue;
  }

  /**
   * Stops forwarding to every consumer (their packets drop as `paused`); the engine still receives,
   * counts and caches the stream. A consumer's own `paused` is unchanged (`consumer.producerPaused`).
   * No-op when already paused.
   */
  pause(): void {
    this.assertOpen();
    if (this.pausedValue) return;
    this.pausedValue = true;
    this.host.producerPausedChanged(this);
    this.safeEmit('pause');
  }

  /**
   * Forwards again to the consumers that are not paused themselves (sequence numbers continue, as
   * after a consumer's resume) and asks the publisher for a key frame of a video stream. No-op when
   * not paused.
   */
  resume(): void {
    this.assertOpen();
    if (!this.pausedValue) return;
    this.pausedValue = false;
    this.host.producerPausedChanged(this);
    this.safeEmit('resume');
  }

  /**
   * True when the publisher connection's JavaScript also sees this stream's packets (its receiver
   * track, stats and RTCP reports), at the cost of one JavaScript delivery per received packet.
   */
  get tap(): boolean {
    return this.tapValue;
  }

  set tap(on: boolean) {
    this.assertOpen();
    if (typeof on !== 'boolean') throw new InvalidArgumentError('ERR_SFU_ARGUMENT', 'tap must be a boolean');
    this.host.engine.setProducerTap(this.id, on);
    this.tapValue = on;
    this.host.producerTapChanged(this);
  }

  /**
   * Asks the publisher for a keyframe of spatial layer `spatialLayer` (default: every layer whose
   * SSRC is known). Requests for one stream from any number of consumers within
   * KEYFRAME_REQUEST_INTERVAL_MS become one: through the connection's keyframe module (PLI or FIR as
   * negotiated) when it knows the stream, otherwise a PLI (RFC 4585 §6.3.1) — the module learns SSRCs
   * from received packets, which the engine keeps from JavaScript.
   */
  requestKeyFrame(spatialLayer?: number): void {
    this.assertOpen();
    if (spatialLayer !== undefined && typeof spatialLayer !== 'number') {
      throw new InvalidArgumentError('ERR_SFU_ARGUMENT', 'requestKeyFrame: spatialLayer must be a number');
    }
    if (spatialLayer !== undefined && (!Number.isInteger(spatialLayer) || spatialLayer < 0 || spatialLayer >= this.layerCount)) {
      throw new OutOfRangeError('ERR_SFU_LAYER', `requestKeyFrame: spatialLayer must be an integer in 0..${this.layerCount - 1}`);
    }
    const now = performance.now();
    const ssrcs = spatialLayer === undefined ? this.layerSsrcs : [this.layerSsrcs[spatialLayer]];
    for (const ssrc of ssrcs) {
      if (ssrc === undefined) continue;
      if (now - (this.lastKeyframeRequestAt.get(ssrc) ?? -Infinity) < KEYFRAME_REQUEST_INTERVAL_MS) {
        this.keyframeRequestsMerged++;
        continue;
      }
      this.lastKeyframeRequestAt.set(ssrc, now);
      this.keyframeRequestsSent++;
      if (this.upstream || !this.transceiver) {
        this.upstream?.requestKeyFrame(ssrc);
        continue;
      }
      try {
        this.transceiver.receiver.requestKeyframe(ssrc);
      } catch {
        const sender = this.transceiver.sender;
        sender.sendRtcp([new RtcpPictureLossIndication(sender.ssrc, ssrc)]);
      }
    }
  }

  /**
   * @internal What the publisher transceiver's policy modules (the RTCP reporter's receiver reports)
   * need about the packets the engine consumed: RFC 3550 §A.1/§A.8 state, one per SSRC (each bound
   * layer of a simulcast producer has its own). Nothing while the tap is on, since JavaScript then
   * sees the packets itself.
   */
  nativeTotals(): NativeStreamTotals {
    if (this.closedValue || this.tapValue) return NO_NATIVE_TOTALS;
    if (!this.simulcast) {
      const s = this.statsOut;
      if (!this.host.engine.producerStats(this.id, s)) return NO_NATIVE_TOTALS;
      // One object per producer, refilled each call (NativeStreamTotals is valid during the call only).
      const r = (this.receiveTotals ??= { ssrc: this.ssrc, received: 0, bytes: 0, baseSequence: 0, extendedHighestSequence: 0, jitter: 0, clockRate: 0 });
      r.ssrc = this.ssrc;
      r.received = s[8]!;
      r.bytes = s[1]!;
      r.baseSequence = s[6]!;
      r.extendedHighestSequence = s[7]!;
      r.jitter = s[9]!;
      r.clockRate = this.clockRate;
      return (this.nativeTotalsOut ??= { sent: [], received: [r] });
    }
    const received: NativeReceiveTotals[] = [];
    const l = this.layerReceiveOut;
    for (let i = 0; i < this.layerCount; i++) {
      const ssrc = this.layerSsrcs[i];
      if (ssrc === undefined || !this.host.engine.producerLayerReceive(this.id, i, l) || l[4] === 0) continue;
      received.push({ ssrc, received: l[4]!, bytes: l[1]!, baseSequence: l[2]!, extendedHighestSequence: l[3]!, jitter: l[5]!, clockRate: this.clockRate });
    }
    return { sent: [], received };
  }

  /**
   * @internal The packets the engine consumed since the last call, for the publisher connection's
   * transport-scope modules: by transport-wide sequence number and arrival (`now` clock, ms) for
   * transport-cc feedback, and with their abs-send-time for REMB, as far as each is logged.
   */
  arrivalTotals(now: number): NativeStreamTotals {
    const a = this.arrivals;
    const t = this.sendTimes;
    if (this.closedValue || (!a && !t)) return { sent: [], received: [] };
    let arrivals: NativeArrivals | undefined;
    if (a) {
      const count = this.host.engine.drainProducerArrivals(this.id, a.transportSequence, a.ages);
      for (let i = 0; i < count; i++) a.arrivalAt[i] = now - a.ages[i]! / 1000;
      arrivals = { count, ssrc: this.ssrc, transportSequence: a.transportSequence, arrivalAt: a.arrivalAt };
    }
    let sendTimes: NativeSendTimes | undefined;
    if (t) {
      const count = this.host.engine.drainProducerSendTimes(this.id, t.ssrc, t.absSendTime, t.length, t.ages);
      for (let i = 0; i < count; i++) t.arrivalAt[i] = now - t.ages[i]! / 1000;
      sendTimes = { count, ssrc: t.ssrc, absSendTime: t.absSendTime, length: t.length, arrivalAt: t.arrivalAt };
    }
    return { sent: [], received: [], ...(arrivals ? { arrivals } : {}), ...(sendTimes ? { sendTimes } : {}) };
  }

  /** @internal Starts logging arrivals by transport-wide sequence number (`extensionId` as negotiated). */
  logArrivals(extensionId: number): boolean {
    if (!this.host.engine.setProducerTransportCc(this.id, extensionId)) return false;
    this.arrivals ??= { transportSequence: new Uint16Array(ARRIVAL_BATCH), ages: new Float64Array(ARRIVAL_BATCH), arrivalAt: new Float64Array(ARRIVAL_BATCH) };
    return true;
  }

  /** @internal Starts logging packets with their abs-send-time (`extensionId` as negotiated), for REMB. */
  logSendTimes(extensionId: number): boolean {
    if (!this.host.engine.setProducerAbsSendTime(this.id, extensionId)) return false;
    this.sendTimes ??= {
      ssrc: new Uint32Array(ARRIVAL_BATCH), absSendTime: new Int32Array(ARRIVAL_BATCH), length: new Uint32Array(ARRIVAL_BATCH),
      ages: new Float64Array(ARRIVAL_BATCH), arrivalAt: new Float64Array(ARRIVAL_BATCH),
    };
    return true;
  }

  getStats(): ProducerStats {
    this.assertOpen();
    const s = this.statsOut;
    this.host.engine.producerStats(this.id, s);
    return {
      type: 'inbound-rtp',
      kind: this.kind,
      ssrc: this.ssrc,
      packetsReceived: s[0]!,
      bytesReceived: s[1]!,
      pwtForwarded: s[2]!,
      pwtLastSequenceNumber: s[3]!,
      pwtLastTimestamp: s[4]!,
      pwtConsumers: this.consumerCount,
      pwtCached: s[5]!,
      pwtKeyframeRequestsSent: this.keyframeRequestsSent,
      pwtKeyframeRequestsMerged: this.keyframeRequestsMerged,
      pwtPaused: this.pausedValue,
      ...(!this.simulcast && s[8]! > 0
        ? { packetsLost: s[7]! - s[6]! + 1 - s[8]!, jitter: this.clockRate > 0 ? s[9]! / this.clockRate : 0 }
        : {}),
      ...(this.simulcast ? { pwtSpatialLayers: this.spatialLayerStats() } : {}),
      ...(this.arrivals ? { pwtArrivalsOverwritten: this.host.engine.producerArrivalsOverwritten(this.id) } : {}),
    };
  }

  /**
   * Packets the engine received on each spatial layer so far, lowest first (RTX not counted); one
   * entry for a single stream. Read once a second by the room's layer keeper (docs/sfu.md).
   */
  layerPacketsReceived(): number[] {
    this.assertOpen();
    const out = this.layerPacketsOut;
    const n = this.host.engine.producerLayerPackets(this.id, out);
    return Array.from(out.subarray(0, n));
  }

  private spatialLayerStats(): { rid: string; ssrc: number | undefined; packetsReceived: number }[] {
    const packets = this.layerPacketsReceived();
    return this.spatialLayers.map((rid, i) => ({ rid, ssrc: this.layerSsrcs[i], packetsReceived: packets[i] ?? 0 }));
  }

  /**
   * Stops forwarding this stream; its consumers stay open, send nothing and hear 'producerclose'
   * (close them, or keep them for nothing). Fires 'close'. Idempotent.
   */
  close(): void {
    if (this.closedValue) return;
    this.closedValue = true;
    this.host.engine.removeProducer(this.id);
    this.host.producerClosed(this);
    this.safeEmit('close');
  }

  private assertOpen(): void {
    if (this.closedValue) throw new InvalidStateError('ERR_SFU_PRODUCER_CLOSED', 'the producer is closed');
  }
}
