// pwt::ForwardReceiveStats (native/forward/forward_receive_stats.hpp): RFC 3550 §A.1 sequence
// tracking (extended highest across a wrap, loss as expected minus received, strays across a large
// jump ignored, a source restart re-based) and §A.8 interarrival jitter (zero for a steady stream,
// the §A.8 recurrence for a known delay pattern).
#include <cstdint>

#include "native/forward/forward_receive_stats.hpp"
#include "test/native/check.hpp"

using namespace pwt;

namespace {

void TestWrapAndLoss() {
  ForwardReceiveStats s;
  s.clock_rate = 48000;
  uint64_t sent = 0;
  // 65530 .. 65535, 0 .. 14 with every 5th left out (the last one is sent).
  for (uint32_t i = 0; i < 21; ++i) {
    if (i % 5 == 4) continue;
    s.on_packet(static_cast<uint16_t>(65530 + i), 960 * i, 1000000u + 20000u * i);
    ++sent;
  }
  CHECK_EQ(s.base_seq, 65530);
  CHECK_EQ(s.extended_highest(), 65536u + 14u);
  CHECK_EQ(s.received, sent);
  const uint32_t expected = s.extended_highest() - s.base_seq + 1;
  CHECK_EQ(expected - s.received, 4u);
  // A steady stream (arrival exactly on the media clock) has no jitter.
  CHECK_EQ(s.jitter_q4, 0u);
}

void TestStrayAndRestart() {
  ForwardReceiveStats s;
  s.on_packet(100, 0, 0);
  s.on_packet(101, 0, 0);
  // One packet far away: a stray, not counted, the highest stays.
  s.on_packet(40000, 0, 0);
  CHECK_EQ(s.received, 2u);
  CHECK_EQ(s.extended_highest(), 101u);
  // Its successor too: the source restarted at 40001 (§A.1), counts start again.
  s.on_packet(40001, 0, 0);
  CHECK_EQ(s.base_seq, 40001);
  CHECK_EQ(s.extended_highest(), 40001u);
  CHECK_EQ(s.received, 1u);
  // Reordered and duplicate packets count as received, the highest does not go back.
  s.on_packet(40003, 0, 0);
  s.on_packet(40002, 0, 0);
  s.on_packet(40002, 0, 0);
  CHECK_EQ(s.extended_highest(), 40003u);
  CHECK_EQ(s.received, 4u);
}

void TestJitter() {
  ForwardReceiveStats s;
  s.clock_rate = 90000;
  // Packets every 10 ms of media time; arrivals alternate 0 and +2 ms late (180 units of 90 kHz).
  uint32_t j16 = 0;
  for (uint32_t i = 0; i < 50; ++i) {
    const uint64_t late_us = (i % 2) ? 2000 : 0;
    s.on_packet(static_cast<uint16_t>(i), 900 * i, 10000u * i + late_us);
    if (i > 0) j16 = j16 + 180 - ((j16 + 8) >> 4);  // |D| is 180 units each time
  }
  CHECK_EQ(s.jitter_q4, j16);
  CHECK(s.jitter_q4 / 16 > 100 && s.jitter_q4 / 16 <= 180);
  // No clock rate: no jitter.
  ForwardReceiveStats none;
  none.on_packet(1, 0, 0);
  none.on_packet(2, 900, 5000);
  CHECK_EQ(none.jitter_q4, 0u);
}

}  // namespace

int main() {
  TestWrapAndLoss();
  TestStrayAndRestart();
  TestJitter();
  TEST_MAIN_END();
}
