// Loss-based controller (draft-ietf-rmcat-gcc-02 §6; docs/policy.md, "Bandwidth estimator"):
// over each evaluation interval, loss above 10 % cuts A_s by half the loss rate, loss below
// 2 % lets it grow, anything between holds it.

/** Tuning of the loss-based controller. */
export interface LossControllerOptions {
  /** Loss rate above which A_s decreases (default 0.1). */
  decreaseAbove?: number;
  /** Loss rate below which A_s increases (default 0.02). */
  increaseBelow?: number;
  /** Growth per second while loss is low (default 1.08, as libwebrtc; the draft's 1.05 per report). */
  increasePerSecond?: number;
  /** Packets an evaluation needs (default 50). */
  minPackets?: number;
  /** Time an evaluation needs, ms (default 1000, as libwebrtc evaluates loss about once a second). */
  minIntervalMs?: number;
}

/** Loss-based estimate A_s. Unbounded (Infinity) until loss first forces a decrease. */
export class LossBasedController {
  /** Current A_s in bits/s; Infinity while loss has never constrained the rate. */
  bitrate = Infinity;
  /** Loss rate of the last evaluation. */
  lastLossRate = 0;
  private readonly decreaseAbove: number;
  private readonly increaseBelow: number;
  private readonly increasePerSecond: number;
  private readonly minPackets: number;
  private readonly minIntervalMs: number;
  private received = 0;
  private lost = 0;
  private intervalStartMs: number | undefined;
  private lastDecreaseMs = -Infinity;

  constructor(options: LossControllerOptions = {}) {
    this.decreaseAbove = options.decreaseAbove ?? 0.1;
    this.increaseBelow = options.increaseBelow ?? 0.02;
    this.increasePerSecond = options.increasePerSecond ?? 1.08;
    this.minPackets = options.minPackets ?? 50;
    this.minIntervalMs = options.minIntervalMs ?? 1000;
  }

  /** Counts reported packets. */
  addReports(received: number, lost: number, nowMs: number): void {
    if (this.intervalStartMs === undefined) this.intervalStartMs = nowMs;
    this.received += received;
    this.lost += lost;
  }

  /**
   * Evaluates the interval when it is long enough; `targetBps` is the current target, from which a
   * decrease starts; `delayBasedBps` caps growth. Returns true when A_s was re-evaluated.
   */
  evaluate(nowMs: number, targetBps: number, delayBasedBps: number, rttMs: number): boolean {
    const total = this.received + this.lost;
    if (this.intervalStartMs === undefined || total < this.minPackets || nowMs - this.intervalStartMs < this.minIntervalMs) return false;
    const loss = this.lost / total;
    const dtMs = Math.min(1000, nowMs - this.intervalStartMs);
    this.lastLossRate = loss;
    if (loss > this.decreaseAbove) {
      // At most one decrease per RTT + 300 ms, so one loss episode is not counted twice.
      if (nowMs - this.lastDecreaseMs >= rttMs + 300) {
        this.bitrate = Math.min(this.bitrate, targetBps) * (1 - 0.5 * loss);
        this.lastDecreaseMs = nowMs;
      }
    } else if (loss < this.increaseBelow && Number.isFinite(this.bitrate)) {
      this.bitrate = this.bitrate * this.increasePerSecond ** (dtMs / 1000) + 1000;
      // Once back above the delay-based estimate, loss no longer constrains the rate.
      if (this.bitrate >= delayBasedBps) this.bitrate = Infinity;
    }
    this.received = 0;
    this.lost = 0;
    this.intervalStartMs = nowMs;
    return true;
  }
}
