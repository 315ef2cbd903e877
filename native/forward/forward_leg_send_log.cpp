// Per-leg send records for transport-cc feedback (see forward_leg_send_log.hpp).
#include "native/forward/forward_leg_send_log.hpp"

namespace pwt {

void ForwardLegSendLog::enable(size_t capacity) {
  size_t cap = 0;
  if (capacity > 0) {
    cap = 1;
    while (cap < capacity && cap < 65536) cap <<= 1;
  }
  if (cap == 0) {
    // Turned off: give the ring's memory back (assign would keep the capacity).
    std::vector<Slot>().swap(ring_);
    std::vector<uint16_t>().swap(order_);
  } else {
    ring_.assign(cap, Slot{});
    order_.assign(cap, 0);
  }
  mask_ = cap ? cap - 1 : 0;
  written_ = read_ = 0;
}

void ForwardLegSendLog::record(uint16_t seq, uint64_t sent_us, uint32_t size) noexcept {
  if (ring_.empty()) return;
  Slot& s = ring_[seq & mask_];
  s.used = true;
  s.send = ForwardLegSend{seq, size, sent_us};
  order_[written_ & mask_] = seq;
  ++written_;
}

bool ForwardLegSendLog::lookup(uint16_t seq, ForwardLegSend* out) const noexcept {
  if (ring_.empty()) return false;
  const Slot& s = ring_[seq & mask_];
  if (!s.used || s.send.seq != seq) return false;
  *out = s.send;
  return true;
}

size_t ForwardLegSendLog::collect(ForwardLegSend* out, size_t max) noexcept {
  if (ring_.empty()) return 0;
  const uint64_t cap = ring_.size();
  if (written_ - read_ > cap) {
    // Older than the ring: gone before JavaScript read them.
    overwritten_ += written_ - read_ - cap;
    read_ = written_ - cap;
  }
  size_t n = 0;
  while (n < max && read_ < written_) {
    const uint16_t seq = order_[read_ & mask_];
    ++read_;
    ForwardLegSend s;
    // A slot the same number reused later (after 65536 sends) still matches: that is the newer send.
    if (lookup(seq, &s)) out[n++] = s;
    else ++overwritten_;
  }
  return n;
}

}  // namespace pwt
