// When the C heap is trimmed (docs/architecture.md, "What a connection costs"): after DTLS
// handshakes and closed connections free native memory, rate-limited to a small share of the thread;
// once such a burst has gone quiet, V8 is also asked for the young generation the burst grew
// (docs/architecture.md, "Giving memory back after a burst").
import { performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { trimNativeHeap, type NativeHeapTrimResult } from '../native/native-heap-trim.js';
import { relieveJsHeap, type JsHeapRelief } from '../native/relieve-js-heap.js';

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
 * When V8 is asked to give back its young generation (before a trim, once a burst of freeing
 * events has gone quiet): V8 grows it to 2 x 16 MiB while many connections are set up at once and
 * keeps it while the thread allocates more than about 1 MB/s (10,000 idle PCs do), so 32 MiB stay
 * committed and empty.
 */
export interface JsHeapReliefPolicy {
  /** 'off', or how V8 is asked (lib/native/relieve-js-heap.ts). */
  readonly level: JsHeapRelief | 'off';
  /** Only when the young generation is at least this large, bytes (V8 starts it at 1 MiB). */
  readonly minYoungBytes: number;
  /** Least time between two reliefs, ms. */
  readonly minIntervalMs: number;
  /** Largest share of the thread's time reliefs may take: one of d ms waits d / share before the next. */
  readonly maxShare: number;
}

/**
 * The defaults: one reduce-memory collection after a quiet burst, at most every 30 s and 1 % of the
 * thread (at 10,000 idle PCs it takes a few hundred ms: then the next waits tens of seconds).
 * PWT_JS_HEAP_RELIEF in the environment: 'off' (or 0), 'moderate' or 'critical' overrides the level.
 */
export const DEFAULT_JS_HEAP_RELIEF_POLICY: JsHeapReliefPolicy = { level: 'critical', minYoungBytes: 8 * 1048576, minIntervalMs: 30_000, maxShare: 0.01 };

function reliefFromEnv(): JsHeapReliefPolicy {
  const v = process.env.PWT_JS_HEAP_RELIEF;
  if (v === 'off' || v === '0') return { ...DEFAULT_JS_HEAP_RELIEF_POLICY, level: 'off' };
  if (v === 'moderate' || v === 'critical') return { ...DEFAULT_JS_HEAP_RELIEF_POLICY, level: v };
  return DEFAULT_JS_HEAP_RELIEF_POLICY;
}

/** V8's young generation (new space) as committed now, bytes. */
function youngGenerationBytes(): number {
  for (const s of getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_size;
  return 0;
}

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

  /** Whether no freeing event came in the last `delayMs` before `now` (a burst has ended). */
  quietAt(now: number): boolean {
    return now - this.lastNote >= this.policy.delayMs;
  }

  /**
   * Keeps the end of a burst pending after a trim at `now` that came before the burst went quiet
   * (forced by maxWaitMs just after its last event): one more trim follows once it is quiet.
   */
  awaitQuiet(now: number): void {
    if (this.firstPending === undefined && !this.quietAt(now)) this.firstPending = now;
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
  /** Times V8 was asked to give back its young generation, and the time that took in all, ms. */
  jsHeapReliefs: number;
  jsHeapReliefMs: number;
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
  private reliefNotBefore = -Infinity;

  constructor(
    policy: NativeHeapTrimPolicy = DEFAULT_NATIVE_HEAP_TRIM_POLICY,
    enabled = process.env.PWT_NATIVE_HEAP_TRIM !== '0',
    private readonly relief: JsHeapReliefPolicy = reliefFromEnv(),
    private readonly youngBytes: () => number = youngGenerationBytes,
  ) {
    this.schedule = new NativeHeapTrimSchedule(policy);
    this.stats = { trims: 0, released: 0, totalMs: 0, longestMs: 0, active: enabled, jsHeapReliefs: 0, jsHeapReliefMs: 0 };
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
    // V8 first: its collection frees ArrayBuffer backing stores into the C heap, which the trim
    // then gives back. Only once the burst is over (mid-burst V8 would grow it again at once).
    const quiet = this.schedule.quietAt(start);
    if (quiet) this.relieveJsHeap(start);
    let result: NativeHeapTrimResult;
    try {
      result = trimNativeHeap();
    } catch {
      // An addon without the export (a build older than this file): nothing to trim with, and a
      // timer callback must never throw into the application's loop.
      result = 'unsupported';
    }
    const took = performance.now() - start;
    // The schedule's share counts the relief's time too: a trim after it waits the longer.
    this.schedule.trimmed(start, took);
    // A trim mid-burst leaves the relief to one more trim at the burst's quiet end.
    if (!quiet && this.relief.level !== 'off' && start >= this.reliefNotBefore) this.schedule.awaitQuiet(start);
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

  private relieveJsHeap(now: number): void {
    const level = this.relief.level;
    if (level === 'off' || now < this.reliefNotBefore) return;
    if (this.youngBytes() < this.relief.minYoungBytes) return;
    const start = performance.now();
    if (!relieveJsHeap(level)) {
      this.reliefNotBefore = Infinity; // V8's API is not there: never again
      return;
    }
    const took = performance.now() - start;
    this.stats.jsHeapReliefs++;
    this.stats.jsHeapReliefMs += took;
    this.reliefNotBefore = start + took + Math.max(this.relief.minIntervalMs, took / this.relief.maxShare);
  }
}

/** This thread's trimmer, used by every peer transport of the thread. */
export const nativeHeapTrimmer = new NativeHeapTrimmer();
