// SRTP/SRTCP packet transforms over OpenSSL: AES-CM + HMAC-SHA1 (RFC 3711 sections 3.3,
// 3.4, 4.1.1, 4.2, 4.3) and AES-GCM (RFC 7714 sections 8, 9, 11).
// SHA1_* is deprecated in OpenSSL 3 but is the only allocation-free way to reuse HMAC
// key states on 3.0 (see HmacSha1 in the header), so the warning is silenced here only.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "native/srtp/srtp_cipher.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>

#include <climits>
#include <cstring>

#include "native/srtp/srtp_packet.hpp"

namespace pwt {
namespace {

enum class CipherAlg { kCtr128, kCtr256, kGcm128, kGcm256 };

// Algorithms are fetched once per process (thread-safe static init) and shared by every
// context: a per-packet or per-session implicit fetch is what makes naive EVP code slow.
const EVP_CIPHER* Fetched(CipherAlg alg) noexcept {
  static EVP_CIPHER* const ctr128 = EVP_CIPHER_fetch(nullptr, "AES-128-CTR", nullptr);
  static EVP_CIPHER* const ctr256 = EVP_CIPHER_fetch(nullptr, "AES-256-CTR", nullptr);
  static EVP_CIPHER* const gcm128 = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
  static EVP_CIPHER* const gcm256 = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  switch (alg) {
    case CipherAlg::kCtr128: return ctr128;
    case CipherAlg::kCtr256: return ctr256;
    case CipherAlg::kGcm128: return gcm128;
    case CipherAlg::kGcm256: return gcm256;
  }
  return nullptr;
}

constexpr size_t kGcmIvLen = 12;
constexpr size_t kMaxKeyLen = 32;
constexpr size_t kAuthKeyLen = 20;

}  // namespace

SrtpStatus SrtpDeriveKey(const uint8_t* master_key, size_t key_len, const uint8_t* master_salt,
                         size_t salt_len, SrtpKdfLabel label, uint8_t* out, size_t out_len) noexcept {
  if ((key_len != 16 && key_len != 32) || salt_len > 14 || out_len > 256) return SrtpStatus::kInvalidKey;
  const EVP_CIPHER* alg = Fetched(key_len == 16 ? CipherAlg::kCtr128 : CipherAlg::kCtr256);
  if (alg == nullptr) return SrtpStatus::kCryptoError;
  // x = key_id XOR master_salt, key_id = label || r with r = 0 (kdr = 0): the label lands on
  // byte 7 of the 112-bit value; the IV is x * 2^16.
  uint8_t iv[16] = {0};
  std::memcpy(iv, master_salt, salt_len);
  iv[7] ^= static_cast<uint8_t>(label);
  std::memset(out, 0, out_len);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return SrtpStatus::kCryptoError;
  int outl = 0;
  bool ok = EVP_EncryptInit_ex2(ctx, alg, master_key, iv, nullptr) == 1 &&
            EVP_EncryptUpdate(ctx, out, &outl, out, static_cast<int>(out_len)) == 1;
  EVP_CIPHER_CTX_free(ctx);
  OPENSSL_cleanse(iv, sizeof(iv));
  return ok ? SrtpStatus::kOk : SrtpStatus::kCryptoError;
}

void HmacSha1::Init(const uint8_t* key, size_t key_len) noexcept {
  uint8_t pad[SHA_CBLOCK];
  uint8_t hashed[SHA_DIGEST_LENGTH];
  if (key_len > SHA_CBLOCK) {
    SHA1(key, key_len, hashed);
    key = hashed;
    key_len = SHA_DIGEST_LENGTH;
  }
  std::memset(pad, 0x36, sizeof(pad));
  for (size_t i = 0; i < key_len; ++i) pad[i] ^= key[i];
  SHA1_Init(&inner_);
  SHA1_Update(&inner_, pad, sizeof(pad));
  std::memset(pad, 0x5c, sizeof(pad));
  for (size_t i = 0; i < key_len; ++i) pad[i] ^= key[i];
  SHA1_Init(&outer_);
  SHA1_Update(&outer_, pad, sizeof(pad));
  OPENSSL_cleanse(pad, sizeof(pad));
  OPENSSL_cleanse(hashed, sizeof(hashed));
}

void HmacSha1::Compute(const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len,
                       uint8_t out[20]) const noexcept {
  SHA_CTX c = inner_;
  uint8_t digest[SHA_DIGEST_LENGTH];
  SHA1_Update(&c, a, a_len);
  if (b_len) SHA1_Update(&c, b, b_len);
  SHA1_Final(digest, &c);
  c = outer_;
  SHA1_Update(&c, digest, sizeof(digest));
  SHA1_Final(out, &c);
}

void HmacSha1::Wipe() noexcept {
  OPENSSL_cleanse(&inner_, sizeof(inner_));
  OPENSSL_cleanse(&outer_, sizeof(outer_));
}

SrtpStatus SrtpCipher::InitFromMaster(SrtpProfile profile, SrtpPacketKind kind, const uint8_t* master_key,
                                      size_t key_len, const uint8_t* master_salt, size_t salt_len,
                                      bool encrypt) noexcept {
  SrtpProfileParams p{};
  if (!GetSrtpProfileParams(profile, &p)) return SrtpStatus::kInvalidProfile;
  if (key_len != p.key_len || salt_len != p.salt_len) return SrtpStatus::kInvalidKey;
  const bool rtcp = kind == SrtpPacketKind::kRtcp;
  uint8_t key[kMaxKeyLen];
  uint8_t salt[14];
  uint8_t auth[kAuthKeyLen];
  SrtpStatus st = SrtpDeriveKey(master_key, key_len, master_salt, salt_len,
                                rtcp ? SrtpKdfLabel::kRtcpEncryption : SrtpKdfLabel::kRtpEncryption, key, p.key_len);
  if (st == SrtpStatus::kOk)
    st = SrtpDeriveKey(master_key, key_len, master_salt, salt_len,
                       rtcp ? SrtpKdfLabel::kRtcpSalt : SrtpKdfLabel::kRtpSalt, salt, p.salt_len);
  if (st == SrtpStatus::kOk && !p.aead)
    st = SrtpDeriveKey(master_key, key_len, master_salt, salt_len,
                       rtcp ? SrtpKdfLabel::kRtcpAuth : SrtpKdfLabel::kRtpAuth, auth, p.auth_key_len);
  if (st == SrtpStatus::kOk) st = InitFromSessionKeys(profile, kind, key, salt, auth, encrypt);
  OPENSSL_cleanse(key, sizeof(key));
  OPENSSL_cleanse(salt, sizeof(salt));
  OPENSSL_cleanse(auth, sizeof(auth));
  return st;
}

SrtpStatus SrtpCipher::InitFromSessionKeys(SrtpProfile profile, SrtpPacketKind kind, const uint8_t* key,
                                           const uint8_t* salt, const uint8_t* auth_key, bool encrypt) noexcept {
  Reset();
  if (!GetSrtpProfileParams(profile, &params_)) return SrtpStatus::kInvalidProfile;
  profile_ = profile;
  kind_ = kind;
  encrypt_ = encrypt;
  tag_len_ = kind == SrtpPacketKind::kRtcp ? params_.rtcp_tag_len : params_.rtp_tag_len;
  SrtpStatus st = KeyContexts(key, salt, auth_key);
  if (st != SrtpStatus::kOk) Reset();
  return st;
}

SrtpStatus SrtpCipher::KeyContexts(const uint8_t* key, const uint8_t* salt, const uint8_t* auth_key) noexcept {
  CipherAlg alg;
  if (params_.aead) {
    alg = params_.key_len == 16 ? CipherAlg::kGcm128 : CipherAlg::kGcm256;
  } else {
    alg = params_.key_len == 16 ? CipherAlg::kCtr128 : CipherAlg::kCtr256;
  }
  const EVP_CIPHER* cipher = Fetched(alg);
  if (cipher == nullptr) return SrtpStatus::kCryptoError;
  ctx_ = EVP_CIPHER_CTX_new();
  if (ctx_ == nullptr) return SrtpStatus::kCryptoError;
  // CTR is its own inverse, so AES-CM contexts always run in the encrypt direction.
  const int enc = params_.aead ? (encrypt_ ? 1 : 0) : 1;
  if (EVP_CipherInit_ex2(ctx_, cipher, key, nullptr, enc, nullptr) != 1) return SrtpStatus::kCryptoError;
  std::memcpy(salt_, salt, params_.salt_len);
  if (!params_.aead) hmac_.Init(auth_key, params_.auth_key_len);
  return SrtpStatus::kOk;
}

void SrtpCipher::Reset() noexcept {
  if (ctx_ != nullptr) {
    // EVP_CIPHER_CTX_free cleanses the provider's key schedule.
    EVP_CIPHER_CTX_free(ctx_);
    ctx_ = nullptr;
  }
  hmac_.Wipe();
  OPENSSL_cleanse(salt_, sizeof(salt_));
  tag_len_ = 0;
}

void SrtpCipher::CmIv(uint32_t ssrc, uint64_t index, uint8_t iv[16]) const noexcept {
  // RFC 3711 4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16).
  std::memcpy(iv, salt_, 14);
  iv[14] = 0;
  iv[15] = 0;
  iv[4] ^= static_cast<uint8_t>(ssrc >> 24);
  iv[5] ^= static_cast<uint8_t>(ssrc >> 16);
  iv[6] ^= static_cast<uint8_t>(ssrc >> 8);
  iv[7] ^= static_cast<uint8_t>(ssrc);
  for (int k = 0; k < 6; ++k) iv[13 - k] ^= static_cast<uint8_t>(index >> (8 * k));
}

bool SrtpCipher::Ctr(const uint8_t iv[16], const uint8_t* in, uint8_t* out, size_t len) noexcept {
  if (EVP_CipherInit_ex2(ctx_, nullptr, nullptr, iv, -1, nullptr) != 1) return false;
  if (len == 0) return true;
  int outl = 0;
  return EVP_CipherUpdate(ctx_, out, &outl, in, static_cast<int>(len)) == 1;
}

bool SrtpCipher::GcmSeal(const uint8_t iv[12], const uint8_t* aad1, size_t aad1_len, const uint8_t* aad2,
                         size_t aad2_len, const uint8_t* in, uint8_t* out, size_t len, uint8_t* tag) noexcept {
  int outl = 0;
  if (EVP_CipherInit_ex2(ctx_, nullptr, nullptr, iv, -1, nullptr) != 1) return false;
  if (aad1_len && EVP_CipherUpdate(ctx_, nullptr, &outl, aad1, static_cast<int>(aad1_len)) != 1) return false;
  if (aad2_len && EVP_CipherUpdate(ctx_, nullptr, &outl, aad2, static_cast<int>(aad2_len)) != 1) return false;
  if (len && EVP_CipherUpdate(ctx_, out, &outl, in, static_cast<int>(len)) != 1) return false;
  if (EVP_CipherFinal_ex(ctx_, out + len, &outl) != 1) return false;
  // The provider's parameter call directly: EVP_CIPHER_CTX_ctrl(EVP_CTRL_AEAD_GET_TAG) builds the
  // same one-entry array on every call and then makes this call.
  OSSL_PARAM params[2] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, tag_len_),
                          OSSL_PARAM_construct_end()};
  return EVP_CIPHER_CTX_get_params(ctx_, params) == 1;
}

