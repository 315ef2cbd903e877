// Send-side bandwidth estimator in the spirit of GCC (draft-ietf-rmcat-gcc-02 §4-§6, with the
// transport-wide feedback of draft-holmer-rmcat-transport-wide-cc-extensions-01 or RFC 8888):
// send history + feedback → inter-group delay variation → trendline → adaptive-threshold overuse
// detector → AIMD (delay-based A_d), a loss-based A_s, and target = min(A_d, A_s).
// docs/policy.md, "Bandwidth estimator". Sans-I/O: `now` in, events out; no timers.
import { OutOfRangeError } from '../common/errors.js';
import type { RtcpTransportCcFeedback } from '../rtp/rtcp/transport-cc-feedback.js';
import type { RtcpCongestionControlFeedback } from '../rtp/rtcp/congestion-control-feedback.js';
import { SendHistory } from './bandwidth-estimator-send-history.js';
import type { FeedbackResult, SentPacketInfo } from './bandwidth-estimator-send-history.js';
import { InterArrivalGrouper } from './bandwidth-estimator-inter-arrival.js';
import { TrendlineDetector } from './bandwidth-estimator-trendline.js';
import type { BandwidthUsage, TrendlineOptions } from './bandwidth-estimator-trendline.js';
import { AimdRateController } from './bandwidth-estimator-aimd.js';
import { AckedBitrateEstimator } from './bandwidth-estimator-acked-bitrate.js';
import { LossBasedController } from './bandwidth-estimator-loss.js';
import type { LossControllerOptions } from './bandwidth-estimator-loss.js';
import { MinDelayWindow } from './bandwidth-estimator-min-delay.js';

export type { SentPacketInfo } from './bandwidth-estimator-send-history.js';
export type { BandwidthUsage, TrendlineOptions } from './bandwidth-estimator-trendline.js';
export type { LossControllerOptions } from './bandwidth-estimator-loss.js';

/** Options of the estimator. Bitrates in bits per second. */
export interface BandwidthEstimatorOptions {
  /** Target before any feedback (default 300 000). */
  startBitrate?: number;
  /** Floor of the target (default 30 000). */
  minBitrate?: number;
  /** Ceiling of the target (default 20 000 000). */
  maxBitrate?: number;
  /** Multiplicative decrease on overuse (default 0.85). */
  beta?: number;
  /** Increase per second before the first overuse (default 2; stands in for start-up probing). */
  startupIncreasePerSecond?: number;
  /** Increase per second far from the last congestion point (default 1.08). */
  increasePerSecond?: number;
  /**
   * Growth of that increase while it lasts without overuse: its rate is multiplied by this every
   * second, up to `maxAcceleratedIncreasePerSecond` (default 2; 1 keeps a constant `increasePerSecond`).
   */
  increaseAcceleration?: number;
  /** Ceiling of that accelerated increase per second (default 1.5; at least 1). */
  maxAcceleratedIncreasePerSecond?: number;
  trendline?: TrendlineOptions;
  loss?: LossControllerOptions;
  /** How long sent packets are remembered for feedback, ms (default 10 000). */
  historyMs?: number;
}

/** Published when the target changes by 1 % or more, or after 1 s without an event. */
export interface TargetBitrateEvent {
  type: 'target-bitrate';
  /** What the application should send now, bits/s: min(delay-based, loss-based), clamped. */
  bitrate: number;
  /** Delay-based estimate A_d. */
  delayBasedBitrate: number;
  /** Loss-based estimate A_s (Infinity while loss has not constrained the rate). */
  lossBasedBitrate: number;
  /** Acknowledged (received) bitrate, when known. */
  ackedBitrate: number | undefined;
  /** Loss rate of the last loss evaluation. */
  lossRate: number;
  /** Smoothed feedback round-trip time, ms (send → feedback received; includes the receiver's feedback delay). */
  rttMs: number;
  /** Queueing delay seen in the last feedback: one-way delay above the 10 s minimum, ms. */
  queueDelayMs: number;
  /** Overuse detector signal after the last feedback. */
  usage: BandwidthUsage;
  /** Time of the feedback that produced it. */
  at: number;
}

