// Retransmission timeout estimator (RFC 9260 section 6.3.1): SRTT/RTTVAR smoothing with
// alpha 1/8, beta 1/4, clamped to [rtoMin, rtoMax], doubled on expiry (section 6.3.3 E2).

/** RTO bounds in milliseconds. */
export interface RtoOptions {
  rtoInitial: number;
  rtoMin: number;
  rtoMax: number;
}

/** Keeps SRTT, RTTVAR and the current RTO for one path. */
export class RtoEstimator {
  /** Smoothed RTT, undefined until the first measurement. */
  srtt: number | undefined;
  rttvar = 0;
  rto: number;
  private readonly opts: RtoOptions;

  constructor(opts: RtoOptions) {
    this.opts = opts;
    this.rto = opts.rtoInitial;
  }

  /** Adds an RTT sample `r` (ms), rules C1-C3 of section 6.3.1. */
  measure(r: number): void {
    if (this.srtt === undefined) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    // G (clock granularity) is taken as 1 ms: `now` is fractional milliseconds.
    this.rto = this.clamp(this.srtt + Math.max(1, 4 * this.rttvar));
  }

  /** Doubles the RTO after a timer expiry (section 6.3.3 E2). */
  backOff(): void {
    this.rto = this.clamp(this.rto * 2);
  }

  private clamp(v: number): number {
    return Math.min(this.opts.rtoMax, Math.max(this.opts.rtoMin, v));
  }
}
