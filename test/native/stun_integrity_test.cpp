// STUN MESSAGE-INTEGRITY (native/stun/stun_integrity.hpp) against RFC 5769 §2.1's sample request:
// the HMAC-SHA1 over the message up to the attribute, with the length field counting it, equals the
// attribute in the vector; a changed length field or key does not; a short `covered` is refused.
#include <cstdint>
#include <cstring>

#include "native/stun/stun_integrity.hpp"
#include "test/native/check.hpp"
#include "test/native/rfc5769_sample_request.hpp"

using namespace pwt;

int main() {
  // RFC 5769 §2.1 Sample Request; the MAC covers it up to MESSAGE-INTEGRITY (offset 76, value at 80).
  const uint8_t* request = testdata::kRfc5769SampleRequest;
  const char* password = testdata::kRfc5769Password;
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
