// Automatic layer choice for SFU consumers (docs/sfu.md "Automatic layer selection"): which spatial
// (simulcast, RFC 8853) and temporal (VP8 TID, RFC 7741 §4.2) layer each consumer of one subscriber
// connection gets, from the connection's bandwidth estimate (REMB, draft-alvestrand-rmcat-remb-03;
// or a send-side estimate) and each layer's measured bitrate, with hysteresis: down at once when the
// layer no longer fits or the subscriber reports loss, up one step at a time and only after the
// estimate has carried the higher layer for a while. Sans-I/O: `update(now, input)` returns the
// changes; no clock, no timers. Swappable: the router takes any {@link LayerSelectionPolicy}.

/** A spatial layer (index into the producer's layers, lowest first) and a VP8 temporal layer (0..3, 3: all). */
export interface SelectedLayers {
  readonly spatialLayer: number;
  readonly temporalLayer: number;
}

/** Why a consumer's target moved. */
export type LayerSelectionReason =
  /** The estimate no longer carries the current layer, or carried a higher one for `upHoldMs`. */
  | 'estimate'
  /** The subscriber reported at least `lossDownFraction` lost. */
  | 'loss'
  /** The cap (the consumer's preferred layers) went below the current layer. */
  | 'cap'
  /** The current layer stopped arriving from the publisher (its measured bitrate is 0). */
  | 'layer-stopped';

/** One consumer of the connection, as the policy sees it at one look. */
export interface LayerSelectionConsumer {
  /** Stable id (the router's consumer id). */
  readonly id: number;
  /**
   * Measured bitrate (bits/s) of the producer's layers, cumulative over temporal layers:
   * `bitrates[s][t]` is what a subscriber of spatial layer `s` with TIDs up to `t` receives (see
   * LayerBitrateMeter). A spatial layer whose last value is 0 is not arriving and is never chosen.
   */
  readonly bitrates: readonly (readonly number[])[];
  /** The highest layers allowed: the consumer's preferred layers. */
  readonly cap: SelectedLayers;
}

/** What the policy looks at, for one subscriber connection. */
export interface LayerSelectionInput {
  /** The connection's bandwidth estimate (bits/s); undefined before any: targets stay at the cap. */
  readonly estimateBps: number | undefined;
  /** Fraction of packets the subscriber reported lost since its previous report (0..1), if it reported. */
  readonly lossFraction?: number;
  /**
   * Bits/s of the connection's other streams, taken off the estimate before it is shared: the router
   * passes what its audio and non-automatic consumers receive (docs/sfu.md "Automatic layer selection").
   */
  readonly reservedBps?: number;
  readonly consumers: readonly LayerSelectionConsumer[];
}

/** A consumer's new target. */
export interface LayerSelectionChange extends SelectedLayers {
  readonly id: number;
  readonly reason: LayerSelectionReason;
  /** The measured bitrate of the new target, bits/s. */
  readonly bitrateBps: number;
}

/** The contract the router drives (one instance per subscriber connection). */
export interface LayerSelectionPolicy {
  /** Looks at `now` (ms, monotonic); returns the consumers whose target changed. */
  update(now: number, input: LayerSelectionInput): readonly LayerSelectionChange[];
  /** Forgets a consumer (closed, or no longer chosen automatically). */
  remove(id: number): void;
}

/** Options of {@link BandwidthLayerSelection}. */
export interface BandwidthLayerSelectionOptions {
  /** A higher layer is taken only after the estimate carried it this long (default 2500 ms). */
  upHoldMs?: number;
  /** A higher layer must fit in this share of the estimate (default 0.9); the current one only in all of it. */
  upUtilization?: number;
  /** A reported loss fraction at or above this moves one step down at once (default 0.1). */
  lossDownFraction?: number;
  /** A reported loss fraction above this holds every move up (default 0.02). */
  lossHoldFraction?: number;
  /** After a step down for loss, the next one waits this long (default 1000 ms: the next report). */
  lossStepMs?: number;
}

interface Step extends SelectedLayers {
  readonly bitrate: number;
}

interface ConsumerState {
  target: SelectedLayers | undefined;
  /** Since when the estimate has carried a higher step (undefined: it does not). */
  upSince: number | undefined;
}

/**
 * The layers one consumer can be given, lowest first: for each arriving spatial layer up to the
 * cap, each temporal layer that carries bytes (a stream without TIDs has one). The top step of a
 * spatial layer takes every temporal layer (3), or the cap's on the cap's spatial layer.
 */
export function layerSteps(bitrates: readonly (readonly number[])[], cap: SelectedLayers): Step[] {
  const steps: Step[] = [];
  for (let s = 0; s <= cap.spatialLayer && s < bitrates.length; s++) {
    const row = bitrates[s]!;
    if (row.length === 0 || !(row[row.length - 1]! > 0)) continue;
    const maxT = s === cap.spatialLayer ? cap.temporalLayer : row.length - 1;
    const own: Step[] = [];
    for (let t = 0; t < row.length && t <= maxT; t++) {
      const carries = t === 0 ? row[0]! > 0 : row[t]! > row[t - 1]!;
      if (carries) own.push({ spatialLayer: s, temporalLayer: t, bitrate: row[t]! });
    }
    if (own.length === 0) continue;
    const top = own[own.length - 1]!;
    own[own.length - 1] = { spatialLayer: s, temporalLayer: s === cap.spatialLayer ? cap.temporalLayer : 3, bitrate: top.bitrate };
    steps.push(...own);
  }
  return steps;
}

function before(a: SelectedLayers, b: SelectedLayers): boolean {
  return a.spatialLayer < b.spatialLayer || (a.spatialLayer === b.spatialLayer && a.temporalLayer <= b.temporalLayer);
}

