// N-API glue for STUN MESSAGE-INTEGRITY (native/stun/stun_integrity.hpp): one call per message,
// every buffer owned by JavaScript; lib/native/stun-integrity.ts validates and types it.
#include <napi.h>

#include "binding/module_registry.hpp"
#include "native/stun/stun_integrity.hpp"

namespace pwt {
namespace {

bool Bytes(const Napi::Value& v, const uint8_t** data, size_t* len) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) return false;
  Napi::Uint8Array a = v.As<Napi::Uint8Array>();
  *data = a.Data();
  *len = a.ByteLength();
  return true;
}

// stunIntegritySha1(key, msg, covered, lengthField, out) -> boolean (false: covered out of range,
// out shorter than 20 bytes, or not Uint8Arrays; nothing is thrown).
Napi::Value StunIntegritySha1(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint8_t* key = nullptr;
  const uint8_t* msg = nullptr;
  const uint8_t* out = nullptr;
  size_t key_len = 0, msg_len = 0, out_len = 0;
  if (info.Length() < 5 || !Bytes(info[0], &key, &key_len) || !Bytes(info[1], &msg, &msg_len) ||
      !info[2].IsNumber() || !info[3].IsNumber() || !Bytes(info[4], &out, &out_len) || out_len < kStunIntegrityLen) {
    return Napi::Boolean::New(env, false);
  }
  const int64_t covered = info[2].As<Napi::Number>().Int64Value();
  const int64_t length_field = info[3].As<Napi::Number>().Int64Value();
  if (covered < 0 || static_cast<uint64_t>(covered) > msg_len || length_field < 0 || length_field > 0xffff) {
    return Napi::Boolean::New(env, false);
  }
  return Napi::Boolean::New(env, stun_integrity_sha1(key, key_len, msg, static_cast<size_t>(covered),
                                                     static_cast<uint16_t>(length_field), const_cast<uint8_t*>(out)));
}

void InitStunIntegrity(Napi::Env env, Napi::Object exports) {
  exports.Set("stunIntegritySha1", Napi::Function::New(env, StunIntegritySha1, "stunIntegritySha1"));
}

}  // namespace
}  // namespace pwt

PWT_BINDING(stun_integrity, ::pwt::InitStunIntegrity);
