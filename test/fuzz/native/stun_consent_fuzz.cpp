// libFuzzer target: the shared port's native consent answers (native/stun/stun_consent_responder.hpp;
// RFC 8489 §5, §14.2, §14.5, §14.7; docs/ice.md "Consent checks answered natively"). Input = 1 control
// byte (bit 0: our role, bit 1: IPv6 source) + bytes used twice: as a whole datagram, and as the
// attributes of a Binding request that the harness signs (MESSAGE-INTEGRITY with the right password,
// then FINGERPRINT), so the parser past authentication is reached too. Checks: an answer fits
// kStunConsentAnswerMax, is a success response of the request's transaction id whose length field
// matches, and nothing is read or written past the datagram or the answer buffer (ASan/UBSan). The
// same bytes go through stun_consent_response_check (answers to our own checks), raw and as a signed
// success response: a verdict of "verified" only for a Binding success, nothing read past the bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "native/srtp/srtp_cipher.hpp"
#include "native/stun/stun_consent_check.hpp"
#include "native/stun/stun_consent_responder.hpp"
#include "native/stun/stun_fingerprint.hpp"
#include "native/stun/stun_integrity.hpp"

namespace {

const char kPassword[] = "fuzz-password-0123456789";

void CheckAnswer(const std::vector<uint8_t>& req, size_t n, const std::vector<uint8_t>& out) {
  if (n == 0) return;
  if (n > pwt::kStunConsentAnswerMax || n < 20 + 12 + 24 + 8) std::abort();
  if (out[0] != 0x01 || out[1] != 0x01) std::abort();
  if (static_cast<size_t>((out[2] << 8) | out[3]) != n - 20) std::abort();
  if (std::memcmp(out.data() + 4, req.data() + 4, 16) != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool controlling = (data[0] & 1) != 0;
  const bool v6 = (data[0] & 2) != 0;
  pwt::HmacSha1 key;
  key.Init(reinterpret_cast<const uint8_t*>(kPassword), sizeof(kPassword) - 1);
  const pwt::StunConsentCredentials creds{"srv1:sub1", &key, controlling};
  uint8_t addr[16] = {127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const pwt::UdpRemoteKey source = pwt::udp_remote_key(addr, 5000, v6 ? 6 : 4);
  // Exactly sized copies, so ASan sees any access past them.
  std::vector<uint8_t> out(pwt::kStunConsentAnswerMax);
  std::vector<uint8_t> raw(data + 1, data + size);
  CheckAnswer(raw, pwt::stun_consent_answer(raw.data(), raw.size(), creds, source, out.data()), out);

  // The same bytes as attributes of a signed Binding request.
  std::vector<uint8_t> body(data + 1, data + size);
  while (body.size() % 4) body.push_back(0);
  if (body.size() > 1000) return 0;
  std::vector<uint8_t> req = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  req.insert(req.end(), body.begin(), body.end());
  const size_t mi = req.size();
  uint8_t mac[20];
  pwt::stun_integrity_sha1(reinterpret_cast<const uint8_t*>(kPassword), sizeof(kPassword) - 1, req.data(), mi, static_cast<uint16_t>(mi + 24 - 20), mac);
  req.insert(req.end(), {0x00, 0x08, 0x00, 0x14});
  req.insert(req.end(), mac, mac + 20);
  const uint16_t total = static_cast<uint16_t>(req.size() + 8 - 20);
  req[2] = static_cast<uint8_t>(total >> 8);
  req[3] = static_cast<uint8_t>(total);
  const uint32_t fp = pwt::stun_fingerprint(req.data(), req.size());
  req.insert(req.end(), {0x80, 0x28, 0x00, 0x04, uint8_t(fp >> 24), uint8_t(fp >> 16), uint8_t(fp >> 8), uint8_t(fp)});
  const std::vector<uint8_t> exact(req);
  CheckAnswer(exact, pwt::stun_consent_answer(exact.data(), exact.size(), creds, source, out.data()), out);

  // Answers to our own checks (native/stun/stun_consent_check.hpp): the raw bytes, and the signed
  // message as a success response, which must verify (its layout is the harness's own).
  const pwt::StunConsentResponse raw_verdict = pwt::stun_consent_response_check(raw.data(), raw.size(), key);
  if (raw_verdict == pwt::StunConsentResponse::kVerified && (raw.size() < 20 || raw[0] != 0x01 || raw[1] != 0x01)) std::abort();
  std::vector<uint8_t> response(exact);
  response[0] = 0x01;
  response[1] = 0x01;
  const std::vector<uint8_t> resigned = [&] {
    std::vector<uint8_t> r(response.begin(), response.begin() + static_cast<std::ptrdiff_t>(mi));
    uint8_t m[20];
    pwt::stun_integrity_sha1(reinterpret_cast<const uint8_t*>(kPassword), sizeof(kPassword) - 1, r.data(), mi, static_cast<uint16_t>(mi + 24 - 20), m);
    r.insert(r.end(), {0x00, 0x08, 0x00, 0x14});
    r.insert(r.end(), m, m + 20);
    r[2] = static_cast<uint8_t>(total >> 8);
    r[3] = static_cast<uint8_t>(total);
    const uint32_t f = pwt::stun_fingerprint(r.data(), r.size());
    r.insert(r.end(), {0x80, 0x28, 0x00, 0x04, uint8_t(f >> 24), uint8_t(f >> 16), uint8_t(f >> 8), uint8_t(f)});
    return r;
  }();
  const pwt::StunConsentResponse verdict = pwt::stun_consent_response_check(resigned.data(), resigned.size(), key);
  // A Binding success response is always classified as one (whatever its body does to the layout).
  if (verdict == pwt::StunConsentResponse::kNotResponse || verdict == pwt::StunConsentResponse::kErrorResponse) std::abort();
  return 0;
}
