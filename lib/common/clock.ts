// Time sources. Protocol cores never read the clock themselves: `now` (monotonic ms) is passed in.
import { performance } from 'node:perf_hooks';

/** A monotonic millisecond clock. */
export interface Clock {
  /** Monotonic milliseconds (fractional allowed). */
  now(): number;
}

/** The real monotonic clock (performance.now()). */
export const systemClock: Clock = { now: () => performance.now() };

/** A clock for tests and simulations, advanced by hand. */
export class VirtualClock implements Clock {
  private current: number;
  constructor(start = 0) {
    this.current = start;
  }
  now(): number {
    return this.current;
  }
  /** Moves time forward by `ms` (never backwards). */
  advance(ms: number): number {
    if (ms > 0) this.current += ms;
    return this.current;
  }
  /** Sets time to `t` if it is later than the current time. */
  set(t: number): void {
    if (t > this.current) this.current = t;
  }
}
