// pwt::forward_rtcp_compound_read (native/forward/forward_rtcp_compound.hpp): the kinds of a
// subscriber's compound RTCP (RFC 3550 §6.1) the engine may consume; padding (§6.4.1) as
// lib/rtp/rtcp/compound.ts reads it; every truncation, a lying length or count, an RR with a profile
// extension, unknown types and transport-cc FCIs whose chunks or deltas do not fit are "other"
// (left to JavaScript), and no read goes past the end (run under ASan/UBSan too).
#include <cstdint>
#include <cstring>
#include <vector>

#include "native/forward/forward_rtcp_compound.hpp"
#include "test/native/check.hpp"

using namespace pwt;

namespace {

void Put16(std::vector<uint8_t>& v, uint16_t x) {
  v.push_back(static_cast<uint8_t>(x >> 8));
  v.push_back(static_cast<uint8_t>(x));
}
void Put32(std::vector<uint8_t>& v, uint32_t x) {
  Put16(v, static_cast<uint16_t>(x >> 16));
  Put16(v, static_cast<uint16_t>(x));
}
// A packet of `type`, count/FMT `count`, body `body` (a multiple of 4 bytes), padded by `pad` bytes.
void Packet(std::vector<uint8_t>& v, uint8_t type, uint8_t count, const std::vector<uint8_t>& body, uint8_t pad = 0) {
  v.push_back(static_cast<uint8_t>(0x80 | (pad ? 0x20 : 0) | count));
  v.push_back(type);
  Put16(v, static_cast<uint16_t>((body.size() + pad) / 4));
  v.insert(v.end(), body.begin(), body.end());
  for (uint8_t i = 1; i < pad; ++i) v.push_back(0);
  if (pad) v.push_back(pad);
}
std::vector<uint8_t> Rr(uint32_t blocks) {
  std::vector<uint8_t> b;
  Put32(b, 0x11111111);
  for (uint32_t i = 0; i < blocks; ++i) {
    Put32(b, 0x22222222 + i);
    for (int k = 0; k < 5; ++k) Put32(b, 0);
  }
  return b;
}
std::vector<uint8_t> Fb(uint32_t media, size_t fci_words) {
  std::vector<uint8_t> b;
  Put32(b, 0x11111111);
  Put32(b, media);
  for (size_t i = 0; i < fci_words; ++i) Put32(b, 0x00010003);
  return b;
}
std::vector<uint8_t> Sdes() {
  std::vector<uint8_t> b;
  Put32(b, 0x11111111);
  b.push_back(1);
  b.push_back(2);
  b.push_back('a');
  b.push_back('b');
  Put32(b, 0);  // END and padding to the word
  return b;
}
// transport-cc FCI: base 1, `count` statuses in one run-length chunk of small deltas, then the deltas.
std::vector<uint8_t> Tcc(uint16_t count, size_t deltas) {
  std::vector<uint8_t> b;
  Put32(b, 0x11111111);
  Put32(b, 0x22222222);
  Put16(b, 1);
  Put16(b, count);
  Put32(b, 0x00000a00);
  Put16(b, static_cast<uint16_t>(0x2000 | count));  // run-length, status 1 (small delta)
  for (size_t i = 0; i < deltas; ++i) b.push_back(4);
  while (b.size() % 4) b.push_back(0);
  return b;
}
// RFC 3611 §4.4: an RRTR block (BT 4, block length 2) with its NTP timestamp.
std::vector<uint8_t> Rrtr(uint64_t ntp) {
  std::vector<uint8_t> b = {4, 0, 0, 2};
  Put32(b, static_cast<uint32_t>(ntp >> 32));
  Put32(b, static_cast<uint32_t>(ntp));
  return b;
}
// An XR body: the sender's SSRC, then the blocks.
std::vector<uint8_t> Xr(const std::vector<std::vector<uint8_t>>& blocks) {
  std::vector<uint8_t> b;
  Put32(b, 0x11111111);
  for (const auto& k : blocks) b.insert(b.end(), k.begin(), k.end());
  return b;
}
uint32_t Kinds(const std::vector<uint8_t>& v, size_t len) {
  // A copy of exactly `len` bytes, so ASan sees any read past it.
  std::vector<uint8_t> c(v.begin(), v.begin() + static_cast<long>(len));
  ForwardRtcpCompound out;
  forward_rtcp_compound_read(c.data(), c.size(), &out);
  return out.kinds;
}
uint32_t Kinds(const std::vector<uint8_t>& v) { return Kinds(v, v.size()); }

void TestKinds() {
  std::vector<uint8_t> v;
  Packet(v, 201, 2, Rr(2));
  Packet(v, 202, 1, Sdes());
  Packet(v, 205, 1, Fb(0x22222222, 2));
  Packet(v, 206, 1, Fb(0x22222222, 0));
  Packet(v, 206, 4, Fb(0, 2));
  CHECK_EQ(Kinds(v), kRtcpKindReceiverReport | kRtcpKindSourceDescription | kRtcpKindNack | kRtcpKindPli | kRtcpKindFir);
  std::vector<uint8_t> t;
  Packet(t, 205, 15, Tcc(3, 3));
  CHECK_EQ(Kinds(t), kRtcpKindTransportCc);
  std::vector<uint8_t> remb;
  std::vector<uint8_t> rb = Fb(0, 0);
  Put32(rb, 0x52454d42);
  Put32(rb, 0x01000100);  // 1 SSRC, exponent 0, mantissa 256
  Put32(rb, 0x22222222);
  Packet(remb, 206, 15, rb);
  CHECK_EQ(Kinds(remb), kRtcpKindRemb);
  // RR + SDES + XR RRTR, as our own peers' reporters send (RFC 3611 §4.4), and an XR of two RRTRs.
  std::vector<uint8_t> ours;
  Packet(ours, 201, 1, Rr(1));
  Packet(ours, 202, 1, Sdes());
  Packet(ours, 207, 0, Xr({Rrtr(0x1234567890abcdefULL)}));
  CHECK_EQ(Kinds(ours), kRtcpKindReceiverReport | kRtcpKindSourceDescription | kRtcpKindReceiverReferenceTime);
  std::vector<uint8_t> two;
  Packet(two, 207, 0, Xr({Rrtr(1), Rrtr(2)}));
  CHECK_EQ(Kinds(two), kRtcpKindReceiverReferenceTime);
}

void TestOthers() {
  std::vector<uint8_t> sr;
  std::vector<uint8_t> body(24, 0);
  Packet(sr, 200, 0, body);
  CHECK(Kinds(sr) & kRtcpKindOther);  // SR: the publisher side's, JavaScript's
  std::vector<uint8_t> xr;
  Packet(xr, 207, 0, std::vector<uint8_t>(16, 0));
  CHECK(Kinds(xr) & kRtcpKindOther);
  // An XR is the engine's only when every block is an RRTR of the right length, and there is one.
  std::vector<uint8_t> dlrr_block = {5, 0, 0, 3};
  for (int i = 0; i < 12; ++i) dlrr_block.push_back(0);
  std::vector<uint8_t> with_dlrr;
  Packet(with_dlrr, 207, 0, Xr({Rrtr(1), dlrr_block}));
  CHECK(Kinds(with_dlrr) & kRtcpKindOther);
  std::vector<uint8_t> long_rrtr_block = Rrtr(1);
  long_rrtr_block[3] = 3;  // block length 3 words
  Put32(long_rrtr_block, 0);
  std::vector<uint8_t> long_rrtr;
  Packet(long_rrtr, 207, 0, Xr({long_rrtr_block}));
  CHECK(Kinds(long_rrtr) & kRtcpKindOther);
  std::vector<uint8_t> no_blocks;
  Packet(no_blocks, 207, 0, Xr({}));
  CHECK(Kinds(no_blocks) & kRtcpKindOther);
  std::vector<uint8_t> rr_ext;
  std::vector<uint8_t> b = Rr(1);
  Put32(b, 0xdeadbeef);  // a profile extension
  Packet(rr_ext, 201, 1, b);
  CHECK(Kinds(rr_ext) & kRtcpKindOther);
  std::vector<uint8_t> lying;
  Packet(lying, 201, 3, Rr(2));  // a count its length cannot hold
  CHECK(Kinds(lying) & kRtcpKindOther);
  std::vector<uint8_t> pli_fci;
  Packet(pli_fci, 206, 1, Fb(1, 1));  // a PLI has no FCI
  CHECK(Kinds(pli_fci) & kRtcpKindOther);
  std::vector<uint8_t> nack_empty;
  Packet(nack_empty, 205, 1, Fb(1, 0));
  CHECK(Kinds(nack_empty) & kRtcpKindOther);
  std::vector<uint8_t> tcc_short;
  Packet(tcc_short, 205, 15, Tcc(9, 3));  // 9 small deltas announced, 4 bytes present
  CHECK(Kinds(tcc_short) & kRtcpKindOther);
  std::vector<uint8_t> v1 = {0x41, 201, 0, 1, 0, 0, 0, 0};  // version 1
  CHECK(Kinds(v1) & kRtcpKindOther);
  std::vector<uint8_t> many;
  for (int i = 0; i < 17; ++i) Packet(many, 206, 1, Fb(1, 0));
  CHECK(Kinds(many) & kRtcpKindOther);
  ForwardRtcpCompound out;
  forward_rtcp_compound_read(nullptr, 8, &out);
  CHECK(out.kinds & kRtcpKindOther);
}

void TestPadding() {
  std::vector<uint8_t> ok;
  Packet(ok, 205, 15, Tcc(3, 3), 4);
  CHECK_EQ(Kinds(ok), kRtcpKindTransportCc);
  std::vector<uint8_t> rr;
  Packet(rr, 201, 1, Rr(1), 8);  // the blocks end where the padding starts
  CHECK_EQ(Kinds(rr), kRtcpKindReceiverReport);
  std::vector<uint8_t> zero = ok;
  zero.back() = 0;  // a padding count of 0
  CHECK(Kinds(zero) & kRtcpKindOther);
  std::vector<uint8_t> big = ok;
  big.back() = static_cast<uint8_t>(big.size());  // more than the packet's body
  CHECK(Kinds(big) & kRtcpKindOther);
}

void TestEveryTruncation() {
  std::vector<uint8_t> v;
  Packet(v, 201, 1, Rr(1));
  const size_t first = v.size();
  Packet(v, 205, 1, Fb(7, 1));
  const size_t second = v.size();
  Packet(v, 205, 15, Tcc(3, 3), 4);
  CHECK_EQ(Kinds(v), kRtcpKindReceiverReport | kRtcpKindNack | kRtcpKindTransportCc);
  // Cut at a packet boundary, the prefix is a compound of its own; anywhere else it is not.
  for (size_t len = 0; len < v.size(); ++len) {
    if (len == first) CHECK_EQ(Kinds(v, len), kRtcpKindReceiverReport);
    else if (len == second) CHECK_EQ(Kinds(v, len), kRtcpKindReceiverReport | kRtcpKindNack);
    else CHECK(Kinds(v, len) & kRtcpKindOther);
  }
}

}  // namespace

int main() {
  TestKinds();
  TestOthers();
  TestPadding();
  TestEveryTruncation();
  TEST_MAIN_END();
}