bool SrtpCipher::GcmOpen(const uint8_t iv[12], const uint8_t* aad1, size_t aad1_len, const uint8_t* aad2,
                         size_t aad2_len, uint8_t* data, size_t len, const uint8_t* tag) noexcept {
  int outl = 0;
  if (EVP_CipherInit_ex2(ctx_, nullptr, nullptr, iv, -1, nullptr) != 1) return false;
  if (aad1_len && EVP_CipherUpdate(ctx_, nullptr, &outl, aad1, static_cast<int>(aad1_len)) != 1) return false;
  if (aad2_len && EVP_CipherUpdate(ctx_, nullptr, &outl, aad2, static_cast<int>(aad2_len)) != 1) return false;
  if (len && EVP_CipherUpdate(ctx_, data, &outl, data, static_cast<int>(len)) != 1) return false;
  // SET_TAG takes a non-const pointer but only reads it.
  if (EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag_len_), const_cast<uint8_t*>(tag)) != 1)
    return false;
  return EVP_CipherFinal_ex(ctx_, data + len, &outl) == 1;
}

SrtpStatus SrtpCipher::ProtectRtp(uint8_t* buf, size_t hdr_len, size_t payload_end, uint32_t ssrc,
                                  uint64_t index, const uint8_t* src) noexcept {
  if (params_.aead) {
    // RFC 7714 8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt; AAD = the RTP header.
    uint8_t iv[kGcmIvLen];
    std::memcpy(iv, salt_, kGcmIvLen);
    for (int k = 0; k < 4; ++k) iv[5 - k] ^= static_cast<uint8_t>(ssrc >> (8 * k));
    for (int k = 0; k < 6; ++k) iv[11 - k] ^= static_cast<uint8_t>(index >> (8 * k));
    return GcmSeal(iv, buf, hdr_len, nullptr, 0, src + hdr_len, buf + hdr_len, payload_end - hdr_len,
                   buf + payload_end)
               ? SrtpStatus::kOk
               : SrtpStatus::kCryptoError;
  }
  uint8_t iv[16];
  CmIv(ssrc, index, iv);
  if (!Ctr(iv, src + hdr_len, buf + hdr_len, payload_end - hdr_len)) return SrtpStatus::kCryptoError;
  // RFC 3711 4.2: the tag covers the authenticated portion || ROC.
  uint8_t roc[4];
  WriteU32(roc, static_cast<uint32_t>(index >> 16));
  uint8_t mac[SHA_DIGEST_LENGTH];
  hmac_.Compute(buf, payload_end, roc, sizeof(roc), mac);
  std::memcpy(buf + payload_end, mac, tag_len_);
  return SrtpStatus::kOk;
}

