// Acknowledged bitrate: what the receiver reported receiving, over a sliding window of arrival
// times (draft-ietf-rmcat-gcc-02 §5.5 "R_hat", measured over 0.5 s; docs/policy.md,
// "Bandwidth estimator").

/** Sliding-window receive rate of acknowledged packets. */
export class AckedBitrateEstimator {
  private readonly arrivals: number[] = [];
  private readonly sizes: number[] = [];
  private head = 0;
  private bytesInWindow = 0;
  private firstArrivalMs: number | undefined;
  private latestArrivalMs = -Infinity;

  constructor(
    private readonly windowMs = 500,
    /** No estimate until this much arrival time has been seen. */
    private readonly minWindowMs = 150,
  ) {}

  /** Adds an acknowledged packet (arrival time in the receiver's clock, ms). */
  add(arrivalMs: number, size: number): void {
    if (this.firstArrivalMs === undefined) this.firstArrivalMs = arrivalMs;
    if (arrivalMs > this.latestArrivalMs) this.latestArrivalMs = arrivalMs;
    this.arrivals.push(arrivalMs);
    this.sizes.push(size);
    this.bytesInWindow += size;
    this.expire();
  }

  /** Acknowledged bitrate in bits/s, or undefined before enough has been acknowledged. */
  bitrate(): number | undefined {
    if (this.firstArrivalMs === undefined) return undefined;
    const span = Math.min(this.windowMs, this.latestArrivalMs - this.firstArrivalMs);
    if (span < this.minWindowMs) return undefined;
    return (this.bytesInWindow * 8 * 1000) / span;
  }

  private expire(): void {
    const from = this.latestArrivalMs - this.windowMs;
    while (this.head < this.arrivals.length && this.arrivals[this.head]! <= from) {
      this.bytesInWindow -= this.sizes[this.head]!;
      this.head++;
    }
    if (this.head > 4096 && this.head * 2 > this.arrivals.length) {
      this.arrivals.splice(0, this.head);
      this.sizes.splice(0, this.head);
      this.head = 0;
    }
  }
}
