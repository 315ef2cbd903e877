// A consumer's record of when each cached packet was last resent to it, so a NACK (RFC 4585 §6.2.1)
// repeated within one round trip is not answered again (docs/sfu.md "Retransmission").
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pwt {

/**
 * A ring of the last resends, indexed by the consumer's sequence number; allocated once, at the
 * consumer's first resend, never per packet. A slot holding another number is forgotten (the resend
 * is allowed): the guard only ever suppresses a resend it knows to be within the interval.
 */
class ForwardResendGuard {
 public:
  static constexpr size_t kSlots = 1024;
  // The resend interval (docs/policy.md "Resend interval"; the same constants as
  // lib/policy/resend-interval.ts): RTT + kMarginUs, clamped to [kMinIntervalUs, kMaxIntervalUs];
  // kDefaultIntervalUs before any RTT is known.
  /** The interval before any RTT is known (libwebrtc's start-up RTT, mediasoup's default RTT). */
  static constexpr uint64_t kDefaultIntervalUs = 100'000;
  /** Added to a measured RTT: report delay and jitter (libwebrtc's packet history adds the same). */
  static constexpr uint64_t kMarginUs = 5'000;
  static constexpr uint64_t kMinIntervalUs = 20'000;
  static constexpr uint64_t kMaxIntervalUs = 1'000'000;

  /** The resend interval for a round-trip time `rtt_us` (0: unknown). */
  static uint64_t interval_us(uint32_t rtt_us);

  /** Whether `seq` was resent less than `interval_us` before `now_us`. */
  bool recently_resent(uint16_t seq, uint64_t now_us, uint64_t interval_us) const;
  /** Records that `seq` was resent at `now_us` (allocates the ring on first use). */
  void mark_resent(uint16_t seq, uint64_t now_us);
  /** Forgets every resend (the consumer moved to another producer). */
  void clear();

 private:
  struct Entry {
    uint64_t resent_us = 0;  // 0: empty
    uint16_t seq = 0;
  };
  std::vector<Entry> entries_;
};

}  // namespace pwt
