// SSL_CTX configuration for WebRTC DTLS 1.2 (see dtls_context.hpp).
#include "native/dtls/dtls_context.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/x509.h>

#include "native/dtls/dtls_engine.hpp"
#include "native/dtls/dtls_library_context.hpp"

namespace pwt {

const char kDtlsCipherList[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Largest handshake message accepted from the peer; bounds what the reassembly of an
// unauthenticated flight can make us buffer (a WebRTC certificate is well under 4 KiB).
constexpr long kMaxHandshakeMessage = 32 * 1024;

namespace {

// The private key re-made in `libctx` (one export and import), so that signing in a handshake uses
// the key as it is, with no per-use lookup of an exported copy; null when the key type cannot be
// moved (the caller then uses the key as it is: OpenSSL exports it to our provider on first use).
EVP_PKEY* KeyInContext(EVP_PKEY* key, OSSL_LIB_CTX* libctx) {
  if (libctx == nullptr) return nullptr;
  OSSL_PARAM* params = nullptr;
  EVP_PKEY* out = nullptr;
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_PKEY_todata(key, EVP_PKEY_KEYPAIR, &params) == 1) {
    pctx = EVP_PKEY_CTX_new_from_name(libctx, EVP_PKEY_get0_type_name(key), nullptr);
  }
  if (pctx == nullptr || EVP_PKEY_fromdata_init(pctx) != 1 ||
      EVP_PKEY_fromdata(pctx, &out, EVP_PKEY_KEYPAIR, params) != 1) {
    EVP_PKEY_free(out);
    out = nullptr;
    ERR_clear_error();
  }
  EVP_PKEY_CTX_free(pctx);
  // The private key's numbers are in there (OpenSSL 3.0 has no OSSL_PARAM_clear_free).
  for (OSSL_PARAM* p = params; p != nullptr && p->key != nullptr; ++p) {
    const bool points_elsewhere = p->data_type == OSSL_PARAM_UTF8_PTR || p->data_type == OSSL_PARAM_OCTET_PTR;
    if (p->data != nullptr && !points_elsewhere) OPENSSL_cleanse(p->data, p->data_size);
  }
  OSSL_PARAM_free(params);
  return out;
}

// The certificate decoded again from its DER in `libctx`: the SSL_CTX then holds an X509 of its
// own context whose encoding is cached, so the Certificate message of every handshake copies those
// bytes instead of re-encoding a certificate we generated. Null if it cannot be decoded there.
X509* CertificateInContext(X509* x509, OSSL_LIB_CTX* libctx) {
  if (libctx == nullptr) return nullptr;
  unsigned char* der = nullptr;
  const int len = i2d_X509(x509, &der);
  X509* out = len > 0 ? X509_new_ex(libctx, nullptr) : nullptr;
  const unsigned char* p = der;
  if (out != nullptr && d2i_X509(&out, &p, len) == nullptr) out = nullptr;  // d2i freed it
  OPENSSL_free(der);
  if (out == nullptr) ERR_clear_error();
  return out;
}

}  // namespace

std::shared_ptr<DtlsContext> DtlsContext::Create(std::shared_ptr<DtlsCertificate> certificate) {
  if (!certificate) return nullptr;
  // In our own library context (docs/dtls.md, "Library context"): every SSL of this context decodes
  // the peer's certificate, makes its ECDHE keys and fetches its algorithms there. The certificate
  // and key come from the default context; both are re-made in ours (CertificateInContext,
  // KeyInContext; if that fails, the originals work too, through exported copies).
  SSL_CTX* ctx = SSL_CTX_new_ex(DtlsLibraryContext(), nullptr, DTLS_method());
  if (ctx == nullptr) return nullptr;
  std::shared_ptr<DtlsContext> self(new DtlsContext(ctx, std::move(certificate)));
  const DtlsCertificate& cert = *self->certificate_;
  EVP_PKEY* own_key = KeyInContext(cert.key(), DtlsLibraryContext());
  EVP_PKEY* key = own_key != nullptr ? own_key : cert.key();
  X509* own_x509 = CertificateInContext(cert.x509(), DtlsLibraryContext());
  X509* x509 = own_x509 != nullptr ? own_x509 : cert.x509();
  bool ok = SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) == 1 &&
            SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) == 1 &&
            SSL_CTX_use_certificate(ctx, x509) == 1 && SSL_CTX_use_PrivateKey(ctx, key) == 1 &&
            SSL_CTX_check_private_key(ctx) == 1 && SSL_CTX_set_cipher_list(ctx, kDtlsCipherList) == 1 &&
            SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") == 1;
  EVP_PKEY_free(own_key);  // the SSL_CTX holds its own references
  X509_free(own_x509);
  if (!ok) {
    ERR_clear_error();
    return nullptr;
  }
  // Renegotiation and tickets have no place in WebRTC; the MTU is ours to set, never probed.
  SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  // Our certificate is self-signed and sent alone (RFC 8827 section 6.5: judged by fingerprint):
  // without this, every Certificate message made an X509_STORE_CTX and ran X509_verify_cert over
  // the empty store to find a chain there is none of.
  SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
  SSL_CTX_set_read_ahead(ctx, 1);
  SSL_CTX_set_max_cert_list(ctx, kMaxHandshakeMessage);
  // The peer must present a certificate (the server sends CertificateRequest); it is judged
  // by fingerprint in the engine, never by a CA chain.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, DtlsVerifyPeerCallback, nullptr);
  return self;
}

DtlsContext::~DtlsContext() { SSL_CTX_free(ctx_); }

}  // namespace pwt
