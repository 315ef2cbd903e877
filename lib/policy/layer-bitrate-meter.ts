// Measured bitrate of each layer of a forwarded stream (spatial = simulcast stream, RFC 8853;
// temporal = VP8 TID, RFC 7741 §4.2) from cumulative byte counters read at `now` (docs/sfu.md
// "Automatic layer selection"). Sans-I/O: `update(now, bytes)`; no clock, no timers.

/** Options of {@link LayerBitrateMeter}. */
export interface LayerBitrateMeterOptions {
  /** The rate is measured over the looks of the last `windowMs` (default 1500 ms). */
  windowMs?: number;
}

interface Look {
  readonly at: number;
  readonly bytes: readonly (readonly number[])[];
}

/**
 * Turns per-layer byte counters into bitrates. `bytes[s][t]` is what spatial layer `s` received in
 * temporal layer `t` so far; the result `bitrates[s][t]` is the bitrate (bits/s) of spatial layer
 * `s` with every temporal layer up to `t` (cumulative, what a subscriber of `(s, t)` receives).
 */
export class LayerBitrateMeter {
  private readonly windowMs: number;
  private readonly looks: Look[] = [];
  private bitratesValue: number[][] = [];

  constructor(options: LayerBitrateMeterOptions = {}) {
    this.windowMs = Math.max(1, options.windowMs ?? 1500);
  }

  /**
   * Takes the counters at `now` (ms, monotonic; an older `now` is ignored) and returns the bitrates,
   * measured against the oldest look within the window (all zero until two looks exist). A counter
   * that went backwards (a layer's stream restarted) counts from 0 again.
   */
  update(now: number, bytes: readonly (readonly number[])[]): readonly (readonly number[])[] {
    const last = this.looks[this.looks.length - 1];
    if (last && now <= last.at) return this.bitratesValue;
    this.looks.push({ at: now, bytes: bytes.map((row) => [...row]) });
    // Keep the newest look at or before now - windowMs as the base, and everything after it.
    while (this.looks.length > 2 && this.looks[1]!.at <= now - this.windowMs) this.looks.shift();
    const base = this.looks[0]!;
    const seconds = (now - base.at) / 1000;
    this.bitratesValue = bytes.map((row, s) => {
      let cumulative = 0;
      return row.map((b, t) => {
        const before = base.bytes[s]?.[t] ?? 0;
        const delta = b >= before ? b - before : b;
        cumulative += seconds > 0 ? (delta * 8) / seconds : 0;
        return cumulative;
      });
    });
    return this.bitratesValue;
  }

  /** The bitrates from the last {@link update}. */
  get bitrates(): readonly (readonly number[])[] {
    return this.bitratesValue;
  }
}
