// SrtpSession behaviour: round trips for every profile (payload 0..1500 B, CSRCs, padding,
// header extensions), ROC across 65535 -> 0 with reordering (RFC 3711 appendix A), replay
// and too-old rejection (3.3.2), SRTCP index/E flag (3.4), stream limits, DTLS keying
// direction (RFC 5764 4.2), RFC 5761 demux, and hostile input (run under ASan/UBSan too).
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "native/srtp/srtp_session.hpp"
#include "test/native/check.hpp"

using namespace pwt;

namespace {

const SrtpProfile kProfiles[] = {SrtpProfile::kAes128CmHmacSha1_80, SrtpProfile::kAes128CmHmacSha1_32,
                                 SrtpProfile::kAeadAes128Gcm, SrtpProfile::kAeadAes256Gcm};

struct Pair {
  SrtpSession tx, rx;
  explicit Pair(SrtpProfile profile, size_t window = 1024, size_t streams = 64) {
    SrtpProfileParams p{};
    CHECK(GetSrtpProfileParams(profile, &p));
    uint8_t ka[32], sa[14], kb[32], sb[14];
    for (int i = 0; i < 32; ++i) ka[i] = static_cast<uint8_t>(i * 7 + 1), kb[i] = static_cast<uint8_t>(i * 13 + 5);
    for (int i = 0; i < 14; ++i) sa[i] = static_cast<uint8_t>(i * 3 + 2), sb[i] = static_cast<uint8_t>(i * 11 + 9);
    SrtpSessionOptions o;
    o.replay_window = window;
    o.max_streams = streams;
    CHECK(tx.Configure(o) == SrtpStatus::kOk);
    CHECK(rx.Configure(o) == SrtpStatus::kOk);
    CHECK(tx.Key(profile, ka, p.key_len, sa, p.salt_len, kb, p.key_len, sb, p.salt_len) == SrtpStatus::kOk);
    CHECK(rx.Key(profile, kb, p.key_len, sb, p.salt_len, ka, p.key_len, sa, p.salt_len) == SrtpStatus::kOk);
  }
};

std::vector<uint8_t> MakeRtp(uint16_t seq, uint32_t ssrc, size_t payload, int csrcs = 0, size_t ext_words = 0,
                             bool ext = false, uint8_t padding = 0) {
  std::vector<uint8_t> p(12);
  p[0] = static_cast<uint8_t>(0x80 | (ext ? 0x10 : 0) | (padding ? 0x20 : 0) | csrcs);
  p[1] = 96;
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  p[4] = 0x12;
  WriteU32(p.data() + 8, ssrc);
  // push_back rather than insert({...}): GCC 12 -O2 reports a false -Warray-bounds on the latter.
  for (int i = 0; i < csrcs; ++i) {
    for (uint8_t b : {uint8_t{0xc0}, uint8_t{0}, uint8_t{0}, static_cast<uint8_t>(i)}) p.push_back(b);
  }
  if (ext) {
    for (uint8_t b : {uint8_t{0xbe}, uint8_t{0xde}, static_cast<uint8_t>(ext_words >> 8), static_cast<uint8_t>(ext_words)})
      p.push_back(b);
    for (size_t i = 0; i < ext_words * 4; ++i) p.push_back(static_cast<uint8_t>(0x40 + i));
  }
  for (size_t i = 0; i < payload; ++i) p.push_back(static_cast<uint8_t>(i * 31 + seq));
  if (padding) {
    for (uint8_t i = 1; i < padding; ++i) p.push_back(0);
    p.push_back(padding);
  }
  return p;
}

std::vector<uint8_t> MakeRtcp(uint32_t ssrc, size_t body) {
  std::vector<uint8_t> p(8 + body, 0xab);
  p[0] = 0x80;
  p[1] = 200;
  p[2] = static_cast<uint8_t>(((8 + body) / 4 - 1) >> 8);
  p[3] = static_cast<uint8_t>((8 + body) / 4 - 1);
  WriteU32(p.data() + 4, ssrc);
  return p;
}

// Protects `clear`, returns the SRTP bytes.
std::vector<uint8_t> Protect(SrtpSession& s, const std::vector<uint8_t>& clear, bool rtcp = false) {
  std::vector<uint8_t> buf(clear);
  buf.resize(clear.size() + 64);
  size_t out = 0;
  const SrtpStatus st = rtcp ? s.protect_rtcp(buf.data(), clear.size(), buf.size(), &out)
                             : s.protect_rtp(buf.data(), clear.size(), buf.size(), &out);
  CHECK(st == SrtpStatus::kOk);
  buf.resize(out);
  return buf;
}

SrtpStatus Unprotect(SrtpSession& s, std::vector<uint8_t> pkt, std::vector<uint8_t>* clear = nullptr) {
  size_t out = 0;
  const SrtpStatus st = s.unprotect(pkt.data(), pkt.size(), &out);
  if (st == SrtpStatus::kOk && clear) {
    pkt.resize(out);
    *clear = pkt;
  }
  return st;
}

void RoundTrips() {
  for (SrtpProfile profile : kProfiles) {
    Pair p(profile);
    uint16_t seq = 100;
    for (size_t payload = 0; payload <= 1500; ++payload) {
      const int csrcs = static_cast<int>(payload % 3);
      const bool ext = payload % 2 == 1;
      const uint8_t padding = static_cast<uint8_t>(payload % 5 == 0 ? 4 : 0);
      const auto clear = MakeRtp(seq++, 0x1000 + (payload % 4), payload, csrcs, payload % 4, ext, padding);
      const auto srtp = Protect(p.tx, clear);
      CHECK_EQ(srtp.size(), clear.size() + p.tx.rtp_overhead());
      const size_t hdr = RtpHeaderLength(clear.data(), clear.size());
      // The header, CSRCs and header extension stay in the clear (authenticated only).
      CHECK_MEM(srtp.data(), clear.data(), hdr);
      if (clear.size() - hdr >= 4) CHECK(std::memcmp(srtp.data() + hdr, clear.data() + hdr, clear.size() - hdr) != 0);
      std::vector<uint8_t> back;
      CHECK(Unprotect(p.rx, srtp, &back) == SrtpStatus::kOk);
      CHECK(back == clear);
    }
    for (size_t body = 0; body <= 1500; body += 4) {
      const auto clear = MakeRtcp(0x2000 + static_cast<uint32_t>(body % 3), body);
      const auto srtcp = Protect(p.tx, clear, true);
      CHECK_EQ(srtcp.size(), clear.size() + p.tx.rtcp_overhead());
      std::vector<uint8_t> back;
      CHECK(Unprotect(p.rx, srtcp, &back) == SrtpStatus::kOk);
      CHECK(back == clear);
      // The same SRTCP packet again is a replay.
      CHECK(Unprotect(p.rx, srtcp) == SrtpStatus::kReplayed);
    }
    CHECK_EQ(p.rx.counters().rtp_unprotected, uint64_t{1501});
    CHECK_EQ(p.rx.counters().dropped[static_cast<size_t>(SrtpStatus::kReplayed)], uint64_t{376});
  }
}

// protect_rtp out of place (the forwarder's path: header in the send slot, payload read from the
// received packet) gives exactly the bytes of the in-place call, for every profile and header shape;
// the slot's bytes past the header are never read.
void OutOfPlace() {
  for (SrtpProfile profile : kProfiles) {
    Pair a(profile), b(profile);
    uint16_t seq = 65530;  // across a ROC increment
    for (size_t payload = 0; payload <= 1200; payload += 7) {
      const int csrcs = static_cast<int>(payload % 3);
      const bool ext = payload % 2 == 1;
      const uint8_t padding = static_cast<uint8_t>(payload % 5 == 0 ? 4 : 0);
      const auto clear = MakeRtp(seq++, 0x3000 + (payload % 2), payload, csrcs, payload % 4, ext, padding);
      const auto in_place = Protect(a.tx, clear);
      const size_t hdr = RtpHeaderLength(clear.data(), clear.size());
      std::vector<uint8_t> slot(clear.size() + 64, 0xEE);  // garbage after the header
      std::memcpy(slot.data(), clear.data(), hdr);
      size_t out = 0;
      CHECK(b.tx.protect_rtp(slot.data(), clear.size(), slot.size(), &out, clear.data()) == SrtpStatus::kOk);
      CHECK_EQ(out, in_place.size());
      CHECK_MEM(slot.data(), in_place.data(), out);
      std::vector<uint8_t> back;
      slot.resize(out);
      CHECK(Unprotect(b.rx, slot, &back) == SrtpStatus::kOk);
      CHECK(back == clear);
    }
    // Bad input fails as in place, and is counted.
    const auto clear = MakeRtp(1, 0x3000, 10);
    std::vector<uint8_t> slot(clear);
    size_t out = 0;
    CHECK(b.tx.protect_rtp(slot.data(), 11, slot.size(), &out, clear.data()) == SrtpStatus::kTooShort);
    CHECK(b.tx.protect_rtp(slot.data(), slot.size(), slot.size(), &out, clear.data()) == SrtpStatus::kBufferTooSmall);
    CHECK_EQ(b.tx.counters().protect_failed, uint64_t{2});
  }
}

void RolloverAndReorder() {
  for (SrtpProfile profile : kProfiles) {
    Pair p(profile);
    std::vector<std::vector<uint8_t>> pkts;
    for (uint32_t i = 0; i < 12; ++i) pkts.push_back(Protect(p.tx, MakeRtp(static_cast<uint16_t>(65530 + i), 7, 40)));
    // Deliver 65530..65533, then 0 (after the wrap) before 65534/65535 (late, before it).
    const int order[] = {0, 1, 2, 3, 6, 4, 7, 5, 8, 10, 9, 11};
    for (int i : order) {
      std::vector<uint8_t> back;
      CHECK(Unprotect(p.rx, pkts[i], &back) == SrtpStatus::kOk);
      CHECK(back == MakeRtp(static_cast<uint16_t>(65530 + i), 7, 40));
    }
    // Every one of them again: replays, whichever side of the wrap.
    for (int i : order) CHECK(Unprotect(p.rx, pkts[i]) == SrtpStatus::kReplayed);
    // The ROC is authenticated: a sender with the same keys still at ROC 0 sends seq 20,
    // the receiver places it at ROC 1, and the tag does not verify.
    Pair fresh(profile);
    CHECK(Unprotect(p.rx, Protect(fresh.tx, MakeRtp(20, 7, 40))) == SrtpStatus::kAuthFailed);
  }
}

void ReplayWindow() {
  for (SrtpProfile profile : kProfiles) {
    Pair p(profile, 64);
    std::vector<std::vector<uint8_t>> pkts;
    for (uint16_t s = 0; s < 200; ++s) pkts.push_back(Protect(p.tx, MakeRtp(s, 9, 20)));
    CHECK(Unprotect(p.rx, pkts[150]) == SrtpStatus::kOk);
    CHECK(Unprotect(p.rx, pkts[150]) == SrtpStatus::kReplayed);
    CHECK(Unprotect(p.rx, pkts[86]) == SrtpStatus::kTooOld);   // 150 - 86 = 64: outside
    CHECK(Unprotect(p.rx, pkts[87]) == SrtpStatus::kOk);       // 63 behind: inside, once
    CHECK(Unprotect(p.rx, pkts[87]) == SrtpStatus::kReplayed);
    CHECK(Unprotect(p.rx, pkts[199]) == SrtpStatus::kOk);
    CHECK(Unprotect(p.rx, pkts[151]) == SrtpStatus::kOk);      // late but inside the moved window
    CHECK(Unprotect(p.rx, pkts[135]) == SrtpStatus::kTooOld);
    // A packet from before the stream's first index at ROC 0 cannot be placed.
    Pair q(profile, 64), q2(profile, 64);
    auto first = Protect(q.tx, MakeRtp(10, 9, 20));
    auto before = Protect(q2.tx, MakeRtp(65000, 9, 20));
    // The sender itself refuses to step back before ROC 0.
    auto again = MakeRtp(65000, 9, 20);
    again.resize(again.size() + 16);
    size_t out = 0;
    CHECK(q.tx.protect_rtp(again.data(), again.size() - 16, again.size(), &out) == SrtpStatus::kIndexExhausted);
    CHECK(Unprotect(q.rx, first) == SrtpStatus::kOk);
    CHECK(Unprotect(q.rx, before) == SrtpStatus::kTooOld);
    const auto& d = p.rx.counters().dropped;
    CHECK_EQ(d[static_cast<size_t>(SrtpStatus::kReplayed)], uint64_t{2});
    CHECK_EQ(d[static_cast<size_t>(SrtpStatus::kTooOld)], uint64_t{2});
  }
}

void StreamsAndKeying() {
  Pair p(SrtpProfile::kAes128CmHmacSha1_80, 1024, 2);
  CHECK(Unprotect(p.rx, Protect(p.tx, MakeRtp(1, 1, 10))) == SrtpStatus::kOk);
  CHECK(Unprotect(p.rx, Protect(p.tx, MakeRtp(1, 2, 10))) == SrtpStatus::kOk);
  std::vector<uint8_t> third = MakeRtp(1, 3, 10);
  third.resize(third.size() + 10);
  size_t out;
  CHECK(p.tx.protect_rtp(third.data(), third.size() - 10, third.size(), &out) == SrtpStatus::kStreamLimit);
  CHECK_EQ(p.tx.counters().protect_failed, uint64_t{1});
  // A forged packet for a new SSRC never creates state.
  std::vector<uint8_t> forged = MakeRtp(5, 77, 30);
  forged.resize(forged.size() + 10, 0);
  CHECK(Unprotect(p.rx, forged) == SrtpStatus::kAuthFailed);
  CHECK_EQ(p.rx.stream_count(), size_t{2});

  // RFC 5764 4.2 directions: client protects with the client key, server unprotects with it.
  SrtpKeyingMaterial km;
  km.profile = SrtpProfile::kAeadAes128Gcm;
  km.client.key_len = km.server.key_len = 16;
  km.client.salt_len = km.server.salt_len = 12;
  for (int i = 0; i < 16; ++i) km.client.key[i] = static_cast<uint8_t>(i), km.server.key[i] = static_cast<uint8_t>(100 + i);
  SrtpSession client, server, wrong;
  CHECK(client.KeyFromDtls(km, true) == SrtpStatus::kOk);
  CHECK(server.KeyFromDtls(km, false) == SrtpStatus::kOk);
  CHECK(wrong.KeyFromDtls(km, true) == SrtpStatus::kOk);
  const auto a = Protect(client, MakeRtp(1, 5, 50));
  const auto b = Protect(server, MakeRtp(1, 6, 50));
  CHECK(Unprotect(server, a) == SrtpStatus::kOk);
  CHECK(Unprotect(client, b) == SrtpStatus::kOk);
  CHECK(Unprotect(wrong, a) == SrtpStatus::kAuthFailed);
  km.client.key_len = 15;
  CHECK(client.KeyFromDtls(km, true) == SrtpStatus::kInvalidKey);

  // Misuse and closed sessions.
  SrtpSession s;
  uint8_t k[32] = {0}, salt[14] = {0};
  CHECK(s.Key(static_cast<SrtpProfile>(5), k, 16, salt, 14, k, 16, salt, 14) == SrtpStatus::kInvalidProfile);
  CHECK(s.Key(SrtpProfile::kAeadAes256Gcm, k, 16, salt, 12, k, 16, salt, 12) == SrtpStatus::kInvalidKey);
  CHECK(s.Key(SrtpProfile::kAes128CmHmacSha1_80, k, 16, salt, 12, k, 16, salt, 12) == SrtpStatus::kInvalidKey);
  SrtpSessionOptions bad;
  bad.replay_window = 100;
  CHECK(s.Configure(bad) == SrtpStatus::kInvalidArgument);
  CHECK(Unprotect(s, a) == SrtpStatus::kNotKeyed);
  CHECK(s.Key(SrtpProfile::kAes128CmHmacSha1_80, k, 16, salt, 14, k, 16, salt, 14) == SrtpStatus::kOk);
  s.Close();
  CHECK(!s.keyed());
  CHECK(Unprotect(s, a) == SrtpStatus::kNotKeyed);
  CHECK_EQ(s.counters().dropped[static_cast<size_t>(SrtpStatus::kNotKeyed)], uint64_t{2});
}

void Demux() {
  uint8_t b[2] = {0x80, 191};
  CHECK(!IsRtcpPacket(b, 2));
  b[1] = 192;
  CHECK(IsRtcpPacket(b, 2));
  b[1] = 223;
  CHECK(IsRtcpPacket(b, 2));
  b[1] = 224;
  CHECK(!IsRtcpPacket(b, 2));
  CHECK(!IsRtcpPacket(b, 1));
}

// Random bytes, every truncation and every tag bit flip: dropped and counted, no crash.
void Hostile() {
  std::mt19937 rng(1234);
  for (SrtpProfile profile : kProfiles) {
    Pair p(profile);
    uint64_t drops_expected = 0;
    for (int n = 0; n < 3000; ++n) {
      std::vector<uint8_t> junk(rng() % 120);
      for (auto& x : junk) x = static_cast<uint8_t>(rng());
      if (n % 2 && !junk.empty()) junk[0] = 0x80 | (junk[0] & 0x3f);
      CHECK(Unprotect(p.rx, junk) != SrtpStatus::kOk);
      ++drops_expected;
    }
    const auto rtp = Protect(p.tx, MakeRtp(42, 3, 64, 2, 2, true));
    for (size_t len = 0; len < rtp.size(); ++len) {
      CHECK(Unprotect(p.rx, std::vector<uint8_t>(rtp.begin(), rtp.begin() + len)) != SrtpStatus::kOk);
      ++drops_expected;
    }
    const auto rtcp = Protect(p.tx, MakeRtcp(8, 40), true);
    for (size_t len = 0; len < rtcp.size(); ++len) {
      CHECK(Unprotect(p.rx, std::vector<uint8_t>(rtcp.begin(), rtcp.begin() + len)) != SrtpStatus::kOk);
      ++drops_expected;
    }
    for (size_t bit = 0; bit < rtp.size() * 8; ++bit) {
      auto bad = rtp;
      bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      CHECK(Unprotect(p.rx, bad) != SrtpStatus::kOk);
      ++drops_expected;
    }
    for (size_t bit = 0; bit < rtcp.size() * 8; ++bit) {
      auto bad = rtcp;
      bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      CHECK(Unprotect(p.rx, bad) != SrtpStatus::kOk);
      ++drops_expected;
    }
    uint64_t drops = 0;
    for (auto d : p.rx.counters().dropped) drops += d;
    CHECK_EQ(drops, drops_expected);
    CHECK(p.rx.counters().dropped[static_cast<size_t>(SrtpStatus::kAuthFailed)] > 0);
    CHECK(p.rx.counters().dropped[static_cast<size_t>(SrtpStatus::kTooShort)] > 0);
    // The untouched packets still pass afterwards: failures did not move any state.
    CHECK(Unprotect(p.rx, rtp) == SrtpStatus::kOk);
    CHECK(Unprotect(p.rx, rtcp) == SrtpStatus::kOk);
    // Protect rejects what it cannot handle without writing past the capacity.
    std::vector<uint8_t> small = MakeRtp(1, 3, 10);
    size_t out = 0;
    CHECK(p.tx.protect_rtp(small.data(), small.size(), small.size() + 3, &out) == SrtpStatus::kBufferTooSmall);
    CHECK(p.tx.protect_rtp(small.data(), 11, small.size(), &out) == SrtpStatus::kTooShort);
    small[0] = 0x40;
    CHECK(p.tx.protect_rtp(small.data(), small.size(), small.size() + 16, &out) == SrtpStatus::kMalformed);
  }
}

}  // namespace

