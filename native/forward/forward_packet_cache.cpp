// A producer's bounded packet cache (see forward_packet_cache.hpp; docs/sfu.md "Retransmission").
#include "native/forward/forward_packet_cache.hpp"

#include <cstring>

namespace pwt {

ForwardPacketCache::ForwardPacketCache(size_t packets) {
  if (packets == 0) return;
  size_t n = 1;
  while (n < packets && n < 32768) n <<= 1;
  entries_.resize(n);
  bytes_.resize(n * kSlotBytes);
  mask_ = n - 1;
}

void ForwardPacketCache::store(uint16_t seq, const uint8_t* data, size_t len) {
  if (entries_.empty()) return;
  Entry& e = entries_[seq & mask_];
  if (len == 0 || len > kSlotBytes) {
    e.length = 0;  // a newer packet owns the slot even when it cannot be kept
    return;
  }
  std::memcpy(bytes_.data() + (seq & mask_) * kSlotBytes, data, len);
  e.seq = seq;
  e.length = static_cast<uint16_t>(len);
}

const uint8_t* ForwardPacketCache::find(uint16_t seq, size_t* len) const {
  if (entries_.empty()) return nullptr;
  const Entry& e = entries_[seq & mask_];
  if (e.length == 0 || e.seq != seq) return nullptr;
  *len = e.length;
  return bytes_.data() + (seq & mask_) * kSlotBytes;
}

}  // namespace pwt
