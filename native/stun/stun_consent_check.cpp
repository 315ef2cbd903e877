// Our own consent checks built and their answers verified natively (see stun_consent_check.hpp;
// RFC 7675 §5.1, RFC 8445 §7.2.2, RFC 8489 §5, §14.5, §14.7).
#include "native/stun/stun_consent_check.hpp"

#include <openssl/crypto.h>

#include <cstring>

#include "native/srtp/srtp_packet.hpp"
#include "native/stun/stun_constants.hpp"
#include "native/stun/stun_fingerprint.hpp"
#include "native/stun/stun_integrity.hpp"

namespace pwt {
namespace {

constexpr uint16_t kStunBindingError = 0x0111;

size_t AttributeHeader(uint8_t* out, size_t at, uint16_t type, uint16_t length) {
  WriteU16(out + at, type);
  WriteU16(out + at + 2, length);
  return at + 4;
}

}  // namespace

size_t stun_consent_check_build(const StunConsentCheckParams& p, const uint8_t txid[kStunTransactionIdLen],
                                uint8_t* out) noexcept {
  if (p.key == nullptr || p.tie_breaker == nullptr || p.username.empty() || p.username.size() > 513) return 0;
  WriteU16(out, kStunBindingRequest);
  WriteU32(out + 4, kStunMagicCookie);
  std::memcpy(out + 8, txid, kStunTransactionIdLen);
  size_t w = AttributeHeader(out, kStunHeaderLen, kStunAttrUsername, static_cast<uint16_t>(p.username.size()));
  std::memcpy(out + w, p.username.data(), p.username.size());
  const size_t padded = (p.username.size() + 3) & ~static_cast<size_t>(3);
  std::memset(out + w + p.username.size(), 0, padded - p.username.size());
  w = AttributeHeader(out, w + padded, kStunAttrPriority, 4);
  WriteU32(out + w, p.priority);
  w = AttributeHeader(out, w + 4, p.controlling ? kStunAttrIceControlling : kStunAttrIceControlled, 8);
  std::memcpy(out + w, p.tie_breaker, 8);
  w += 8;
  // MESSAGE-INTEGRITY over the message with the length as it reads once the attribute counts (§14.5).
  const size_t integrity_at = w;
  w = AttributeHeader(out, w, kStunAttrMessageIntegrity, kStunIntegrityLen);
  stun_integrity_sha1(*p.key, out, integrity_at, static_cast<uint16_t>(integrity_at + 4 + kStunIntegrityLen - kStunHeaderLen), out + w);
  w += kStunIntegrityLen;
  const size_t fingerprint_at = w;
  w = AttributeHeader(out, w, kStunAttrFingerprint, 4);
  WriteU16(out + 2, static_cast<uint16_t>(w + 4 - kStunHeaderLen));  // final length, FINGERPRINT counted (§14.7)
  WriteU32(out + w, stun_fingerprint(out, fingerprint_at));
  return w + 4;
}

StunConsentResponse stun_consent_response_check(const uint8_t* msg, size_t len, const HmacSha1& key) noexcept {
  if (len < 2 || msg[0] != 0x01 || (msg[1] != 0x01 && msg[1] != 0x11)) return StunConsentResponse::kNotResponse;
  if (len < kStunHeaderLen || len % 4 != 0 || ReadU32(msg + 4) != kStunMagicCookie || ReadU16(msg + 2) != len - kStunHeaderLen) {
    return StunConsentResponse::kMalformed;
  }
  if (ReadU16(msg) == kStunBindingError) return StunConsentResponse::kErrorResponse;
  size_t integrity_at = 0;
  size_t fingerprint_at = 0;
  for (size_t at = kStunHeaderLen; at < len;) {
    if (fingerprint_at != 0 || len - at < 4) return StunConsentResponse::kMalformed;
    const uint16_t type = ReadU16(msg + at);
    const size_t length = ReadU16(msg + at + 2);
    const size_t padded = (length + 3) & ~static_cast<size_t>(3);
    if (padded > len - at - 4) return StunConsentResponse::kMalformed;
    // RFC 8489 §14.5: attributes after MESSAGE-INTEGRITY other than FINGERPRINT are ignored (as the
    // agent in JavaScript does), not a reason to refuse the response.
    if (integrity_at != 0 && type != kStunAttrFingerprint) {
      at += 4 + padded;
      continue;
    }
    if (type == kStunAttrMessageIntegrity) {
      if (length != kStunIntegrityLen) return StunConsentResponse::kMalformed;
      integrity_at = at;
    } else if (type == kStunAttrFingerprint) {
      if (length != 4) return StunConsentResponse::kMalformed;
      fingerprint_at = at;
    }
    at += 4 + padded;
  }
  // FINGERPRINT is checked when present but not required: the agent in JavaScript accepts a response
  // signed with MESSAGE-INTEGRITY alone too, and both paths agree (docs/ice.md "Consent checks sent natively").
  if (integrity_at == 0) return StunConsentResponse::kMalformed;
  if (fingerprint_at != 0 && stun_fingerprint(msg, fingerprint_at) != ReadU32(msg + fingerprint_at + 4)) return StunConsentResponse::kBadFingerprint;
  uint8_t mac[kStunIntegrityLen];
  stun_integrity_sha1(key, msg, integrity_at, static_cast<uint16_t>(integrity_at + 4 + kStunIntegrityLen - kStunHeaderLen), mac);
  if (CRYPTO_memcmp(mac, msg + integrity_at + 4, kStunIntegrityLen) != 0) return StunConsentResponse::kBadIntegrity;
  return StunConsentResponse::kVerified;
}

}  // namespace pwt
