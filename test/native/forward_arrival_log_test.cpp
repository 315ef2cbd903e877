// pwt::ForwardArrivalLog and forward_read_transport_seq (native/forward/forward_arrival_log.hpp):
// the transport-wide sequence number is found in one-byte and two-byte extension blocks (after
// padding and other elements), not found when absent or when the block runs past the packet; the
// ring drains oldest first and counts what it overwrote when full.
#include <cstdint>
#include <vector>

#include "native/forward/forward_arrival_log.hpp"
#include "test/native/check.hpp"

using namespace pwt;

namespace {

std::vector<uint8_t> Packet(uint16_t profile, const std::vector<uint8_t>& ext) {
  std::vector<uint8_t> p = {0x90, 111, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9};
  p.push_back(static_cast<uint8_t>(profile >> 8));
  p.push_back(static_cast<uint8_t>(profile));
  const size_t words = (ext.size() + 3) / 4;
  p.push_back(static_cast<uint8_t>(words >> 8));
  p.push_back(static_cast<uint8_t>(words));
  p.insert(p.end(), ext.begin(), ext.end());
  p.resize(16 + words * 4, 0);
  p.push_back(0xAA);  // payload
  return p;
}

void TestRead() {
  uint16_t seq = 0;
  // One-byte: padding, abs-send-time (id 3, 3 bytes), transport-cc (id 5, 2 bytes).
  auto one = Packet(0xBEDE, {0x00, 0x32, 1, 2, 3, 0x51, 0x12, 0x34});
  CHECK(forward_read_transport_seq(one.data(), one.size(), 5, &seq));
  CHECK_EQ(seq, 0x1234);
  CHECK(!forward_read_transport_seq(one.data(), one.size(), 4, &seq));
  // Two-byte: id 200 with 2 bytes after a 0-length element.
  auto two = Packet(0x1000, {7, 0, 200, 2, 0xAB, 0xCD});
  CHECK(forward_read_transport_seq(two.data(), two.size(), 200, &seq));
  CHECK_EQ(seq, 0xABCD);
  // Wrong length for the id: not a transport-wide number.
  auto odd = Packet(0xBEDE, {0x52, 1, 2, 3});
  CHECK(!forward_read_transport_seq(odd.data(), odd.size(), 5, &seq));
  // The block claims more words than the packet has.
  auto cut = Packet(0xBEDE, {0x51, 0x12, 0x34});
  cut[15] = 40;
  CHECK(!forward_read_transport_seq(cut.data(), cut.size(), 5, &seq));
  // No extension bit, or id 0.
  auto plain = one;
  plain[0] = 0x80;
  CHECK(!forward_read_transport_seq(plain.data(), plain.size(), 5, &seq));
  CHECK(!forward_read_transport_seq(one.data(), one.size(), 0, &seq));
}

void TestRing() {
  ForwardArrivalLog log;
  CHECK(!log.enabled());
  log.record(1, 1);  // off: ignored
  CHECK_EQ(log.size(), 0u);
  log.enable(4);
  for (uint16_t i = 0; i < 6; ++i) log.record(static_cast<uint16_t>(100 + i), 1000u + i);
  CHECK_EQ(log.size(), 4u);
  CHECK_EQ(log.overwritten(), 2u);
  uint16_t seqs[8];
  uint64_t times[8];
  CHECK_EQ(log.drain(seqs, times, 3), 3u);
  CHECK_EQ(seqs[0], 102);
  CHECK_EQ(times[0], 1002u);
  CHECK_EQ(seqs[2], 104);
  CHECK_EQ(log.drain(seqs, times, 8), 1u);
  CHECK_EQ(seqs[0], 105);
  CHECK_EQ(log.drain(seqs, times, 8), 0u);
}

}  // namespace

int main() {
  TestRead();
  TestRing();
  TEST_MAIN_END();
}
