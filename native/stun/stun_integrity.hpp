// STUN MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1 over the message up to the attribute, with the
// header's length field as it reads once the attribute is included. No allocation, no OpenSSL fetch.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pwt {

class HmacSha1;

constexpr size_t kStunIntegrityLen = 20;
constexpr size_t kStunHeaderLen = 20;

/**
 * Writes HMAC-SHA1(key, msg[0..2) || length_field (big-endian) || msg[4..covered)) to `out`.
 * `covered` is the offset of the MESSAGE-INTEGRITY attribute; false when it is shorter than a
 * STUN header (nothing written).
 */
bool stun_integrity_sha1(const uint8_t* key, size_t key_len, const uint8_t* msg, size_t covered,
                         uint16_t length_field, uint8_t out[kStunIntegrityLen]) noexcept;

/** The same with a key prepared once (`HmacSha1::Init`), for a connection that checks many messages. */
bool stun_integrity_sha1(const HmacSha1& key, const uint8_t* msg, size_t covered, uint16_t length_field,
                         uint8_t out[kStunIntegrityLen]) noexcept;

}  // namespace pwt
