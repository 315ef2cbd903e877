// A producer's bounded packet cache for answering consumers' NACKs (RFC 4585 §6.2.1) without asking
// the publisher again (docs/sfu.md "Retransmission"): a ring of fixed slots indexed by the producer's
// RTP sequence number, allocated once when the producer is created.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pwt {

class ForwardPacketCache {
 public:
  /** Largest packet kept; longer ones are not cached (counted by the engine as a miss when asked). */
  static constexpr size_t kSlotBytes = 1500;

  /** `packets` is rounded up to a power of two (0: no cache). */
  explicit ForwardPacketCache(size_t packets = 0);

  bool enabled() const { return !entries_.empty(); }
  size_t capacity() const { return entries_.size(); }

  /** Keeps a copy of the clear RTP packet with sequence number `seq` (replaces the slot's older one). */
  void store(uint16_t seq, const uint8_t* data, size_t len);

  /** The packet with sequence number `seq` if still cached: its bytes and length, else nullptr. */
  const uint8_t* find(uint16_t seq, size_t* len) const;

 private:
  struct Entry {
    uint16_t seq = 0;
    uint16_t length = 0;  // 0: empty
  };
  std::vector<Entry> entries_;
  std::vector<uint8_t> bytes_;
  size_t mask_ = 0;
};

}  // namespace pwt
