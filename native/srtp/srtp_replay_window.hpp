// Sliding replay window over 48-bit SRTP or 31-bit SRTCP indices (RFC 3711 section 3.3.2),
// plus the SRTP index estimate of RFC 3711 section 3.3.1 and appendix A.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pwt {

/**
 * A bitmap of the last `size` indices below and including the highest one received.
 * Check() before authenticating, Commit() only after the packet authenticated, so forged
 * packets never move the window.
 */
class SrtpReplayWindow {
 public:
  enum class Verdict : uint8_t { kFresh, kReplayed, kTooOld };

  /** `size_bits` must be a positive multiple of 64 (the session validates it). */
  explicit SrtpReplayWindow(size_t size_bits) : bits_(size_bits / 64, 0), size_(size_bits) {}

  bool initialized() const noexcept { return initialized_; }
  uint64_t highest() const noexcept { return highest_; }

  Verdict Check(uint64_t index) const noexcept {
    if (!initialized_ || index > highest_) return Verdict::kFresh;
    if (highest_ - index >= size_) return Verdict::kTooOld;
    return Test(index) ? Verdict::kReplayed : Verdict::kFresh;
  }

  void Commit(uint64_t index) noexcept {
    if (!initialized_) {
      initialized_ = true;
      highest_ = index;
      Set(index);
      return;
    }
    if (index > highest_) {
      const uint64_t delta = index - highest_;
      if (delta >= size_) {
        for (auto& w : bits_) w = 0;
      } else {
        for (uint64_t i = highest_ + 1; i < index; ++i) Clear(i);
      }
      highest_ = index;
    }
    Set(index);
  }

 private:
  bool Test(uint64_t i) const noexcept { return (bits_[(i % size_) >> 6] >> (i & 63)) & 1u; }
  void Set(uint64_t i) noexcept { bits_[(i % size_) >> 6] |= uint64_t{1} << (i & 63); }
  void Clear(uint64_t i) noexcept { bits_[(i % size_) >> 6] &= ~(uint64_t{1} << (i & 63)); }

  std::vector<uint64_t> bits_;
  uint64_t size_;
  uint64_t highest_ = 0;
  bool initialized_ = false;
};

/**
 * RFC 3711 appendix A: the index of sequence number `seq` given the highest index seen so
 * far (s_l with its ROC). Returns false when the guess would need ROC - 1 < 0 (a packet from
 * before the stream's first one) or ROC + 1 > 2^32 - 1 (index space used up).
 */
inline bool EstimateSrtpIndex(bool have_highest, uint64_t highest, uint16_t seq, uint64_t* index) noexcept {
  if (!have_highest) {
    *index = seq;
    return true;
  }
  const uint64_t roc = highest >> 16;
  const uint16_t s_l = static_cast<uint16_t>(highest & 0xffff);
  uint64_t v = roc;
  if (s_l < 32768) {
    if (seq > s_l && seq - s_l > 32768) {
      if (roc == 0) return false;
      v = roc - 1;
    }
  } else if (s_l - 32768 > seq) {
    if (roc == 0xffffffffu) return false;
    v = roc + 1;
  }
  *index = (v << 16) | seq;
  return true;
}

}  // namespace pwt
