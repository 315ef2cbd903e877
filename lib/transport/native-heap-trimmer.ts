// When the C heap is trimmed (docs/architecture.md, "What a connection costs"): after DTLS
// handshakes and closed connections free native memory, rate-limited to a small share of the thread.
import { performance } from 'node:perf_hooks';
import { trimNativeHeap, type NativeHeapTrimResult } from '../native/native-heap-trim.js';

/** Tuning of the trim schedule, milliseconds. */
export interface NativeHeapTrimPolicy {
  /** Quiet time after the last freeing event before a trim (a burst of handshakes ends first). */
  readonly delayMs: number;
  /** Longest a freeing event waits while more keep coming (a long burst still gets trims). */
  readonly maxWaitMs: number;
  /** Least time from the end of one trim to the start of the next. */
  readonly minIntervalMs: number;
  /** Largest share of the thread's time trims may take: a trim of d ms waits d / share before the next. */
  readonly maxShare: number;
}

/** The defaults: a trim of a 10,000-connection heap walks its free chunks in tens of ms. */
export const DEFAULT_NATIVE_HEAP_TRIM_POLICY: NativeHeapTrimPolicy = { delayMs: 100, maxWaitMs: 2000, minIntervalMs: 250, maxShare: 0.05 };

/**
 * Sans-I/O schedule: freeing events and finished trims in (with `now`), the time the next trim is
 * due out. No timer and no clock of its own.
 */
export class NativeHeapTrimSchedule {
  private firstPending: number | undefined;
  private lastNote = 0;
  private notBefore = -Infinity;

  constructor(private readonly policy: NativeHeapTrimPolicy = DEFAULT_NATIVE_HEAP_TRIM_POLICY) {}

  /** Native memory was freed at `now`; returns when the next trim is due. */
  note(now: number): number {
    this.firstPending ??= now;
    this.lastNote = Math.max(this.lastNote, now);
    return this.dueAt() as number;
  }

  /** When the next trim is due, or undefined when nothing was freed since the last one. */
  dueAt(): number | undefined {
    if (this.firstPending === undefined) return undefined;
    const quiet = Math.min(this.lastNote + this.policy.delayMs, this.firstPending + this.policy.maxWaitMs);
    return Math.max(quiet, this.notBefore);
  }

  /** A trim started at `start` and took `durationMs`: what was freed before it is served. */
  trimmed(start: number, durationMs: number): void {
    if (this.firstPending !== undefined && this.lastNote <= start) this.firstPending = undefined;
    else if (this.firstPending !== undefined) this.firstPending = start;
    const gap = Math.max(this.policy.minIntervalMs, durationMs / this.policy.maxShare);
    this.notBefore = start + durationMs + gap;
  }
}

/** What the thread's trimmer did so far. */
export interface NativeHeapTrimStats {
  /** Trims run. */
  trims: number;
  /** Trims that gave pages back to the kernel. */
  released: number;
  /** Total and longest time spent in trims, ms. */
  totalMs: number;
  longestMs: number;
  /** False once the C library said it cannot trim (not glibc), or when PWT_NATIVE_HEAP_TRIM=0. */
  active: boolean;
}

/**
 * The thread's trimmer (module state is per thread: each worker has its own). One unref'd timer;
 * glibc's malloc_trim is process-wide and locks each arena it walks, so concurrent trims from
 * several threads are safe. PWT_NATIVE_HEAP_TRIM=0 in the environment turns it off.
 */
export class NativeHeapTrimmer {
  readonly stats: NativeHeapTrimStats;
  private readonly schedule: NativeHeapTrimSchedule;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private armedAt = Infinity;

  constructor(policy: NativeHeapTrimPolicy = DEFAULT_NATIVE_HEAP_TRIM_POLICY, enabled = process.env.PWT_NATIVE_HEAP_TRIM !== '0') {
    this.schedule = new NativeHeapTrimSchedule(policy);
    this.stats = { trims: 0, released: 0, totalMs: 0, longestMs: 0, active: enabled };
  }

  /** Native memory was freed (a handshake finished, a connection closed): trim soon. */
  noteFreed(): void {
    if (!this.stats.active) return;
    this.arm(this.schedule.note(performance.now()));
  }

  private arm(at: number): void {
    if (this.timer !== undefined && this.armedAt <= at) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.armedAt = at;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, Math.ceil(at - performance.now())));
    // A pending trim never keeps the process alive.
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const due = this.schedule.dueAt();
    if (due === undefined || !this.stats.active) return;
    const start = performance.now();
    if (due > start + 1) {
      this.arm(due);
      return;
    }
    let result: NativeHeapTrimResult;
    try {
      result = trimNativeHeap();
    } catch {
      // An addon without the export (a build older than this file): nothing to trim with, and a
      // timer callback must never throw into the application's loop.
      result = 'unsupported';
    }
    const took = performance.now() - start;
    this.schedule.trimmed(start, took);
    if (result === 'unsupported') {
      this.stats.active = false;
      return;
    }
    this.stats.trims++;
    if (result === 'released') this.stats.released++;
    this.stats.totalMs += took;
    this.stats.longestMs = Math.max(this.stats.longestMs, took);
    const next = this.schedule.dueAt();
    if (next !== undefined) this.arm(next);
  }
}

/** This thread's trimmer, used by every peer transport of the thread. */
export const nativeHeapTrimmer = new NativeHeapTrimmer();
