// Typed view of the addon's memory-pressure call (binding/native_heap_release_binding.cpp):
// V8's MemoryPressureNotification on the calling thread's isolate, used by lib/transport to give
// back the young generation a burst of set-ups grew (docs/architecture.md, "after a burst").
import { nativeExport } from './addon.js';

/**
 * How hard to ask: 'critical' runs one full collection that reduces memory at once (synchronous;
 * V8 shrinks its young generation to the minimum), 'moderate' starts incremental marking that ends
 * in such a collection a little later (short pauses, done in V8's tasks on this thread).
 */
export type JsHeapRelief = 'moderate' | 'critical';

let fn: ((critical: boolean) => boolean) | undefined | null;

/**
 * Tells V8 that memory is wanted back; returns false when V8's API was not found in the process
 * (a runtime other than Node) or the loaded addon predates the call.
 */
export function relieveJsHeap(level: JsHeapRelief): boolean {
  if (fn === null) return false;
  try {
    fn ??= nativeExport<(critical: boolean) => boolean>('relieveJsHeap');
  } catch {
    fn = null;
    return false;
  }
  return fn(level === 'critical');
}
