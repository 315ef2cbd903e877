// Arrivals of a producer's packets for transport-wide congestion control feedback towards the
// publisher (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3; docs/sfu.md "RTCP per leg"):
// the transport-wide sequence number of each packet the engine consumed and when it arrived, in a
// ring that JavaScript's transport-cc feedback module drains every few tens of milliseconds.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pwt {

/**
 * The value bytes of the RFC 8285 element `id` with exactly `size` data bytes in the RTP packet
 * p[0, len) (one-byte or two-byte form), or null when the packet carries none. Never reads outside
 * [0, len).
 */
const uint8_t* forward_find_extension(const uint8_t* p, size_t len, uint8_t id, size_t size) noexcept;

/**
 * The transport-wide sequence number (RFC 8285 element `id` with 2 data bytes) of the RTP packet
 * p[0, len), one-byte or two-byte header-extension form; false when the packet carries none.
 * Never reads outside [0, len).
 */
bool forward_read_transport_seq(const uint8_t* p, size_t len, uint8_t id, uint16_t* seq) noexcept;

class ForwardArrivalLog {
 public:
  /** Keeps up to `capacity` arrivals (0: off); allocated here, once. */
  void enable(size_t capacity);
  bool enabled() const { return !seqs_.empty(); }
  /** One packet; when the ring is full the oldest arrival is overwritten and counted. */
  void record(uint16_t seq, uint64_t arrival_us) noexcept;
  /** Moves up to `max` arrivals, oldest first, into the arrays; returns how many. */
  size_t drain(uint16_t* seqs, uint64_t* arrival_us, size_t max) noexcept;
  size_t size() const { return count_; }
  /** Arrivals overwritten before JavaScript drained them. */
  uint64_t overwritten() const { return overwritten_; }

 private:
  std::vector<uint16_t> seqs_;
  std::vector<uint64_t> times_;
  size_t head_ = 0;  // oldest
  size_t count_ = 0;
  uint64_t overwritten_ = 0;
};

}  // namespace pwt
