// Pacer: a leaky bucket that spreads packets out at target × pacing factor with a bounded burst,
// sending audio first, then retransmissions, then video, then padding (draft-ietf-rmcat-gcc-02
// §4 "pacing"; docs/policy.md, "Pacer"). Sans-I/O: `enqueue(now, …)`, drain `poll(now)`, then
// wake at `nextTimeout()`. Packets are opaque to it; it only counts their bytes.
import { OutOfRangeError } from '../common/errors.js';

/** Send priority classes, highest first. */
export type PacketPriority = 'audio' | 'retransmission' | 'video' | 'padding';

const CLASSES: readonly PacketPriority[] = ['audio', 'retransmission', 'video', 'padding'];

/** Options of a Pacer. */
export interface PacerOptions {
  /** Rate before `setTargetBitrate` is called, bits/s (default 300 000). */
  initialTargetBitrate?: number;
  /** Pacing rate = target × this (default 2.5, as libwebrtc). */
  pacingFactor?: number;
  /** The bucket holds at most this many ms of the pacing rate (burst bound; default 5). */
  burstMs?: number;
  /**
   * The queue is drained within this many ms whatever the target (the pacing rate is raised to
   * queued bits / this), so a low estimate cannot grow it without bound (default 2000).
   */
  maxQueueMs?: number;
  /** Audio is sent at once (not held by the budget, only counted against it) (default true). */
  audioBypassesBudget?: boolean;
}

/** Counters of the pacer. */
export interface PacerStats {
  enqueued: number;
  sent: number;
  bytesSent: number;
  /** Longest time a packet waited, ms. */
  maxQueueDelayMs: number;
}

interface Item<T> {
  packet: T;
  size: number;
  enqueuedAt: number;
}

/** A leaky-bucket pacer with four priority classes, FIFO within each. */
export class Pacer<T> {
  readonly stats: PacerStats = { enqueued: 0, sent: 0, bytesSent: 0, maxQueueDelayMs: 0 };
  private readonly pacingFactor: number;
  private readonly burstMs: number;
  private readonly maxQueueMs: number;
  private readonly audioBypassesBudget: boolean;
  private readonly queues: Item<T>[][] = [[], [], [], []];
  private readonly heads = [0, 0, 0, 0];
  private queued = 0;
  private queuedBytesTotal = 0;
  private pacingBps: number;
  /** Bucket level in bytes: positive is credit, negative is debt. */
  private budget = 0;
  private lastNow: number | undefined;

  constructor(options: PacerOptions = {}) {
    this.pacingFactor = options.pacingFactor ?? 2.5;
    this.burstMs = options.burstMs ?? 5;
    this.maxQueueMs = options.maxQueueMs ?? 2000;
    this.audioBypassesBudget = options.audioBypassesBudget ?? true;
    if (!(this.pacingFactor > 0 && this.burstMs > 0 && this.maxQueueMs > 0)) {
      throw new OutOfRangeError('ERR_PACER_OPTION', 'pacingFactor, burstMs and maxQueueMs must be > 0');
    }
    this.pacingBps = this.checkRate(options.initialTargetBitrate ?? 300_000) * this.pacingFactor;
  }

  /** Sets the target bitrate (bits/s) from `now` on; the pacing rate is target × pacing factor. */
  setTargetBitrate(now: number, bps: number): void {
    this.advance(now);
    this.pacingBps = this.checkRate(bps) * this.pacingFactor;
  }

  /** Current pacing rate, bits/s (before the queue-drain raise). */
  get pacingBitrate(): number {
    return this.pacingBps;
  }

  /** Packets waiting. */
  get queueLength(): number {
    return this.queued;
  }

  /** Bytes waiting. */
  get queuedBytes(): number {
    return this.queuedBytesTotal;
  }

  /** Queues a packet of `size` bytes. */
  enqueue(now: number, packet: T, size: number, priority: PacketPriority = 'video'): void {
    this.advance(now);
    const c = CLASSES.indexOf(priority);
    this.queues[c]!.push({ packet, size, enqueuedAt: this.lastNow! });
    this.queued++;
    this.queuedBytesTotal += size;
    this.stats.enqueued++;
  }

