// AIMD rate controller of delay-based bandwidth estimation (draft-ietf-rmcat-gcc-02 §5.5;
// docs/policy.md, "Bandwidth estimator"): Increase / Hold / Decrease driven by the overuse
// signal; multiplicative increase far from the last congestion point (accelerating while the
// delay gradient stays flat, to find a grown capacity), additive near it, decrease to β × the
// acknowledged bitrate, and never above 1.5 × what is acknowledged.
import type { BandwidthUsage } from './bandwidth-estimator-trendline.js';

/** Rate controller state (draft §5.5). */
export type RateControlState = 'hold' | 'increase' | 'decrease';

/** Tuning of the AIMD controller. */
export interface AimdOptions {
  /** Bitrate before any feedback, bits/s. */
  startBitrate: number;
  minBitrate: number;
  maxBitrate: number;
  /** Multiplicative decrease factor β (default 0.85, draft §5.5). */
  beta?: number;
  /** Multiplicative increase per second far from the congestion point (default 1.08, draft §5.5 η). */
  increasePerSecond?: number;
  /**
   * Multiplicative increase per second until the first overuse, standing in for libwebrtc's
   * start-up probing (default 2).
   */
  startupIncreasePerSecond?: number;
  /**
   * How fast the multiplicative increase itself grows while it lasts (no overuse, no known
   * congestion point): its per-second rate is multiplied by this every second, from
   * `increasePerSecond` up to at most `maxAcceleratedIncreasePerSecond` (default 2: 8 %, 16 %,
   * 32 %... per second). 1 keeps the draft's constant η.
   */
  increaseAcceleration?: number;
  /**
   * Ceiling of the accelerated increase (default 1.5 per second): by the time the delay gradient
   * shows the new limit (about one response time), the overshoot and its queue stay small.
   */
  maxAcceleratedIncreasePerSecond?: number;
  /**
   * Until the first overuse the estimate stays below this × the acknowledged bitrate + 10 kbit/s
   * (default 1.25; afterwards the draft's 1.5). The start-up increase doubles the rate every
   * second and the delay gradient shows the limit some 300 ms late: behind a 1 Mbit/s tbf the 1.5
   * cap let the estimate reach 1.7 Mbit/s and the qdisc hold 206 ms (test/net/bwe-tbf.test.ts).
   */
  startupAckedCap?: number;
}

// Running estimate of the bitrate at which congestion was last seen (draft §5.5: "average
// max bitrate" and its variance), in kbit/s as the draft's variance bounds assume.
class LinkCapacityEstimate {
  private estimateKbps: number | undefined;
  private deviationKbps = 0.4;

  has(): boolean {
    return this.estimateKbps !== undefined;
  }
  estimate(): number {
    return (this.estimateKbps ?? 0) * 1000;
  }
  upperBound(): number {
    if (this.estimateKbps === undefined) return Infinity;
    return (this.estimateKbps + 3 * Math.sqrt(this.estimateKbps * this.deviationKbps)) * 1000;
  }
  lowerBound(): number {
    if (this.estimateKbps === undefined) return 0;
    return Math.max(0, this.estimateKbps - 3 * Math.sqrt(this.estimateKbps * this.deviationKbps)) * 1000;
  }
  reset(): void {
    this.estimateKbps = undefined;
  }
  onOveruse(ackedBps: number): void {
    const sample = ackedBps / 1000;
    const alpha = 0.05;
    if (this.estimateKbps === undefined) this.estimateKbps = sample;
    else this.estimateKbps = (1 - alpha) * this.estimateKbps + alpha * sample;
    const norm = Math.max(this.estimateKbps, 1);
    const error = this.estimateKbps - sample;
    this.deviationKbps = (1 - alpha) * this.deviationKbps + (alpha * error * error) / norm;
    this.deviationKbps = Math.min(2.5, Math.max(0.4, this.deviationKbps));
  }
}

/** The AIMD controller: call `update` after each batch of feedback. */
export class AimdRateController {
  /** Current delay-based estimate A_d, bits/s. */
  bitrate: number;
  state: RateControlState = 'hold';
  /** True until the first overuse. */
  inStartup = true;
  private readonly minBitrate: number;
  private readonly maxBitrate: number;
  private readonly beta: number;
  private readonly increasePerSecond: number;
  private readonly startupIncreasePerSecond: number;
  private readonly startupAckedCap: number;
  private readonly increaseAcceleration: number;
  private readonly maxAcceleratedIncreasePerSecond: number;
  private readonly capacity = new LinkCapacityEstimate();
  private lastChangeMs: number | undefined;
  // Start of the current run of multiplicative increase past the congestion point (undefined
  // when not in one): the acceleration's clock.
  private multiplicativeSinceMs: number | undefined;

