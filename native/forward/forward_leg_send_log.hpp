// Send records of one subscriber leg for a send-side estimate from its transport-cc feedback
// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3; docs/sfu.md "Automatic layer selection"):
// the transport-wide sequence number the engine wrote, the send time and the size of each packet.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pwt {

/** One sent packet of a leg. */
struct ForwardLegSend {
  uint16_t seq = 0;     // transport-wide sequence number written into the packet
  uint32_t size = 0;    // bytes on the wire (SRTP included)
  uint64_t sent_us = 0; // monotonic
};

/**
 * A ring indexed by sequence number (capacity a power of two, allocated once by enable()): a
 * record overwrites the slot of the number `capacity` earlier. JavaScript reads what was sent since
 * its last read with collect(), one call per feedback; lookup() answers one number.
 */
class ForwardLegSendLog {
 public:
  /** Keeps the last `capacity` numbers (rounded up to a power of two; 0: off). */
  void enable(size_t capacity);
  bool enabled() const { return !ring_.empty(); }
  void record(uint16_t seq, uint64_t sent_us, uint32_t size) noexcept;
  /** The record of `seq` if the ring still holds it (not overwritten, ever sent). */
  bool lookup(uint16_t seq, ForwardLegSend* out) const noexcept;
  /**
   * Up to `max` records sent after the previous collect(), oldest first; numbers already
   * overwritten are skipped and counted in overwritten().
   */
  size_t collect(ForwardLegSend* out, size_t max) noexcept;
  uint64_t overwritten() const { return overwritten_; }

 private:
  struct Slot {
    bool used = false;
    ForwardLegSend send;
  };
  std::vector<Slot> ring_;
  size_t mask_ = 0;
  // Records in order: `written_` recorded so far, `read_` collected (both counts, not numbers).
  uint64_t written_ = 0;
  uint64_t read_ = 0;
  uint64_t overwritten_ = 0;
  std::vector<uint16_t> order_;  // seq of the n-th record at n & mask_
};

}  // namespace pwt
