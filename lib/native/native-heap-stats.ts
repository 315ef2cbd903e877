// Typed view of the addon's C-heap totals (binding/native_heap_stats_binding.cpp,
// native/memory/native_heap_stats.hpp): glibc mallinfo2, for the memory benchmark's breakdown.
import { nativeExport } from './addon.js';

/** The allocator's totals over every malloc arena, bytes. */
export interface NativeHeapStats {
  /** Bytes in allocated chunks. */
  inUse: number;
  /** Bytes in free chunks (fragmentation, or pages not yet trimmed). */
  free: number;
  /** Bytes of large allocations mapped one by one (part of inUse). */
  mmapped: number;
}

let fn: ((out: Float64Array) => boolean) | undefined;

/** The C heap's totals, or undefined where the allocator cannot say (not glibc, sanitizers). */
export function nativeHeapStats(): NativeHeapStats | undefined {
  const out = new Float64Array(4);
  if (!(fn ??= nativeExport<(out: Float64Array) => boolean>('nativeHeapStats'))(out) || out[0] !== 1) return undefined;
  return { inUse: out[1]!, free: out[2]!, mmapped: out[3]! };
}
