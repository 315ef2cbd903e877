// Our own consent checks, built and their answers verified natively (RFC 7675 §5.1, RFC 8445 §7.2.2,
// §7.2.5; RFC 8489 §5, §14.5, §14.7): a Binding request as the ICE agent sends it, and the checks a
// success response must pass before it refreshes consent (docs/ice.md "Consent checks sent natively").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pwt {

class HmacSha1;

/** Largest check: header 20 + USERNAME (513 bytes of "remote:local", RFC 8839 §5.4) 4 + 516 + PRIORITY 8 + role 12 + MESSAGE-INTEGRITY 24 + FINGERPRINT 8. */
constexpr size_t kStunConsentCheckMax = 592;
constexpr size_t kStunTransactionIdLen = 12;

/** What a connection's consent check carries (RFC 8445 §7.2.2). */
struct StunConsentCheckParams {
  std::string_view username;    // "<remote ufrag>:<local ufrag>"
  const HmacSha1* key;          // keyed with the remote password (RFC 8489 §9.2.2)
  uint32_t priority;            // PRIORITY: a peer-reflexive candidate's on this base (RFC 8445 §7.1.1)
  bool controlling;             // ICE-CONTROLLING, else ICE-CONTROLLED
  const uint8_t* tie_breaker;   // the role attribute's 8 bytes
};

/**
 * Writes a consent check with transaction id `txid` to `out` (at least kStunConsentCheckMax bytes):
 * USERNAME, PRIORITY, the role attribute, never USE-CANDIDATE, MESSAGE-INTEGRITY, FINGERPRINT. Returns
 * its length, 0 when the username does not fit or the key is missing.
 */
size_t stun_consent_check_build(const StunConsentCheckParams& params, const uint8_t txid[kStunTransactionIdLen],
                                uint8_t* out) noexcept;

/** What a STUN response from a registered remote is, for consent. */
enum class StunConsentResponse : uint8_t {
  kNotResponse = 0,  // not a Binding response at all (a request, an indication, not STUN)
  kVerified,         // a Binding success response with valid MESSAGE-INTEGRITY (and FINGERPRINT when present)
  kErrorResponse,    // a Binding error response (never refreshes consent)
  kMalformed,        // truncated, a bad length or attribute layout, MESSAGE-INTEGRITY missing
  kBadFingerprint,
  kBadIntegrity,
};

/**
 * Classifies `msg[0..len)` as a response to one of our checks would be checked (RFC 8489 §6.3.3,
 * §14.5, §14.7): the header, the attribute layout (FINGERPRINT last; other attributes after the
 * first MESSAGE-INTEGRITY are ignored, §14.5), FINGERPRINT when present (a response without one is accepted, as the agent in
 * JavaScript accepts it), then MESSAGE-INTEGRITY under `key` compared in constant time. The
 * transaction id is the caller's to match. Reads only `msg[0..len)`.
 */
StunConsentResponse stun_consent_response_check(const uint8_t* msg, size_t len, const HmacSha1& key) noexcept;

}  // namespace pwt