  /**
   * Counts a packet that was sent without passing through the queue (e.g. a retransmission that
   * must keep its place) against the budget, so the total still respects the pacing rate.
   */
  account(now: number, size: number): void {
    this.advance(now);
    this.budget -= size;
    this.stats.sent++;
    this.stats.bytesSent += size;
  }

  /** Empties the queue without sending; returns how many packets it held. */
  clear(): number {
    const n = this.queued;
    for (let c = 0; c < 4; c++) {
      this.queues[c]!.length = 0;
      this.heads[c] = 0;
    }
    this.queued = 0;
    this.queuedBytesTotal = 0;
    return n;
  }

  /** The next packet allowed out at `now`, or undefined (then wait for `nextTimeout()`). */
  poll(now: number): T | undefined {
    this.advance(now);
    if (this.queued === 0) return undefined;
    const c = this.firstClass();
    const bypass = c === 0 && this.audioBypassesBudget;
    if (!bypass && this.budget <= 0) return undefined;
    const q = this.queues[c]!;
    const item = q[this.heads[c]!]!;
    q[this.heads[c]!] = undefined as unknown as Item<T>;
    this.heads[c]!++;
    if (this.heads[c]! > 1024 && this.heads[c]! * 2 > q.length) {
      q.splice(0, this.heads[c]!);
      this.heads[c] = 0;
    }
    this.queued--;
    this.queuedBytesTotal -= item.size;
    this.budget -= item.size;
    this.stats.sent++;
    this.stats.bytesSent += item.size;
    const waited = this.lastNow! - item.enqueuedAt;
    if (waited > this.stats.maxQueueDelayMs) this.stats.maxQueueDelayMs = waited;
    return item.packet;
  }

  /** When the next packet may go (≤ now when one may go at once), or undefined when the queue is empty. */
  nextTimeout(): number | undefined {
    if (this.queued === 0 || this.lastNow === undefined) return this.queued === 0 ? undefined : 0;
    const c = this.firstClass();
    if ((c === 0 && this.audioBypassesBudget) || this.budget > 0) return this.lastNow;
    // Time for the debt to be repaid, plus a hair so the budget is strictly positive then.
    return this.lastNow + ((-this.budget * 8) / this.effectiveRate()) * 1000 + 1e-6;
  }

  private firstClass(): number {
    for (let c = 0; c < 4; c++) if (this.heads[c]! < this.queues[c]!.length) return c;
    return 3;
  }

  // The pacing rate, raised when needed so that everything queued leaves before the oldest packet
  // has waited maxQueueMs (as libwebrtc's pacer bounds its queue time).
  private effectiveRate(): number {
    if (this.queued === 0 || this.lastNow === undefined) return this.pacingBps;
    let oldest = Infinity;
    for (let c = 0; c < 4; c++) {
      const head = this.queues[c]![this.heads[c]!];
      if (head !== undefined && head.enqueuedAt < oldest) oldest = head.enqueuedAt;
    }
    const leftMs = Math.max(1, this.maxQueueMs - (this.lastNow - oldest));
    return Math.max(this.pacingBps, (this.queuedBytesTotal * 8 * 1000) / leftMs);
  }

  private advance(now: number): void {
    if (this.lastNow === undefined) {
      this.lastNow = now;
      // Start with one burst of credit so the first packet goes at once.
      this.budget = (this.pacingBps * this.burstMs) / 8000;
      return;
    }
    if (now <= this.lastNow) return;
    const rate = this.effectiveRate();
    const cap = Math.max((rate * this.burstMs) / 8000, 1);
    this.budget = Math.min(cap, this.budget + ((now - this.lastNow) * rate) / 8000);
    // With nothing queued, unused credit does not pile up beyond the burst bound (already capped).
    this.lastNow = now;
  }

  private checkRate(bps: number): number {
    if (!(Number.isFinite(bps) && bps > 0)) throw new OutOfRangeError('ERR_PACER_RATE', `target bitrate must be a positive number, got ${bps}`);
    return bps;
  }
}
