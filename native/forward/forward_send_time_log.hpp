// Arrivals of a producer's packets with their abs-send-time, for REMB towards the publisher
// (draft-alvestrand-rmcat-remb-03; abs-send-time: webrtc.org's 24-bit 6.18 send time; docs/sfu.md
// "RTCP per leg"): SSRC, send time, size and arrival of each packet the engine consumed, in a ring
// that JavaScript's REMB module drains every few tens of milliseconds.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pwt {

/** The 24-bit abs-send-time (RFC 8285 element `id`, 3 data bytes) of p[0, len); -1 when absent. */
int32_t forward_read_abs_send_time(const uint8_t* p, size_t len, uint8_t id) noexcept;

/** One logged packet. */
struct ForwardSendTime {
  uint32_t ssrc = 0;
  int32_t abs_send_time = -1;  // -1: the packet carried none
  uint32_t length = 0;         // bytes, RTP header included
  uint64_t arrival_us = 0;     // monotonic
};

class ForwardSendTimeLog {
 public:
  /** Keeps up to `capacity` packets (0: off); allocated here, once. */
  void enable(size_t capacity);
  bool enabled() const { return !ring_.empty(); }
  /** One packet; when the ring is full the oldest is overwritten and counted. */
  void record(const ForwardSendTime& entry) noexcept;
  /** Moves up to `max` entries, oldest first, into `out`; returns how many. */
  size_t drain(ForwardSendTime* out, size_t max) noexcept;
  size_t size() const { return count_; }
  /** Entries overwritten before JavaScript drained them. */
  uint64_t overwritten() const { return overwritten_; }

 private:
  std::vector<ForwardSendTime> ring_;
  size_t head_ = 0;  // oldest
  size_t count_ = 0;
  uint64_t overwritten_ = 0;
};

}  // namespace pwt
