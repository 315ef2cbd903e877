// Producer arrival log for transport-wide feedback (see forward_arrival_log.hpp).
#include "native/forward/forward_arrival_log.hpp"

#include "native/srtp/srtp_packet.hpp"

namespace pwt {

const uint8_t* forward_find_extension(const uint8_t* p, size_t len, uint8_t id, size_t size) noexcept {
  if (id == 0 || len < kRtpFixedHeaderLen || (p[0] >> 6) != 2 || !(p[0] & 0x10)) return nullptr;
  const size_t ext = kRtpFixedHeaderLen + 4u * (p[0] & 0x0f);
  if (ext + 4 > len) return nullptr;
  const uint16_t profile = ReadU16(p + ext);
  const size_t end = ext + 4 + 4u * ReadU16(p + ext + 2);
  if (end > len) return nullptr;
  size_t i = ext + 4;
  if (profile == 0xBEDE) {
    // RFC 8285 §4.2: one-byte elements; 0 is padding, 15 stops parsing.
    while (i < end) {
      const uint8_t b = p[i];
      if (b == 0) {
        ++i;
        continue;
      }
      if ((b >> 4) == 15) return nullptr;
      const size_t n = static_cast<size_t>(b & 0x0f) + 1;
      if (i + 1 + n > end) return nullptr;
      if ((b >> 4) == id && n == size) return p + i + 1;
      i += 1 + n;
    }
  } else if ((profile & 0xfff0) == 0x1000) {
    // RFC 8285 §4.3: two-byte elements; a 0 id byte is padding.
    while (i < end) {
      if (p[i] == 0) {
        ++i;
        continue;
      }
      if (i + 2 > end) return nullptr;
      const size_t n = p[i + 1];
      if (i + 2 + n > end) return nullptr;
      if (p[i] == id && n == size) return p + i + 2;
      i += 2 + n;
    }
  }
  return nullptr;
}

bool forward_read_transport_seq(const uint8_t* p, size_t len, uint8_t id, uint16_t* seq) noexcept {
  const uint8_t* v = forward_find_extension(p, len, id, 2);
  if (!v) return false;
  *seq = ReadU16(v);
  return true;
}

void ForwardArrivalLog::enable(size_t capacity) {
  seqs_.assign(capacity, 0);
  times_.assign(capacity, 0);
  head_ = 0;
  count_ = 0;
}

void ForwardArrivalLog::record(uint16_t seq, uint64_t arrival_us) noexcept {
  const size_t cap = seqs_.size();
  if (cap == 0) return;
  if (count_ == cap) {
    head_ = (head_ + 1) % cap;
    --count_;
    ++overwritten_;
  }
  const size_t at = (head_ + count_) % cap;
  seqs_[at] = seq;
  times_[at] = arrival_us;
  ++count_;
}

size_t ForwardArrivalLog::drain(uint16_t* seqs, uint64_t* arrival_us, size_t max) noexcept {
  const size_t cap = seqs_.size();
  size_t n = 0;
  while (n < max && count_ > 0) {
    seqs[n] = seqs_[head_];
    arrival_us[n] = times_[head_];
    head_ = (head_ + 1) % cap;
    --count_;
    ++n;
  }
  return n;
}

}  // namespace pwt
