// The SFU engine's arrival ring (native/forward/forward_arrival_ring.hpp): entries in order, the
// reader's index, overflow counted and not stored, index wrap over many laps, 16-bit sequence wrap
// kept as sent; and the transport-wide sequence number read from one-byte and two-byte header
// extensions (RFC 8285 §4.2/§4.3), malformed ones refused.
#include <cstdint>
#include <vector>

#include "native/forward/forward_arrival_ring.hpp"
#include "test/native/check.hpp"

using namespace pwt;

namespace {

using R = ForwardArrivalRing;

// Reads entries [read, written) like lib/sfu/arrival-ring-reader.ts and advances `read`.
std::vector<uint32_t> Drain(std::vector<double>& m) {
  std::vector<uint32_t> seqs;
  const double cap = m[R::kCapacity];
  for (double i = m[R::kRead]; i < m[R::kWritten]; i += 1) {
    const size_t at = R::kHeader + static_cast<size_t>(static_cast<uint64_t>(i) % static_cast<uint64_t>(cap)) * R::kEntry;
    seqs.push_back(static_cast<uint32_t>(m[at]));
  }
  m[R::kRead] = m[R::kWritten];
  return seqs;
}

void RingOrderOverflowWrap() {
  std::vector<double> m(R::doubles_for(4), 0.0);
  R ring;
  CHECK(!ring.push(1, 1, 1));  // unattached
  CHECK(!ring.attach(m.data(), R::kHeader + R::kEntry - 1));
  CHECK(ring.attach(m.data(), m.size()));
  CHECK_EQ(m[R::kCapacity], 4.0);
  for (uint16_t s = 0; s < 3; ++s) CHECK(ring.push(static_cast<uint16_t>(10 + s), 0xabcdef01u, 1000u + s));
  CHECK_EQ(m[R::kHeader + 1], static_cast<double>(0xabcdef01u));
  CHECK_EQ(m[R::kHeader + 2], 1000.0);
  // Capacity entries may be pending; the next push overflows.
  CHECK(ring.push(13, 1, 1003));
  CHECK(!ring.push(14, 1, 1004));  // 4 pending: full
  CHECK(!ring.push(15, 1, 1005));
  CHECK_EQ(m[R::kOverflowed], 2.0);
  std::vector<uint32_t> got = Drain(m);
  CHECK_EQ(got.size(), 4u);
  CHECK_EQ(got[0], 10u);
  CHECK_EQ(got[3], 13u);
  // Many laps around the ring, with the 16-bit sequence wrapping on the way.
  uint16_t seq = 65530;
  uint32_t expected = 65530;
  for (int lap = 0; lap < 50; ++lap) {
    for (int k = 0; k < 3; ++k) CHECK(ring.push(seq++, 7, 2000));
    got = Drain(m);
    CHECK_EQ(got.size(), 3u);
    for (uint32_t g : got) {
      CHECK_EQ(g, expected & 0xffff);
      ++expected;
    }
  }
  CHECK_EQ(m[R::kWritten], 154.0);
  CHECK_EQ(m[R::kOverflowed], 2.0);
  // A reader index ahead of the writer (not ours to trust) stores nothing and counts.
  m[R::kRead] = m[R::kWritten] + 5;
  CHECK(!ring.push(1, 1, 1));
  CHECK_EQ(m[R::kOverflowed], 3.0);
}

std::vector<uint8_t> Rtp(const std::vector<uint8_t>& extension, uint16_t profile) {
  std::vector<uint8_t> p = {0x90, 96, 0, 1, 0, 0, 0, 1, 0x11, 0x22, 0x33, 0x44};
  p.push_back(static_cast<uint8_t>(profile >> 8));
  p.push_back(static_cast<uint8_t>(profile));
  const size_t words = (extension.size() + 3) / 4;
  p.push_back(static_cast<uint8_t>(words >> 8));
  p.push_back(static_cast<uint8_t>(words));
  p.insert(p.end(), extension.begin(), extension.end());
  p.resize(16 + words * 4, 0);
  p.push_back(0xaa);  // payload
  return p;
}

void TransportSequence() {
  uint16_t seq = 0;
  // One-byte: abs-send-time (id 2, 3 bytes), padding, transport-cc (id 5, 2 bytes).
  std::vector<uint8_t> p = Rtp({0x22, 1, 2, 3, 0, 0x51, 0x12, 0x34}, 0xBEDE);
  CHECK(forward_transport_sequence(p.data(), p.size(), 5, &seq));
  CHECK_EQ(seq, 0x1234);
  CHECK(!forward_transport_sequence(p.data(), p.size(), 3, &seq));
  CHECK(!forward_transport_sequence(p.data(), p.size(), 0, &seq));
  // Two-byte form, id 20.
  p = Rtp({20, 2, 0xff, 0xfe}, 0x1000);
  CHECK(forward_transport_sequence(p.data(), p.size(), 20, &seq));
  CHECK_EQ(seq, 0xfffe);
  // Wrong length, an element past the block, the stop id 15, no extension bit, a truncated header.
  p = Rtp({0x52, 1, 2, 3}, 0xBEDE);
  CHECK(!forward_transport_sequence(p.data(), p.size(), 5, &seq));
  p = Rtp({0x0f, 0x5f}, 0xBEDE);
  CHECK(!forward_transport_sequence(p.data(), p.size(), 5, &seq));
  p = Rtp({0xf0, 0x51, 0, 1}, 0xBEDE);
  CHECK(!forward_transport_sequence(p.data(), p.size(), 5, &seq));
  p = Rtp({0x51, 0, 1}, 0xBEDE);
  p[0] = 0x80;
  CHECK(!forward_transport_sequence(p.data(), p.size(), 5, &seq));
  p = Rtp({0x51, 0, 1}, 0xBEDE);
  p[15] = 200;  // 200 words claimed
  CHECK(!forward_transport_sequence(p.data(), p.size(), 5, &seq));
  CHECK(!forward_transport_sequence(p.data(), 14, 5, &seq));
}

}  // namespace

int main() {
  RingOrderOverflowWrap();
  TransportSequence();
  return pwt_test::failures() == 0 ? 0 : 1;
}
