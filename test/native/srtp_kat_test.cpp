// Known-answer tests of the SRTP transforms: RFC 3711 appendix B.2 (AES-CM keystream) and
// B.3 (key derivation), RFC 7714 sections 16.1.1/16.1.2, 16.2.1/16.2.2 (SRTP AES-GCM) and
// 17.1-17.3 (SRTCP AES-GCM, including the E = 0 tagging-only form).
#include <cstdint>
#include <string>
#include <vector>

#include "native/srtp/srtp_cipher.hpp"
#include "native/srtp/srtp_session.hpp"
#include "test/native/check.hpp"

using namespace pwt;

static std::vector<uint8_t> Hex(const std::string& s) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < s.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoul(s.substr(i, 2), nullptr, 16)));
  return out;
}

// RFC 3711 B.2: with SSRC 0 and index 0 the IV is the (already shifted) session salt, so the
// ciphertext of an all-zero payload is the keystream; blocks 0xFEFF..0xFF01 close the segment.
static void AesCmKeystream() {
  const auto key = Hex("2B7E151628AED2A6ABF7158809CF4F3C");
  const auto salt = Hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD");
  const uint8_t auth[20] = {0};
  SrtpCipher c;
  CHECK(c.InitFromSessionKeys(SrtpProfile::kAes128CmHmacSha1_80, SrtpPacketKind::kRtp, key.data(), salt.data(), auth,
                              true) == SrtpStatus::kOk);
  const size_t payload = 65282 * 16;
  std::vector<uint8_t> pkt(12 + payload + 10, 0);
  pkt[0] = 0x80;
  CHECK(c.ProtectRtp(pkt.data(), 12, 12 + payload, 0, 0) == SrtpStatus::kOk);
  const auto head = Hex("E03EAD0935C95E80E166B16DD92B4EB4D23513162B02D0F72A43A2FE4A5F97AB41E95B3BB0A2E8DD477901E4FCA894C0");
  const auto tail = Hex("EC8CDF7398607CB0F2D21675EA9EA1E4362B7C3C6773516318A077D7FC5073AE6A2CC3787889374FBEB4C81B17BA6C44");
  CHECK_MEM(pkt.data() + 12, head.data(), head.size());
  CHECK_MEM(pkt.data() + 12 + 0xfeff * 16, tail.data(), tail.size());
}

// RFC 3711 B.3: cipher key, cipher salt and (the first 94 bytes of) the auth key stream.
static void KeyDerivation() {
  const auto mk = Hex("E1F97A0D3E018BE0D64FA32C06DE4139");
  const auto ms = Hex("0EC675AD498AFEEBB6960B3AABE6");
  uint8_t out[94];
  CHECK(SrtpDeriveKey(mk.data(), 16, ms.data(), 14, SrtpKdfLabel::kRtpEncryption, out, 16) == SrtpStatus::kOk);
  CHECK_MEM(out, Hex("C61E7A93744F39EE10734AFE3FF7A087").data(), 16);
  CHECK(SrtpDeriveKey(mk.data(), 16, ms.data(), 14, SrtpKdfLabel::kRtpSalt, out, 14) == SrtpStatus::kOk);
  CHECK_MEM(out, Hex("30CBBC08863D8C85D49DB34A9AE1").data(), 14);
  CHECK(SrtpDeriveKey(mk.data(), 16, ms.data(), 14, SrtpKdfLabel::kRtpAuth, out, 94) == SrtpStatus::kOk);
  const auto auth = Hex(
      "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA48F0A0ACF3C34E2359E6CDBCEE049646C43D9327AD175578EF7227098"
      "6371C10C9A369AC2F94A8C5FBCDDDC256D6E919A48B610EF17C2041E474035766B68642C59BBFC2F34DB60DBDFB2");
  CHECK_EQ(auth.size(), size_t{94});
  CHECK_MEM(out, auth.data(), 94);
  CHECK(SrtpDeriveKey(mk.data(), 15, ms.data(), 14, SrtpKdfLabel::kRtpAuth, out, 20) == SrtpStatus::kInvalidKey);
}

static const char* kRtp7714 = "8040f17b8041f8d35501a0b247616c6c696120657374206f6d6e69732064697669736120696e207061727465732074726573";
static const char* kSalt7714 = "517569642070726f2071756f";
static const char* kKey128 = "000102030405060708090a0b0c0d0e0f";
static const char* kKey256 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
// The packet the RFC 7714 section 17.1-17.4 examples operate on.
static const char* kRtcp7714 =
    "81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef";

