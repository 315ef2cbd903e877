// STUN Binding messages for the fanout load generator's ICE (RFC 8489 §5, §14; RFC 8445 §7.2-7.3).
#include "bench/loadgen/loadgen_stun.hpp"

#include <openssl/crypto.h>

#include <cstring>

#include "bench/loadgen/loadgen_bytes.hpp"
#include "native/stun/stun_constants.hpp"
#include "native/stun/stun_fingerprint.hpp"
#include "native/stun/stun_integrity.hpp"

namespace pwt::loadgen {
namespace {

/** Appends attributes to a message under construction; `len` is the bytes written so far. */
struct StunWriter {
  uint8_t* out;
  size_t len = 20;
  void Attr(uint16_t type, const uint8_t* value, size_t n) {
    Put16(out + len, type);
    Put16(out + len + 2, static_cast<uint16_t>(n));
    if (n > 0) std::memcpy(out + len + 4, value, n);
    size_t padded = (n + 3) & ~size_t{3};
    std::memset(out + len + 4 + n, 0, padded - n);
    len += 4 + padded;
  }
  /** MESSAGE-INTEGRITY then FINGERPRINT (RFC 8489 §14.5, §14.7), each over the header's length as it reads with it. */
  size_t Finish(const std::string& key) {
    uint8_t mac[kStunIntegrityLen];
    stun_integrity_sha1(reinterpret_cast<const uint8_t*>(key.data()), key.size(), out, len,
                        static_cast<uint16_t>(len + 24 - 20), mac);
    Attr(kStunAttrMessageIntegrity, mac, sizeof mac);
    Put16(out + 2, static_cast<uint16_t>(len + 8 - 20));
    uint8_t crc[4];
    Put32(crc, stun_fingerprint(out, len));
    Attr(kStunAttrFingerprint, crc, sizeof crc);
    return len;
  }
};

void Header(uint8_t* out, uint16_t type, const uint8_t transaction[12]) {
  Put16(out, type);
  Put16(out + 2, 0);
  Put32(out + 4, kStunMagicCookie);
  std::memcpy(out + 8, transaction, 12);
}

}  // namespace

bool ParseBinding(const uint8_t* msg, size_t len, const std::string& local_ufrag, const std::string& password,
                  StunBinding* out) noexcept {
  if (len < 20 || (msg[0] & 0xC0) != 0 || Get32(msg + 4) != kStunMagicCookie) return false;
  const uint16_t type = Get16(msg);
  if (type != kBindingRequest && type != kBindingSuccess) return false;
  const size_t body = Get16(msg + 2);
  if (body % 4 != 0 || 20 + body > len) return false;
  bool username_ok = type != kBindingRequest;
  bool integrity_ok = false;
  bool use_candidate = false;
  for (size_t at = 20; at + 4 <= 20 + body;) {
    const uint16_t attr = Get16(msg + at);
    const size_t n = Get16(msg + at + 2);
    if (at + 4 + n > 20 + body) return false;
    const uint8_t* value = msg + at + 4;
    if (attr == kStunAttrUsername) {
      username_ok = n > local_ufrag.size() && std::memcmp(value, local_ufrag.data(), local_ufrag.size()) == 0 &&
                    value[local_ufrag.size()] == ':';
    } else if (attr == kStunAttrUseCandidate) {
      use_candidate = true;
    } else if (attr == kStunAttrMessageIntegrity) {
      if (n != kStunIntegrityLen) return false;
      uint8_t mac[kStunIntegrityLen];
      if (!stun_integrity_sha1(reinterpret_cast<const uint8_t*>(password.data()), password.size(), msg, at,
                               static_cast<uint16_t>(at + 24 - 20), mac)) {
        return false;
      }
      integrity_ok = CRYPTO_memcmp(mac, value, kStunIntegrityLen) == 0;
      break;  // attributes after MESSAGE-INTEGRITY (FINGERPRINT) are not covered by it
    }
    at += 4 + ((n + 3) & ~size_t{3});
  }
  if (!username_ok || !integrity_ok) return false;
  out->type = type;
  std::memcpy(out->transaction, msg + 8, 12);
  out->use_candidate = use_candidate;
  return true;
}

size_t WriteBindingRequest(uint8_t* out, const uint8_t transaction[12], const std::string& username,
                           const std::string& remote_password, uint32_t priority, bool controlling,
                           uint64_t tiebreaker, bool use_candidate) noexcept {
  if (username.size() > 256) return 0;
  Header(out, kBindingRequest, transaction);
  StunWriter w{out};
  w.Attr(kStunAttrUsername, reinterpret_cast<const uint8_t*>(username.data()), username.size());
  uint8_t prio[4];
  Put32(prio, priority);
  w.Attr(kStunAttrPriority, prio, sizeof prio);
  uint8_t tie[8];
  Put32(tie, static_cast<uint32_t>(tiebreaker >> 32));
  Put32(tie + 4, static_cast<uint32_t>(tiebreaker));
  w.Attr(controlling ? kStunAttrIceControlling : kStunAttrIceControlled, tie, sizeof tie);
  if (use_candidate) w.Attr(kStunAttrUseCandidate, nullptr, 0);
  return w.Finish(remote_password);
}

size_t WriteBindingSuccess(uint8_t* out, const uint8_t transaction[12], uint32_t ip, uint16_t port,
                           const std::string& local_password) noexcept {
  Header(out, kBindingSuccess, transaction);
  StunWriter w{out};
  uint8_t addr[8] = {0, 0x01};
  Put16(addr + 2, static_cast<uint16_t>(port ^ (kStunMagicCookie >> 16)));
  Put32(addr + 4, ip ^ kStunMagicCookie);
  w.Attr(kStunAttrXorMappedAddress, addr, sizeof addr);
  return w.Finish(local_password);
}

}  // namespace pwt::loadgen
