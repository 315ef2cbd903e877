// Bounded datagram FIFO (see dtls_datagram_queue.hpp).
#include "native/dtls/dtls_datagram_queue.hpp"

#include <cstring>

namespace pwt {

bool DatagramQueue::Push(const uint8_t* data, size_t len) {
  if (count() + 1 > max_count_ || bytes() + len > max_bytes_ || len > UINT32_MAX) return false;
  if (head_ > 0 && head_ == lens_.size()) Clear();
  bytes_.insert(bytes_.end(), data, data + len);
  lens_.push_back(static_cast<uint32_t>(len));
  return true;
}

size_t DatagramQueue::DrainInto(uint8_t* out, size_t cap, uint32_t* lens, size_t max_count) {
  size_t n = 0;
  size_t used = 0;
  while (n < max_count && head_ < lens_.size()) {
    size_t len = lens_[head_];
    if (used + len > cap) break;
    if (len > 0) std::memcpy(out + used, bytes_.data() + head_offset_, len);
    lens[n++] = static_cast<uint32_t>(len);
    used += len;
    head_offset_ += len;
    ++head_;
  }
  Compact();
  return n;
}

size_t DatagramQueue::MoveInto(DatagramQueue* dst) {
  size_t refused = 0;
  for (size_t i = head_, off = head_offset_; i < lens_.size(); off += lens_[i], ++i) {
    if (!dst->Push(bytes_.data() + off, lens_[i])) ++refused;
  }
  head_ = lens_.size();
  head_offset_ = bytes_.size();
  Compact();
  return refused;
}

void DatagramQueue::Clear() {
  bytes_.clear();
  lens_.clear();
  head_ = 0;
  head_offset_ = 0;
}

void DatagramQueue::ReleaseWhenEmpty() {
  release_when_empty_ = true;
  if (empty()) Compact();
}

void DatagramQueue::Compact() {
  if (head_ == lens_.size()) {
    Clear();
    if (release_when_empty_) {
      release_when_empty_ = false;
      std::vector<uint8_t>().swap(bytes_);
      std::vector<uint32_t>().swap(lens_);
    }
    return;
  }
  // Keep the capacity; move the tail down only when the consumed prefix dominates.
  if (head_offset_ > bytes_.size() / 2) {
    bytes_.erase(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(head_offset_));
    lens_.erase(lens_.begin(), lens_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
    head_offset_ = 0;
  }
}

}  // namespace pwt
