// When the C heap is trimmed (docs/architecture.md, "What a connection costs"): after DTLS
// handshakes and closed connections free native memory, rate-limited to a small share of the thread;
// once such a burst has gone quiet, V8 is also asked for the young generation the burst grew
// (docs/architecture.md, "Giving memory back after a burst").
import { performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
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
  /** The burst is over when no freeing event came for this long, ms (longer than a trim's delay). */
  readonly quietMs: number;
  /** ... and when it had at least this many freeing events since the last relief (not one connection). */
  readonly minEvents: number;
  /**
   * A burst (minEvents freeing events, none quietMs after the one before) that comes within this
   * long after a relief shows that bursts come close together in this process, ms: V8 compiles
   * again, during that burst, much of what it had optimized before the relief (docs/architecture.md,
   * "The relief's cost to the next burst").
   */
  readonly reburstMs: number;
  /** After such a burst, the quiet a relief waits for instead of quietMs (until a burst comes later than reburstMs after a relief), ms. */
  readonly reburstQuietMs: number;
  /**
   * 'critical' stops the thread for one full collection whose pause grows with the live JS heap
   * (about 0.1 s at 1,000 idle PCs, 25 MiB, and about 1 s at 10,000 on this 2-core machine under
   * load: every connection's media would stall that long). Above this many bytes of live heap the
   * relief is 'moderate' instead (incremental marking in short steps), bytes.
   */
  readonly maxCriticalHeapBytes: number;
  /** Once a 'critical' relief took longer than this (a loaded machine), later ones are 'moderate', ms. */
  readonly maxCriticalPauseMs: number;
}

/**
 * The defaults: one reduce-memory collection once a burst of at least 16 handshakes or closes has
 * been quiet for 250 ms, at most every 5 s and 5 % of the thread (0.1 s at 1,000 idle PCs at load 5,
 * 0.15–0.23 s at load 7–9, 0.5–0.9 s at 2,000 under load 12–18 on this 2-core machine; one that
 * a burst's quiet end finds held back by that limit comes once the limit has passed); above
 * 32 MiB of live heap (about 1,100 idle PCs, which keep about 21 KiB each since their policy
 * modules are made at first need), and for good once a full one
 * took more than 100 ms, it is the incremental 'moderate' one instead, so the thread that carries
 * every connection's media stops at most once, for a bounded time. Right after a burst the heap's
 * size counts its garbage: a relief asked as 'moderate' for that reason is followed by the full
 * collection once V8's marking has ended and shown the live heap within the limit. A
 * longer minimum would let one relief block the one after the next burst (the case that matters).
 * A burst that comes within 30 s of a relief makes the next relief wait for 30 s of quiet: after a
 * relief V8 compiles again much of what it had optimized, so a process whose bursts come close
 * together pays that at every burst (1,000 pairs at once: about 1.6x the CPU per pair); after
 * 30 s of quiet V8 has often shrunk the young generation itself (below 1 MB/s of allocation).
 * PWT_JS_HEAP_RELIEF in the environment: 'off' (or 0), 'moderate' or 'critical' overrides the level
 * ('critical' named there is used at any heap size).
 */
export const DEFAULT_JS_HEAP_RELIEF_POLICY: JsHeapReliefPolicy = {
  level: 'critical', minYoungBytes: 8 * 1048576, minIntervalMs: 5_000, maxShare: 0.05, quietMs: 250, minEvents: 16, maxCriticalHeapBytes: 32 * 1048576, maxCriticalPauseMs: 100,
  reburstMs: 30_000, reburstQuietMs: 30_000,
};

function reliefFromEnv(): JsHeapReliefPolicy {
  const v = process.env.PWT_JS_HEAP_RELIEF;
  if (v === 'off' || v === '0') return { ...DEFAULT_JS_HEAP_RELIEF_POLICY, level: 'off' };
  if (v === 'moderate') return { ...DEFAULT_JS_HEAP_RELIEF_POLICY, level: v };
  // Asked for by name: the full collection whatever the heap's size and pause (the caller's choice).
  if (v === 'critical') return { ...DEFAULT_JS_HEAP_RELIEF_POLICY, level: v, maxCriticalHeapBytes: Infinity, maxCriticalPauseMs: Infinity };
  return DEFAULT_JS_HEAP_RELIEF_POLICY;
}

/** The live JS heap now (what a full collection marks), bytes. */
function liveHeapBytes(): number {
  return getHeapStatistics().used_heap_size;
}

