// Receive statistics of one forwarded stream (see forward_receive_stats.hpp; RFC 3550 §A.1, §A.8).
#include "native/forward/forward_receive_stats.hpp"

namespace pwt {
namespace {

constexpr uint32_t kMaxDropout = 3000;
constexpr uint32_t kMaxMisorder = 100;

/** Arrival time in the stream's timestamp units (wrapping like RTP timestamps). */
uint32_t ArrivalUnits(uint64_t arrival_us, uint32_t clock_rate) noexcept {
  const uint64_t whole = (arrival_us / 1000000u) * clock_rate;
  const uint64_t part = ((arrival_us % 1000000u) * clock_rate) / 1000000u;
  return static_cast<uint32_t>(whole + part);
}

}  // namespace

void ForwardReceiveStats::on_packet(uint16_t seq, uint32_t timestamp, uint64_t arrival_us) noexcept {
  if (!started) {
    // §A.1 init_seq, without probation (as the JavaScript reporter).
    started = true;
    base_seq = seq;
    max_seq = seq;
    received = 1;
  } else {
    const uint16_t udelta = static_cast<uint16_t>(seq - max_seq);
    if (udelta < kMaxDropout) {
      if (seq < max_seq) cycles += 0x10000;
      max_seq = seq;
    } else if (udelta <= 0x10000 - kMaxMisorder) {
      // A very large jump: the source restarted if the next packet follows it, else a stray (§A.1).
      if (seq == bad_seq) {
        base_seq = seq;
        max_seq = seq;
        bad_seq = 0x10001;
        cycles = 0;
        received = 0;
        has_transit = false;
      } else {
        bad_seq = (seq + 1u) & 0xffffu;
        return;
      }
    }
    ++received;
  }
  if (clock_rate == 0) return;
  // §A.8: J += (|D| - J) / 16, in the integer form scaled by 16.
  const int32_t t = static_cast<int32_t>(ArrivalUnits(arrival_us, clock_rate) - timestamp);
  if (has_transit) {
    // The difference wraps like the timestamps it comes from.
    int64_t d = static_cast<int32_t>(static_cast<uint32_t>(t) - static_cast<uint32_t>(transit));
    if (d < 0) d = -d;
    const int64_t j = static_cast<int64_t>(jitter_q4) + d - ((static_cast<int64_t>(jitter_q4) + 8) >> 4);
    jitter_q4 = j < 0 ? 0 : (j > 0xffffffffLL ? 0xffffffffu : static_cast<uint32_t>(j));
  }
  transit = t;
  has_transit = true;
}

}  // namespace pwt
