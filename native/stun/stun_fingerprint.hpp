// STUN FINGERPRINT (RFC 8489 §14.7): CRC-32 (ISO/IEC 3309, the polynomial of ITU-T V.42) of the
// message up to the attribute, XOR 0x5354554e. No allocation; the table is built at compile time.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pwt {

constexpr uint32_t kStunFingerprintXor = 0x5354554e;

/** CRC-32 (reflected, polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF) of `len` bytes. */
uint32_t stun_crc32(const uint8_t* data, size_t len) noexcept;

/**
 * The FINGERPRINT value of `msg[0..covered)` (§14.7): stun_crc32 XOR kStunFingerprintXor. The header's
 * length field must already count the FINGERPRINT attribute (a received message as it arrived; an
 * answer once its final length is written).
 */
inline uint32_t stun_fingerprint(const uint8_t* msg, size_t covered) noexcept {
  return stun_crc32(msg, covered) ^ kStunFingerprintXor;
}

}  // namespace pwt
