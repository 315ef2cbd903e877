// Typed view of the addon's C-heap trim (binding/native_heap_trim_binding.cpp,
// native/memory/native_heap_trim.hpp): glibc's malloc_trim(0), rate-limited by lib/transport.
import { nativeExport } from './addon.js';

/** What one trim did. */
export type NativeHeapTrimResult = 'unsupported' | 'nothing-released' | 'released';

const RESULTS: readonly NativeHeapTrimResult[] = ['unsupported', 'nothing-released', 'released'];

let fn: (() => number) | undefined;

/**
 * Gives the free pages of every malloc arena of the process back to the kernel (glibc; elsewhere
 * 'unsupported'). Synchronous: it walks the free chunks, milliseconds on a large heap.
 */
export function trimNativeHeap(): NativeHeapTrimResult {
  return RESULTS[(fn ??= nativeExport<() => number>('trimNativeHeap'))()] ?? 'unsupported';
}
