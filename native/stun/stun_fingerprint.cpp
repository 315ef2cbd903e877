// STUN FINGERPRINT (see stun_fingerprint.hpp; RFC 8489 §14.7): a byte-wise table CRC-32.
#include "native/stun/stun_fingerprint.hpp"

#include <array>

namespace pwt {
namespace {

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? (0xEDB88320u ^ (c >> 1)) : (c >> 1);
    table[i] = c;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

uint32_t CrcUpdate(uint32_t crc, const uint8_t* data, size_t len) noexcept {
  for (size_t i = 0; i < len; ++i) crc = kCrcTable[(crc ^ data[i]) & 0xFFu] ^ (crc >> 8);
  return crc;
}

}  // namespace

uint32_t stun_crc32(const uint8_t* data, size_t len) noexcept {
  return CrcUpdate(0xFFFFFFFFu, data, len) ^ 0xFFFFFFFFu;
}

}  // namespace pwt
