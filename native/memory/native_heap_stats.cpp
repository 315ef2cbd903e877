// glibc mallinfo2 behind NativeHeapStats (see native_heap_stats.hpp); other C libraries and
// sanitizer builds (whose allocator is not glibc's) report supported == false.
#include "native/memory/native_heap_stats.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define PWT_HEAP_STATS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PWT_HEAP_STATS_SANITIZED 1
#endif
#endif

namespace pwt {

NativeHeapStats ReadNativeHeapStats() {
  NativeHeapStats stats;
#if defined(__GLIBC__) && !defined(PWT_HEAP_STATS_SANITIZED) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 info = mallinfo2();
  stats.supported = true;
  stats.in_use = static_cast<uint64_t>(info.uordblks) + static_cast<uint64_t>(info.hblkhd);
  stats.free = static_cast<uint64_t>(info.fordblks);
  stats.mmapped = static_cast<uint64_t>(info.hblkhd);
#endif
  return stats;
}

}  // namespace pwt
