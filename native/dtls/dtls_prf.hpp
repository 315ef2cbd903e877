// TLS 1.2 PRF (RFC 5246 section 5) over OpenSSL's HMAC (EVP_MAC), and what DTLS 1.2 derives
// with it once the handshake is done: the key block (RFC 5246 section 6.3) and the RFC 5705 exporter.
#pragma once
#include <cstddef>
#include <cstdint>

namespace pwt {

/** Hash of the suite's PRF (RFC 5246 section 5; RFC 5289 section 3.2 for the SHA-384 suites). */
enum class DtlsPrfHash : uint8_t { kSha256 = 0, kSha384 = 1 };

constexpr size_t kDtlsMasterSecretLength = 48;
constexpr size_t kDtlsRandomLength = 32;

/** One piece of a PRF seed (may be empty). */
struct TlsPrfPart {
  const uint8_t* data;
  size_t len;
};

/**
 * P_hash(secret, parts[0] ‖ parts[1] ‖ ...) with HMAC-SHA-256 or -384 (RFC 5246 section 5),
 * truncated to `out_len` bytes. False (and `out` wiped) when OpenSSL refuses. Also what libssl's
 * "TLS1-PRF" runs in our library context (dtls_library_context.cpp).
 */
bool TlsPHash(DtlsPrfHash hash, const uint8_t* secret, size_t secret_len, const TlsPrfPart* parts, size_t n_parts,
              uint8_t* out, size_t out_len);

/**
 * P_hash(secret, label ‖ seed_a ‖ seed_b) truncated to `out_len` bytes; seed_b may be empty.
 * False (and `out` wiped) when OpenSSL refuses.
 */
bool TlsPrf(DtlsPrfHash hash, const uint8_t* secret, size_t secret_len, const char* label, const uint8_t* seed_a,
            size_t seed_a_len, const uint8_t* seed_b, size_t seed_b_len, uint8_t* out, size_t out_len);

/** RFC 5705 section 4 without a context value: PRF(master, label, client_random ‖ server_random). */
bool TlsExport(DtlsPrfHash hash, const uint8_t* master, const uint8_t* client_random, const uint8_t* server_random,
               const char* label, size_t label_len, uint8_t* out, size_t out_len);

}  // namespace pwt