/** Counters of the estimator. */
export interface BandwidthEstimatorStats {
  packetsSent: number;
  feedbackPackets: number;
  packetsAcked: number;
  packetsLost: number;
  /** Feedback entries for packets the history does not hold (too old or never sent): ignored. */
  feedbackUnknown: number;
  overuseSignals: number;
}

/** Send-side, transport-wide bandwidth estimator. */
export class SendSideBandwidthEstimator {
  readonly stats: BandwidthEstimatorStats = {
    packetsSent: 0,
    feedbackPackets: 0,
    packetsAcked: 0,
    packetsLost: 0,
    feedbackUnknown: 0,
    overuseSignals: 0,
  };
  private readonly minBitrate: number;
  private readonly maxBitrate: number;
  private readonly history: SendHistory;
  private readonly grouper = new InterArrivalGrouper();
  private readonly detector: TrendlineDetector;
  private readonly aimd: AimdRateController;
  private readonly acked = new AckedBitrateEstimator();
  private readonly loss: LossBasedController;
  private readonly minDelay = new MinDelayWindow(10_000);
  private target: number;
  private rtt = 100;
  private rttKnown = false;
  private queueDelay = 0;
  private usage: BandwidthUsage = 'normal';
  private lastDecreaseMs = -Infinity;
  private lastNow = -Infinity;
  private readonly events: TargetBitrateEvent[] = [];
  private lastPublished: { bitrate: number; at: number } | undefined;

  constructor(options: BandwidthEstimatorOptions = {}) {
    const start = options.startBitrate ?? 300_000;
    this.minBitrate = options.minBitrate ?? 30_000;
    this.maxBitrate = options.maxBitrate ?? 20_000_000;
    if (!(this.minBitrate > 0 && this.minBitrate <= start && start <= this.maxBitrate)) {
      throw new OutOfRangeError('ERR_BWE_OPTION', `need 0 < minBitrate ≤ startBitrate ≤ maxBitrate, got ${this.minBitrate}, ${start}, ${this.maxBitrate}`);
    }
    const acceleration = options.increaseAcceleration ?? 2;
    if (!(acceleration >= 1 && Number.isFinite(acceleration))) {
      throw new OutOfRangeError('ERR_BWE_OPTION', `increaseAcceleration must be a finite number ≥ 1, got ${acceleration}`);
    }
    const ceiling = options.maxAcceleratedIncreasePerSecond ?? 1.5;
    if (!(ceiling >= 1 && Number.isFinite(ceiling))) {
      throw new OutOfRangeError('ERR_BWE_OPTION', `maxAcceleratedIncreasePerSecond must be a finite number ≥ 1, got ${ceiling}`);
    }
    this.history = new SendHistory(options.historyMs ?? 10_000);
    this.detector = new TrendlineDetector(options.trendline);
    this.aimd = new AimdRateController({
      startBitrate: start,
      minBitrate: this.minBitrate,
      maxBitrate: this.maxBitrate,
      beta: options.beta,
      increasePerSecond: options.increasePerSecond,
      startupIncreasePerSecond: options.startupIncreasePerSecond,
      increaseAcceleration: options.increaseAcceleration,
      maxAcceleratedIncreasePerSecond: ceiling,
    });
    this.loss = new LossBasedController(options.loss);
    this.target = start;
  }

  /** The current target bitrate, bits/s (also getStats `availableOutgoingBitrate`). */
  get targetBitrate(): number {
    return this.target;
  }

  /** Smoothed feedback round-trip time, ms (100 until the first feedback). */
  get rttMs(): number {
    return this.rtt;
  }

  /** Queueing delay seen in the last feedback, ms. */
  get queueDelayMs(): number {
    return this.queueDelay;
  }

  /** Records a packet as it leaves (after the pacer), with its transport-wide sequence number. */
  onPacketSent(now: number, info: SentPacketInfo): void {
    this.stats.packetsSent++;
    this.history.onPacketSent(this.clock(now), info);
  }

