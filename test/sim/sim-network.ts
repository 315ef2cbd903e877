// A seeded simulated datagram network for sans-I/O tests: loss, burst loss, reordering,
// duplication, delay, jitter and a rate limit, all on a virtual clock. Deterministic per seed.
import { SeededRng } from '../../lib/common/rng.js';

/** Impairments applied to every datagram sent through a SimNetwork. */
export interface SimLinkOptions {
  /** Probability [0,1] that a datagram is dropped. */
  loss?: number;
  /** Probability that a loss starts a burst; a burst drops `burstLength` datagrams in a row. */
  burstLoss?: number;
  burstLength?: number;
  /** One-way delay in ms. */
  delayMs?: number;
  /** Uniform extra delay in [0, jitterMs) ms, which also reorders. */
  jitterMs?: number;
  /** Probability that a datagram is held back by `reorderDelayMs` (reordering). */
  reorder?: number;
  reorderDelayMs?: number;
  /** Probability that a datagram is delivered twice. */
  duplicate?: number;
  /** Link rate in bytes per ms (0 or undefined: unlimited); excess queues. */
  bytesPerMs?: number;
  /** Max queued bytes under the rate limit before tail drop. */
  queueBytes?: number;
}

/** A datagram in flight. */
export interface SimDatagram {
  from: string;
  to: string;
  data: Buffer;
  deliverAt: number;
  seq: number;
}

/** Counters kept by the simulated network. */
export interface SimStats {
  sent: number;
  delivered: number;
  lost: number;
  duplicated: number;
  queueDropped: number;
}

/** A network between named endpoints; call `send` to inject and `deliverDue(now)` to drain. */
export class SimNetwork {
  readonly rng: SeededRng;
  private readonly opts: Required<SimLinkOptions>;
  private inFlight: SimDatagram[] = [];
  private burstRemaining = 0;
  private linkFreeAt = 0;
  private queued = 0;
  private seq = 0;
  readonly stats: SimStats = { sent: 0, delivered: 0, lost: 0, duplicated: 0, queueDropped: 0 };

  constructor(seed: number, options: SimLinkOptions = {}) {
    this.rng = new SeededRng(seed);
    this.opts = {
      loss: 0,
      burstLoss: 0,
      burstLength: 3,
      delayMs: 10,
      jitterMs: 0,
      reorder: 0,
      reorderDelayMs: 15,
      duplicate: 0,
      bytesPerMs: 0,
      queueBytes: 1 << 20,
      ...options,
    };
  }

  /** Sends a datagram at time `now`; it may be lost, delayed, duplicated or reordered. */
  send(now: number, from: string, to: string, data: Buffer): void {
    this.stats.sent++;
    const o = this.opts;
    if (this.burstRemaining > 0) {
      this.burstRemaining--;
      this.stats.lost++;
      return;
    }
    if (o.burstLoss > 0 && this.rng.float() < o.burstLoss) {
      this.burstRemaining = Math.max(0, o.burstLength - 1);
      this.stats.lost++;
      return;
    }
    if (o.loss > 0 && this.rng.float() < o.loss) {
      this.stats.lost++;
      return;
    }
    let departAt = now;
    if (o.bytesPerMs > 0) {
      if (this.queued + data.length > o.queueBytes) {
        this.stats.queueDropped++;
        return;
      }
      departAt = Math.max(now, this.linkFreeAt);
      this.linkFreeAt = departAt + data.length / o.bytesPerMs;
      this.queued += data.length;
    }
    let deliverAt = departAt + o.delayMs + (o.jitterMs > 0 ? this.rng.float() * o.jitterMs : 0);
    if (o.reorder > 0 && this.rng.float() < o.reorder) deliverAt += o.reorderDelayMs;
    const copy = Buffer.from(data);
    this.push({ from, to, data: copy, deliverAt, seq: this.seq++ });
    if (o.duplicate > 0 && this.rng.float() < o.duplicate) {
      this.stats.duplicated++;
      this.push({ from, to, data: Buffer.from(copy), deliverAt: deliverAt + 1, seq: this.seq++ });
    }
  }

  private push(d: SimDatagram): void {
    this.inFlight.push(d);
  }

  /** Earliest delivery time of anything in flight, or undefined when idle. */
  nextDeliveryAt(): number | undefined {
    let min: number | undefined;
    for (const d of this.inFlight) if (min === undefined || d.deliverAt < min) min = d.deliverAt;
    return min;
  }

  /** Removes and returns every datagram due at or before `now`, in delivery order. */
  deliverDue(now: number): SimDatagram[] {
    const due: SimDatagram[] = [];
    const rest: SimDatagram[] = [];
    for (const d of this.inFlight) (d.deliverAt <= now ? due : rest).push(d);
    this.inFlight = rest;
    due.sort((a, b) => a.deliverAt - b.deliverAt || a.seq - b.seq);
    for (const d of due) if (this.opts.bytesPerMs > 0) this.queued -= d.data.length;
    this.stats.delivered += due.length;
    return due;
  }

  /** Number of datagrams still in flight. */
  get pending(): number {
    return this.inFlight.length;
  }
}