/** The index of `target` in `steps`, or of the highest step below it (-1: none). */
function indexOf(steps: readonly Step[], target: SelectedLayers): number {
  let found = -1;
  for (let i = 0; i < steps.length; i++) if (before(steps[i]!, target)) found = i;
  return found;
}

/**
 * Shares `budget` among the consumers' step ladders: everyone starts at its lowest step, then the
 * consumer on the lowest step so far takes its next step while the sum still fits. Returns each
 * ladder's highest affordable index (0 when even the lowest steps do not fit: the lowest is kept).
 */
function allocate(ladders: readonly (readonly Step[])[], budget: number): number[] {
  const at = ladders.map(() => 0);
  let total = ladders.reduce((sum, l) => sum + (l[0]?.bitrate ?? 0), 0);
  for (;;) {
    let pick = -1;
    for (let i = 0; i < ladders.length; i++) {
      const l = ladders[i]!;
      if (at[i]! + 1 >= l.length) continue;
      if (total - l[at[i]!]!.bitrate + l[at[i]! + 1]!.bitrate > budget) continue;
      if (pick < 0 || at[i]! < at[pick]!) pick = i;
    }
    if (pick < 0) return at;
    const l = ladders[pick]!;
    total += l[at[pick]! + 1]!.bitrate - l[at[pick]!]!.bitrate;
    at[pick]!++;
  }
}

/** The default policy (see the file header). */
export class BandwidthLayerSelection implements LayerSelectionPolicy {
  private readonly upHoldMs: number;
  private readonly upUtilization: number;
  private readonly lossDownFraction: number;
  private readonly lossHoldFraction: number;
  private readonly lossStepMs: number;
  private readonly states = new Map<number, ConsumerState>();
  private lastNow = -Infinity;
  private lastLossStep = -Infinity;

  constructor(options: BandwidthLayerSelectionOptions = {}) {
    this.upHoldMs = Math.max(0, options.upHoldMs ?? 2500);
    this.upUtilization = Math.min(1, Math.max(0.1, options.upUtilization ?? 0.9));
    this.lossDownFraction = options.lossDownFraction ?? 0.1;
    this.lossHoldFraction = options.lossHoldFraction ?? 0.02;
    this.lossStepMs = Math.max(0, options.lossStepMs ?? 1000);
  }

  update(now: number, input: LayerSelectionInput): readonly LayerSelectionChange[] {
    if (now < this.lastNow) return [];
    this.lastNow = now;
    const ladders = input.consumers.map((c) => layerSteps(c.bitrates, c.cap));
    const estimate = input.estimateBps;
    const budget = estimate === undefined ? Infinity : Math.max(0, estimate - (input.reservedBps ?? 0));
    const fits = allocate(ladders, budget);
    const fitsUp = allocate(ladders, budget * this.upUtilization);
    const loss = input.lossFraction ?? 0;
    const lossStep = loss >= this.lossDownFraction && now - this.lastLossStep >= this.lossStepMs;
    if (lossStep) this.lastLossStep = now;
    // Where each consumer is now (the router starts a consumer at its cap), and whether together
    // they send more than the budget: then each moves down to its share at once, even when its own
    // layer alone would fit (two at 600k under 800k).
    const previousOf = input.consumers.map((c) => this.states.get(c.id)?.target ?? c.cap);
    const currentOf = ladders.map((steps, i) => Math.max(0, indexOf(steps, previousOf[i]!)));
    const sending = ladders.reduce((sum, steps, i) => sum + (steps[currentOf[i]!]?.bitrate ?? 0), 0);
    const overBudget = estimate !== undefined && sending > budget;
    const changes: LayerSelectionChange[] = [];
    input.consumers.forEach((c, i) => {
      const steps = ladders[i]!;
      let state = this.states.get(c.id);
      if (!state) {
        state = { target: undefined, upSince: undefined };
        this.states.set(c.id, state);
      }
      if (steps.length === 0) return; // nothing arrives yet: nothing to choose from
      const previous = previousOf[i]!;
      let current = indexOf(steps, previous);
      let reason: LayerSelectionReason | undefined;
      const exact = current >= 0 && steps[current]!.spatialLayer === previous.spatialLayer && steps[current]!.temporalLayer === previous.temporalLayer;
      if (current < 0) current = 0;
      if (!exact) reason = before(previous, c.cap) ? 'layer-stopped' : 'cap';
      let next = current;
      if (overBudget && fits[i]! < current) {
        next = fits[i]!;
        reason = 'estimate';
        state.upSince = undefined;
      } else if (lossStep && current > 0) {
        next = current - 1;
        reason = 'loss';
        state.upSince = undefined;
      } else if (estimate !== undefined && fitsUp[i]! > current && loss <= this.lossHoldFraction) {
        state.upSince ??= now;
        if (now - state.upSince >= this.upHoldMs) {
          next = current + 1;
          reason = 'estimate';
          // The next step up waits its own hold.
          state.upSince = now;
        }
      } else {
        state.upSince = undefined;
      }
      const step = steps[next]!;
      const chosen: SelectedLayers = { spatialLayer: step.spatialLayer, temporalLayer: step.temporalLayer };
      state.target = chosen;
      if (previous.spatialLayer !== chosen.spatialLayer || previous.temporalLayer !== chosen.temporalLayer) {
        changes.push({ id: c.id, ...chosen, reason: reason ?? 'estimate', bitrateBps: step.bitrate });
      }
    });
    return changes;
  }

  remove(id: number): void {
    this.states.delete(id);
  }
}
