// STUN MESSAGE-INTEGRITY (see stun_integrity.hpp; RFC 8489 §14.5, key per §9.2.2 short-term
// credentials). Uses the SRTP layer's HMAC-SHA1 (native/srtp/srtp_cipher.hpp): precomputed pads,
// low-level SHA1, so a tag costs a few microseconds less than node:crypto's createHmac, which
// fetches the digest from the provider on every call.
#include "native/stun/stun_integrity.hpp"

#include <cstring>

#include "native/srtp/srtp_cipher.hpp"

namespace pwt {

bool stun_integrity_sha1(const HmacSha1& key, const uint8_t* msg, size_t covered, uint16_t length_field,
                         uint8_t out[kStunIntegrityLen]) noexcept {
  if (covered < kStunHeaderLen) return false;
  // The first four header octets as they read with the attribute counted (§14.5).
  const uint8_t head[4] = {msg[0], msg[1], static_cast<uint8_t>(length_field >> 8), static_cast<uint8_t>(length_field)};
  key.Compute(head, sizeof(head), msg + 4, covered - 4, out);
  return true;
}

bool stun_integrity_sha1(const uint8_t* key, size_t key_len, const uint8_t* msg, size_t covered,
                         uint16_t length_field, uint8_t out[kStunIntegrityLen]) noexcept {
  if (covered < kStunHeaderLen) return false;
  HmacSha1 mac;
  mac.Init(key, key_len);
  return stun_integrity_sha1(mac, msg, covered, length_field, out);
}

}  // namespace pwt
