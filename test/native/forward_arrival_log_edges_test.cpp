// pwt::ForwardArrivalLog and forward_read_transport_seq (native/forward/forward_arrival_log.hpp)
// beyond the basics: the ring's index wraps over many laps with partial drains and the 16-bit
// transport-wide number wraps as sent; overwriting keeps the newest `capacity` arrivals in order;
// the RFC 8285 §4.2 stop id, a two-byte block cut inside an element header, a wrong RTP version and
// random bytes of every length are refused without reading outside the packet (ASan build).
#include <cstdint>
#include <vector>

#include "native/forward/forward_arrival_log.hpp"
#include "test/native/check.hpp"

using namespace pwt;

namespace {

std::vector<uint8_t> Packet(uint16_t profile, const std::vector<uint8_t>& ext) {
  std::vector<uint8_t> p = {0x90, 96, 0, 1, 0, 0, 0, 1, 0x11, 0x22, 0x33, 0x44};
  p.push_back(static_cast<uint8_t>(profile >> 8));
  p.push_back(static_cast<uint8_t>(profile));
  const size_t words = (ext.size() + 3) / 4;
  p.push_back(static_cast<uint8_t>(words >> 8));
  p.push_back(static_cast<uint8_t>(words));
  p.insert(p.end(), ext.begin(), ext.end());
  p.resize(16 + words * 4, 0);
  return p;
}

void TestLaps() {
  ForwardArrivalLog log;
  log.enable(5);
  uint16_t seq = 65530;
  uint32_t expected = 65530;
  uint16_t seqs[8];
  uint64_t times[8];
  for (int lap = 0; lap < 40; ++lap) {
    for (int k = 0; k < 3; ++k) log.record(seq++, static_cast<uint64_t>(lap) * 10 + k);
    // Drain in two steps so head and tail sit at every offset of the ring in turn.
    size_t n = log.drain(seqs, times, 2);
    n += log.drain(seqs + n, times + n, 8);
    CHECK_EQ(n, 3u);
    for (size_t i = 0; i < n; ++i) {
      CHECK_EQ(seqs[i], static_cast<uint16_t>(expected));
      CHECK_EQ(times[i], static_cast<uint64_t>(lap) * 10 + i);
      ++expected;
    }
  }
  CHECK_EQ(log.overwritten(), 0u);
  // Overflow after laps: the newest 5 of 12 remain, oldest first.
  for (uint16_t i = 0; i < 12; ++i) log.record(static_cast<uint16_t>(i), i);
  CHECK_EQ(log.overwritten(), 7u);
  CHECK_EQ(log.size(), 5u);
  CHECK_EQ(log.drain(seqs, times, 8), 5u);
  for (uint16_t i = 0; i < 5; ++i) CHECK_EQ(seqs[i], static_cast<uint16_t>(7 + i));
  // Re-enabling keeps the count of what was lost.
  log.enable(5);
  CHECK_EQ(log.size(), 0u);
  CHECK_EQ(log.overwritten(), 7u);
}

void TestHostile() {
  uint16_t seq = 0;
  // One-byte: id 15 stops parsing before the element.
  auto stop = Packet(0xBEDE, {0xF0, 0x51, 0x12, 0x34});
  CHECK(!forward_read_transport_seq(stop.data(), stop.size(), 5, &seq));
  // Two-byte: the block ends inside an element header (id byte, no length byte).
  auto cut = Packet(0x1000, {0, 0, 0, 9});
  CHECK(!forward_read_transport_seq(cut.data(), cut.size(), 9, &seq));
  // Two-byte element longer than the block.
  auto longer = Packet(0x1000, {9, 6, 1, 2});
  CHECK(!forward_read_transport_seq(longer.data(), longer.size(), 9, &seq));
  // An unknown profile, RTP version 1, a CSRC count that runs past the packet.
  auto other = Packet(0xABCD, {0x51, 0x12, 0x34, 0});
  CHECK(!forward_read_transport_seq(other.data(), other.size(), 5, &seq));
  auto v1 = Packet(0xBEDE, {0x51, 0x12, 0x34, 0});
  v1[0] = 0x50;
  CHECK(!forward_read_transport_seq(v1.data(), v1.size(), 5, &seq));
  auto csrc = Packet(0xBEDE, {0x51, 0x12, 0x34, 0});
  csrc[0] = 0x9F;
  CHECK(!forward_read_transport_seq(csrc.data(), csrc.size(), 5, &seq));
  // Every prefix of a valid packet, and pseudo-random bytes of every length to 64, into exact-size
  // heap buffers: ASan reports any read past the end.
  auto good = Packet(0xBEDE, {0x22, 1, 2, 3, 0x51, 0x12, 0x34, 0});
  for (size_t len = 0; len <= good.size(); ++len) {
    std::vector<uint8_t> b(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len));
    const bool found = forward_read_transport_seq(b.data(), b.size(), 5, &seq);
    CHECK(found == (len == good.size()));
  }
  uint32_t x = 0x12345678;
  for (int round = 0; round < 20000; ++round) {
    std::vector<uint8_t> b(static_cast<size_t>(round % 65));
    for (uint8_t& v : b) {
      x = x * 1664525u + 1013904223u;
      v = static_cast<uint8_t>(x >> 24);
    }
    if (b.size() > 0 && round % 2 == 0) b[0] = static_cast<uint8_t>(0x90 | (b[0] & 0x0f));
    if (b.size() > 13 && round % 4 == 0) b[12] = 0xBE, b[13] = 0xDE;
    forward_read_transport_seq(b.data(), b.size(), static_cast<uint8_t>(1 + round % 255), &seq);
  }
}

}  // namespace

int main() {
  TestLaps();
  TestHostile();
  TEST_MAIN_END();
}
