// Byte and packet helpers shared by the C++ core tests: big-endian appends and reads, one RTCP
// packet (RFC 3550 §6.1 header + 32-bit words), a clear RTP packet (RFC 3550 §5.1), an SRTP session
// pair keyed from a seed (tx protects at one end, rx unprotects at the other) and one protect call.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "native/srtp/srtp_packet.hpp"
#include "native/srtp/srtp_session.hpp"
#include "test/native/check.hpp"

namespace pwt_test {

inline void Put16(std::vector<uint8_t>& v, uint16_t x) {
  v.push_back(static_cast<uint8_t>(x >> 8));
  v.push_back(static_cast<uint8_t>(x));
}

inline void Put32(std::vector<uint8_t>& v, uint32_t x) {
  Put16(v, static_cast<uint16_t>(x >> 16));
  Put16(v, static_cast<uint16_t>(x));
}

inline uint16_t Read16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

inline uint32_t Read32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

/** Appends one RTCP packet: header (V=2, P, count/FMT, PT, length in words - 1), then `body` words. */
inline void RtcpPacket(std::vector<uint8_t>& out, uint8_t count, uint8_t pt, const std::vector<uint32_t>& body, bool padded = false) {
  out.push_back(static_cast<uint8_t>(0x80 | (padded ? 0x20 : 0) | count));
  out.push_back(pt);
  Put16(out, static_cast<uint16_t>(body.size()));
  for (uint32_t w : body) Put32(out, w);
}

/** A clear RTP packet (V=2, no extension): a 12-byte header and `payload` bytes of `fill`. */
inline std::vector<uint8_t> RtpPacket(uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc, size_t payload, uint8_t fill = 0) {
  std::vector<uint8_t> p(12 + payload, fill);
  p[0] = 0x80;
  p[1] = pt;
  pwt::WriteU16(p.data() + 2, seq);
  pwt::WriteU32(p.data() + 4, ts);
  pwt::WriteU32(p.data() + 8, ssrc);
  return p;
}

/** Multipliers of the key and salt bytes of each direction (byte i = i * m + seed). */
struct KeyPattern {
  int key_a, key_b, salt_a, salt_b;
};

/** Two keyed SRTP sessions: `tx` protects at one end, `rx` unprotects at the other. */
struct SrtpPair {
  pwt::SrtpSession tx, rx;
  SrtpPair(pwt::SrtpProfile profile, int seed, KeyPattern k, bool configure = false) {
    pwt::SrtpProfileParams p{};
    CHECK(pwt::GetSrtpProfileParams(profile, &p));
    uint8_t ka[32], sa[14], kb[32], sb[14];
    for (int i = 0; i < 32; ++i) ka[i] = static_cast<uint8_t>(i * k.key_a + seed), kb[i] = static_cast<uint8_t>(i * k.key_b + seed);
    for (int i = 0; i < 14; ++i) sa[i] = static_cast<uint8_t>(i * k.salt_a + seed), sb[i] = static_cast<uint8_t>(i * k.salt_b + seed);
    if (configure) {
      pwt::SrtpSessionOptions o;
      CHECK(tx.Configure(o) == pwt::SrtpStatus::kOk);
      CHECK(rx.Configure(o) == pwt::SrtpStatus::kOk);
    }
    CHECK(tx.Key(profile, ka, p.key_len, sa, p.salt_len, kb, p.key_len, sb, p.salt_len) == pwt::SrtpStatus::kOk);
    CHECK(rx.Key(profile, kb, p.key_len, sb, p.salt_len, ka, p.key_len, sa, p.salt_len) == pwt::SrtpStatus::kOk);
  }
};

/** `clear` protected by `s` (SRTP or SRTCP, as `protect` tells them apart). */
inline std::vector<uint8_t> Protect(pwt::SrtpSession& s, const std::vector<uint8_t>& clear) {
  std::vector<uint8_t> buf(clear);
  buf.resize(clear.size() + 32);
  size_t out = 0;
  CHECK(s.protect(buf.data(), clear.size(), buf.size(), &out) == pwt::SrtpStatus::kOk);
  buf.resize(out);
  return buf;
}

}  // namespace pwt_test