SrtpStatus SrtpCipher::UnprotectRtp(uint8_t* buf, size_t hdr_len, size_t payload_end, uint32_t ssrc,
                                    uint64_t index) noexcept {
  if (params_.aead) {
    uint8_t iv[kGcmIvLen];
    std::memcpy(iv, salt_, kGcmIvLen);
    for (int k = 0; k < 4; ++k) iv[5 - k] ^= static_cast<uint8_t>(ssrc >> (8 * k));
    for (int k = 0; k < 6; ++k) iv[11 - k] ^= static_cast<uint8_t>(index >> (8 * k));
    return GcmOpen(iv, buf, hdr_len, nullptr, 0, buf + hdr_len, payload_end - hdr_len, buf + payload_end)
               ? SrtpStatus::kOk
               : SrtpStatus::kAuthFailed;
  }
  uint8_t roc[4];
  WriteU32(roc, static_cast<uint32_t>(index >> 16));
  uint8_t mac[SHA_DIGEST_LENGTH];
  hmac_.Compute(buf, payload_end, roc, sizeof(roc), mac);
  if (CRYPTO_memcmp(mac, buf + payload_end, tag_len_) != 0) return SrtpStatus::kAuthFailed;
  uint8_t iv[16];
  CmIv(ssrc, index, iv);
  return Ctr(iv, buf + hdr_len, payload_end - hdr_len) ? SrtpStatus::kOk : SrtpStatus::kCryptoError;
}

