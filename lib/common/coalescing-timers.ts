// Coalesced timers (docs/policy.md "Timeouts"): the policy timers of every connection on a thread
// share ONE Node timer. A deadline far ahead may run late by 5 % of its distance (at most 50 ms), so
// deadlines of many connections that fall close together run in one callback, back to back, instead
// of one timer wake each; a near deadline (a pacer's few milliseconds) keeps its precision. The
// shared timer is unref'd (it never keeps a process alive) unless the group is made with
// `keepAlive` (the ICE transports' group: their timers kept the process alive before they shared one).
import { performance } from 'node:perf_hooks';
import { reportListenerError } from './typed-emitter.js';
import { emptyArray } from './empty-array.js';

/** How late a deadline may run, as a share of its distance and at most. */
const LATE_SHARE = 0.05;
const MAX_LATE_MS = 50;

/** One owner's deadline; made once by {@link CoalescingTimers.create} and rescheduled as needed. */
export interface CoalescedTimer {
  /** Earliest and latest time to run (the group's clock, ms); index in the heap, -1 when idle. */
  at: number;
  latest: number;
  index: number;
  readonly run: () => void;
}

/** See the file header. */
export class CoalescingTimers {
  // Min-heap by `latest`: the top says when the shared timer must wake.
  private readonly heap: CoalescedTimer[] = [];
  private readonly due: CoalescedTimer[] = [];
  private readonly notYet: CoalescedTimer[] = [];
  private readonly onFire = (): void => this.fire();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  /**
   * @param clock the group's clock (ms); owners pass delays, so their own clocks may differ.
   * @param keepAlive keep the process alive while a timer waits (default false: unref'd).
   */
  constructor(
    private readonly clock: () => number = () => performance.now(),
    private readonly keepAlive = false,
  ) {}

  /** A timer that calls `run` when due (errors it throws are reported as process warnings). */
  create(run: () => void): CoalescedTimer {
    return { at: Infinity, latest: Infinity, index: -1, run };
  }

  /** Runs `t` in `delayMs` (or up to 5 % of it, at most 50 ms, later); replaces its earlier schedule. */
  schedule(t: CoalescedTimer, delayMs: number): void {
    const now = this.clock();
    const delay = Math.max(0, delayMs);
    t.at = now + delay;
    t.latest = t.at + Math.min(MAX_LATE_MS, delay * LATE_SHARE);
    // A waiting timer moves within the heap (one sift) instead of leaving it and coming back (two).
    if (t.index >= 0) {
      this.down(t.index);
      this.up(t.index);
    } else {
      this.push(t);
    }
    this.arm(now);
  }

  /** Stops `t` (no effect when idle). */
  cancel(t: CoalescedTimer): void {
    if (t.index < 0) return;
    this.removeAt(t.index);
    if (this.heap.length === 0) this.arm(this.clock());
  }

  /** Timers waiting. */
  get size(): number {
    return this.heap.length;
  }

  private arm(now: number): void {
    const top = this.heap[0];
    if (!top) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Infinity;
      return;
    }
    if (this.timer && this.timerAt <= top.latest) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = top.latest;
    this.timer = setTimeout(this.onFire, Math.max(0, top.latest - now));
    if (!this.keepAlive) this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.clock();
    // Node's timers run on the event loop's cached clock, which lags this one after a long tick, so
    // a wake can come before the deadline it was armed for. Waiting for that deadline keeps the
    // deadlines meant to share one callback together (a wake that early ran only the due part).
    const top = this.heap[0];
    if (top && top.latest - now >= 1) {
      this.arm(now);
      return;
    }
    // Everything already due runs now. An entry whose latest time is more than MAX_LATE_MS away
    // starts later than now, so only the top of the heap up to now + MAX_LATE_MS needs a look.
    // Scratch lists kept between wakes and walked by index: a wake allocates no arrays or
    // iterators (docs/architecture.md, idle allocation). A wake is never re-entered.
    const due = this.due;
    const notYet = this.notYet;
    while (this.heap.length > 0 && this.heap[0]!.latest <= now + MAX_LATE_MS) {
      const t = this.pop();
      (t.at <= now ? due : notYet).push(t);
    }
    for (let i = 0; i < notYet.length; i++) this.push(notYet[i]!);
    emptyArray(notYet);
    for (let i = 0; i < due.length; i++) {
      try {
        due[i]!.run();
      } catch (err) {
        reportListenerError(err);
      }
    }
    emptyArray(due);
    this.arm(this.clock());
  }

  // ---- the heap ------------------------------------------------------------------------------

  private push(t: CoalescedTimer): void {
    t.index = this.heap.length;
    this.heap.push(t);
    this.up(t.index);
  }

  private pop(): CoalescedTimer {
    const top = this.heap[0]!;
    this.removeAt(0);
    return top;
  }

  private removeAt(i: number): void {
    const h = this.heap;
    const t = h[i]!;
    const last = h.pop()!;
    t.index = -1;
    if (i < h.length) {
      h[i] = last;
      last.index = i;
      this.down(i);
      this.up(last.index);
    }
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.latest <= h[i]!.latest) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l]!.latest < h[m]!.latest) m = l;
      if (r < h.length && h[r]!.latest < h[m]!.latest) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    const h = this.heap;
    const x = h[a]!;
    h[a] = h[b]!;
    h[b] = x;
    h[a]!.index = a;
    h[b]!.index = b;
  }
}
