// STUN MESSAGE-INTEGRITY (native/stun/stun_integrity.hpp) against RFC 5769 §2.1's sample request:
// the HMAC-SHA1 over the message up to the attribute, with the length field counting it, equals the
// attribute in the vector; a changed length field or key does not; a short `covered` is refused.
#include <cstdint>
#include <cstring>

#include "native/stun/stun_integrity.hpp"
#include "test/native/check.hpp"

using namespace pwt;

int main() {
  // RFC 5769 §2.1 Sample Request, up to and including MESSAGE-INTEGRITY (offset 76, value at 80).
  const uint8_t request[] = {
      0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87,
      0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c,
      0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff, 0x80, 0x29, 0x00, 0x08, 0x93, 0x2f,
      0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76,
      0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e,
      0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2};
  const char* password = "VOkJxbRl1RmTxUk/WvJxBt";
  const uint8_t* key = reinterpret_cast<const uint8_t*>(password);
  const size_t key_len = std::strlen(password);
  const size_t at = 76;
  // Header's length with MESSAGE-INTEGRITY counted and FINGERPRINT not: 76 + 24 - 20 = 80 (§14.5).
  const uint16_t length_field = 80;
  uint8_t mac[kStunIntegrityLen];
  CHECK(stun_integrity_sha1(key, key_len, request, at, length_field, mac));
  CHECK_MEM(mac, request + at + 4, kStunIntegrityLen);
  // The message's own length field (0x58, FINGERPRINT counted) is not what the MAC covers.
  CHECK(stun_integrity_sha1(key, key_len, request, at, 0x58, mac));
  CHECK(std::memcmp(mac, request + at + 4, kStunIntegrityLen) != 0);
  // Another key gives another MAC.
  CHECK(stun_integrity_sha1(key, key_len - 1, request, at, length_field, mac));
  CHECK(std::memcmp(mac, request + at + 4, kStunIntegrityLen) != 0);
  // Fewer octets than a STUN header: refused, nothing read past them.
  CHECK(!stun_integrity_sha1(key, key_len, request, 19, length_field, mac));
  TEST_MAIN_END();
}
