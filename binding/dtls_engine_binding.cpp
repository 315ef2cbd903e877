// N-API glue for pwt::DtlsEngine: one call per batch of datagrams or records, moved through
// JS-owned pool arrays pinned at construction (buffer + lengths + counters); no allocation
// per call. SRTP keying material goes from the engine straight to a native SRTP session.
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "binding/dtls_certificate_binding.hpp"
#include "binding/module_registry.hpp"
#include "native/dtls/dtls_engine.hpp"
#if __has_include("binding/srtp_session_binding.hpp")
#include "binding/srtp_session_binding.hpp"
#define PWT_DTLS_HAS_SRTP_SESSION 1
#endif

namespace pwt {
namespace {

// Bits of the flags every driving call returns.
constexpr uint32_t kFlagTransmit = 1;      // records are waiting in pollTransmit
constexpr uint32_t kFlagData = 2;          // application data is waiting in pollData
constexpr uint32_t kFlagStateChanged = 4;  // state() changed since the last call

class DtlsEngineWrap : public Napi::ObjectWrap<DtlsEngineWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "DtlsEngine",
                       {
                           InstanceMethod<&DtlsEngineWrap::Start>("start"),
                           InstanceMethod<&DtlsEngineWrap::HandleInput>("handleInput"),
                           InstanceMethod<&DtlsEngineWrap::HandleTimeout>("handleTimeout"),
                           InstanceMethod<&DtlsEngineWrap::TimeoutUs>("timeoutUs"),
                           InstanceMethod<&DtlsEngineWrap::PollTransmit>("pollTransmit"),
                           InstanceMethod<&DtlsEngineWrap::PollData>("pollData"),
                           InstanceMethod<&DtlsEngineWrap::Send>("send"),
                           InstanceMethod<&DtlsEngineWrap::Close>("close"),
                           InstanceMethod<&DtlsEngineWrap::SetRemoteFingerprints>("setRemoteFingerprints"),
                           InstanceMethod<&DtlsEngineWrap::State>("state"),
                           InstanceMethod<&DtlsEngineWrap::FailureReason>("failureReason"),
                           InstanceMethod<&DtlsEngineWrap::WasConnected>("wasConnected"),
                           InstanceMethod<&DtlsEngineWrap::SrtpProfileId>("srtpProfile"),
                           InstanceMethod<&DtlsEngineWrap::CipherSuite>("cipherSuite"),
                           InstanceMethod<&DtlsEngineWrap::CipherSuiteStandardName>("cipherSuiteStandardName"),
                           InstanceMethod<&DtlsEngineWrap::TlsVersion>("tlsVersion"),
                           InstanceMethod<&DtlsEngineWrap::HandedOver>("handedOver"),
                           InstanceMethod<&DtlsEngineWrap::RemoteCertificate>("remoteCertificate"),
                           InstanceMethod<&DtlsEngineWrap::Counters>("counters"),
                           InstanceMethod<&DtlsEngineWrap::KeySrtp>("keySrtp"),
                           InstanceMethod<&DtlsEngineWrap::ExportKeyingMaterialForTest>("exportKeyingMaterialForTest"),
                       });
  }

  // new DtlsEngine(certificate, { role, mtu, initialTimeoutMs, maxTimeoutMs, profiles: Uint16Array },
  //                { buffer: Uint8Array, lengths: Uint32Array, counters: Float64Array })
  explicit DtlsEngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DtlsEngineWrap>(info) {
    Napi::Env env = info.Env();
    std::shared_ptr<DtlsContext> context = info.Length() > 0 ? DtlsCertificateWrap::ContextOf(info[0]) : nullptr;
    if (!context || info.Length() < 3 || !info[1].IsObject() || !info[2].IsObject()) {
      ThrowDtlsError(env, "TypeError", "ERR_DTLS_ARGUMENT", "DtlsEngine: (certificate, options, pool) expected");
      return;
    }
    Napi::Object o = info[1].As<Napi::Object>();
    DtlsEngineConfig cfg;
    cfg.role = o.Get("role").ToNumber().Int32Value() == 1 ? DtlsRole::kServer : DtlsRole::kClient;
    cfg.mtu = o.Get("mtu").ToNumber().Uint32Value();
    cfg.initial_timeout_ms = o.Get("initialTimeoutMs").ToNumber().Uint32Value();
    cfg.max_timeout_ms = o.Get("maxTimeoutMs").ToNumber().Uint32Value();
    Napi::Value profiles = o.Get("profiles");
    if (env.IsExceptionPending()) return;
    if (!profiles.IsTypedArray() || profiles.As<Napi::TypedArray>().TypedArrayType() != napi_uint16_array) {
      ThrowDtlsError(env, "TypeError", "ERR_DTLS_ARGUMENT", "DtlsEngine: profiles must be a Uint16Array");
      return;
    }
    Napi::Uint16Array p = profiles.As<Napi::Uint16Array>();
    // keepSsl: OpenSSL's SSL for the whole connection (diagnosis, PWT_DTLS_KEEP_SSL; docs/dtls.md).
    cfg.keep_ssl = o.Get("keepSsl").ToBoolean().Value();
    cfg.srtp_profiles.clear();
    for (size_t i = 0; i < p.ElementLength(); ++i) cfg.srtp_profiles.push_back(static_cast<SrtpProfile>(p[i]));
    Napi::Object pool = info[2].As<Napi::Object>();
    if (!Pin(pool, "buffer", napi_uint8_array, &buffer_) || !Pin(pool, "lengths", napi_uint32_array, &lengths_) ||
        !Pin(pool, "counters", napi_float64_array, &counters_) || counters_.bytes < DtlsCounters::kCount * 8 ||
        buffer_.bytes < kDtlsMaxDatagram || lengths_.bytes < 4) {
      ThrowDtlsError(env, "TypeError", "ERR_DTLS_ARGUMENT", "DtlsEngine: pool arrays missing or too small");
      return;
    }
    DtlsStatus st = DtlsStatus::kInternal;
    engine_ = DtlsEngine::Create(std::move(context), cfg, &st);
    if (!engine_) {
      ThrowDtlsError(env, st == DtlsStatus::kInvalidArgument ? "RangeError" : "Error",
                     st == DtlsStatus::kInvalidArgument ? "ERR_DTLS_ARGUMENT" : "ERR_DTLS_INTERNAL",
                     st == DtlsStatus::kInvalidArgument ? "DtlsEngine: option out of range" : "DtlsEngine: OpenSSL setup failed");
    }
  }

 private:
  struct PinnedArray {
    Napi::ObjectReference ref;
    uint8_t* data = nullptr;
    size_t bytes = 0;
  };

  static bool Pin(Napi::Object o, const char* key, napi_typedarray_type type, PinnedArray* out) {
    Napi::Value v = o.Get(key);
    if (!v.IsTypedArray()) return false;
    Napi::TypedArray ta = v.As<Napi::TypedArray>();
    if (ta.TypedArrayType() != type) return false;
    out->data = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    out->bytes = ta.ByteLength();
    out->ref = Napi::Persistent(ta.As<Napi::Object>());
    return true;
  }

  uint32_t* lens() const { return reinterpret_cast<uint32_t*>(lengths_.data); }
  size_t max_lens() const { return lengths_.bytes / 4; }

  Napi::Value Flags(Napi::Env env) {
    uint32_t flags = 0;
    if (!engine_->outgoing().empty()) flags |= kFlagTransmit;
    if (engine_->HasData()) flags |= kFlagData;
    if (engine_->TakeStateChanged()) flags |= kFlagStateChanged;
    return Napi::Number::New(env, flags);
  }

  bool Ready(Napi::Env env) {
    if (engine_) return true;
    ThrowDtlsError(env, "Error", "ERR_DTLS_INTERNAL", "DtlsEngine: not constructed");
    return false;
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    if (engine_->Start() != DtlsStatus::kOk) {
      ThrowDtlsError(env, "Error", "ERR_DTLS_STATE", "DtlsEngine: already started");
      return env.Undefined();
    }
    return Flags(env);
  }

  // handleInput(count): datagrams back to back in pool.buffer, their lengths in pool.lengths.
  Napi::Value HandleInput(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    uint32_t count = info[0].ToNumber().Uint32Value();
    if (env.IsExceptionPending()) return env.Undefined();
    if (count > max_lens()) {
      ThrowDtlsError(env, "RangeError", "ERR_DTLS_ARGUMENT", "handleInput: count exceeds the pool");
      return env.Undefined();
    }
    size_t off = 0;
    for (uint32_t i = 0; i < count; ++i) {
      size_t len = lens()[i];
      if (len > buffer_.bytes - off) {
        ThrowDtlsError(env, "RangeError", "ERR_DTLS_ARGUMENT", "handleInput: lengths exceed the pool buffer");
        return env.Undefined();
      }
      engine_->HandleDatagram(buffer_.data + off, len);
      off += len;
    }
    return Flags(env);
  }

  Napi::Value HandleTimeout(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    engine_->HandleTimeout();
    return Flags(env);
  }

  Napi::Value TimeoutUs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    return Napi::Number::New(env, static_cast<double>(engine_->TimeoutUs()));
  }

  // pollTransmit() -> count of whole datagrams written to pool.buffer / pool.lengths.
  Napi::Value PollTransmit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    size_t n = engine_->outgoing().DrainInto(buffer_.data, buffer_.bytes, lens(), max_lens());
    return Napi::Number::New(env, static_cast<double>(n));
  }

  Napi::Value PollData(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    size_t n = engine_->DrainData(buffer_.data, buffer_.bytes, lens(), max_lens());
    return Napi::Number::New(env, static_cast<double>(n));
  }

  // send(count): application-data records back to back in the pool; returns flags.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    uint32_t count = info[0].ToNumber().Uint32Value();
    if (env.IsExceptionPending()) return env.Undefined();
    if (count > max_lens()) {
      ThrowDtlsError(env, "RangeError", "ERR_DTLS_ARGUMENT", "send: count exceeds the pool");
      return env.Undefined();
    }
    size_t off = 0;
    for (uint32_t i = 0; i < count; ++i) {
      size_t len = lens()[i];
      if (len > buffer_.bytes - off) {
        ThrowDtlsError(env, "RangeError", "ERR_DTLS_ARGUMENT", "send: lengths exceed the pool buffer");
        return env.Undefined();
      }
      DtlsStatus st = engine_->Send(buffer_.data + off, len);
      if (st == DtlsStatus::kInvalidState) {
        ThrowDtlsError(env, "Error", "ERR_DTLS_STATE", "send: the DTLS transport is not connected");
        return env.Undefined();
      }
      if (st == DtlsStatus::kTooLarge || st == DtlsStatus::kInvalidArgument) {
        ThrowDtlsError(env, "RangeError", "ERR_DTLS_RECORD_SIZE", "send: a record must hold 1..16384 bytes");
        return env.Undefined();
      }
      off += len;
    }
    return Flags(env);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    engine_->Close();
    return Flags(env);
  }

  // setRemoteFingerprints(algorithms: Uint8Array, digests: Uint8Array back to back) -> flags
  Napi::Value SetRemoteFingerprints(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
        info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      ThrowDtlsError(env, "TypeError", "ERR_DTLS_ARGUMENT", "setRemoteFingerprints: Uint8Arrays expected");
      return env.Undefined();
    }
    Napi::Uint8Array algos = info[0].As<Napi::Uint8Array>();
    Napi::Uint8Array digests = info[1].As<Napi::Uint8Array>();
    std::vector<RemoteFingerprint> list;
    size_t off = 0;
    for (size_t i = 0; i < algos.ElementLength(); ++i) {
      RemoteFingerprint fp;
      fp.algorithm = static_cast<FingerprintAlgorithm>(algos[i]);
      size_t len = FingerprintLength(fp.algorithm);
      if (len == 0 || len > digests.ElementLength() - off) {
        ThrowDtlsError(env, "TypeError", "ERR_DTLS_FINGERPRINT", "setRemoteFingerprints: digest length mismatch");
        return env.Undefined();
      }
      fp.digest.assign(digests.Data() + off, digests.Data() + off + len);
      off += len;
      list.push_back(std::move(fp));
    }
    DtlsStatus st = engine_->SetRemoteFingerprints(std::move(list));
    if (st == DtlsStatus::kInvalidState) {
      ThrowDtlsError(env, "Error", "ERR_DTLS_STATE", "setRemoteFingerprints: the transport is closed");
      return env.Undefined();
    }
    if (st != DtlsStatus::kOk) {
      ThrowDtlsError(env, "TypeError", "ERR_DTLS_FINGERPRINT", "setRemoteFingerprints: invalid fingerprint list");
      return env.Undefined();
    }
    return Flags(env);
  }

  Napi::Value State(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    return Napi::Number::New(env, static_cast<int>(engine_->state()));
  }

  Napi::Value FailureReason(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    return Napi::String::New(env, engine_->failure_reason());
  }

  Napi::Value WasConnected(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    return Napi::Boolean::New(env, engine_->was_connected());
  }

  Napi::Value SrtpProfileId(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    return Napi::Number::New(env, engine_->srtp_profile());
  }

  Napi::Value CipherSuite(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    return Napi::String::New(env, engine_->cipher_name());
  }

  // cipherSuiteStandardName() -> IANA cipher suite name, '' before the handshake.
  Napi::Value CipherSuiteStandardName(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    return Napi::String::New(env, engine_->cipher_standard_name());
  }

  // tlsVersion() -> wire version (0xFEFD for DTLS 1.2), 0 before the handshake.
  Napi::Value TlsVersion(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    return Napi::Number::New(env, engine_->tls_version());
  }

  // handedOver() -> true once the engine's own record layer replaced OpenSSL's SSL.
  Napi::Value HandedOver(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    return Napi::Boolean::New(env, engine_->handed_over());
  }

  // remoteCertificate() -> Buffer (DER) or null before the handshake completed.
  Napi::Value RemoteCertificate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    // Copied at the end of the handshake: the SSL that held it is gone after the handover.
    const std::vector<uint8_t>& der = engine_->peer_certificate_der();
    if (der.empty()) return env.Null();
    return Napi::Buffer<uint8_t>::Copy(env, der.data(), der.size());
  }

  Napi::Value Counters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    engine_->counters().ToArray(reinterpret_cast<double*>(counters_.data));
    return env.Undefined();
  }

  // keySrtp(session) -> true once the session holds keys derived from this handshake.
  Napi::Value KeySrtp(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
#ifdef PWT_DTLS_HAS_SRTP_SESSION
    SrtpKeyingMaterial km;
    if (!engine_->ExportSrtpKeyingMaterial(&km)) {
      ThrowDtlsError(env, "Error", "ERR_DTLS_STATE",
                     "keySrtp: needs a connected transport with a negotiated SRTP profile");
      return env.Undefined();
    }
    bool ok = KeySrtpSessionFromDtls(env, info[0], km, engine_->role() == DtlsRole::kClient);
    km.wipe();
    if (env.IsExceptionPending()) return env.Undefined();
    return Napi::Boolean::New(env, ok);
#else
    ThrowDtlsError(env, "Error", "ERR_DTLS_SRTP_UNAVAILABLE", "keySrtp: this build has no native SRTP session");
    return env.Undefined();
#endif
  }

  // For tests that compare with other implementations only: the raw RFC 5705 exporter output.
  Napi::Value ExportKeyingMaterialForTest(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber()) {
      ThrowDtlsError(env, "TypeError", "ERR_DTLS_ARGUMENT", "exportKeyingMaterialForTest(label, length)");
      return env.Undefined();
    }
    uint32_t len = info[1].As<Napi::Number>().Uint32Value();
    if (len == 0 || len > 1024) {
      ThrowDtlsError(env, "RangeError", "ERR_DTLS_ARGUMENT", "exportKeyingMaterialForTest: length 1..1024");
      return env.Undefined();
    }
    std::vector<uint8_t> out(len);
    if (!engine_->ExportKeyingMaterialForTest(info[0].As<Napi::String>().Utf8Value(), out.data(), len)) {
      ThrowDtlsError(env, "Error", "ERR_DTLS_STATE", "exportKeyingMaterialForTest: not connected");
      return env.Undefined();
    }
    return Napi::Buffer<uint8_t>::Copy(env, out.data(), out.size());
  }

  std::unique_ptr<DtlsEngine> engine_;
  PinnedArray buffer_;
  PinnedArray lengths_;
  PinnedArray counters_;
};

void InitDtlsEngine(Napi::Env env, Napi::Object exports) { exports.Set("DtlsEngine", DtlsEngineWrap::Define(env)); }

}  // namespace
}  // namespace pwt

PWT_BINDING(dtls_engine, pwt::InitDtlsEngine);
