// Trendline filter and adaptive-threshold overuse detector for delay-based bandwidth estimation
// (draft-ietf-rmcat-gcc-02 §5.3-§5.4; the trendline replaces the draft's Kalman filter as in
// libwebrtc; docs/policy.md, "Bandwidth estimator"). Input: inter-group deltas; output: the
// bandwidth usage signal (normal / overusing / underusing).

/** The detector's signal (draft §5.4). */
export type BandwidthUsage = 'normal' | 'overusing' | 'underusing';

/** Tuning of the trendline and the threshold; the defaults are libwebrtc's. */
export interface TrendlineOptions {
  /** Number of (time, smoothed delay) points the slope is fitted over (default 20). */
  windowSize?: number;
  /** Exponential smoothing of the accumulated delay (default 0.9). */
  smoothing?: number;
  /** Gain applied to the slope before comparing with the threshold (default 4). */
  thresholdGain?: number;
  /** Initial threshold, ms (default 12.5). */
  initialThreshold?: number;
  /** Threshold adaptation speed upwards and downwards, per ms (defaults 0.0087 and 0.039; draft §5.4 K_u, K_d). */
  kUp?: number;
  kDown?: number;
  /** Time the signal must stay over the threshold before overuse is declared, ms (default 10). */
  overuseTimeMs?: number;
}

const MIN_THRESHOLD = 6;
const MAX_THRESHOLD = 600;
const MAX_ADAPT_OFFSET = 15;
const MAX_DELTAS_GAIN = 60;

/** Delay-gradient trend and overuse detection over packet groups. */
export class TrendlineDetector {
  private readonly windowSize: number;
  private readonly smoothing: number;
  private readonly thresholdGain: number;
  private readonly kUp: number;
  private readonly kDown: number;
  private readonly overuseTimeMs: number;
  /** Current adaptive threshold γ (draft §5.4). */
  threshold: number;
  /** Last gain-scaled trend compared with the threshold. */
  modifiedTrend = 0;
  /** Current signal. */
  state: BandwidthUsage = 'normal';

  private numDeltas = 0;
  private firstArrivalMs = -1;
  private accumulatedDelay = 0;
  private smoothedDelay = 0;
  private readonly times: number[] = [];
  private readonly delays: number[] = [];
  private prevTrend = 0;
  private timeOverUsing = -1;
  private overuseCounter = 0;
  private lastThresholdUpdateMs = -1;

  constructor(options: TrendlineOptions = {}) {
    this.windowSize = options.windowSize ?? 20;
    this.smoothing = options.smoothing ?? 0.9;
    this.thresholdGain = options.thresholdGain ?? 4;
    this.threshold = options.initialThreshold ?? 12.5;
    this.kUp = options.kUp ?? 0.0087;
    this.kDown = options.kDown ?? 0.039;
    this.overuseTimeMs = options.overuseTimeMs ?? 10;
  }

  /** Feeds the deltas of one completed group; returns the signal after it. */
  update(arrivalDeltaMs: number, sendDeltaMs: number, arrivalTimeMs: number): BandwidthUsage {
    const delta = arrivalDeltaMs - sendDeltaMs;
    this.numDeltas = Math.min(this.numDeltas + 1, 1000);
    if (this.firstArrivalMs < 0) this.firstArrivalMs = arrivalTimeMs;
    this.accumulatedDelay += delta;
    this.smoothedDelay = this.smoothing * this.smoothedDelay + (1 - this.smoothing) * this.accumulatedDelay;
    this.times.push(arrivalTimeMs - this.firstArrivalMs);
    this.delays.push(this.smoothedDelay);
    if (this.times.length > this.windowSize) {
      this.times.shift();
      this.delays.shift();
    }
    let trend = this.prevTrend;
    if (this.times.length === this.windowSize) trend = linearFitSlope(this.times, this.delays) ?? trend;
    this.detect(trend, sendDeltaMs, arrivalTimeMs);
    return this.state;
  }

  private detect(trend: number, sendDeltaMs: number, nowMs: number): void {
    if (this.numDeltas < 2) {
      this.state = 'normal';
      return;
    }
    const modified = Math.min(this.numDeltas, MAX_DELTAS_GAIN) * trend * this.thresholdGain;
    this.modifiedTrend = modified;
    if (modified > this.threshold) {
      this.timeOverUsing = this.timeOverUsing < 0 ? sendDeltaMs / 2 : this.timeOverUsing + sendDeltaMs;
      this.overuseCounter++;
      if (this.timeOverUsing > this.overuseTimeMs && this.overuseCounter > 1 && trend >= this.prevTrend) {
        this.timeOverUsing = 0;
        this.overuseCounter = 0;
        this.state = 'overusing';
      }
    } else if (modified < -this.threshold) {
      this.timeOverUsing = -1;
      this.overuseCounter = 0;
      this.state = 'underusing';
    } else {
      this.timeOverUsing = -1;
      this.overuseCounter = 0;
      this.state = 'normal';
    }
    this.prevTrend = trend;
    this.updateThreshold(modified, nowMs);
  }

  // Draft §5.4: γ follows |m| slowly upwards and faster downwards, ignoring spikes far above it.
  private updateThreshold(modified: number, nowMs: number): void {
    if (this.lastThresholdUpdateMs < 0) this.lastThresholdUpdateMs = nowMs;
    const abs = Math.abs(modified);
    if (abs > this.threshold + MAX_ADAPT_OFFSET) {
      this.lastThresholdUpdateMs = nowMs;
      return;
    }
    const k = abs < this.threshold ? this.kDown : this.kUp;
    const dt = Math.min(nowMs - this.lastThresholdUpdateMs, 100);
    this.threshold += k * (abs - this.threshold) * dt;
    this.threshold = Math.min(MAX_THRESHOLD, Math.max(MIN_THRESHOLD, this.threshold));
    this.lastThresholdUpdateMs = nowMs;
  }
}

/** Least-squares slope of y over x; undefined when x does not vary. */
export function linearFitSlope(x: readonly number[], y: readonly number[]): number | undefined {
  const n = x.length;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += x[i]!;
    sy += y[i]!;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    num += dx * (y[i]! - my);
    den += dx * dx;
  }
  return den === 0 ? undefined : num / den;
}
