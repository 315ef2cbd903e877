// One keyed SRTP or SRTCP transform for one direction: the AES-CM/HMAC-SHA1 packet
// transforms of RFC 3711 sections 3.3, 3.4, 4.1.1 and 4.2, the AEAD transforms of RFC 7714
// sections 8 and 9, and the key derivation of RFC 3711 section 4.3 (kdr = 0).
// The OpenSSL contexts are keyed once here and reused for every packet.
#pragma once
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstddef>
#include <cstdint>

#include "native/srtp/srtp_keying.hpp"
#include "native/srtp/srtp_profile.hpp"
#include "native/srtp/srtp_status.hpp"

namespace pwt {

/** RFC 3711 section 4.3.2 key derivation labels (SRTCP labels are SRTP's + 3). */
enum class SrtpKdfLabel : uint8_t {
  kRtpEncryption = 0x00,
  kRtpAuth = 0x01,
  kRtpSalt = 0x02,
  kRtcpEncryption = 0x03,
  kRtcpAuth = 0x04,
  kRtcpSalt = 0x05,
};

/**
 * RFC 3711 section 4.3.1/4.3.3 with key_derivation_rate 0: `out_len` bytes of AES-CM
 * keystream under the master key, IV = (master_salt XOR label << 48) * 2^16. A 12-byte GCM
 * master salt is zero-extended to 112 bits (RFC 7714 section 11).
 */
SrtpStatus SrtpDeriveKey(const uint8_t* master_key, size_t key_len, const uint8_t* master_salt,
                         size_t salt_len, SrtpKdfLabel label, uint8_t* out, size_t out_len) noexcept;

/**
 * HMAC-SHA1 (RFC 2104) with the inner and outer hash states precomputed once per key, so a
 * tag costs two state copies and no allocation (OpenSSL 3.0's EVP_MAC_init re-duplicates
 * the digest context on every re-initialisation).
 */
class HmacSha1 {
 public:
  HmacSha1() = default;
  ~HmacSha1() { Wipe(); }
  HmacSha1(const HmacSha1&) = delete;
  HmacSha1& operator=(const HmacSha1&) = delete;

  void Init(const uint8_t* key, size_t key_len) noexcept;
  /** Full 20-byte MAC of a || b. */
  void Compute(const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len, uint8_t out[20]) const noexcept;
  void Wipe() noexcept;

 private:
  SHA_CTX inner_{};
  SHA_CTX outer_{};
};

/** Which packets a SrtpCipher handles. */
enum class SrtpPacketKind : uint8_t { kRtp = 0, kRtcp = 1 };

/**
 * The keyed transform of one direction (protect or unprotect) for RTP or RTCP. Index and
 * replay bookkeeping live in SrtpSession; this class only transforms bytes in place.
 */
class SrtpCipher {
 public:
  SrtpCipher() = default;
  ~SrtpCipher() { Reset(); }
  SrtpCipher(const SrtpCipher&) = delete;
  SrtpCipher& operator=(const SrtpCipher&) = delete;

  /** Derives the session keys for `kind` from the master key and salt, then keys the contexts. */
  SrtpStatus InitFromMaster(SrtpProfile profile, SrtpPacketKind kind, const uint8_t* master_key,
                            size_t key_len, const uint8_t* master_salt, size_t salt_len, bool encrypt) noexcept;
  /**
   * Keys the contexts with session keys directly (the RFC 7714 section 16/17 vectors are given
   * that way). `auth_key` is 20 bytes for AES-CM profiles and ignored for AEAD ones.
   */
  SrtpStatus InitFromSessionKeys(SrtpProfile profile, SrtpPacketKind kind, const uint8_t* key,
                                 const uint8_t* salt, const uint8_t* auth_key, bool encrypt) noexcept;
  /** Frees the contexts and wipes every key byte. */
  void Reset() noexcept;

