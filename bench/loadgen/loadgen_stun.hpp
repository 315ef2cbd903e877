// The STUN messages the fanout load generator's ICE needs (RFC 8445 §7.2-7.3 connectivity checks,
// RFC 7675 consent answers): Binding requests and success responses with USERNAME, PRIORITY,
// ICE-CONTROLLING/CONTROLLED, USE-CANDIDATE, MESSAGE-INTEGRITY and FINGERPRINT (RFC 8489 §14).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "native/stun/stun_constants.hpp"

namespace pwt::loadgen {

constexpr uint16_t kBindingRequest = kStunBindingRequest;
constexpr uint16_t kBindingSuccess = kStunBindingSuccess;
constexpr size_t kStunMaxMessage = 548;

/** What a received Binding message says, after its integrity was checked. */
struct StunBinding {
  uint16_t type = 0;
  uint8_t transaction[12] = {};
  bool use_candidate = false;
};

/**
 * Parses a Binding request or success response and checks its MESSAGE-INTEGRITY with `password`
 * (requests: also that USERNAME starts with `local_ufrag` + ':'). False for anything else, which
 * the caller drops and counts.
 */
bool ParseBinding(const uint8_t* msg, size_t len, const std::string& local_ufrag, const std::string& password,
                  StunBinding* out) noexcept;

/**
 * A Binding request (RFC 8445 §7.2.2): USERNAME remote:local, PRIORITY, ICE-CONTROLLING or -CONTROLLED
 * with `tiebreaker`, USE-CANDIDATE when nominating, MESSAGE-INTEGRITY with the remote password,
 * FINGERPRINT. Returns the length written into `out` (kStunMaxMessage bytes).
 */
size_t WriteBindingRequest(uint8_t* out, const uint8_t transaction[12], const std::string& username,
                           const std::string& remote_password, uint32_t priority, bool controlling,
                           uint64_t tiebreaker, bool use_candidate) noexcept;

/**
 * A Binding success response (RFC 8445 §7.3.1.1) to `transaction`: XOR-MAPPED-ADDRESS of the IPv4
 * source (`ip`, `port` in host order), MESSAGE-INTEGRITY with the local password, FINGERPRINT.
 */
size_t WriteBindingSuccess(uint8_t* out, const uint8_t transaction[12], uint32_t ip, uint16_t port,
                           const std::string& local_password) noexcept;

}  // namespace pwt::loadgen
