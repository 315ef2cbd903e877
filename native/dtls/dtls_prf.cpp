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

}  // namespace

bool TlsPHash(DtlsPrfHash hash, const uint8_t* secret, size_t secret_len, const TlsPrfPart* parts, size_t n_parts,
              uint8_t* out, size_t out_len) {
  // Made once per process (read-only afterwards, so threads may duplicate them at once).
  static EVP_MAC_CTX* const sha256 = MakeHmacTemplate("SHA2-256");
  static EVP_MAC_CTX* const sha384 = MakeHmacTemplate("SHA2-384");
  EVP_MAC_CTX* const tmpl = hash == DtlsPrfHash::kSha384 ? sha384 : sha256;
  const size_t hash_len = hash == DtlsPrfHash::kSha384 ? 48 : 32;
  EVP_MAC_CTX* ctx = tmpl != nullptr ? EVP_MAC_CTX_dup(tmpl) : nullptr;
  bool ok = ctx != nullptr && EVP_MAC_init(ctx, secret, secret_len, nullptr) == 1;
  // RFC 5246 section 5: A(0) = seed, A(i) = HMAC(secret, A(i-1)),
  // P_hash = HMAC(secret, A(1) ‖ seed) ‖ HMAC(secret, A(2) ‖ seed) ‖ ...; the seed is the parts in
  // order. A NULL key re-initialises the context with the key already set.
  uint8_t a[48];
  uint8_t block[48];
  auto mac = [&](const uint8_t* first, size_t first_len, bool with_seed, uint8_t* dst) {
    size_t n = 0;
    bool good = EVP_MAC_init(ctx, nullptr, 0, nullptr) == 1 && (first_len == 0 || EVP_MAC_update(ctx, first, first_len) == 1);
    for (size_t i = 0; good && with_seed && i < n_parts; ++i) {
      good = parts[i].len == 0 || EVP_MAC_update(ctx, parts[i].data, parts[i].len) == 1;
    }
    return good && EVP_MAC_final(ctx, dst, &n, sizeof block) == 1 && n == hash_len;
  };
  ok = ok && mac(nullptr, 0, true, a);  // A(1)
  for (size_t done = 0; ok && done < out_len;) {
    ok = mac(a, hash_len, true, block);
    if (!ok) break;
    const size_t take = out_len - done < hash_len ? out_len - done : hash_len;
    std::memcpy(out + done, block, take);
    done += take;
    if (done < out_len) ok = mac(a, hash_len, false, a);  // A(i + 1)
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

bool TlsPrf(DtlsPrfHash hash, const uint8_t* secret, size_t secret_len, const char* label, const uint8_t* seed_a,
            size_t seed_a_len, const uint8_t* seed_b, size_t seed_b_len, uint8_t* out, size_t out_len) {
  // seed = label ‖ seed_a ‖ seed_b (RFC 5246 section 5).
  const TlsPrfPart parts[] = {{reinterpret_cast<const uint8_t*>(label), std::strlen(label)},
                              {seed_a, seed_a_len},
                              {seed_b, seed_b_len}};
  return TlsPHash(hash, secret, secret_len, parts, 3, out, out_len);
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
