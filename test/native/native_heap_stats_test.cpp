// ReadNativeHeapStats (native/memory/native_heap_stats.hpp): with glibc, a 4 MiB block shows in
// `in_use` (and in `mmapped`: it is above the mmap threshold) while it lives and leaves it when
// freed; 64 blocks of 16 KiB freed in the middle of the heap show in `free`. A sanitizer build,
// whose allocator is not glibc's, says unsupported with every total zero.
#include <cstdlib>
#include <cstring>
#include <vector>

#include "native/memory/native_heap_stats.hpp"
#include "test/native/check.hpp"

using namespace pwt;

int main() {
  const NativeHeapStats before = ReadNativeHeapStats();
#if defined(__SANITIZE_ADDRESS__) || !defined(__GLIBC__)
  CHECK(!before.supported);
  CHECK_EQ(before.in_use, 0u);
  CHECK_EQ(before.free, 0u);
#else
  CHECK(before.supported);
  constexpr size_t kBig = 4 * 1024 * 1024;
  auto* big = static_cast<unsigned char*>(std::malloc(kBig));
  CHECK(big != nullptr);
  std::memset(big, 1, kBig);
  const NativeHeapStats during = ReadNativeHeapStats();
  CHECK(during.in_use >= before.in_use + kBig);
  CHECK(during.mmapped >= before.mmapped + kBig);
  std::free(big);
  const NativeHeapStats after = ReadNativeHeapStats();
  CHECK(after.in_use + kBig <= during.in_use);

  constexpr size_t kSmall = 16 * 1024;
  std::vector<void*> blocks(128);
  for (void*& b : blocks) b = std::malloc(kSmall);
  const NativeHeapStats filled = ReadNativeHeapStats();
  for (size_t i = 0; i < blocks.size(); i += 2) std::free(blocks[i]);
  const NativeHeapStats holes = ReadNativeHeapStats();
  CHECK(holes.free >= filled.free + 64 * kSmall);
  CHECK(holes.in_use + 64 * kSmall <= filled.in_use);
  for (size_t i = 1; i < blocks.size(); i += 2) std::free(blocks[i]);
#endif
  TEST_MAIN_END();
}
