// Arrival ring of the SFU engine (see forward_arrival_ring.hpp; docs/sfu.md).
#include "native/forward/forward_arrival_ring.hpp"

namespace pwt {

bool ForwardArrivalRing::attach(double* memory, size_t doubles) {
  memory_ = nullptr;
  capacity_ = 0;
  if (!memory || doubles < doubles_for(1)) return false;
  memory_ = memory;
  capacity_ = (doubles - kHeader) / kEntry;
  memory_[kCapacity] = static_cast<double>(capacity_);
  return true;
}

bool ForwardArrivalRing::push(uint16_t transport_sequence, uint32_t ssrc, uint64_t arrival_us) {
  if (!memory_) return false;
  const double written = memory_[kWritten];
  const double pending = written - memory_[kRead];
  // `read` is JavaScript's: anything but 0..capacity-1 pending entries stores nothing.
  if (!(pending >= 0 && pending < static_cast<double>(capacity_))) {
    memory_[kOverflowed] += 1;
    return false;
  }
  const uint64_t index = static_cast<uint64_t>(written) % capacity_;
  double* e = memory_ + kHeader + index * kEntry;
  e[0] = transport_sequence;
  e[1] = ssrc;
  e[2] = static_cast<double>(arrival_us);
  memory_[kWritten] = written + 1;
  return true;
}

bool forward_transport_sequence(const uint8_t* rtp, size_t len, uint8_t id, uint16_t* out) {
  if (id == 0 || len < 12 || (rtp[0] & 0x10) == 0) return false;
  size_t at = 12 + static_cast<size_t>(rtp[0] & 0x0f) * 4;
  if (at + 4 > len) return false;
  const uint16_t profile = static_cast<uint16_t>((rtp[at] << 8) | rtp[at + 1]);
  const size_t words = static_cast<size_t>((rtp[at + 2] << 8) | rtp[at + 3]);
  at += 4;
  const size_t end = at + words * 4;
  if (end > len) return false;
  const bool one_byte = profile == 0xBEDE;
  const bool two_byte = (profile & 0xfff0) == 0x1000;
  if (!one_byte && !two_byte) return false;
  while (at < end) {
    const uint8_t b = rtp[at];
    if (b == 0) {  // padding (both forms)
      ++at;
      continue;
    }
    uint8_t element_id;
    size_t element_len;
    if (one_byte) {
      element_id = b >> 4;
      if (element_id == 15) return false;  // RFC 8285 §4.2: stop parsing
      element_len = static_cast<size_t>(b & 0x0f) + 1;
      at += 1;
    } else {
      if (at + 2 > end) return false;
      element_id = b;
      element_len = rtp[at + 1];
      at += 2;
    }
    if (at + element_len > end) return false;
    if (element_id == id) {
      if (element_len != 2) return false;
      *out = static_cast<uint16_t>((rtp[at] << 8) | rtp[at + 1]);
      return true;
    }
    at += element_len;
  }
  return false;
}

}  // namespace pwt
