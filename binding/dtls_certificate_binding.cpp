// N-API glue for DtlsCertificate: generation, PEM import/export and fingerprints.
#include "binding/dtls_certificate_binding.hpp"

#include "binding/module_registry.hpp"

namespace pwt {
namespace {

// Marks objects made by this class so that unwrapping never trusts a foreign wrapped object.
constexpr napi_type_tag kCertificateTag = {0x8d2f61c4a0b34e57ULL, 0xb1e9c07a5d3f2286ULL};

void InitDtlsCertificate(Napi::Env env, Napi::Object exports) {
  exports.Set("DtlsCertificate", DtlsCertificateWrap::Define(env));
}

}  // namespace

void ThrowDtlsError(Napi::Env env, const char* kind, const char* code, const std::string& message) {
  Napi::Error err = std::string(kind) == "TypeError"    ? Napi::TypeError::New(env, message)
                    : std::string(kind) == "RangeError" ? Napi::RangeError::New(env, message)
                                                        : Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  err.ThrowAsJavaScriptException();
}

Napi::Function DtlsCertificateWrap::Define(Napi::Env env) {
  return DefineClass(env, "DtlsCertificate",
                     {
                         InstanceMethod<&DtlsCertificateWrap::Fingerprint>("fingerprint"),
                         InstanceMethod<&DtlsCertificateWrap::CertificatePem>("certificatePem"),
                         InstanceMethod<&DtlsCertificateWrap::PrivateKeyPem>("privateKeyPem"),
                         InstanceMethod<&DtlsCertificateWrap::Expires>("expires"),
                         InstanceMethod<&DtlsCertificateWrap::KeyType>("keyType"),
                     });
}

DtlsCertificateWrap::DtlsCertificateWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DtlsCertificateWrap>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber()) {
    ThrowDtlsError(env, "TypeError", "ERR_DTLS_ARGUMENT", "DtlsCertificate: (mode, a, b) expected");
    return;
  }
  CertificateStatus status = CertificateStatus::kInternal;
  std::shared_ptr<DtlsCertificate> cert;
  if (info[0].As<Napi::Number>().Int32Value() == 0) {
    if (!info[1].IsNumber() || !info[2].IsNumber()) {
      ThrowDtlsError(env, "TypeError", "ERR_DTLS_ARGUMENT", "DtlsCertificate: keyType and validity expected");
      return;
    }
    auto type = info[1].As<Napi::Number>().Int32Value() == 1 ? DtlsKeyType::kRsa2048 : DtlsKeyType::kEcdsaP256;
    cert = DtlsCertificate::Generate(type, info[2].As<Napi::Number>().Int64Value(), &status);
  } else {
    if (!info[1].IsString() || !info[2].IsString()) {
      ThrowDtlsError(env, "TypeError", "ERR_DTLS_ARGUMENT", "DtlsCertificate: PEM strings expected");
      return;
    }
    cert = DtlsCertificate::FromPem(info[1].As<Napi::String>().Utf8Value(), info[2].As<Napi::String>().Utf8Value(),
                                    &status);
  }
  if (!cert) {
    bool pem = status == CertificateStatus::kPemCertificateInvalid || status == CertificateStatus::kPemKeyInvalid ||
               status == CertificateStatus::kKeyMismatch;
    ThrowDtlsError(env, pem ? "TypeError" : "Error", pem ? "ERR_DTLS_CERTIFICATE_PEM" : "ERR_DTLS_CERTIFICATE",
                   CertificateStatusText(status));
    return;
  }
  context_ = DtlsContext::Create(cert);
  if (!context_) {
    ThrowDtlsError(env, "Error", "ERR_DTLS_CERTIFICATE", "OpenSSL refused this certificate or key for DTLS");
    return;
  }
  info.This().As<Napi::Object>().TypeTag(&kCertificateTag);
}

std::shared_ptr<DtlsContext> DtlsCertificateWrap::ContextOf(Napi::Value value) {
  if (!value.IsObject()) return nullptr;
  Napi::Object o = value.As<Napi::Object>();
  if (!o.CheckTypeTag(&kCertificateTag)) return nullptr;
  DtlsCertificateWrap* wrap = Unwrap(o);
  return wrap ? wrap->context_ : nullptr;
}

// fingerprint(algorithm 0..4) -> Buffer with the raw digest.
Napi::Value DtlsCertificateWrap::Fingerprint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t algo = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 99;
  if (algo > 4) {
    ThrowDtlsError(env, "RangeError", "ERR_DTLS_FINGERPRINT_ALGORITHM", "unknown fingerprint algorithm");
    return env.Undefined();
  }
  uint8_t digest[64];
  size_t n = context_->certificate()->Fingerprint(static_cast<FingerprintAlgorithm>(algo), digest, sizeof digest);
  return Napi::Buffer<uint8_t>::Copy(env, digest, n);
}

Napi::Value DtlsCertificateWrap::CertificatePem(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), context_->certificate()->CertificatePem());
}

Napi::Value DtlsCertificateWrap::PrivateKeyPem(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), context_->certificate()->PrivateKeyPem());
}

Napi::Value DtlsCertificateWrap::Expires(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(context_->certificate()->expires_ms()));
}

Napi::Value DtlsCertificateWrap::KeyType(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), context_->certificate()->KeyTypeName());
}

}  // namespace pwt

PWT_BINDING(dtls_certificate, pwt::InitDtlsCertificate);
