// KeepUniqueOwners (native/dtls/dtls_unique_owners.hpp): the binding's de-duplication of finished
// engines' wrappers. Same result as the nested scan it replaced (first occurrence kept, order kept,
// nulls dropped) on both paths (linear up to 16 entries, hashed above), for seeded random batches
// with duplicates; a 4,000-entry batch of 2,000 owners each listed twice stays linear in time.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "native/dtls/dtls_unique_owners.hpp"
#include "test/native/check.hpp"

using namespace pwt;

namespace {

// The nested scan the binding used before (the reference result).
std::vector<int*> NestedUnique(const std::vector<int*>& in) {
  std::vector<int*> out;
  for (int* o : in) {
    if (o == nullptr) continue;
    bool listed = false;
    for (int* w : out) listed = listed || w == o;
    if (!listed) out.push_back(o);
  }
  return out;
}

}  // namespace

int main() {
  static int pool[3000];
  {
    std::vector<int*> v{&pool[3], nullptr, &pool[1], &pool[3], &pool[2], &pool[1], nullptr, &pool[3]};
    KeepUniqueOwners(v);
    CHECK_EQ(v.size(), 3u);
    CHECK(v[0] == &pool[3] && v[1] == &pool[1] && v[2] == &pool[2]);
  }
  {
    std::vector<int*> v;
    KeepUniqueOwners(v);
    CHECK(v.empty());
    std::vector<int*> nulls(40, nullptr);
    KeepUniqueOwners(nulls);
    CHECK(nulls.empty());
  }
  // Both paths against the reference, sizes around the linear/hashed boundary and far above it.
  std::mt19937 rng(20261206);
  for (int round = 0; round < 400; ++round) {
    size_t n = round < 200 ? static_cast<size_t>(round % 40) : 17 + rng() % 3000;
    size_t distinct = 1 + rng() % (n + 1);
    std::vector<int*> v;
    for (size_t i = 0; i < n; ++i) v.push_back(rng() % 11 == 0 ? nullptr : &pool[rng() % distinct]);
    std::vector<int*> want = NestedUnique(v);
    KeepUniqueOwners(v);
    CHECK(v == want);
  }
  // 2,000 owners each listed twice (a burst's worth of finished jobs in one wake-up).
  {
    std::vector<int*> v;
    for (int rep = 0; rep < 2; ++rep)
      for (int i = 0; i < 2000; ++i) v.push_back(&pool[(i * 7919) % 2000]);
    auto t0 = std::chrono::steady_clock::now();
    KeepUniqueOwners(v);
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
    CHECK_EQ(v.size(), 2000u);
    for (int i = 0; i < 2000; ++i) CHECK(v[i] == &pool[(i * 7919) % 2000]);
    std::printf("4000 entries, 2000 owners: %lld us\n", static_cast<long long>(us));
  }
  TEST_MAIN_END();
}
