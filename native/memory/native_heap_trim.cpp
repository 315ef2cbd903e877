// glibc malloc_trim(0) behind a status (see native_heap_trim.hpp); other C libraries and
// sanitizer builds (whose allocator is not glibc's) report kUnsupported.
#include "native/memory/native_heap_trim.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define PWT_HEAP_IS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PWT_HEAP_IS_SANITIZED 1
#endif
#endif

namespace pwt {

NativeHeapTrim TrimNativeHeap() {
#if defined(__GLIBC__) && !defined(PWT_HEAP_IS_SANITIZED)
  // pad 0: keep nothing spare at the top of the main heap; every arena's free pages are released.
  return malloc_trim(0) == 1 ? NativeHeapTrim::kReleased : NativeHeapTrim::kNothingReleased;
#else
  return NativeHeapTrim::kUnsupported;
#endif
}

}  // namespace pwt