SrtpStatus SrtpCipher::ProtectRtcp(uint8_t* buf, size_t len, uint32_t index) noexcept {
  const uint32_t ssrc = ReadU32(buf + 4);
  const uint32_t word = 0x80000000u | (index & 0x7fffffffu);
  if (params_.aead) {
    // RFC 7714 9.1: IV = (00 00 || SSRC || 00 00 || 0 || index) XOR salt;
    // AAD = first 8 octets || E/index word; the word follows the tag on the wire.
    uint8_t iv[kGcmIvLen];
    std::memcpy(iv, salt_, kGcmIvLen);
    for (int k = 0; k < 4; ++k) iv[5 - k] ^= static_cast<uint8_t>(ssrc >> (8 * k));
    for (int k = 0; k < 4; ++k) iv[11 - k] ^= static_cast<uint8_t>(index >> (8 * k));
    uint8_t w[4];
    WriteU32(w, word);
    if (!GcmSeal(iv, buf, kRtcpFixedHeaderLen, w, 4, buf + kRtcpFixedHeaderLen, len - kRtcpFixedHeaderLen, buf + len))
      return SrtpStatus::kCryptoError;
    std::memcpy(buf + len + tag_len_, w, 4);
    return SrtpStatus::kOk;
  }
  // RFC 3711 3.4: encrypt after the first 8 octets, append E||index, tag over all of it.
  uint8_t iv[16];
  CmIv(ssrc, index, iv);
  if (!Ctr(iv, buf + kRtcpFixedHeaderLen, len - kRtcpFixedHeaderLen)) return SrtpStatus::kCryptoError;
  WriteU32(buf + len, word);
  uint8_t mac[SHA_DIGEST_LENGTH];
  hmac_.Compute(buf, len + 4, nullptr, 0, mac);
  std::memcpy(buf + len + 4, mac, tag_len_);
  return SrtpStatus::kOk;
}

