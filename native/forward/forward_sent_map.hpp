// What a layer-selecting consumer was sent under each of its sequence numbers (docs/sfu.md
// "Retransmission"): the producer layer and sequence number, and the timestamp and VP8 PictureID /
// TL0PICIDX offsets in force, so a NACK (RFC 4585 §6.2.1) maps back across temporal drops and layer switches.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pwt {

/** One packet as the consumer got it. */
struct ForwardSentEntry {
  /** The consumer's sequence number (the slot's tag). */
  uint16_t out_seq = 0;
  /** The producer layer's sequence number (its cache key). */
  uint16_t in_seq = 0;
  uint32_t ts_offset = 0;
  uint16_t picture_id_offset = 0;
  uint8_t tl0_offset = 0;
  uint8_t layer = 0;
  bool used = false;
};

/**
 * A ring of the last `packets` sent (rounded up to a power of two), indexed by the consumer's
 * sequence number; allocated once, when a consumer starts selecting layers, never per packet.
 */
class ForwardSentMap {
 public:
  static constexpr size_t kMaxPackets = 32768;

  /**
   * Sizes the map for `packets` slots (rounded up to a power of two, at most kMaxPackets; 0: off);
   * when the rounded size is the current one nothing is reallocated and the entries stay.
   */
  void reset(size_t packets);
  bool enabled() const { return !entries_.empty(); }
  /** Forgets every entry (the consumer moved to another producer: its caches are not ours). */
  void clear();
  void record(const ForwardSentEntry& e);
  /** The entry sent as `out_seq`, or nullptr when none (never sent, or overwritten since). */
  const ForwardSentEntry* find(uint16_t out_seq) const;

 private:
  std::vector<ForwardSentEntry> entries_;
  size_t mask_ = 0;
};

}  // namespace pwt