  constructor(options: AimdOptions) {
    this.bitrate = options.startBitrate;
    this.minBitrate = options.minBitrate;
    this.maxBitrate = options.maxBitrate;
    this.beta = options.beta ?? 0.85;
    this.increasePerSecond = options.increasePerSecond ?? 1.08;
    this.startupIncreasePerSecond = options.startupIncreasePerSecond ?? 2;
    this.startupAckedCap = options.startupAckedCap ?? 1.25;
    this.increaseAcceleration = options.increaseAcceleration ?? 2;
    this.maxAcceleratedIncreasePerSecond = options.maxAcceleratedIncreasePerSecond ?? 1.5;
  }

  /** Bitrate at which congestion was last seen (bits/s), if any. */
  get linkCapacity(): number | undefined {
    return this.capacity.has() ? this.capacity.estimate() : undefined;
  }

  /**
   * Applies the detector's signal at `nowMs`. `ackedBps` is the acknowledged bitrate (undefined
   * until known); `rttMs` sets the additive increase's response time. Returns the new A_d.
   */
  update(nowMs: number, usage: BandwidthUsage, ackedBps: number | undefined, rttMs: number): number {
    // State transitions (draft §5.5, Figure 2).
    if (usage === 'overusing') this.state = 'decrease';
    else if (usage === 'underusing') this.state = 'hold';
    else if (this.state === 'hold' || this.state === 'decrease') this.state = 'increase';

    const dtMs = this.lastChangeMs === undefined ? 0 : Math.min(1000, Math.max(0, nowMs - this.lastChangeMs));
    let next = this.bitrate;
    switch (this.state) {
      case 'hold':
        break;
      case 'increase': {
        if (ackedBps !== undefined && ackedBps > this.capacity.upperBound()) this.capacity.reset();
        if (this.capacity.has()) {
          this.multiplicativeSinceMs = undefined;
          next += this.additiveIncrease(dtMs, rttMs);
        } else {
          const factor = this.inStartup ? this.startupIncreasePerSecond : this.acceleratedIncrease(nowMs);
          next += Math.max(this.bitrate * (factor ** (dtMs / 1000) - 1), (1000 * dtMs) / 1000);
        }
        break;
      }
      case 'decrease': {
        const measured = ackedBps ?? this.bitrate;
        let decreased = this.beta * measured;
        if (decreased > this.bitrate && this.capacity.has()) decreased = this.beta * this.capacity.estimate();
        if (decreased < this.bitrate) next = decreased;
        if (ackedBps !== undefined && ackedBps < this.capacity.lowerBound()) this.capacity.reset();
        this.capacity.onOveruse(measured);
        this.inStartup = false;
        this.multiplicativeSinceMs = undefined;
        this.state = 'hold';
        break;
      }
    }
    // Never run far ahead of what the path has been shown to carry (draft §5.5: A_d < 1.5 R_hat;
    // tighter while starting up, see startupAckedCap).
    if (ackedBps !== undefined) {
      const limit = (this.inStartup ? this.startupAckedCap : 1.5) * ackedBps + 10_000;
      if (next > this.bitrate && next > limit) next = Math.max(this.bitrate, limit);
    }
    this.bitrate = Math.min(this.maxBitrate, Math.max(this.minBitrate, next));
    this.lastChangeMs = nowMs;
    return this.bitrate;
  }

  /** Sets the estimate from outside (e.g. a loss-based decrease), keeping the controller's state. */
  setBitrate(bps: number): void {
    this.bitrate = Math.min(this.maxBitrate, Math.max(this.minBitrate, bps));
  }

  // Past the last congestion point the capacity may have grown by any amount (a link that went
  // from 1 to 3 Mbit/s): a constant 8 %/s needs 14 s to find it. While the delay gradient stays
  // flat the rate of increase doubles every second (8, 16, 32 %/s...) up to 50 %/s (a 2x/s
  // ceiling overshot a 1 Mbit/s tbf link into a 210 ms queue); the first overuse ends it, and
  // the 1.5 × acknowledged cap bounds the overshoot.
  // libwebrtc finds such a step with probe clusters; this needs no padding to send.
  private acceleratedIncrease(nowMs: number): number {
    if (this.multiplicativeSinceMs === undefined) this.multiplicativeSinceMs = nowMs;
    const seconds = Math.max(0, nowMs - this.multiplicativeSinceMs) / 1000;
    const rate = Math.log(this.increasePerSecond) * this.increaseAcceleration ** seconds;
    return Math.exp(Math.min(rate, Math.log(Math.max(this.increasePerSecond, this.maxAcceleratedIncreasePerSecond))));
  }

  // Near convergence: about one packet per response time (RTT + 100 ms), for a 30 fps stream of
  // packets of at most 1200 bytes, as libwebrtc does.
  private additiveIncrease(dtMs: number, rttMs: number): number {
    const responseMs = rttMs + 100;
    const bitsPerFrame = this.bitrate / 30;
    const packetsPerFrame = Math.ceil(bitsPerFrame / (1200 * 8));
    const avgPacketBits = bitsPerFrame / packetsPerFrame;
    const ratePerSecond = Math.max(4000, (avgPacketBits * 1000) / responseMs);
    return (ratePerSecond * dtMs) / 1000;
  }
}
