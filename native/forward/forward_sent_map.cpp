// What a layer-selecting consumer was sent (see forward_sent_map.hpp; docs/sfu.md "Retransmission").
#include "native/forward/forward_sent_map.hpp"

namespace pwt {

void ForwardSentMap::reset(size_t packets) {
  if (packets == 0) {
    entries_ = std::vector<ForwardSentEntry>();
    mask_ = 0;
    return;
  }
  size_t n = 1;
  while (n < packets && n < kMaxPackets) n <<= 1;
  if (n == entries_.size()) return;  // same size: no reallocation, the entries stay
  entries_.assign(n, ForwardSentEntry());
  mask_ = n - 1;
}

void ForwardSentMap::clear() {
  for (ForwardSentEntry& e : entries_) e.used = false;
}

void ForwardSentMap::record(const ForwardSentEntry& e) {
  if (entries_.empty()) return;
  ForwardSentEntry& slot = entries_[e.out_seq & mask_];
  slot = e;
  slot.used = true;
}

const ForwardSentEntry* ForwardSentMap::find(uint16_t out_seq) const {
  if (entries_.empty()) return nullptr;
  const ForwardSentEntry& e = entries_[out_seq & mask_];
  return e.used && e.out_seq == out_seq ? &e : nullptr;
}

}  // namespace pwt