  /** Feeds a transport-cc feedback packet received at `now`. */
  onTransportCcFeedback(now: number, fb: RtcpTransportCcFeedback): void {
    const t = this.clock(now);
    this.apply(t, this.history.onTransportCc(fb));
  }

  /** Feeds an RFC 8888 congestion control feedback packet received at `now`. */
  onCongestionControlFeedback(now: number, fb: RtcpCongestionControlFeedback): void {
    const t = this.clock(now);
    this.apply(t, this.history.onCongestionControlFeedback(fb));
  }

  /** Next published event, or undefined. */
  pollEvent(): TargetBitrateEvent | undefined {
    return this.events.shift();
  }

  private clock(now: number): number {
    if (now > this.lastNow) this.lastNow = now;
    return this.lastNow;
  }

  private apply(now: number, r: FeedbackResult): void {
    this.stats.feedbackPackets++;
    this.stats.feedbackUnknown += r.unknown;
    this.stats.packetsLost += r.lost;
    this.stats.packetsAcked += r.received.length;
    if (r.newestSendTimeMs !== undefined) {
      const sample = Math.max(0, now - r.newestSendTimeMs);
      this.rtt = this.rttKnown ? 0.875 * this.rtt + 0.125 * sample : sample;
      this.rttKnown = true;
    }
    if (r.received.length === 0 && r.lost === 0) return;

    let sawOveruse = false;
    let lastOneWay: number | undefined;
    for (const p of r.received) {
      if (p.arrivalTimeMs === undefined) continue;
      this.acked.add(p.arrivalTimeMs, p.size);
      lastOneWay = p.arrivalTimeMs - p.sendTimeMs;
      this.minDelay.add(p.sendTimeMs, lastOneWay);
      const d = this.grouper.add(p.sendTimeMs, p.arrivalTimeMs, p.size);
      if (d === undefined) continue;
      if (this.detector.update(d.arrivalDeltaMs, d.sendDeltaMs, d.arrivalTimeMs) === 'overusing') sawOveruse = true;
    }
    if (lastOneWay !== undefined) this.queueDelay = Math.max(0, lastOneWay - this.minDelay.min());
    this.usage = sawOveruse ? 'overusing' : this.detector.state;
    const ackedBps = this.acked.bitrate();

    // Decrease at most once per RTT (10..200 ms) unless the acked rate fell below half the estimate.
    let usage = this.usage;
    if (usage === 'overusing') {
      this.stats.overuseSignals++;
      const interval = Math.min(200, Math.max(10, this.rtt));
      const collapsed = ackedBps !== undefined && ackedBps < 0.5 * this.aimd.bitrate;
      if (now - this.lastDecreaseMs < interval && !collapsed) usage = 'normal';
      else this.lastDecreaseMs = now;
      if (usage === 'normal') usage = 'underusing'; // hold: neither decrease again nor increase
    }
    const delayBased = this.aimd.update(now, usage, ackedBps, this.rtt);

    const withTime = r.received.length;
    this.loss.addReports(withTime, Math.max(0, r.lost), now);
    this.loss.evaluate(now, this.target, delayBased, this.rtt);

    this.target = Math.min(this.maxBitrate, Math.max(this.minBitrate, Math.min(delayBased, this.loss.bitrate)));
    this.publish(now, ackedBps);
  }

  private publish(now: number, ackedBps: number | undefined): void {
    const last = this.lastPublished;
    if (last !== undefined && Math.abs(this.target - last.bitrate) < 0.01 * last.bitrate && now - last.at < 1000) return;
    this.lastPublished = { bitrate: this.target, at: now };
    this.events.push({
      type: 'target-bitrate',
      bitrate: this.target,
      delayBasedBitrate: this.aimd.bitrate,
      lossBasedBitrate: this.loss.bitrate,
      ackedBitrate: ackedBps,
      lossRate: this.loss.lastLossRate,
      rttMs: this.rtt,
      queueDelayMs: this.queueDelay,
      usage: this.usage,
      at: now,
    });
    if (this.events.length > 64) this.events.shift();
  }
}
