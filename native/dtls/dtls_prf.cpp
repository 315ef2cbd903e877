// TLS 1.2 PRF and the RFC 5705 exporter (see dtls_prf.hpp).
#include "native/dtls/dtls_prf.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <cstring>
#include <string>

#include "native/dtls/dtls_library_context.hpp"

namespace pwt {

bool TlsPrf(DtlsPrfHash hash, const uint8_t* secret, size_t secret_len, const char* label, const uint8_t* seed_a,
            size_t seed_a_len, const uint8_t* seed_b, size_t seed_b_len, uint8_t* out, size_t out_len) {
  // Fetched once per process (immutable, shared by threads; docs/native-build.md on implicit fetches),
  // from the library context of the handshakes (docs/dtls.md, "Library context").
  static EVP_KDF* kdf = EVP_KDF_fetch(DtlsLibraryContext(), "TLS1-PRF", nullptr);
  EVP_KDF_CTX* ctx = kdf ? EVP_KDF_CTX_new(kdf) : nullptr;
  if (ctx == nullptr) {
    ERR_clear_error();
    return false;
  }
  char digest[16];
  std::strcpy(digest, hash == DtlsPrfHash::kSha384 ? "SHA384" : "SHA256");
  // The KDF concatenates the seed parameters in order: label ‖ seed_a ‖ seed_b (RFC 5246 section 5).
  OSSL_PARAM params[6];
  size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, const_cast<uint8_t*>(secret), secret_len);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, const_cast<char*>(label), std::strlen(label));
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, const_cast<uint8_t*>(seed_a), seed_a_len);
  if (seed_b_len != 0) {
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, const_cast<uint8_t*>(seed_b), seed_b_len);
  }
  params[n] = OSSL_PARAM_construct_end();
  bool ok = EVP_KDF_derive(ctx, out, out_len, params) == 1;
  EVP_KDF_CTX_free(ctx);
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