uint32_t SrtpCipher::ReadRtcpIndexWord(const uint8_t* buf, size_t len) const noexcept {
  return params_.aead ? ReadU32(buf + len - 4) : ReadU32(buf + len - tag_len_ - 4);
}

SrtpStatus SrtpCipher::UnprotectRtcp(uint8_t* buf, size_t len) noexcept {
  const size_t body_end = len - overhead();
  const uint32_t word = ReadRtcpIndexWord(buf, len);
  const bool encrypted = (word & 0x80000000u) != 0;
  const uint32_t index = word & 0x7fffffffu;
  const uint32_t ssrc = ReadU32(buf + 4);
  if (params_.aead) {
    uint8_t iv[kGcmIvLen];
    std::memcpy(iv, salt_, kGcmIvLen);
    for (int k = 0; k < 4; ++k) iv[5 - k] ^= static_cast<uint8_t>(ssrc >> (8 * k));
    for (int k = 0; k < 4; ++k) iv[11 - k] ^= static_cast<uint8_t>(index >> (8 * k));
    const uint8_t* tag = buf + body_end;
    const uint8_t* w = buf + len - 4;
    bool ok;
    if (encrypted) {
      ok = GcmOpen(iv, buf, kRtcpFixedHeaderLen, w, 4, buf + kRtcpFixedHeaderLen, body_end - kRtcpFixedHeaderLen, tag);
    } else {
      // RFC 7714 9.2 (E = 0): the whole packet is associated data, nothing is encrypted.
      ok = GcmOpen(iv, buf, body_end, w, 4, buf + body_end, 0, tag);
    }
    return ok ? SrtpStatus::kOk : SrtpStatus::kAuthFailed;
  }
  uint8_t mac[SHA_DIGEST_LENGTH];
  hmac_.Compute(buf, len - tag_len_, nullptr, 0, mac);
  if (CRYPTO_memcmp(mac, buf + len - tag_len_, tag_len_) != 0) return SrtpStatus::kAuthFailed;
  if (!encrypted) return SrtpStatus::kOk;
  uint8_t iv[16];
  CmIv(ssrc, index, iv);
  return Ctr(iv, buf + kRtcpFixedHeaderLen, body_end - kRtcpFixedHeaderLen) ? SrtpStatus::kOk
                                                                             : SrtpStatus::kCryptoError;
}

}  // namespace pwt
