// Producer send-time log for REMB (see forward_send_time_log.hpp).
#include "native/forward/forward_send_time_log.hpp"

#include "native/forward/forward_arrival_log.hpp"

namespace pwt {

int32_t forward_read_abs_send_time(const uint8_t* p, size_t len, uint8_t id) noexcept {
  const uint8_t* v = forward_find_extension(p, len, id, 3);
  if (!v) return -1;
  return static_cast<int32_t>((static_cast<uint32_t>(v[0]) << 16) | (static_cast<uint32_t>(v[1]) << 8) | v[2]);
}

void ForwardSendTimeLog::enable(size_t capacity) {
  ring_.assign(capacity, ForwardSendTime{});
  head_ = 0;
  count_ = 0;
}

void ForwardSendTimeLog::record(const ForwardSendTime& entry) noexcept {
  const size_t cap = ring_.size();
  if (cap == 0) return;
  if (count_ == cap) {
    head_ = (head_ + 1) % cap;
    --count_;
    ++overwritten_;
  }
  ring_[(head_ + count_) % cap] = entry;
  ++count_;
}

size_t ForwardSendTimeLog::drain(ForwardSendTime* out, size_t max) noexcept {
  const size_t cap = ring_.size();
  size_t n = 0;
  while (n < max && count_ > 0) {
    out[n++] = ring_[head_];
    head_ = (head_ + 1) % cap;
    --count_;
  }
  return n;
}

}  // namespace pwt
