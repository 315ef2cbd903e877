// Windowed minimum of the one-way delay (receiver clock − sender clock, arbitrary offset), so the
// estimator can report queueing delay as the excess over it (docs/policy.md, "Bandwidth estimator").

/** Minimum over the last `windowMs` of samples, kept in 1/10-window buckets. */
export class MinDelayWindow {
  private readonly bucketMs: number;
  private readonly starts: number[] = [];
  private readonly mins: number[] = [];

  constructor(private readonly windowMs: number) {
    this.bucketMs = windowMs / 10;
  }

  /** Adds a sample taken at `atMs`. */
  add(atMs: number, value: number): void {
    const last = this.starts.length - 1;
    if (last >= 0 && atMs < this.starts[last]! + this.bucketMs) {
      if (value < this.mins[last]!) this.mins[last] = value;
    } else {
      this.starts.push(atMs);
      this.mins.push(value);
    }
    while (this.starts.length > 0 && this.starts[0]! < atMs - this.windowMs) {
      this.starts.shift();
      this.mins.shift();
    }
  }

  /** The minimum over the window (Infinity when empty). */
  min(): number {
    let m = Infinity;
    for (const v of this.mins) if (v < m) m = v;
    return m;
  }
}
