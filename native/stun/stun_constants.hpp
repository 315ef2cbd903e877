// STUN wire constants shared by the native consent responder and checker and the fanout load
// generator: the magic cookie and Binding message types (RFC 8489 §5, §6) and the attribute types
// of ICE connectivity and consent checks (RFC 8489 §14, RFC 8445 §16.1).
#pragma once

#include <cstdint>

namespace pwt {

constexpr uint32_t kStunMagicCookie = 0x2112A442;

constexpr uint16_t kStunBindingRequest = 0x0001;
constexpr uint16_t kStunBindingSuccess = 0x0101;

constexpr uint16_t kStunAttrUsername = 0x0006;
constexpr uint16_t kStunAttrMessageIntegrity = 0x0008;
constexpr uint16_t kStunAttrXorMappedAddress = 0x0020;
constexpr uint16_t kStunAttrPriority = 0x0024;
constexpr uint16_t kStunAttrUseCandidate = 0x0025;
constexpr uint16_t kStunAttrFingerprint = 0x8028;
constexpr uint16_t kStunAttrIceControlled = 0x8029;
constexpr uint16_t kStunAttrIceControlling = 0x802A;

}  // namespace pwt