  bool keyed() const noexcept { return ctx_ != nullptr; }
  size_t tag_len() const noexcept { return tag_len_; }
  /** Bytes protect appends: the tag for RTP, tag + E/index word for RTCP. */
  size_t overhead() const noexcept { return kind_ == SrtpPacketKind::kRtcp ? tag_len_ + kSrtcpIndexLen : tag_len_; }

  /** RTP: encrypts buf[hdr_len, payload_end) and writes the tag at buf[payload_end]. */
  SrtpStatus ProtectRtp(uint8_t* buf, size_t hdr_len, size_t payload_end, uint32_t ssrc,
                        uint64_t index) noexcept {
    return ProtectRtp(buf, hdr_len, payload_end, ssrc, index, buf);
  }
  /**
   * RTP, out of place: as above, but the clear payload is read from src[hdr_len, payload_end) and
   * the ciphertext written to buf[hdr_len, payload_end) (buf holds only the header before; src may
   * be buf). Saves a forwarder copying each packet before encrypting it (docs/sfu.md "Per-leg cost").
   */
  SrtpStatus ProtectRtp(uint8_t* buf, size_t hdr_len, size_t payload_end, uint32_t ssrc, uint64_t index,
                        const uint8_t* src) noexcept;
  /** RTP: verifies the tag at buf[payload_end], then decrypts buf[hdr_len, payload_end). */
  SrtpStatus UnprotectRtp(uint8_t* buf, size_t hdr_len, size_t payload_end, uint32_t ssrc,
                          uint64_t index) noexcept;
  /** RTCP: encrypts buf[8, len) with E=1 and `index`, appends trailer; new length = len + overhead(). */
  SrtpStatus ProtectRtcp(uint8_t* buf, size_t len, uint32_t index) noexcept;
  /** RTCP: reads the E flag + index word of a protected packet (len >= 8 + overhead()). */
  uint32_t ReadRtcpIndexWord(const uint8_t* buf, size_t len) const noexcept;
  /** RTCP: verifies and (if E) decrypts; the clear length is len - overhead(). */
  SrtpStatus UnprotectRtcp(uint8_t* buf, size_t len) noexcept;

 private:
  SrtpStatus KeyContexts(const uint8_t* key, const uint8_t* salt, const uint8_t* auth_key) noexcept;
  bool Ctr(const uint8_t iv[16], uint8_t* data, size_t len) noexcept { return Ctr(iv, data, data, len); }
  bool Ctr(const uint8_t iv[16], const uint8_t* in, uint8_t* out, size_t len) noexcept;
  bool GcmSeal(const uint8_t iv[12], const uint8_t* aad1, size_t aad1_len, const uint8_t* aad2,
               size_t aad2_len, uint8_t* data, size_t len, uint8_t* tag) noexcept {
    return GcmSeal(iv, aad1, aad1_len, aad2, aad2_len, data, data, len, tag);
  }
  bool GcmSeal(const uint8_t iv[12], const uint8_t* aad1, size_t aad1_len, const uint8_t* aad2,
               size_t aad2_len, const uint8_t* in, uint8_t* out, size_t len, uint8_t* tag) noexcept;
  bool GcmOpen(const uint8_t iv[12], const uint8_t* aad1, size_t aad1_len, const uint8_t* aad2,
               size_t aad2_len, uint8_t* data, size_t len, const uint8_t* tag) noexcept;
  void CmIv(uint32_t ssrc, uint64_t index, uint8_t iv[16]) const noexcept;

  EVP_CIPHER_CTX* ctx_ = nullptr;
  HmacSha1 hmac_;
  SrtpProfileParams params_{};
  SrtpProfile profile_ = SrtpProfile::kAes128CmHmacSha1_80;
  SrtpPacketKind kind_ = SrtpPacketKind::kRtp;
  bool encrypt_ = true;
  size_t tag_len_ = 0;
  uint8_t salt_[14]{};
};

}  // namespace pwt
