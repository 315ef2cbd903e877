// N-API wrapper of pwt::DtlsCertificate (and the SSL_CTX built for it), shared with the
// DtlsEngine binding, which unwraps it after checking the object's type tag.
#pragma once
#include <napi.h>

#include <memory>

#include "native/dtls/dtls_certificate.hpp"
#include "native/dtls/dtls_context.hpp"

namespace pwt {

/** Throws a JS error of `kind` ("TypeError", "RangeError" or "Error") carrying a stable `code`. */
void ThrowDtlsError(Napi::Env env, const char* kind, const char* code, const std::string& message);

/** JS class DtlsCertificate: new DtlsCertificate(0, keyType, validitySeconds) | (1, certPem, keyPem). */
class DtlsCertificateWrap : public Napi::ObjectWrap<DtlsCertificateWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit DtlsCertificateWrap(const Napi::CallbackInfo& info);

  /** The wrapped certificate's context, or null when `value` is not a DtlsCertificate. */
  static std::shared_ptr<DtlsContext> ContextOf(Napi::Value value);

 private:
  Napi::Value Fingerprint(const Napi::CallbackInfo& info);
  Napi::Value CertificatePem(const Napi::CallbackInfo& info);
  Napi::Value PrivateKeyPem(const Napi::CallbackInfo& info);
  Napi::Value Expires(const Napi::CallbackInfo& info);
  Napi::Value KeyType(const Napi::CallbackInfo& info);

  std::shared_ptr<DtlsContext> context_;
};

}  // namespace pwt