static void GcmRtp(SrtpProfile profile, const char* key_hex, const char* expected_hex) {
  const auto key = Hex(key_hex);
  const auto salt = Hex(kSalt7714);
  const auto plain = Hex(kRtp7714);
  const auto expected = Hex(expected_hex);
  SrtpCipher tx, rx;
  CHECK(tx.InitFromSessionKeys(profile, SrtpPacketKind::kRtp, key.data(), salt.data(), nullptr, true) == SrtpStatus::kOk);
  CHECK(rx.InitFromSessionKeys(profile, SrtpPacketKind::kRtp, key.data(), salt.data(), nullptr, false) == SrtpStatus::kOk);
  std::vector<uint8_t> buf(plain);
  buf.resize(plain.size() + 16);
  CHECK(tx.ProtectRtp(buf.data(), 12, plain.size(), 0x5501a0b2, 0xf17b) == SrtpStatus::kOk);
  CHECK_EQ(buf.size(), expected.size());
  CHECK_MEM(buf.data(), expected.data(), expected.size());
  CHECK(rx.UnprotectRtp(buf.data(), 12, plain.size(), 0x5501a0b2, 0xf17b) == SrtpStatus::kOk);
  CHECK_MEM(buf.data(), plain.data(), plain.size());
  // The same bytes under another index (ROC 1) must not verify.
  buf = expected;
  CHECK(rx.UnprotectRtp(buf.data(), 12, plain.size(), 0x5501a0b2, 0x1f17b) == SrtpStatus::kAuthFailed);
}

static void GcmRtcp(SrtpProfile profile, const char* key_hex, const char* expected_hex) {
  const auto key = Hex(key_hex);
  const auto salt = Hex(kSalt7714);
  const auto plain = Hex(kRtcp7714);
  const auto expected = Hex(expected_hex);
  SrtpCipher tx, rx;
  CHECK(tx.InitFromSessionKeys(profile, SrtpPacketKind::kRtcp, key.data(), salt.data(), nullptr, true) == SrtpStatus::kOk);
  CHECK(rx.InitFromSessionKeys(profile, SrtpPacketKind::kRtcp, key.data(), salt.data(), nullptr, false) == SrtpStatus::kOk);
  std::vector<uint8_t> buf(plain);
  buf.resize(plain.size() + 20);
  CHECK(tx.ProtectRtcp(buf.data(), plain.size(), 0x5d4) == SrtpStatus::kOk);
  CHECK_EQ(buf.size(), expected.size());
  CHECK_MEM(buf.data(), expected.data(), expected.size());
  CHECK_EQ(rx.ReadRtcpIndexWord(buf.data(), buf.size()), 0x800005d4u);
  CHECK(rx.UnprotectRtcp(buf.data(), buf.size()) == SrtpStatus::kOk);
  CHECK_MEM(buf.data(), plain.data(), plain.size());
}

// RFC 7714 17.3: E = 0, the whole packet and the index word are associated data.
static void GcmRtcpTagOnly() {
  const auto key = Hex(kKey128);
  const auto salt = Hex(kSalt7714);
  const auto plain = Hex(kRtcp7714);
  auto buf = Hex(
      "81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef"
      "841dd9683dd78ec92ae58790125f62b3000005d4");
  SrtpCipher rx;
  CHECK(rx.InitFromSessionKeys(SrtpProfile::kAeadAes128Gcm, SrtpPacketKind::kRtcp, key.data(), salt.data(), nullptr,
                               false) == SrtpStatus::kOk);
  auto bad = buf;
  bad[10] ^= 1;
  CHECK(rx.UnprotectRtcp(buf.data(), buf.size()) == SrtpStatus::kOk);
  CHECK_MEM(buf.data(), plain.data(), plain.size());
  CHECK(rx.UnprotectRtcp(bad.data(), bad.size()) == SrtpStatus::kAuthFailed);
}

int main() {
  AesCmKeystream();
  KeyDerivation();
  // RFC 7714 16.1.1 / 16.1.2
  GcmRtp(SrtpProfile::kAeadAes128Gcm, kKey128,
         "8040f17b8041f8d35501a0b2f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833899d7f27"
         "beb16a9152cf765ee4390cce");
  // RFC 7714 16.2.1 / 16.2.2
  GcmRtp(SrtpProfile::kAeadAes256Gcm, kKey256,
         "8040f17b8041f8d35501a0b232b1de78a822fe12ef9f78fa332e33aab18012389a58e2f3b50b2a0276ffae0f1ba63799b87b7aa3db36"
         "dfffd6b0f9bb7878d7a76c13");
  // RFC 7714 17.1
  GcmRtcp(SrtpProfile::kAeadAes128Gcm, kKey128,
          "81c8000d4d61727363e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda4ce09b4686303ded0bb9275bc84a"
          "a45896cf4d2fc5abf87245d9eade800005d4");
  // RFC 7714 17.2
  GcmRtcp(SrtpProfile::kAeadAes256Gcm, kKey256,
          "81c8000d4d617273d50ae4d1f5ce5d304ba297e47d470c282c3ece5dbffe0a50a2eaa5c1110555be8415f658c61de0476f1b6fad1d1e"
          "b30c4446839f57ff6f6cb26ac3be800005d4");
  GcmRtcpTagOnly();
  TEST_MAIN_END();
}
