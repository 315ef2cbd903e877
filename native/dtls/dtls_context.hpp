// The OpenSSL SSL_CTX shared by every DTLS 1.2 engine that presents one certificate:
// protocol pinned to DTLS 1.2 (RFC 6347), ECDHE + AEAD cipher suites only, use_srtp
// (RFC 5764 section 4.1), mandatory peer certificate checked by fingerprint (RFC 8122).
#pragma once
#include <openssl/ssl.h>

#include <memory>

#include "native/dtls/dtls_certificate.hpp"

namespace pwt {

/** Cipher suites offered/accepted: what Chromium, Firefox and libwebrtc negotiate, AEAD only. */
extern const char kDtlsCipherList[];

/** Owns one SSL_CTX configured for WebRTC DTLS; immutable once created. */
class DtlsContext {
 public:
  /** Null when OpenSSL refuses the configuration (e.g. an unusable key). */
  static std::shared_ptr<DtlsContext> Create(std::shared_ptr<DtlsCertificate> certificate);
  ~DtlsContext();
  DtlsContext(const DtlsContext&) = delete;
  DtlsContext& operator=(const DtlsContext&) = delete;

  SSL_CTX* ssl_ctx() const { return ctx_; }
  const std::shared_ptr<DtlsCertificate>& certificate() const { return certificate_; }

 private:
  DtlsContext(SSL_CTX* ctx, std::shared_ptr<DtlsCertificate> certificate)
      : ctx_(ctx), certificate_(std::move(certificate)) {}
  SSL_CTX* ctx_;
  std::shared_ptr<DtlsCertificate> certificate_;
};

}  // namespace pwt
