// One direction of the policy network simulator (docs/policy.md, "Network simulator"): a
// drop-tail queue drained at a link rate, then random and Gilbert–Elliott burst loss, delay,
// jitter, reordering and duplication, all on a virtual clock and a seeded Rng. Sans-I/O:
// `send(now, packet)`, then `poll(now)` until it returns undefined, then `nextTimeout()`.
import { OutOfRangeError } from '../common/errors.js';
import type { Rng } from '../common/rng.js';
import { DeliveryHeap } from './network-simulator-heap.js';

/**
 * Two-state Gilbert–Elliott loss: each departing packet first moves the chain (good → bad with
 * `goodToBad`, bad → good with `badToGood`), then is lost with the loss probability of the state
 * it is in. Mean burst length is 1 / badToGood; the long-run loss rate is
 * (badToGood·lossInGood + goodToBad·lossInBad) / (goodToBad + badToGood).
 */
export interface GilbertElliottLoss {
  /** Probability per packet of moving from the good to the bad state. */
  goodToBad: number;
  /** Probability per packet of moving from the bad to the good state. */
  badToGood: number;
  /** Loss probability in the good state (default 0). */
  lossInGood?: number;
  /** Loss probability in the bad state (default 1). */
  lossInBad?: number;
}

/** Impairments of one direction. Every field is optional; the default link is perfect. */
export interface SimulatedLinkOptions {
  /** One-way propagation delay in ms (default 0). */
  delayMs?: number;
  /** Extra delay drawn uniformly from [0, jitterMs) per packet (default 0). */
  jitterMs?: number;
  /**
   * Whether jitter may reorder packets (default false: a packet is never delivered before one sent
   * ahead of it on the same link, as on a real path where jitter comes from queues).
   */
  jitterReorders?: boolean;
  /** Independent random loss probability per packet (default 0). */
  loss?: number;
  /** Burst loss (applied in addition to `loss`). */
  burstLoss?: GilbertElliottLoss;
  /** Probability that a packet is held back by `reorderDelayMs` so later ones overtake it (default 0). */
  reorder?: number;
  /** Hold-back of a reordered packet in ms (default 20). */
  reorderDelayMs?: number;
  /** Probability that a delivered packet is delivered a second time (default 0). */
  duplicate?: number;
  /** Link rate in bits per second; 0 means unlimited (default 0). */
  rateBps?: number;
  /** Bytes the queue in front of the rate limit holds before it drops the arriving packet (default unbounded). */
  queueBytes?: number;
  /** Bytes added to each packet's size on the rate limit and queue, e.g. 28 for IPv4+UDP (default 0). */
  overheadBytes?: number;
}

/** A packet leaving the link. */
export interface SimulatedDelivery {
  /** The packet as it was sent (the same object; a duplicate is delivered as the same object again). */
  packet: Uint8Array;
  /** Time `send` was called. */
  sentAt: number;
  /** Delivery time (≤ the `now` of the poll that returned it). */
  deliveredAt: number;
  /** Time spent waiting in the queue before the rate limit started sending it, ms. */
  queuedMs: number;
  /** True for the second copy of a duplicated packet. */
  duplicate: boolean;
}

/** Counters of one direction. */
export interface SimulatedLinkStats {
  sent: number;
  delivered: number;
  bytesSent: number;
  bytesDelivered: number;
  /** Dropped at the tail of the full queue. */
  droppedQueue: number;
  /** Lost to independent random loss. */
  lostRandom: number;
  /** Lost to Gilbert–Elliott burst loss. */
  lostBurst: number;
  /** Packets held back for reordering. */
  reordered: number;
  /** Extra copies scheduled. */
  duplicated: number;
  /** Largest queue occupancy seen, bytes. */
  maxQueueBytes: number;
}

interface Queued {
  packet: Uint8Array;
  sentAt: number;
  bits: number;
}

interface InFlight {
  deliverAt: number;
  order: number;
  packet: Uint8Array;
  sentAt: number;
  queuedMs: number;
  duplicate: boolean;
}

function checkProbability(name: string, p: number | undefined): number {
  const v = p ?? 0;
  if (!(v >= 0 && v <= 1)) throw new OutOfRangeError('ERR_SIM_OPTION', `${name} must be a probability in [0, 1], got ${p}`);
  return v;
}

function checkNonNegative(name: string, x: number | undefined, dflt: number): number {
  const v = x ?? dflt;
  if (!(v >= 0)) throw new OutOfRangeError('ERR_SIM_OPTION', `${name} must be ≥ 0, got ${x}`);
  return v;
}

