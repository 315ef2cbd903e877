// Parameters of the SRTP protection profiles: RFC 5764 section 4.1.2 (AES-CM/HMAC-SHA1)
// and RFC 7714 sections 12 and 14.2 (AEAD_AES_128_GCM, AEAD_AES_256_GCM).
#pragma once
#include <cstddef>
#include <cstdint>

#include "native/srtp/srtp_keying.hpp"

namespace pwt {

/** Lengths and transform kind of one protection profile. */
struct SrtpProfileParams {
  /** Master (and session) encryption key length in bytes. */
  size_t key_len;
  /** Master (and session) salt length in bytes: 14 for AES-CM, 12 for GCM. */
  size_t salt_len;
  /** Session authentication key length (HMAC-SHA1), 0 for AEAD profiles. */
  size_t auth_key_len;
  /** SRTP authentication tag length. */
  size_t rtp_tag_len;
  /** SRTCP authentication tag length (80 bits for both AES-CM profiles, RFC 5764 4.1.2). */
  size_t rtcp_tag_len;
  /** true for AES-GCM (RFC 7714), false for AES-CM + HMAC-SHA1 (RFC 3711). */
  bool aead;
};

/** Fills `out` for a known profile; false for an unknown one. */
inline bool GetSrtpProfileParams(SrtpProfile profile, SrtpProfileParams* out) noexcept {
  switch (profile) {
    case SrtpProfile::kAes128CmHmacSha1_80:
      *out = {16, 14, 20, 10, 10, false};
      return true;
    case SrtpProfile::kAes128CmHmacSha1_32:
      *out = {16, 14, 20, 4, 10, false};
      return true;
    case SrtpProfile::kAeadAes128Gcm:
      *out = {16, 12, 0, 16, 16, true};
      return true;
    case SrtpProfile::kAeadAes256Gcm:
      *out = {32, 12, 0, 16, 16, true};
      return true;
  }
  return false;
}

/** The SRTCP trailer after the tag or before it: 4 bytes of E flag + 31-bit index. */
constexpr size_t kSrtcpIndexLen = 4;

/** Bytes protect adds to an RTP packet for `profile` (0 when the profile is unknown). */
inline size_t SrtpRtpOverhead(SrtpProfile profile) noexcept {
  SrtpProfileParams p{};
  return GetSrtpProfileParams(profile, &p) ? p.rtp_tag_len : 0;
}

/** Bytes protect adds to an RTCP packet for `profile` (tag + E/index word). */
inline size_t SrtpRtcpOverhead(SrtpProfile profile) noexcept {
  SrtpProfileParams p{};
  return GetSrtpProfileParams(profile, &p) ? p.rtcp_tag_len + kSrtcpIndexLen : 0;
}

}  // namespace pwt