/** V8's young generation (new space) as committed now, bytes. */
function youngGenerationBytes(): number {
  for (const s of getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_size;
  return 0;
}

/**
 * After a 'moderate' relief the trim waits for V8's incremental collection to end, checking the
 * young generation this often (ms), at most RELIEF_FOLLOW_UP_POLLS times (then it trims anyway).
 */
const RELIEF_FOLLOW_UP_MS = 50;
const RELIEF_FOLLOW_UP_POLLS = 60;

/**
 * Sans-I/O schedule: freeing events and finished trims in (with `now`), the time the next trim is
 * due out. No timer and no clock of its own.
 */
export class NativeHeapTrimSchedule {
  private firstPending: number | undefined;
  private lastNote = 0;
  private notBefore = -Infinity;
  /** The quiet the end of a burst waits for (awaitQuiet), or undefined. */
  private awaitedQuietMs: number | undefined;
  /** The time one more trim is due at (awaitTime), or undefined. */
  private awaitedAt: number | undefined;

  constructor(private readonly policy: NativeHeapTrimPolicy = DEFAULT_NATIVE_HEAP_TRIM_POLICY) {}

  /** Native memory was freed at `now`; returns when the next trim is due. */
  note(now: number): number {
    this.firstPending ??= now;
    this.lastNote = Math.max(this.lastNote, now);
    return this.dueAt() as number;
  }

  /**
   * Whether no freeing event came in the last `quietMs` before `now` (a burst has ended), within
   * 1 ms: a timer may fire that much before its time by `performance.now()`.
   */
  quietAt(now: number, quietMs: number): boolean {
    return now + 1 - this.lastNote >= quietMs;
  }

  /**
   * Keeps the end of a burst pending after a trim at `now` that came before the burst had been
   * quiet for `quietMs`: one more trim is due once it has been that quiet (later events move it).
   * A time awaited before (awaitTime) is dropped: the burst's quiet end decides again.
   */
  awaitQuiet(now: number, quietMs: number): void {
    if (!this.quietAt(now, quietMs)) {
      this.awaitedQuietMs = quietMs;
      this.awaitedAt = undefined;
    }
  }

  /** Keeps one more trim due at `at`, whatever comes before it (a relief held back until then). */
  awaitTime(at: number): void {
    this.awaitedAt = at;
  }

  /** When the next trim is due, or undefined when nothing was freed since the last one and nothing is awaited. */
  dueAt(): number | undefined {
    if (this.firstPending === undefined) {
      const afterQuiet = this.awaitedQuietMs === undefined ? Infinity : this.lastNote + this.awaitedQuietMs;
      const awaited = Math.min(afterQuiet, this.awaitedAt ?? Infinity);
      return awaited === Infinity ? undefined : Math.max(awaited, this.notBefore);
    }
    const quiet = Math.min(this.lastNote + this.policy.delayMs, this.firstPending + this.policy.maxWaitMs);
    return Math.max(quiet, this.notBefore);
  }

  /** A trim started at `start` and took `durationMs`: what was freed before it is served. */
  trimmed(start: number, durationMs: number): void {
    if (this.awaitedQuietMs !== undefined && this.quietAt(start, this.awaitedQuietMs)) this.awaitedQuietMs = undefined;
    // Within 1 ms, like quietAt: a timer may fire that much early by `performance.now()`.
    if (this.awaitedAt !== undefined && start + 1 >= this.awaitedAt) this.awaitedAt = undefined;
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
  /** Of those, the ones asked as 'moderate' because the live heap was above maxCriticalHeapBytes. */
  jsHeapReliefsModerated: number;
  /**
   * Of the moderate ones, those followed by the full collection once their marking had ended and
   * the live heap it found was at most maxCriticalHeapBytes (the burst's garbage had made it look
   * larger when the relief was asked for).
   */
  jsHeapReliefsFollowedUp: number;
  jsHeapReliefMs: number;
  /** Times a burst within reburstMs of a relief made the next relief wait for reburstQuietMs (bursts judged so, not reliefs). */
  jsHeapReburstsAfterRelief: number;
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
  /** Freeing events since the last relief. */
  private eventsSinceRelief = 0;
  /** When the last relief started (performance.now()). */
  private lastReliefAt = -Infinity;
  /** The last freeing event (performance.now()), and the events of the burst it belongs to. */
  private lastEventAt = -Infinity;
  private burstEvents = 0;
  /** The last burst came within reburstMs of a relief: the next relief waits for reburstQuietMs. */
  private reburst = false;
  /** A full collection took longer than maxCriticalPauseMs: never stop the thread for one again. */
  private criticalTooSlow = false;
  /** A relief was asked for and its trim has not run yet. */
  private reliefInProgress = false;
  /** The relief in progress is 'moderate' only because the heap, garbage included, looked too large. */
  private followUpDue = false;

  constructor(
    policy: NativeHeapTrimPolicy = DEFAULT_NATIVE_HEAP_TRIM_POLICY,
    enabled = process.env.PWT_NATIVE_HEAP_TRIM !== '0',
    private readonly relief: JsHeapReliefPolicy = reliefFromEnv(),
    private readonly youngBytes: () => number = youngGenerationBytes,
    private readonly liveBytes: () => number = liveHeapBytes,
  ) {
    this.schedule = new NativeHeapTrimSchedule(policy);
    this.stats = { trims: 0, released: 0, totalMs: 0, longestMs: 0, active: enabled, jsHeapReliefs: 0, jsHeapReliefsModerated: 0, jsHeapReliefsFollowedUp: 0, jsHeapReliefMs: 0, jsHeapReburstsAfterRelief: 0 };
  }

  /** Native memory was freed (a handshake finished, a connection closed): trim soon. */
  noteFreed(): void {
    if (!this.stats.active) return;
    const now = performance.now();
    this.eventsSinceRelief++;
    // Every burst (events less than quietMs apart) that reaches minEvents decides, by how soon after
    // the last relief it came, how long the next relief waits (docs/architecture.md, "The relief's
    // cost to the next burst"); a burst whose relief was skipped (a small young generation) is
    // judged again by the next one.
    if (now - this.lastEventAt >= this.relief.quietMs) this.burstEvents = 0;
    this.lastEventAt = now;
    if (++this.burstEvents === this.relief.minEvents) {
      this.reburst = now - this.lastReliefAt < this.relief.reburstMs;
      if (this.reburst) this.stats.jsHeapReburstsAfterRelief++;
    }
    this.arm(this.schedule.note(now));
  }

  /** The quiet the end of a burst must have before a relief, ms. */
  private reliefQuietMs(): number {
    return this.reburst ? this.relief.reburstQuietMs : this.relief.quietMs;
  }

  /**
   * Stops the trimmer for good: the pending trim (and the relief waiting for V8 before it) is
   * dropped, freeing events are ignored from now on, and `pending` is false.
   */
  stop(): void {
    this.stats.active = false;
    this.clearTimer();
  }

  /** Clears the timer and what it was waiting for: a relief whose timer is gone is no longer in progress. */
  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
    this.reliefInProgress = false;
    this.followUpDue = false;
  }

  private arm(at: number): void {
    if (this.timer !== undefined && this.armedAt <= at) return;
    this.clearTimer();
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
    const quiet = this.schedule.quietAt(start, this.reliefQuietMs());
    const relief = quiet ? this.relieveJsHeap(start) : undefined;
    if (relief) {
      // Node runs the N-API finalizers of the objects that collection found dead in a later turn
      // (setImmediate); their native memory is freed only then, so the trim waits one turn for it.
      // A 'moderate' relief only starts V8's incremental marking: its collection ends in V8's own
      // tasks a little later (about 0.2 s at 1,000 idle PCs), so the trim waits for that first.
      this.armedAt = -Infinity; // a freeing event meanwhile does not re-arm: this trim serves it
      this.reliefInProgress = true;
      this.afterRelief(relief === 'moderate' ? RELIEF_FOLLOW_UP_POLLS : 0, quiet);
      return;
    }
    this.trim(start, quiet);
  }

  /**
   * Trims once V8's collection asked for by the relief has ended (the young generation is below
   * `minYoungBytes` again, or `polls` checks RELIEF_FOLLOW_UP_MS apart found it still running),
   * one turn after it for the finalizers.
   */
  private afterRelief(polls: number, quiet: boolean): void {
    const shrunk = this.youngBytes() < this.relief.minYoungBytes;
    const ended = polls <= 0 || shrunk;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!ended) {
        this.afterRelief(polls - 1, quiet);
        return;
      }
      // The marking has ended, so the heap's size is its live size now: when that is within the
      // full collection's limit, the full one follows (one pause, the limit's own), then one more
      // turn for its finalizers before the trim.
      if (this.followUpDue) {
        this.followUpDue = false;
        if (shrunk && this.followUp()) {
          this.afterRelief(0, quiet);
          return;
        }
      }
      this.armedAt = Infinity;
      this.reliefInProgress = false;
      this.trim(performance.now(), quiet);
    }, ended ? 1 : RELIEF_FOLLOW_UP_MS);
    this.timer.unref();
  }

  /**
   * Whether a trim (and the relief before it) is due or under way: freed memory not given back
   * yet, or V8's incremental collection asked for by a relief still running. A benchmark that
   * forces collections of its own waits for this to clear first: a forced collection finishes V8's
   * marking without reducing memory, and the young generation stays committed. After a reburst
   * this stays true for up to reburstQuietMs (the trim at the quiet's end, whose relief may then
   * be skipped), and after a relief the rate limit held back, until that limit has passed (5 s by
   * default, longer after a slow relief: its cost / maxShare).
   */
  get pending(): boolean {
    return this.timer !== undefined || this.reliefInProgress;
  }

  /** The trim itself (after the relief, when there was one), then the next one armed. */
  private trim(start: number, quiet: boolean): void {
    let result: NativeHeapTrimResult;
    try {
      result = trimNativeHeap();
    } catch {
      // An addon without the export (a build older than this file): nothing to trim with, and a
      // timer callback must never throw into the application's loop.
      result = 'unsupported';
    }
    const took = performance.now() - start;
    // The relief has its own share; the trim's gap counts the trim only.
    this.schedule.trimmed(start, took);
    // A trim before the burst went quiet leaves the relief to a later trim at its quiet end; a
    // relief that the quiet found held back by the last one's interval (and its cost) comes with a
    // trim once that is over, not only after the next burst.
    if (!quiet && this.wantsRelief()) this.schedule.awaitQuiet(start, this.reliefQuietMs());
    // 1 ms after the limit: the timer may fire that much early by `performance.now()`, and the
    // relief itself allows no slack.
    else if (quiet && this.reliefHeldBack(start)) this.schedule.awaitTime(this.reliefNotBefore + 1);
    if (result === 'unsupported') {
      this.stop();
      return;
    }
    this.stats.trims++;
    if (result === 'released') this.stats.released++;
    this.stats.totalMs += took;
    this.stats.longestMs = Math.max(this.stats.longestMs, took);
    const next = this.schedule.dueAt();
    if (next !== undefined) this.arm(next);
  }

  /** Whether a relief may come once the burst is quiet (its other conditions are checked then). */
  private wantsRelief(): boolean {
    return this.relief.level !== 'off' && this.eventsSinceRelief >= this.relief.minEvents && this.reliefNotBefore !== Infinity;
  }

  /** Whether a relief at `now` would have its other conditions and only waits for the last one's rate limit. */
  private reliefHeldBack(now: number): boolean {
    return this.wantsRelief() && now < this.reliefNotBefore && this.youngBytes() >= this.relief.minYoungBytes;
  }

  /** Asks V8 for its young generation when it is grown and the last relief is long enough ago; how it asked, if it did. */
  private relieveJsHeap(now: number): JsHeapRelief | undefined {
    let level = this.relief.level;
    if (level === 'off' || !this.wantsRelief() || now < this.reliefNotBefore) return undefined;
    if (this.youngBytes() < this.relief.minYoungBytes) return undefined;
    this.eventsSinceRelief = 0;
    const moderated = level === 'critical' && (this.criticalTooSlow || this.liveBytes() > this.relief.maxCriticalHeapBytes);
    if (moderated) level = 'moderate';
    // Right after a burst the heap's size counts the burst's garbage, and V8's incremental
    // collection compacts less and leaves more committed than the full one (docs/architecture.md,
    // "Idle PCs, tenth pass"): whether the heap really was too large is known once marking ends.
    this.followUpDue = moderated && !this.criticalTooSlow;
    const start = performance.now();
    if (!relieveJsHeap(level)) {
      this.reliefNotBefore = Infinity; // V8's API is not there: never again
      return undefined;
    }
    const took = performance.now() - start;
    this.lastReliefAt = start;
    this.stats.jsHeapReliefs++;
    if (moderated) this.stats.jsHeapReliefsModerated++;
    if (level === 'critical' && took > this.relief.maxCriticalPauseMs) this.criticalTooSlow = true;
    this.stats.jsHeapReliefMs += took;
    this.reliefNotBefore = start + took + Math.max(this.relief.minIntervalMs, took / this.relief.maxShare);
    return level;
  }

  /** The full collection after a moderate relief, when the live heap it measured allows it; whether it ran. */
  private followUp(): boolean {
    if (this.criticalTooSlow || this.liveBytes() > this.relief.maxCriticalHeapBytes) return false;
    const start = performance.now();
    if (!relieveJsHeap('critical')) return false;
    const took = performance.now() - start;
    this.lastReliefAt = start; // a memory-reducing collection too: the next burst pays for it alike
    this.stats.jsHeapReliefs++;
    this.stats.jsHeapReliefsFollowedUp++;
    this.stats.jsHeapReliefMs += took;
    if (took > this.relief.maxCriticalPauseMs) this.criticalTooSlow = true;
    // Its cost counts against the relief's share like any other relief's.
    this.reliefNotBefore = Math.max(this.reliefNotBefore, start + took + Math.max(this.relief.minIntervalMs, took / this.relief.maxShare));
    return true;
  }
}

/** This thread's trimmer, used by every peer transport of the thread. */
export const nativeHeapTrimmer = new NativeHeapTrimmer();
