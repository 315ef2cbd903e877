// Typed view of the addon's pinnedArrayCount (binding/pinned_array_count_binding.cpp): how many
// ArrayBuffers native objects of this thread hold, each counted once however many objects hold it.
import { nativeExport } from './addon.js';

/** @internal Buffers held by native objects on this thread (tests: shared pools are held once). */
export function pinnedArrayCount(): number {
  return nativeExport<() => number>('pinnedArrayCount')();
}
