// The fanout load generator's delivery count (bench/loadgen/loadgen_delivery.hpp): the payload
// trailer round-trips and is refused when short or foreign; distinct packets, duplicates and
// out-of-order arrivals are counted apart per round; out-of-range rounds and indices are refused.
#include <cstdint>
#include <vector>

#include "bench/loadgen/loadgen_delivery.hpp"
#include "test/native/check.hpp"

using namespace pwt::loadgen;

int main() {
  // Trailer: at the end of the payload, whatever precedes it.
  std::vector<uint8_t> payload(100, 0x42);
  WriteLoadTrailer(payload.data(), payload.size(), 7, 123456);
  uint32_t round = 0;
  uint32_t index = 0;
  CHECK(ReadLoadTrailer(payload.data(), payload.size(), &round, &index));
  CHECK_EQ(round, 7u);
  CHECK_EQ(index, 123456u);
  CHECK_EQ(payload[0], 0x42);
  // An RTX payload (two bytes of original sequence number in front) ends the same way.
  std::vector<uint8_t> rtx(2, 0);
  rtx.insert(rtx.end(), payload.begin(), payload.end());
  CHECK(ReadLoadTrailer(rtx.data() + 2, rtx.size() - 2, &round, &index));
  CHECK_EQ(index, 123456u);
  // Too short, or not ours.
  CHECK(!ReadLoadTrailer(payload.data() + 90, 10, &round, &index));
  payload[100 - kLoadTrailer] ^= 1;
  CHECK(!ReadLoadTrailer(payload.data(), payload.size(), &round, &index));

  DeliveryCounter c;
  // Round 1: 0..9 in order, then 5 again (duplicate), then 12, 11 (out of order), 11 again.
  for (uint32_t i = 0; i < 10; ++i) CHECK(c.Count(1, i));
  CHECK(c.Count(1, 5));
  CHECK(c.Count(1, 12));
  CHECK(c.Count(1, 11));
  CHECK(c.Count(1, 11));
  RoundDelivery d = c.Round(1);
  CHECK_EQ(d.unique, 12u);
  CHECK_EQ(d.duplicates, 2u);
  CHECK_EQ(d.out_of_order, 1u);
  // Rounds are separate: the same indices in round 2 are new there; round 0 saw nothing.
  for (uint32_t i = 0; i < 3; ++i) CHECK(c.Count(2, i));
  CHECK_EQ(c.Round(2).unique, 3u);
  CHECK_EQ(c.Round(2).duplicates, 0u);
  CHECK_EQ(c.Round(0).unique, 0u);
  CHECK_EQ(c.Round(1).unique, 12u);
  // Large indices grow the bitmap; out-of-range ones are refused and not counted.
  CHECK(c.Count(3, kMaxIndex - 1));
  CHECK(!c.Count(3, kMaxIndex));
  CHECK(!c.Count(kMaxRounds, 0));
  CHECK_EQ(c.Round(3).unique, 1u);
  CHECK_EQ(c.Round(kMaxRounds).unique, 0u);
  TEST_MAIN_END();
}
