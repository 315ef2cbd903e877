// Receive statistics of one forwarded stream, kept by the engine for the RTCP receiver reports that
// JavaScript's reporter sends towards the publisher (docs/sfu.md "RTCP per leg"): RFC 3550 §A.1
// sequence tracking (extended highest sequence number, packets received, base for the loss count)
// and §A.8 interarrival jitter, the same rules lib/policy/rtcp-reporter.ts applies to packets it sees.
#pragma once
#include <cstdint>

namespace pwt {

struct ForwardReceiveStats {
  /** Timestamp units per second of the stream's codec; 0 until JavaScript sets it (no jitter then). */
  uint32_t clock_rate = 0;
  /** First sequence number (since the last source restart, §A.1). */
  uint16_t base_seq = 0;
  uint16_t max_seq = 0;
  /** Sequence-number wraps, times 65536 (§A.1 `cycles`). */
  uint32_t cycles = 0;
  uint32_t bad_seq = 0x10001;
  /** Packets counted by §A.1 (duplicates included, strays across a large jump not). */
  uint64_t received = 0;
  /** Interarrival jitter in timestamp units, scaled by 16 (§A.8 integer form). */
  uint32_t jitter_q4 = 0;
  int32_t transit = 0;
  bool has_transit = false;
  bool started = false;

  /** One received packet: its sequence number, RTP timestamp and arrival (monotonic µs). */
  void on_packet(uint16_t seq, uint32_t timestamp, uint64_t arrival_us) noexcept;
  /** Extended highest sequence number received (§6.4.1). */
  uint32_t extended_highest() const noexcept { return cycles + max_seq; }
};

}  // namespace pwt
