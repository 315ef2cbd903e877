// TrimNativeHeap (native/memory/native_heap_trim.hpp): with glibc, holes freed in the middle of
// the heap stay resident until the trim, which gives their pages back (the resident set drops by
// at least a quarter of the freed bytes); a sanitizer build, whose allocator is not glibc's, says
// unsupported. Neither the trim nor a second one in a row disturbs the blocks still in use.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "native/memory/native_heap_trim.hpp"
#include "test/native/check.hpp"

using namespace pwt;

namespace {

// Only a glibc build measures what the trim gave back (a sanitizer's allocator has nothing to
// trim); the same detection as native_heap_trim.cpp.
#if defined(__SANITIZE_ADDRESS__)
#define PWT_TEST_HEAP_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PWT_TEST_HEAP_SANITIZED 1
#endif
#endif
#if defined(__GLIBC__) && !defined(PWT_TEST_HEAP_SANITIZED)
#define PWT_TRIM_MEASURED 1
long ResidentBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return -1;
  long size = 0, resident = 0;
  int n = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * sysconf(_SC_PAGESIZE) : -1;
}
#endif

}  // namespace

int main() {
  // 32 KiB blocks: under glibc's mmap threshold, so they come from the heap; every other one is
  // freed, leaving holes of whole pages between blocks in use (what a connection's freed DTLS
  // buffers look like between the allocations of the connections made after it).
  constexpr size_t kBlock = 32 * 1024;
  constexpr size_t kBlocks = 1024;
  std::vector<unsigned char*> blocks(kBlocks);
  for (size_t i = 0; i < kBlocks; ++i) {
    blocks[i] = static_cast<unsigned char*>(std::malloc(kBlock));
    CHECK(blocks[i] != nullptr);
    std::memset(blocks[i], static_cast<int>(i & 0xff), kBlock);
  }
  for (size_t i = 0; i < kBlocks; i += 2) {
    std::free(blocks[i]);
    blocks[i] = nullptr;
  }
#if defined(PWT_TRIM_MEASURED)
  const long before = ResidentBytes();
  const NativeHeapTrim first = TrimNativeHeap();
  const long after = ResidentBytes();
  CHECK(first == NativeHeapTrim::kReleased);
  CHECK(before > 0 && after > 0);
  const long freed = static_cast<long>(kBlocks / 2 * kBlock);
  if (before - after < freed / 4) std::fprintf(stderr, "resident %ld -> %ld, freed %ld\n", before, after, freed);
  CHECK(before - after >= freed / 4);
#else
  CHECK(TrimNativeHeap() == NativeHeapTrim::kUnsupported);
#endif
  const NativeHeapTrim second = TrimNativeHeap();
  CHECK(second == NativeHeapTrim::kUnsupported || second == NativeHeapTrim::kNothingReleased ||
        second == NativeHeapTrim::kReleased);
  // The blocks in use kept their bytes.
  for (size_t i = 1; i < kBlocks; i += 2) {
    bool intact = true;
    for (size_t j = 0; j < kBlock; j += 997) intact = intact && blocks[i][j] == static_cast<unsigned char>(i & 0xff);
    CHECK(intact);
    std::free(blocks[i]);
  }
  TEST_MAIN_END();
}
