// pwt::forward_rtp_rewrite (native/forward/forward_rtp_rewrite.hpp): SSRC and payload type,
// sequence/timestamp continuity across rebase (switch, resume) and reordering, RFC 8285 one-byte
// and two-byte header-extension id remapping and stripping, abs-send-time and transport-cc per
// leg, and malformed input refused without reading past the end (run under ASan/UBSan too); RFC 4588
// §4 RTX wrap and unwrap round trip, and RTX without room for an OSN (padding included) refused.
#include <cstring>
#include <vector>

#include "native/forward/forward_rtp_rewrite.hpp"
#include "native/srtp/srtp_packet.hpp"
#include "test/native/check.hpp"

using namespace pwt;

namespace {

std::vector<uint8_t> Packet(uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc, const std::vector<uint8_t>& ext,
                            uint16_t profile = 0xBEDE, size_t payload = 20) {
  std::vector<uint8_t> p(12, 0);
  p[0] = ext.empty() ? 0x80 : 0x90;
  p[1] = pt;
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  WriteU32(p.data() + 4, ts);
  WriteU32(p.data() + 8, ssrc);
  if (!ext.empty()) {
    const size_t words = (ext.size() + 3) / 4;
    p.push_back(static_cast<uint8_t>(profile >> 8));
    p.push_back(static_cast<uint8_t>(profile));
    p.push_back(0);
    p.push_back(static_cast<uint8_t>(words));
    p.insert(p.end(), ext.begin(), ext.end());
    p.resize(16 + words * 4, 0);
  }
  for (size_t i = 0; i < payload; ++i) p.push_back(static_cast<uint8_t>(i * 3 + 1));
  return p;
}

ForwardRewriteState Consumer(uint32_t ssrc) {
  ForwardRewriteState s;
  s.ssrc = ssrc;
  s.payload_types[111] = 100;
  s.payload_types[96] = 96;
  s.clock_rate = 48000;
  return s;
}

uint16_t Seq(const std::vector<uint8_t>& p) { return ReadU16(p.data() + 2); }
uint32_t Ts(const std::vector<uint8_t>& p) { return ReadU32(p.data() + 4); }

void TestFixedHeader() {
  ForwardRewriteState s = Consumer(0xCAFEBABE);
  auto p = Packet(111 | 0x80, 1000, 5000, 0x11111111, {});
  const auto payload = std::vector<uint8_t>(p.begin() + 12, p.end());
  uint16_t tseq = 7;
  CHECK(forward_rtp_rewrite(p.data(), p.size(), s, 1'000'000, &tseq) == ForwardDrop::kNone);
  CHECK_EQ(p[1], 0x80 | 100);  // marker kept, payload type mapped
  CHECK_EQ(ReadU32(p.data() + 8), 0xCAFEBABEu);
  CHECK_EQ(Seq(p), 1000);  // first packet: producer numbering kept
  CHECK_EQ(Ts(p), 5000u);
  CHECK_MEM(p.data() + 12, payload.data(), payload.size());
  CHECK_EQ(tseq, 7);  // no transport-cc element: counter untouched

  auto q = Packet(96, 1001, 5960, 0x11111111, {});
  CHECK(forward_rtp_rewrite(q.data(), q.size(), s, 1'020'000, &tseq) == ForwardDrop::kNone);
  CHECK_EQ(q[1], 96);
  CHECK_EQ(Seq(q), 1001);

  auto bad = Packet(0, 1002, 0, 1, {});  // payload type 0 is not negotiated by the consumer
  CHECK(forward_rtp_rewrite(bad.data(), bad.size(), s, 1'040'000, &tseq) == ForwardDrop::kPayloadType);
}

void TestContinuityAcrossRebase() {
  ForwardRewriteState s = Consumer(42);
  uint16_t tseq = 0;
  // Producer A near the sequence wrap.
  uint64_t now = 10'000'000;
  for (int i = 0; i < 5; ++i) {
    auto p = Packet(111, static_cast<uint16_t>(65533 + i), 100000u + 960u * i, 1, {});
    CHECK(forward_rtp_rewrite(p.data(), p.size(), s, now, &tseq) == ForwardDrop::kNone);
    CHECK_EQ(Seq(p), static_cast<uint16_t>(65533 + i));
    now += 20'000;
  }
  // A reordered (older) packet keeps its place and does not move the continuity point.
  auto old = Packet(111, 65534, 100960, 1, {});
  CHECK(forward_rtp_rewrite(old.data(), old.size(), s, now, &tseq) == ForwardDrop::kNone);
  CHECK_EQ(Seq(old), 65534);
  CHECK_EQ(s.last_seq, 1);  // 65533 + 4 wrapped
  // Switch to producer B with unrelated numbering, 100 ms after the last packet.
  s.rebase = true;
  now += 80'000;
  auto b = Packet(111, 20, 777777, 2, {});
  CHECK(forward_rtp_rewrite(b.data(), b.size(), s, now, &tseq) == ForwardDrop::kNone);
  CHECK_EQ(Seq(b), 2);                                  // last_seq + 1
  CHECK_EQ(Ts(b), 100000u + 960u * 4 + 48000u / 10);  // + 100 ms at 48 kHz
  auto b2 = Packet(111, 21, 777777 + 960, 2, {});
  CHECK(forward_rtp_rewrite(b2.data(), b2.size(), s, now + 20'000, &tseq) == ForwardDrop::kNone);
  CHECK_EQ(Seq(b2), 3);
  CHECK_EQ(Ts(b2), Ts(b) + 960);
  // A rebase with no time elapsed still advances the timestamp by one tick.
  s.rebase = true;
  auto c = Packet(111, 5, 9, 3, {});
  CHECK(forward_rtp_rewrite(c.data(), c.size(), s, now + 20'000, &tseq) == ForwardDrop::kNone);
  CHECK_EQ(Seq(c), 4);
  CHECK_EQ(Ts(c), Ts(b2) + 1);
}

void TestOneByteExtensions() {
  ForwardRewriteState s = Consumer(9);
  s.extension_ids[1] = 3;  // audio level: 1 -> 3
  s.extension_ids[2] = 5;  // abs-send-time: 2 -> 5
  s.extension_ids[4] = 0;  // producer id 4 not negotiated: stripped
  s.extension_ids[6] = 7;  // transport-cc: 6 -> 7
  s.abs_send_time_id = 5;
  s.transport_cc_id = 7;
  // id1 len1 [0x55], padding, id2 len3 [..], id4 len2 [..], id6 len2 [..]
  std::vector<uint8_t> ext = {0x10, 0x55, 0x00, 0x22, 0xAA, 0xBB, 0xCC, 0x41, 0x01, 0x02, 0x61, 0x00, 0x09};
  auto p = Packet(111, 1, 1, 1, ext);
  uint16_t tseq = 300;
  const uint64_t now = 3'500'000;  // 3.5 s
  CHECK(forward_rtp_rewrite(p.data(), p.size(), s, now, &tseq) == ForwardDrop::kNone);
  const uint8_t* e = p.data() + 16;
  CHECK_EQ(e[0], 0x30);
  CHECK_EQ(e[1], 0x55);
  CHECK_EQ(e[2], 0x00);
  CHECK_EQ(e[3], 0x52);
  const uint32_t abs = (static_cast<uint32_t>(e[4]) << 16) | (e[5] << 8) | e[6];
  CHECK_EQ(abs, forward_abs_send_time(now));
  CHECK_EQ(abs, (3u << 18) + (1u << 17));  // 3.5 in 6.18 fixed point
  for (int i = 7; i < 10; ++i) CHECK_EQ(e[i], 0);  // stripped element became padding
  CHECK_EQ(e[10], 0x71);
  CHECK_EQ(ReadU16(e + 11), 300);
  CHECK_EQ(tseq, 301);
  // A consumer id above 14 cannot be written in the one-byte form: the element is stripped.
  ForwardRewriteState wide = Consumer(9);
  wide.extension_ids[1] = 20;
  auto q = Packet(111, 1, 1, 1, {0x10, 0x66});
  CHECK(forward_rtp_rewrite(q.data(), q.size(), wide, now, nullptr) == ForwardDrop::kNone);
  CHECK_EQ(q[16], 0);
  CHECK_EQ(q[17], 0);
  // An element running past the extension block is malformed.
  auto r = Packet(111, 1, 1, 1, {0x13, 0x01});  // length 4 in a 4-byte block
  CHECK(forward_rtp_rewrite(r.data(), r.size(), s, now, &tseq) == ForwardDrop::kMalformed);
  // ID 15 stops processing (RFC 8285 §4.2); what follows is left alone.
  auto t = Packet(111, 1, 1, 1, {0xF0, 0x10, 0x77});
  CHECK(forward_rtp_rewrite(t.data(), t.size(), s, now, &tseq) == ForwardDrop::kNone);
  CHECK_EQ(t[17], 0x10);
}

void TestTwoByteExtensions() {
  ForwardRewriteState s = Consumer(9);
  s.extension_ids[1] = 200;
  s.extension_ids[3] = 0;
  s.extension_ids[6] = 8;
  s.transport_cc_id = 8;
  std::vector<uint8_t> ext = {0x01, 0x02, 0xAB, 0xCD, 0x00, 0x03, 0x01, 0xEE, 0x06, 0x02, 0x00, 0x00};
  auto p = Packet(111, 1, 1, 1, ext, 0x1000);
  uint16_t tseq = 65535;
  CHECK(forward_rtp_rewrite(p.data(), p.size(), s, 0, &tseq) == ForwardDrop::kNone);
  const uint8_t* e = p.data() + 16;
  CHECK_EQ(e[0], 200);
  CHECK_EQ(ReadU16(e + 2), 0xABCD);
  CHECK_EQ(e[5], 0);
  CHECK_EQ(e[7], 0);
  CHECK_EQ(e[8], 8);
  CHECK_EQ(ReadU16(e + 10), 65535);
  CHECK_EQ(tseq, 0);  // wraps
  // Padding, then an element whose length byte is missing; then one whose data runs past the end.
  auto q = Packet(111, 1, 1, 1, {0x00, 0x00, 0x00, 0x05}, 0x1000);
  CHECK(forward_rtp_rewrite(q.data(), q.size(), s, 0, &tseq) == ForwardDrop::kMalformed);
  auto r = Packet(111, 1, 1, 1, {0x01, 0x09, 0x00, 0x00}, 0x1000);
  CHECK(forward_rtp_rewrite(r.data(), r.size(), s, 0, &tseq) == ForwardDrop::kMalformed);
}

void TestMalformed() {
  ForwardRewriteState s = Consumer(9);
  uint16_t tseq = 0;
  auto p = Packet(111, 1, 1, 1, {0x10, 0x55});
  // Every truncation is refused or rewritten in bounds (ASan checks the bounds).
  for (size_t len = 0; len < p.size(); ++len) {
    std::vector<uint8_t> cut(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(len));
    const ForwardDrop d = forward_rtp_rewrite(cut.empty() ? nullptr : cut.data(), cut.size(), s, 0, &tseq);
    CHECK(len >= 20 ? d == ForwardDrop::kNone : d == ForwardDrop::kMalformed);
  }
  auto v1 = Packet(111, 1, 1, 1, {});
  v1[0] = 0x40;  // version 1
  CHECK(forward_rtp_rewrite(v1.data(), v1.size(), s, 0, &tseq) == ForwardDrop::kMalformed);
  auto rtcp = Packet(200, 1, 1, 1, {});  // RFC 5761: an RTCP packet type
  CHECK(forward_rtp_rewrite(rtcp.data(), rtcp.size(), s, 0, &tseq) == ForwardDrop::kMalformed);
  auto csrc = Packet(111, 1, 1, 1, {}, 0xBEDE, 0);
  csrc[0] = 0x8f;  // 15 CSRCs announced, none present
  CHECK(forward_rtp_rewrite(csrc.data(), csrc.size(), s, 0, &tseq) == ForwardDrop::kMalformed);
}

}  // namespace

void TestRtxUnwrap() {
  const std::vector<uint8_t> ext = {0x10, 0xAA, 0, 0};  // one one-byte element, padded to a word
  std::vector<uint8_t> original = Packet(0x80 | 96, 4242, 90000, 0x11111111, ext);
  std::vector<uint8_t> p = original;
  p.resize(p.size() + 2);
  const size_t wrapped = forward_rtx_wrap(p.data(), original.size(), p.size(), 97, 0x22222222, 7);
  CHECK_EQ(wrapped, original.size() + 2);
  CHECK_EQ(p[1], 0x80 | 97);
  CHECK_EQ(ReadU32(p.data() + 8), 0x22222222u);
  CHECK_EQ(Seq(p), 7);
  const size_t restored = forward_rtx_unwrap(p.data(), wrapped, 96, 0x11111111);
  CHECK_EQ(restored, original.size());
  CHECK_MEM(p.data(), original.data(), original.size());  // OSN, PT (marker kept), SSRC back

  // Only an OSN and nothing else: an empty original payload.
  std::vector<uint8_t> bare = Packet(97, 9, 1, 0x22222222, {}, 0xBEDE, 2);
  bare[12] = 0x12;
  bare[13] = 0x34;
  CHECK_EQ(forward_rtx_unwrap(bare.data(), bare.size(), 96, 0x11111111), 12u);
  CHECK_EQ(Seq(bare), 0x1234);
  CHECK_EQ(bare[1], 96);

  // No OSN: one payload byte; padding that leaves less than an OSN; padding count 0; no header.
  std::vector<uint8_t> short1 = Packet(97, 9, 1, 0x22222222, {}, 0xBEDE, 1);
  CHECK_EQ(forward_rtx_unwrap(short1.data(), short1.size(), 96, 1), 0u);
  std::vector<uint8_t> padded = Packet(97, 9, 1, 0x22222222, {}, 0xBEDE, 4);
  padded[0] |= 0x20;
  padded.back() = 3;  // 3 padding octets of 4: one payload byte left
  CHECK_EQ(forward_rtx_unwrap(padded.data(), padded.size(), 96, 1), 0u);
  padded.back() = 2;  // two payload bytes left: the OSN
  CHECK_EQ(forward_rtx_unwrap(padded.data(), padded.size(), 96, 1), padded.size() - 2);
  std::vector<uint8_t> zero_pad = Packet(97, 9, 1, 0x22222222, {}, 0xBEDE, 4);
  zero_pad[0] |= 0x20;
  zero_pad.back() = 0;
  CHECK_EQ(forward_rtx_unwrap(zero_pad.data(), zero_pad.size(), 96, 1), 0u);
  std::vector<uint8_t> huge_pad = Packet(97, 9, 1, 0x22222222, {}, 0xBEDE, 4);
  huge_pad[0] |= 0x20;
  huge_pad.back() = 200;
  CHECK_EQ(forward_rtx_unwrap(huge_pad.data(), huge_pad.size(), 96, 1), 0u);
  std::vector<uint8_t> tiny(11, 0x80);
  CHECK_EQ(forward_rtx_unwrap(tiny.data(), tiny.size(), 96, 1), 0u);
  CHECK_EQ(forward_rtx_unwrap(bare.data(), bare.size(), 128, 1), 0u);
}

int main() {
  TestFixedHeader();
  TestContinuityAcrossRebase();
  TestOneByteExtensions();
  TestTwoByteExtensions();
  TestMalformed();
  TestRtxUnwrap();
  TEST_MAIN_END();
}
