// Keying material handed from the DTLS engine to the SRTP engine (RFC 5764 section 4.2),
// entirely in native code: keys never cross into JavaScript.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

namespace pwt {

/** SRTP protection profiles by their RFC 5764 / RFC 7714 identifiers. */
enum class SrtpProfile : uint16_t {
  kAes128CmHmacSha1_80 = 0x0001,
  kAes128CmHmacSha1_32 = 0x0002,
  kAeadAes128Gcm = 0x0007,
  kAeadAes256Gcm = 0x0008,
};

/** True for the AEAD (AES-GCM, RFC 7714) profiles, whose nonce must never authenticate two messages. */
constexpr bool SrtpProfileIsAead(SrtpProfile profile) noexcept {
  return profile == SrtpProfile::kAeadAes128Gcm || profile == SrtpProfile::kAeadAes256Gcm;
}

/** Master key and salt of one direction. Lengths depend on the profile. */
struct SrtpMasterKey {
  std::array<uint8_t, 32> key{};
  std::array<uint8_t, 14> salt{};
  size_t key_len = 0;
  size_t salt_len = 0;
};

/**
 * The split of the DTLS exporter output: client_write_SRTP_master_key,
 * server_write_SRTP_master_key, client_write_SRTP_master_salt, server_write_SRTP_master_salt.
 * The DTLS client protects with `client` and unprotects with `server`; the server the reverse.
 */
struct SrtpKeyingMaterial {
  SrtpProfile profile = SrtpProfile::kAes128CmHmacSha1_80;
  SrtpMasterKey client;
  SrtpMasterKey server;

  /** Overwrites every key byte (called by both owners when done). */
  void wipe() noexcept {
    volatile uint8_t* p = reinterpret_cast<volatile uint8_t*>(this);
    for (size_t i = 0; i < sizeof(*this); ++i) p[i] = 0;
  }
};

}  // namespace pwt
