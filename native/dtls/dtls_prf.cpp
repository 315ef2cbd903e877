// TLS 1.2 PRF and the RFC 5705 exporter (see dtls_prf.hpp).
#include "native/dtls/dtls_prf.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstring>
#include <string>

#include "native/dtls/dtls_library_context.hpp"

namespace pwt {

namespace {

// An HMAC context with its digest set, made once per hash and never keyed: each PRF duplicates it
// and keys the copy. Through EVP_KDF "TLS1-PRF" every derivation made a KDF context and fetched
// HMAC and the digest again (docs/dtls.md, "Library context").
EVP_MAC_CTX* MakeHmacTemplate(const char* digest_name) {
  EVP_MAC* mac = EVP_MAC_fetch(DtlsLibraryContext(), "HMAC", nullptr);
  EVP_MAC_CTX* ctx = mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr;
  EVP_MAC_free(mac);  // the context holds its own reference
  char digest[16];
  std::strncpy(digest, digest_name, sizeof digest - 1);
  digest[sizeof digest - 1] = '\0';
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  if (ctx == nullptr || EVP_MAC_CTX_set_params(ctx, params) != 1) {
    EVP_MAC_CTX_free(ctx);
    ERR_clear_error();
    return nullptr;
  }
  return ctx;
}

// HMAC(secret, a ‖ b ‖ c) with the key already set in `ctx` (a NULL key re-initialises it with the
// same key); a part may be empty.
bool Hmac(EVP_MAC_CTX* ctx, const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len, const uint8_t* c,
          size_t c_len, uint8_t* out, size_t out_cap) {
  size_t n = 0;
  return EVP_MAC_init(ctx, nullptr, 0, nullptr) == 1 && (a_len == 0 || EVP_MAC_update(ctx, a, a_len) == 1) &&
         (b_len == 0 || EVP_MAC_update(ctx, b, b_len) == 1) && (c_len == 0 || EVP_MAC_update(ctx, c, c_len) == 1) &&
         EVP_MAC_final(ctx, out, &n, out_cap) == 1 && n == out_cap;
}

}  // namespace

bool TlsPrf(DtlsPrfHash hash, const uint8_t* secret, size_t secret_len, const char* label, const uint8_t* seed_a,
            size_t seed_a_len, const uint8_t* seed_b, size_t seed_b_len, uint8_t* out, size_t out_len) {
  // Made once per process (read-only afterwards, so threads may duplicate them at once).
  static EVP_MAC_CTX* const sha256 = MakeHmacTemplate("SHA2-256");
  static EVP_MAC_CTX* const sha384 = MakeHmacTemplate("SHA2-384");
  EVP_MAC_CTX* const tmpl = hash == DtlsPrfHash::kSha384 ? sha384 : sha256;
  const size_t hash_len = hash == DtlsPrfHash::kSha384 ? 48 : 32;
  EVP_MAC_CTX* ctx = tmpl != nullptr ? EVP_MAC_CTX_dup(tmpl) : nullptr;
  bool ok = ctx != nullptr && EVP_MAC_init(ctx, secret, secret_len, nullptr) == 1;
  // RFC 5246 section 5: seed = label ‖ seed_a ‖ seed_b; A(0) = seed, A(i) = HMAC(secret, A(i-1)),
  // P_hash = HMAC(secret, A(1) ‖ seed) ‖ HMAC(secret, A(2) ‖ seed) ‖ ...
  const auto* l = reinterpret_cast<const uint8_t*>(label);
  const size_t l_len = std::strlen(label);
  uint8_t a[48];
  uint8_t block[48];
  // A(1) = HMAC(secret, label ‖ seed_a ‖ seed_b).
  ok = ok && Hmac(ctx, l, l_len, seed_a, seed_a_len, seed_b, seed_b_len, a, hash_len);
  for (size_t done = 0; ok && done < out_len;) {
    // HMAC(secret, A(i) ‖ label ‖ seed_a ‖ seed_b): three parts plus A(i), so A(i) goes first alone.
    size_t n = 0;
    ok = EVP_MAC_init(ctx, nullptr, 0, nullptr) == 1 && EVP_MAC_update(ctx, a, hash_len) == 1 &&
         EVP_MAC_update(ctx, l, l_len) == 1 && (seed_a_len == 0 || EVP_MAC_update(ctx, seed_a, seed_a_len) == 1) &&
         (seed_b_len == 0 || EVP_MAC_update(ctx, seed_b, seed_b_len) == 1) &&
         EVP_MAC_final(ctx, block, &n, sizeof block) == 1 && n == hash_len;
    if (!ok) break;
    const size_t take = out_len - done < hash_len ? out_len - done : hash_len;
    std::memcpy(out + done, block, take);
    done += take;
    // A(i + 1) = HMAC(secret, A(i)).
    if (done < out_len) ok = Hmac(ctx, a, hash_len, nullptr, 0, nullptr, 0, a, hash_len);
  }
  EVP_MAC_CTX_free(ctx);
  OPENSSL_cleanse(a, sizeof a);
  OPENSSL_cleanse(block, sizeof block);
  if (!ok) {
    ERR_clear_error();
    OPENSSL_cleanse(out, out_len);
  }
  return ok;
}

bool TlsExport(DtlsPrfHash hash, const uint8_t* master, const uint8_t* client_random, const uint8_t* server_random,
               const char* label, size_t label_len, uint8_t* out, size_t out_len) {
  // RFC 5705 section 4: labels are ASCII; one with an embedded NUL is not a label.
  std::string l(label, label_len);
  if (l.find('\0') != std::string::npos) return false;
  return TlsPrf(hash, master, kDtlsMasterSecretLength, l.c_str(), client_random, kDtlsRandomLength, server_random,
                kDtlsRandomLength, out, out_len);
}

}  // namespace pwt
