// Bounds-checked reads of the RTP (RFC 3550 section 5.1) and RTCP (RFC 3550 section 6.4)
// fields SRTP needs, and the RTP/RTCP demultiplexing rule of RFC 5761 section 4. The big-endian
// readers and writers are shared by the other wire formats of native/ (STUN, the forwarding rewrite).
#pragma once
#include <cstddef>
#include <cstdint>

namespace pwt {

/** Minimum RTP header: V/P/X/CC, M/PT, sequence number, timestamp, SSRC. */
constexpr size_t kRtpFixedHeaderLen = 12;
/** Minimum RTCP header SRTCP needs: V/P/RC, PT, length, sender SSRC. */
constexpr size_t kRtcpFixedHeaderLen = 8;
/** Longest packet the engine accepts (a UDP datagram cannot be longer). */
constexpr size_t kSrtpMaxPacketLen = 65535;

inline uint16_t ReadU16(const uint8_t* p) noexcept {
  return static_cast<uint16_t>((static_cast<uint16_t>(p[0]) << 8) | p[1]);
}
inline uint32_t ReadU32(const uint8_t* p) noexcept {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | static_cast<uint32_t>(p[3]);
}
inline void WriteU16(uint8_t* p, uint16_t v) noexcept {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void WriteU32(uint8_t* p, uint32_t v) noexcept {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

/**
 * RFC 5761 section 4: with RTP and RTCP multiplexed on one port, a packet whose second
 * byte (RTCP packet type, or RTP M bit + payload type) is in 192..223 is RTCP. RTP payload
 * types 64..95 are therefore never used with rtcp-mux.
 */
inline bool IsRtcpPacket(const uint8_t* buf, size_t len) noexcept {
  return len >= 2 && buf[1] >= 192 && buf[1] <= 223;
}

/**
 * Length of the RTP header including CSRCs and the header extension (RFC 3550 5.3.1),
 * or 0 when the version is not 2 or the header does not fit in `len` bytes.
 */
inline size_t RtpHeaderLength(const uint8_t* buf, size_t len) noexcept {
  if (len < kRtpFixedHeaderLen || (buf[0] >> 6) != 2) return 0;
  size_t hdr = kRtpFixedHeaderLen + 4u * (buf[0] & 0x0f);
  if (buf[0] & 0x10) {
    if (hdr + 4 > len) return 0;
    hdr += 4 + 4u * ReadU16(buf + hdr + 2);
  }
  return hdr <= len ? hdr : 0;
}

}  // namespace pwt
