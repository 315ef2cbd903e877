// Returns the free pages of the C heap to the kernel (glibc malloc_trim; docs/architecture.md,
// "What a connection costs"): what OpenSSL frees after a handshake stays resident otherwise.
#pragma once
#include <cstdint>

namespace pwt {

/** What TrimNativeHeap did. */
enum class NativeHeapTrim : uint8_t {
  /** The C library has no trim call (not glibc, or a sanitizer owns the heap). */
  kUnsupported = 0,
  /** Trimmed; no page was free to give back. */
  kNothingReleased = 1,
  /** Trimmed; some free pages went back to the kernel. */
  kReleased = 2,
};

/**
 * Gives the free pages of every malloc arena back to the kernel (the memory stays mapped and is
 * faulted in again when reused). Thread-safe: glibc locks each arena while it walks it. Costs a
 * walk over the free chunks, so callers rate-limit it (lib/transport/native-heap-trimmer.ts).
 */
NativeHeapTrim TrimNativeHeap();

}  // namespace pwt
