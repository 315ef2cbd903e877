// The room's simulcast layer policy (docs/sfu.md "Room server"), sans-I/O: which spatial layers of a
// producer are live (packets arrived within the last 1.5 s of looks), and which layer a subscriber gets given
// the layer it asked for. Chromium turns its higher simulcast layers (RFC 8853) off and on as its
// bandwidth estimate moves; a consumer left on a layer that stopped would show a frozen picture.

/** Options of {@link LiveLayers}. */
export interface LiveLayersOptions {
  /**
   * A layer whose counter has not moved for this long is no longer live (default 1500 ms). Longer
   * than one look (the room looks once a second), so one look that finds a layer still (a gap in
   * Chromium's sending, or a late timer on a busy event loop) does not drop it; short enough that a
   * layer that stopped is given up within two looks.
   */
  holdMs?: number;
}

/** Tracks which layers of one producer are live, from per-layer packet counters read at `now`. */
export class LiveLayers {
  private last: number[] = [];
  /** When each layer's counter was last seen moving (undefined: never). */
  private moved: (number | undefined)[] = [];
  private liveValue: number[] = [];
  private readonly holdMs: number;

  constructor(options: LiveLayersOptions = {}) {
    this.holdMs = options.holdMs ?? 1500;
  }

  /**
   * Takes each layer's packets-received counter at `now` (ms, monotonic; undefined: the layer's
   * stream is unknown) and returns the live layers, lowest first: those whose counter moved at a
   * look less than `holdMs` ago (a counter that moved at this look is live).
   */
  update(now: number, counters: readonly (number | undefined)[]): number[] {
    const live: number[] = [];
    counters.forEach((n, layer) => {
      if (n === undefined) {
        this.moved[layer] = undefined;
        return;
      }
      if (n > (this.last[layer] ?? 0)) this.moved[layer] = now;
      const at = this.moved[layer];
      if (at !== undefined && now - at < this.holdMs) live.push(layer);
    });
    this.moved.length = counters.length;
    this.last = counters.map((n) => n ?? 0);
    this.liveValue = live;
    return live;
  }

  /** The layers found live by the last {@link update}. */
  get live(): readonly number[] {
    return this.liveValue;
  }
}

/**
 * The spatial layer to send a subscriber who asked for `wanted`: the highest live layer not above
 * it, else the lowest live layer, else `wanted` itself (nothing is live: nothing to choose from).
 */
export function chooseLayer(wanted: number, live: readonly number[]): number {
  let best: number | undefined;
  for (const l of live) if (l <= wanted && (best === undefined || l > best)) best = l;
  return best ?? live[0] ?? wanted;
}
