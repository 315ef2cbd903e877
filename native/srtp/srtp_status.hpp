// Result codes of the SRTP engine (RFC 3711 section 3.3/3.4 processing steps that can fail).
// Network-input failures are counted by reason; the misuse codes are mapped to typed JS errors.
#pragma once
#include <cstddef>
#include <cstdint>

namespace pwt {

/** Outcome of one SRTP/SRTCP operation. Values are stable: JS reads them from batch results. */
enum class SrtpStatus : uint8_t {
  kOk = 0,
  /** Shorter than the fixed header plus the authentication tag (and SRTCP trailer). */
  kTooShort = 1,
  /** Not RTP/RTCP version 2, header fields pointing past the end, or longer than 64 KiB. */
  kMalformed = 2,
  /** The authentication tag (HMAC-SHA1 or GCM tag) did not verify. */
  kAuthFailed = 3,
  /** The packet index was already received (replay window bit set). */
  kReplayed = 4,
  /** The packet index is older than the replay window, or before the stream's first index. */
  kTooOld = 5,
  /** A new SSRC arrived while the session already holds the maximum number of streams. */
  kStreamLimit = 6,
  /** The session has no keys (not keyed yet, or closed). */
  kNotKeyed = 7,
  /** Protect: the caller's buffer cannot hold the tag (and SRTCP trailer). */
  kBufferTooSmall = 8,
  /** The 48-bit SRTP index or the 31-bit SRTCP index is used up: the session must be rekeyed. */
  kIndexExhausted = 9,
  /** OpenSSL reported a failure that valid input cannot cause. */
  kCryptoError = 10,
  /** Key or salt length does not fit the profile (API misuse). */
  kInvalidKey = 11,
  /** Unknown protection profile (API misuse). */
  kInvalidProfile = 12,
  /** Offsets/lengths outside the buffer, or an invalid option (API misuse). */
  kInvalidArgument = 13,
};

/** Number of SrtpStatus values (the size of per-reason counter arrays). */
constexpr size_t kSrtpStatusCount = 14;

/** A stable lowercase name for logs and tests. */
const char* SrtpStatusName(SrtpStatus status) noexcept;

}  // namespace pwt
