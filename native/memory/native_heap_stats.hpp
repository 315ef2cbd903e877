// How much of the C heap is in use and how much is free but still mapped (glibc mallinfo2), to
// tell OpenSSL's and our allocations from allocator fragmentation (docs/architecture.md).
#pragma once
#include <cstdint>

namespace pwt {

/** Totals over every malloc arena, bytes; all zero with supported == false where unknown. */
struct NativeHeapStats {
  bool supported = false;
  /** Bytes in allocated chunks, heap and mmap'd. */
  uint64_t in_use = 0;
  /** Bytes in free chunks (resident or not: a trim gives their whole pages back). */
  uint64_t free = 0;
  /** Bytes in chunks mapped one by one (large allocations). */
  uint64_t mmapped = 0;
};

/** Reads the allocator's totals (glibc: mallinfo2, which locks each arena briefly). */
NativeHeapStats ReadNativeHeapStats();

}  // namespace pwt
