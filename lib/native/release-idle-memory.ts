// releaseIdleMemory(): gives back what a burst of work left committed (V8's grown young
// generation, free C-heap pages) once the process is idle (docs/architecture.md, "Giving memory
// back after a burst"; binding/native_heap_release_binding.cpp).
import { nativeExport } from './addon.js';
import type { NativeHeapTrimResult } from './native-heap-trim.js';

/** What one releaseIdleMemory() call did. */
export interface IdleMemoryRelease {
  /**
   * 'notified': V8 got its low-memory notification (full collections; it shrinks its young
   * generation to the minimum and releases free pages). 'unsupported': V8's API was not found in
   * this process (a runtime other than Node, or a platform without dlsym).
   */
  readonly jsHeap: 'notified' | 'unsupported';
  /**
   * The C-heap trim (glibc's malloc_trim): 'released' when free pages went back to the kernel;
   * 'unsupported' with other C libraries and under sanitizers.
   */
  readonly nativeHeap: 'released' | 'nothing-released' | 'unsupported';
}

const TRIM_RESULTS: readonly NativeHeapTrimResult[] = ['unsupported', 'nothing-released', 'released'];

let fn: (() => number) | undefined;

/**
 * Asks V8 to free what it can (its low-memory notification: several full, synchronous garbage
 * collections, then the young generation shrunk to its minimum), then returns the free pages of
 * the C heap to the kernel. V8 keeps the young generation it grew during a burst (thousands of
 * connections set up at once: 2 x 16 MiB) while the thread allocates more than about 1 MB/s; the
 * library asks V8 for it after a quiet burst of set-ups (rate-limited; a full collection only while
 * the heap is small, else incremental marking; PWT_JS_HEAP_RELIEF=off turns that off; only where
 * the C heap can be trimmed: glibc), and this call does it fully when the application chooses (old
 * space compacted several times as well). It blocks the calling thread for the length of those collections (tens of
 * milliseconds per 100 MiB of heap), so call it when the application knows it is idle (after a
 * burst of set-ups, at a quiet moment), not on a timer of a busy server. Acts on the calling
 * thread's isolate and on the whole process's C heap; safe from any worker thread.
 */
export function releaseIdleMemory(): IdleMemoryRelease {
  const r = (fn ??= nativeExport<() => number>('releaseIdleMemory'))();
  return { jsHeap: (r & 1) !== 0 ? 'notified' : 'unsupported', nativeHeap: TRIM_RESULTS[(r >> 1) & 3] ?? 'unsupported' };
}
