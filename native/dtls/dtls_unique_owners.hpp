// The distinct owners of a batch of finished engines, in first-seen order (the binding wakes each
// wrapper once per batch; an engine is listed once per job it finished, docs/dtls.md "Handshake thread").
// O(n): a short batch is scanned linearly (no allocation), a long one through a hash set (a burst of
// 2,000 handshakes on one wake-up once cost up to 4M comparisons with the nested scan).
#pragma once
#include <cstddef>
#include <unordered_set>
#include <vector>

namespace pwt {

/** Batches up to this size are de-duplicated by a linear scan (at most 16 × 16 / 2 comparisons). */
constexpr size_t kUniqueOwnersLinearMax = 16;

/**
 * Removes null and repeated entries from `owners` in place, keeping the first occurrence of each
 * in its original order.
 */
template <typename T>
void KeepUniqueOwners(std::vector<T*>& owners) {
  size_t out = 0;
  if (owners.size() <= kUniqueOwnersLinearMax) {
    for (size_t i = 0; i < owners.size(); ++i) {
      T* o = owners[i];
      if (o == nullptr) continue;
      bool seen = false;
      for (size_t j = 0; j < out && !seen; ++j) seen = owners[j] == o;
      if (!seen) owners[out++] = o;
    }
  } else {
    std::unordered_set<T*> seen;
    seen.reserve(owners.size());
    for (size_t i = 0; i < owners.size(); ++i) {
      T* o = owners[i];
      if (o != nullptr && seen.insert(o).second) owners[out++] = o;
    }
  }
  owners.resize(out);
}

}  // namespace pwt
