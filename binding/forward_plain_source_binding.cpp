// N-API glue for pwt::ForwardPlainSource (docs/scaling.md "Plain transport"): JavaScript creates one
// filter per plain/pipe transport, sets its remote or comedia, and hands it to the transport's
// UdpSocket (setPlainFilter) and to the router's engine (producers and the transport's consumers).
#include "binding/forward_plain_source_binding.hpp"

#include <sys/socket.h>

#include <cstring>

#include "binding/module_registry.hpp"

namespace pwt {
namespace {

constexpr napi_type_tag kPlainFilterTypeTag = {0x5a1e7c3d92b04f18ULL, 0xc4d9e2a17b6f3085ULL};
constexpr size_t kAddressRecord = 28;  // as lib/transport/source/udp-socket.ts resolves destinations

class PlainRtpFilterWrap : public Napi::ObjectWrap<PlainRtpFilterWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PlainRtpFilter",
                       {
                           InstanceMethod<&PlainRtpFilterWrap::SetRemote>("setRemote"),
                           InstanceMethod<&PlainRtpFilterWrap::SetComedia>("setComedia"),
                           InstanceMethod<&PlainRtpFilterWrap::SetSrtp>("setSrtp"),
                           InstanceMethod<&PlainRtpFilterWrap::Remote>("remote"),
                       });
  }

  // new PlainRtpFilter(counters Float64Array(plainCounterCount))
  explicit PlainRtpFilterWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PlainRtpFilterWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
        info[0].As<Napi::TypedArray>().ByteLength() < kPlainCounterCount * sizeof(double)) {
      Napi::TypeError::New(env, "PlainRtpFilter: a Float64Array of plainCounterCount counters expected")
          .ThrowAsJavaScriptException();
      return;
    }
    Napi::Float64Array counters = info[0].As<Napi::Float64Array>();
    source_.set_counters(counters.Data());
    counters_ = Napi::Persistent(counters.As<Napi::Object>());
    napi_type_tag_object(env, info.This(), &kPlainFilterTypeTag);
  }

  ForwardPlainSource* core() { return &source_; }

 private:
  // setRemote(address record Uint8Array(28)) -> false for a bad record
  Napi::Value SetRemote(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray()) return Napi::Boolean::New(env, false);
    Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
    if (ta.TypedArrayType() != napi_uint8_array || ta.ByteLength() < kAddressRecord) return Napi::Boolean::New(env, false);
    sockaddr_storage ss{};
    std::memcpy(&ss, static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset(), kAddressRecord);
    const socklen_t len = ss.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    return Napi::Boolean::New(env, source_.set_remote(reinterpret_cast<const sockaddr*>(&ss), len));
  }

  Napi::Value SetComedia(const Napi::CallbackInfo& info) {
    source_.set_comedia(info.Length() >= 1 && info[0].ToBoolean());
    return info.Env().Undefined();
  }

  Napi::Value SetSrtp(const Napi::CallbackInfo& info) {
    source_.set_srtp(info.Length() >= 1 && info[0].ToBoolean());
    return info.Env().Undefined();
  }

  // remote(out Uint8Array(28)) -> true when a remote is known (its sockaddr written into out)
  Napi::Value Remote(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray() || source_.remote_length() == 0) return Napi::Boolean::New(env, false);
    Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
    if (ta.TypedArrayType() != napi_uint8_array || ta.ByteLength() < kAddressRecord) return Napi::Boolean::New(env, false);
    uint8_t* out = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    std::memset(out, 0, kAddressRecord);
    std::memcpy(out, source_.remote(), source_.remote_length());
    return Napi::Boolean::New(env, true);
  }

  ForwardPlainSource source_;
  Napi::ObjectReference counters_;
};

void InitPlainFilter(Napi::Env env, Napi::Object exports) {
  exports.Set("PlainRtpFilter", PlainRtpFilterWrap::Define(env));
  exports.Set("plainCounterCount", Napi::Number::New(env, kPlainCounterCount));
}

}  // namespace

ForwardPlainSource* ForwardPlainSourceFromValue(Napi::Env env, Napi::Value value) {
  if (!value.IsObject()) return nullptr;
  bool tagged = false;
  if (napi_check_object_type_tag(env, value, &kPlainFilterTypeTag, &tagged) != napi_ok || !tagged) return nullptr;
  PlainRtpFilterWrap* wrap = PlainRtpFilterWrap::Unwrap(value.As<Napi::Object>());
  return wrap ? wrap->core() : nullptr;
}

PWT_BINDING(plain_filter, InitPlainFilter);

}  // namespace pwt
