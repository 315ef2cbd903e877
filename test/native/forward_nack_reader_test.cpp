// pwt::ForwardNackReader (native/forward/forward_nack_reader.hpp): the generic NACKs (RFC 4585
// §6.2.1) of a compound RTCP packet (RFC 3550 §6.1) are found among other packet types, padding is
// removed (§6.4.1), FCI entries expand to their numbers across the 16-bit wrap, and a truncated or
// foreign header ends the walk without a read past the end.
#include <cstdint>
#include <vector>

#include "native/forward/forward_nack_reader.hpp"
#include "test/native/check.hpp"
#include "test/native/packet_builders.hpp"

using namespace pwt;
using pwt_test::RtcpPacket;

namespace {

void TestFindsNacksAmongOthers() {
  std::vector<uint8_t> c;
  RtcpPacket(c, 0, 201, {0x11});                                  // RR, no blocks
  RtcpPacket(c, 1, 205, {0x11, 0xAAAA, (100u << 16) | 0x0003, (200u << 16)});  // NACK, 2 entries
  RtcpPacket(c, 1, 206, {0x11, 0xAAAA});                          // PLI (PSFB FMT 1): not a NACK
  RtcpPacket(c, 15, 205, {0x11, 0xAAAA, 1});                      // transport-cc (RTPFB FMT 15)
  RtcpPacket(c, 1, 205, {0x11, 0xBBBB, (7u << 16), 0x00000004}, true);  // NACK, 1 entry + 4 bytes of padding
  ForwardNackReader r(c.data(), c.size());
  ForwardNack n;
  CHECK(r.next(&n));
  CHECK_EQ(n.media_ssrc, 0xAAAAu);
  CHECK_EQ(n.entries, 2u);
  CHECK(r.next(&n));
  CHECK_EQ(n.media_ssrc, 0xBBBBu);
  CHECK_EQ(n.entries, 1u);
  CHECK(!r.next(&n));
  CHECK(!r.malformed());
}

void TestEntryNumbers() {
  const uint8_t entry[] = {0xff, 0xfe, 0x00, 0x05};  // PID 65534, BLP bits 0 and 2
  uint16_t out[ForwardNackReader::kNumbersPerEntry];
  CHECK_EQ(ForwardNackReader::entry_numbers(entry, out), 3u);
  CHECK_EQ(out[0], 65534);
  CHECK_EQ(out[1], 65535);
  CHECK_EQ(out[2], 1);
  const uint8_t all[] = {0x00, 0x0a, 0xff, 0xff};
  CHECK_EQ(ForwardNackReader::entry_numbers(all, out), 17u);
  CHECK_EQ(out[16], 26);
}

void TestMalformedEndsTheWalk() {
  std::vector<uint8_t> good;
  RtcpPacket(good, 1, 205, {0x11, 0xAAAA, (5u << 16)});
  // A length that runs past the end: the NACK before it is read, nothing after.
  std::vector<uint8_t> c = good;
  RtcpPacket(c, 1, 205, {0x11, 0xCCCC, (9u << 16)});
  c[good.size() + 3] = 40;
  ForwardNack n;
  ForwardNackReader r(c.data(), c.size());
  CHECK(r.next(&n));
  CHECK_EQ(n.media_ssrc, 0xAAAAu);
  CHECK(!r.next(&n));
  CHECK(r.malformed());
  // Version 1, a tail shorter than a header, an empty input, a null pointer.
  std::vector<uint8_t> v1 = good;
  v1[0] = 0x41;
  ForwardNackReader r1(v1.data(), v1.size());
  CHECK(!r1.next(&n) && r1.malformed());
  std::vector<uint8_t> tail = good;
  tail.push_back(0x80);
  ForwardNackReader r2(tail.data(), tail.size());
  CHECK(r2.next(&n) && !r2.next(&n) && r2.malformed());
  ForwardNackReader r3(good.data(), 0);
  CHECK(!r3.next(&n) && !r3.malformed());
  ForwardNackReader r4(nullptr, 100);
  CHECK(!r4.next(&n) && !r4.malformed());
  // A NACK too short for its media SSRC, and padding that eats into the header: skipped.
  std::vector<uint8_t> s;
  RtcpPacket(s, 1, 205, {0x11});
  RtcpPacket(s, 1, 205, {0x11, 0xAAAA, 0x00000009}, true);
  ForwardNackReader r5(s.data(), s.size());
  CHECK(!r5.next(&n) && !r5.malformed());
}

}  // namespace

int main() {
  TestFindsNacksAmongOthers();
  TestEntryNumbers();
  TestMalformedEndsTheWalk();
  TEST_MAIN_END();
}
