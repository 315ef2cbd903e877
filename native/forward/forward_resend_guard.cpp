// A consumer's resend times, one slot per recent sequence number (forward_resend_guard.hpp, RFC 4585 §6.2.1).
#include "native/forward/forward_resend_guard.hpp"

namespace pwt {

uint64_t ForwardResendGuard::interval_us(uint32_t rtt_us) {
  if (rtt_us == 0) return kDefaultIntervalUs;
  const uint64_t interval = static_cast<uint64_t>(rtt_us) + kMarginUs;
  if (interval < kMinIntervalUs) return kMinIntervalUs;
  if (interval > kMaxIntervalUs) return kMaxIntervalUs;
  return interval;
}

bool ForwardResendGuard::recently_resent(uint16_t seq, uint64_t now_us, uint64_t interval_us) const {
  if (entries_.empty()) return false;
  const Entry& e = entries_[seq & (kSlots - 1)];
  if (e.resent_us == 0 || e.seq != seq) return false;
  // An older `now` (clock not monotonic across callers) counts as within the interval.
  return now_us < e.resent_us || now_us - e.resent_us < interval_us;
}

void ForwardResendGuard::mark_resent(uint16_t seq, uint64_t now_us) {
  if (entries_.empty()) entries_.resize(kSlots);
  Entry& e = entries_[seq & (kSlots - 1)];
  e.seq = seq;
  e.resent_us = now_us == 0 ? 1 : now_us;
}

void ForwardResendGuard::clear() {
  for (Entry& e : entries_) e = Entry{};
}

}  // namespace pwt
