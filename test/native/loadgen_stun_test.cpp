// The fanout load generator's STUN (bench/loadgen/loadgen_stun.hpp, over native/stun's constants and
// FINGERPRINT): RFC 5769 §2.1's sample request parsed with its password (and refused with another or as another
// ufrag) and its FINGERPRINT recomputed; our requests and success responses parse back with the
// right password and attributes; every truncation of a message is refused.
#include <cstdint>
#include <cstring>
#include <string>

#include "bench/loadgen/loadgen_stun.hpp"
#include "native/stun/stun_fingerprint.hpp"
#include "test/native/check.hpp"
#include "test/native/rfc5769_sample_request.hpp"

using namespace pwt::loadgen;

int main() {
  // RFC 5769 §2.1 Sample Request (USERNAME "evtj:h6vY", password "VOkJxbRl1RmTxUk/WvJxBt").
  const uint8_t (&request)[108] = pwt::testdata::kRfc5769SampleRequest;
  const std::string password = pwt::testdata::kRfc5769Password;
  StunBinding b;
  CHECK(ParseBinding(request, sizeof request, "evtj", password, &b));
  CHECK_EQ(b.type, kBindingRequest);
  CHECK(!b.use_candidate);
  CHECK_MEM(b.transaction, request + 8, 12);
  CHECK(!ParseBinding(request, sizeof request, "evtj", "wrong", &b));
  CHECK(!ParseBinding(request, sizeof request, "h6vY", password, &b));
  CHECK(!ParseBinding(request, sizeof request, "evt", password, &b));
  // FINGERPRINT (§14.7): CRC-32 of the message before it, XOR 0x5354554E.
  const uint32_t fp = pwt::stun_crc32(request, sizeof request - 8) ^ 0x5354554Eu;
  const uint8_t* v = request + sizeof request - 4;
  CHECK_EQ(fp, uint32_t{v[0]} << 24 | uint32_t{v[1]} << 16 | uint32_t{v[2]} << 8 | v[3]);

  // Our request: parsed by the peer whose ufrag is first in USERNAME, with the peer's password.
  uint8_t tx[12];
  for (int i = 0; i < 12; ++i) tx[i] = static_cast<uint8_t>(i * 7);
  uint8_t msg[kStunMaxMessage];
  size_t n = WriteBindingRequest(msg, tx, "RFRAG:LFRAG", "remote-password-1234", 0x7effffff, true, 42, true);
  CHECK(n > 20 && n % 4 == 0);
  CHECK(ParseBinding(msg, n, "RFRAG", "remote-password-1234", &b));
  CHECK(b.use_candidate);
  CHECK_MEM(b.transaction, tx, 12);
  CHECK(!ParseBinding(msg, n, "LFRAG", "remote-password-1234", &b));
  // Its FINGERPRINT is right too.
  const uint32_t fp2 = pwt::stun_crc32(msg, n - 8) ^ 0x5354554Eu;
  CHECK_EQ(fp2, uint32_t{msg[n - 4]} << 24 | uint32_t{msg[n - 3]} << 16 | uint32_t{msg[n - 2]} << 8 | msg[n - 1]);
  // Every truncation is refused (the length field then points past the end).
  for (size_t len = 0; len < n; ++len) CHECK(!ParseBinding(msg, len, "RFRAG", "remote-password-1234", &b));
  // A flipped byte under MESSAGE-INTEGRITY is refused.
  msg[30] ^= 0x01;
  CHECK(!ParseBinding(msg, n, "RFRAG", "remote-password-1234", &b));

  // Our success response: XOR-MAPPED-ADDRESS of 127.0.0.1:5000 and integrity with our password.
  n = WriteBindingSuccess(msg, tx, 0x7f000001, 5000, "local-password-12345");
  CHECK(ParseBinding(msg, n, "anything", "local-password-12345", &b));
  CHECK_EQ(b.type, kBindingSuccess);
  CHECK(!ParseBinding(msg, n, "anything", "other", &b));
  // XOR-MAPPED-ADDRESS is the first attribute: family 1, port ^ 0x2112, address ^ magic cookie.
  CHECK_EQ(msg[20], 0x00);
  CHECK_EQ(msg[21], 0x20);
  CHECK_EQ(msg[25], 0x01);
  CHECK_EQ((msg[26] << 8 | msg[27]) ^ 0x2112, 5000);
  CHECK_EQ(msg[28] ^ 0x21, 0x7f);
  CHECK_EQ(msg[31] ^ 0x42, 0x01);
  TEST_MAIN_END();
}
