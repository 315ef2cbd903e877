// The room's simulcast layer policy (docs/sfu.md "Room server"), sans-I/O: which spatial layers of a
// producer are live (packets arrived since the last look), and which layer a subscriber gets given
// the layer it asked for. Chromium turns its higher simulcast layers (RFC 8853) off and on as its
// bandwidth estimate moves; a consumer left on a layer that stopped would show a frozen picture.

/** Tracks which layers of one producer are live, from per-layer packet counters. */
export class LiveLayers {
  private last: number[] = [];
  private liveValue: number[] = [];

  /**
   * Takes each layer's packets-received counter (undefined: the layer's stream is unknown) and
   * returns the layers whose counter moved since the previous call, lowest first.
   */
  update(counters: readonly (number | undefined)[]): number[] {
    const live: number[] = [];
    counters.forEach((n, layer) => {
      if (n !== undefined && n > (this.last[layer] ?? 0)) live.push(layer);
    });
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