// Each transform (RTP/RTCP, protect/unprotect) is keyed by its first packet, not by Key(): an idle
// session holds no OpenSSL context (docs/srtp.md). Packets dropped by the cheap checks key nothing;
// the overheads are known before any packet; Close() drops them all; a rekey starts from none again.
void KeyedOnFirstUse() {
  for (SrtpProfile profile : kProfiles) {
    Pair p(profile);
    CHECK_EQ(p.tx.keyed_transforms(), size_t{0});
    CHECK_EQ(p.rx.keyed_transforms(), size_t{0});
    CHECK_EQ(p.tx.rtp_overhead(), SrtpRtpOverhead(profile));
    CHECK_EQ(p.tx.rtcp_overhead(), SrtpRtcpOverhead(profile));
    CHECK(Unprotect(p.rx, std::vector<uint8_t>(6, 0x80)) == SrtpStatus::kTooShort);
    std::vector<uint8_t> bad_version(64, 0x40);
    bad_version[1] = 200;
    CHECK(Unprotect(p.rx, bad_version) == SrtpStatus::kMalformed);
    CHECK_EQ(p.rx.keyed_transforms(), size_t{0});
    CHECK(p.tx.holds_master_key(true) && p.tx.holds_master_key(false));
    const auto rtp = Protect(p.tx, MakeRtp(1, 9, 100));
    CHECK_EQ(p.tx.keyed_transforms(), size_t{1});
    CHECK(p.tx.holds_master_key(true));  // RTCP out not keyed yet
    std::vector<uint8_t> back;
    CHECK(Unprotect(p.rx, rtp, &back) == SrtpStatus::kOk);
    CHECK(back == MakeRtp(1, 9, 100));
    CHECK_EQ(p.rx.keyed_transforms(), size_t{1});
    CHECK(p.rx.holds_master_key(false));
    const auto rtcp = Protect(p.tx, MakeRtcp(9, 40), true);
    CHECK(Unprotect(p.rx, rtcp, &back) == SrtpStatus::kOk);
    CHECK(back == MakeRtcp(9, 40));
    CHECK_EQ(p.tx.keyed_transforms(), size_t{2});
    CHECK_EQ(p.rx.keyed_transforms(), size_t{2});
    // Both transforms of a direction keyed: that direction's master key and salt are wiped; the
    // other direction (no packet yet) keeps its own.
    CHECK(!p.tx.holds_master_key(true));
    CHECK(p.tx.holds_master_key(false));
    CHECK(!p.rx.holds_master_key(false));
    CHECK(p.rx.holds_master_key(true));
    // Everything still protects and unprotects from the transforms' own keys.
    for (uint16_t seq = 2; seq < 6; ++seq) {
      CHECK(Unprotect(p.rx, Protect(p.tx, MakeRtp(seq, 9, 200)), &back) == SrtpStatus::kOk);
      CHECK(back == MakeRtp(seq, 9, 200));
      CHECK(Unprotect(p.rx, Protect(p.tx, MakeRtcp(9, 40), true), &back) == SrtpStatus::kOk);
      CHECK(back == MakeRtcp(9, 40));
    }
    // The other way, too: rx protects, tx unprotects, then both of those directions are wiped.
    CHECK(Unprotect(p.tx, Protect(p.rx, MakeRtp(7, 11, 80)), &back) == SrtpStatus::kOk);
    CHECK(back == MakeRtp(7, 11, 80));
    CHECK(Unprotect(p.tx, Protect(p.rx, MakeRtcp(11, 40), true), &back) == SrtpStatus::kOk);
    CHECK(back == MakeRtcp(11, 40));
    CHECK(!p.tx.holds_master_key(false) && !p.rx.holds_master_key(true));
    p.rx.Close();
    CHECK_EQ(p.rx.keyed_transforms(), size_t{0});
    CHECK(Unprotect(p.rx, rtp) == SrtpStatus::kNotKeyed);
    CHECK_EQ(p.rx.rtp_overhead(), size_t{0});
  }
}

int main() {
  RoundTrips();
  OutOfPlace();
  RolloverAndReorder();
  ReplayWindow();
  StreamsAndKeying();
  Demux();
  Hostile();
  KeyedOnFirstUse();
  TEST_MAIN_END();
}