/** One direction of a simulated path. Deterministic for a given Rng seed and call sequence. */
export class SimulatedLink {
  readonly stats: SimulatedLinkStats = {
    sent: 0,
    delivered: 0,
    bytesSent: 0,
    bytesDelivered: 0,
    droppedQueue: 0,
    lostRandom: 0,
    lostBurst: 0,
    reordered: 0,
    duplicated: 0,
    maxQueueBytes: 0,
  };
  private readonly rng: Rng;
  private delayMs = 0;
  private jitterMs = 0;
  private jitterReorders = false;
  private loss = 0;
  private burst: Required<GilbertElliottLoss> | undefined;
  private reorder = 0;
  private reorderDelayMs = 20;
  private duplicate = 0;
  private rateBps = 0;
  private queueBytes = Infinity;
  private overheadBytes = 0;

  private readonly queue: Queued[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  /** Finish time of the packet at the head of the queue (being serialized). */
  private headFinishAt = 0;
  private readonly inFlight = new DeliveryHeap<InFlight>();
  private order = 0;
  private lastNow = -Infinity;
  private lastInOrderDeliverAt = -Infinity;
  private inBadState = false;

  constructor(rng: Rng, options: SimulatedLinkOptions = {}) {
    this.rng = rng;
    this.configure(-Infinity, options);
  }

  /**
   * Changes impairments from `now` on (fields left out keep their value). A rate change applies to
   * the rest of the packet being serialized and to everything queued behind it.
   */
  configure(now: number, options: SimulatedLinkOptions): void {
    const t = this.advance(now);
    if (options.delayMs !== undefined) this.delayMs = checkNonNegative('delayMs', options.delayMs, 0);
    if (options.jitterMs !== undefined) this.jitterMs = checkNonNegative('jitterMs', options.jitterMs, 0);
    if (options.jitterReorders !== undefined) this.jitterReorders = options.jitterReorders;
    if (options.loss !== undefined) this.loss = checkProbability('loss', options.loss);
    if (options.burstLoss !== undefined) {
      const b = options.burstLoss;
      this.burst = {
        goodToBad: checkProbability('burstLoss.goodToBad', b.goodToBad),
        badToGood: checkProbability('burstLoss.badToGood', b.badToGood),
        lossInGood: checkProbability('burstLoss.lossInGood', b.lossInGood ?? 0),
        lossInBad: checkProbability('burstLoss.lossInBad', b.lossInBad ?? 1),
      };
    }
    if (options.reorder !== undefined) this.reorder = checkProbability('reorder', options.reorder);
    if (options.reorderDelayMs !== undefined) this.reorderDelayMs = checkNonNegative('reorderDelayMs', options.reorderDelayMs, 20);
    if (options.duplicate !== undefined) this.duplicate = checkProbability('duplicate', options.duplicate);
    if (options.queueBytes !== undefined) this.queueBytes = checkNonNegative('queueBytes', options.queueBytes, Infinity);
    if (options.overheadBytes !== undefined) this.overheadBytes = checkNonNegative('overheadBytes', options.overheadBytes, 0);
    if (options.rateBps !== undefined) {
      const rate = checkNonNegative('rateBps', options.rateBps, 0);
      if (this.queueHead < this.queue.length && Number.isFinite(t)) {
        // The head is part-way through serialization: finish its remaining bits at the new rate.
        const remainingBits = Math.max(0, this.headFinishAt - t) * (this.rateBps / 1000);
        this.headFinishAt = rate > 0 ? t + (remainingBits * 1000) / rate : t;
      }
      this.rateBps = rate;
    }
  }

  /** Current link rate in bits/s (0: unlimited). */
  get rate(): number {
    return this.rateBps;
  }

  /** Bytes waiting in the queue (including the packet being serialized). */
  get queueOccupancyBytes(): number {
    return this.queuedBytes;
  }

  /** Packets queued or in flight. */
  get pending(): number {
    return this.queue.length - this.queueHead + this.inFlight.size;
  }

  /** Offers a packet to the link at `now`. It may be dropped, lost, delayed, reordered or duplicated. */
  send(now: number, packet: Uint8Array): void {
    const t = this.advance(now);
    const size = packet.byteLength + this.overheadBytes;
    this.stats.sent++;
    this.stats.bytesSent += packet.byteLength;
    if (this.rateBps <= 0 && this.queueHead === this.queue.length) {
      this.depart(t, packet, t, 0);
      return;
    }
    if (this.queuedBytes + size > this.queueBytes) {
      this.stats.droppedQueue++;
      return;
    }
    const wasEmpty = this.queueHead === this.queue.length;
    this.queue.push({ packet, sentAt: t, bits: size * 8 });
    this.queuedBytes += size;
    if (this.queuedBytes > this.stats.maxQueueBytes) this.stats.maxQueueBytes = this.queuedBytes;
    if (wasEmpty) this.headFinishAt = t + this.txTimeMs(size * 8);
    this.advance(t);
  }

  /** Returns the next packet due at or before `now`, or undefined when none is due. */
  poll(now: number): SimulatedDelivery | undefined {
    const t = this.advance(now);
    const head = this.inFlight.peek();
    if (head === undefined || head.deliverAt > t) return undefined;
    this.inFlight.pop();
    this.stats.delivered++;
    this.stats.bytesDelivered += head.packet.byteLength;
    return { packet: head.packet, sentAt: head.sentAt, deliveredAt: head.deliverAt, queuedMs: head.queuedMs, duplicate: head.duplicate };
  }

  /** Moves time to `now` and returns the delivery time of the earliest packet in flight (undefined when none). */
  nextArrivalAt(now: number): number | undefined {
    this.advance(now);
    return this.inFlight.peek()?.deliverAt;
  }

  /** Time of the next event (a packet leaving the queue or arriving), or undefined when idle. */
  nextTimeout(): number | undefined {
    const arrival = this.inFlight.peek()?.deliverAt;
    const departure = this.queueHead < this.queue.length ? this.headFinishAt : undefined;
    if (arrival === undefined) return departure;
    if (departure === undefined) return arrival;
    return Math.min(arrival, departure);
  }

  private txTimeMs(bits: number): number {
    return this.rateBps > 0 ? (bits * 1000) / this.rateBps : 0;
  }

  // Moves time to `now` (an older `now` is ignored) and releases every packet whose serialization
  // has finished by then.
  private advance(now: number): number {
    if (now > this.lastNow) this.lastNow = now;
    const t = this.lastNow;
    while (this.queueHead < this.queue.length && this.headFinishAt <= t) {
      const q = this.queue[this.queueHead]!;
      this.queue[this.queueHead] = undefined as unknown as Queued;
      this.queueHead++;
      this.queuedBytes -= q.bits / 8;
      const finishedAt = this.headFinishAt;
      const startedAt = finishedAt - this.txTimeMs(q.bits);
      this.depart(finishedAt, q.packet, q.sentAt, Math.max(0, startedAt - q.sentAt));
      if (this.queueHead < this.queue.length) {
        const next = this.queue[this.queueHead]!;
        this.headFinishAt = Math.max(finishedAt, next.sentAt) + this.txTimeMs(next.bits);
      }
    }
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    return t;
  }

  // A packet has left the queue at `at`: decide its fate on the wire.
  private depart(at: number, packet: Uint8Array, sentAt: number, queuedMs: number): void {
    if (this.burst !== undefined) {
      const b = this.burst;
      if (this.inBadState) {
        if (this.rng.float() < b.badToGood) this.inBadState = false;
      } else if (this.rng.float() < b.goodToBad) {
        this.inBadState = true;
      }
      const p = this.inBadState ? b.lossInBad : b.lossInGood;
      if (p > 0 && this.rng.float() < p) {
        this.stats.lostBurst++;
        return;
      }
    }
    if (this.loss > 0 && this.rng.float() < this.loss) {
      this.stats.lostRandom++;
      return;
    }
    let deliverAt = at + this.delayMs + (this.jitterMs > 0 ? this.rng.float() * this.jitterMs : 0);
    const heldBack = this.reorder > 0 && this.rng.float() < this.reorder;
    if (heldBack) {
      this.stats.reordered++;
      deliverAt += this.reorderDelayMs;
    } else if (!this.jitterReorders) {
      if (deliverAt < this.lastInOrderDeliverAt) deliverAt = this.lastInOrderDeliverAt;
      this.lastInOrderDeliverAt = deliverAt;
    }
    this.inFlight.push({ deliverAt, order: this.order++, packet, sentAt, queuedMs, duplicate: false });
    if (this.duplicate > 0 && this.rng.float() < this.duplicate) {
      this.stats.duplicated++;
      this.inFlight.push({ deliverAt, order: this.order++, packet, sentAt, queuedMs, duplicate: true });
    }
  }
}
