// Exact per-round delivery counting for the fanout load generator (see loadgen_delivery.hpp).
#include "bench/loadgen/loadgen_delivery.hpp"

#include "bench/loadgen/loadgen_bytes.hpp"

namespace pwt::loadgen {

void WriteLoadTrailer(uint8_t* payload, size_t len, uint32_t round, uint32_t index) noexcept {
  if (len < kLoadTrailer) return;
  uint8_t* p = payload + len - kLoadTrailer;
  Put32(p, kLoadTrailerMagic);
  Put32(p + 4, round);
  Put32(p + 8, index);
}

bool ReadLoadTrailer(const uint8_t* payload, size_t len, uint32_t* round, uint32_t* index) noexcept {
  if (len < kLoadTrailer) return false;
  const uint8_t* p = payload + len - kLoadTrailer;
  if (Get32(p) != kLoadTrailerMagic) return false;
  *round = Get32(p + 4);
  *index = Get32(p + 8);
  return true;
}

bool DeliveryCounter::Count(uint32_t round, uint32_t index) {
  if (round >= kMaxRounds || index >= kMaxIndex) return false;
  if (rounds_.size() <= round) rounds_.resize(round + 1);
  State& s = rounds_[round];
  const size_t word = index / 64;
  if (s.bits.size() <= word) s.bits.resize(word + 1 + word / 2, 0);
  const uint64_t bit = uint64_t{1} << (index % 64);
  if (s.bits[word] & bit) {
    ++s.counts.duplicates;
    return true;
  }
  s.bits[word] |= bit;
  ++s.counts.unique;
  if (s.any && index < s.highest) ++s.counts.out_of_order;
  if (!s.any || index > s.highest) s.highest = index;
  s.any = true;
  return true;
}

RoundDelivery DeliveryCounter::Round(uint32_t round) const {
  return round < rounds_.size() ? rounds_[round].counts : RoundDelivery{};
}

}  // namespace pwt::loadgen
