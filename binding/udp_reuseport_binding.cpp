// N-API glue for the shared-port hand-off's process-wide parts (docs/scaling.md "One port across
// workers"): the channels the pool creates on the main thread and closes after its workers have
// stopped, and the release of a failed worker's steering entries. Each socket's part is in
// binding/udp_socket_binding.cpp (setHandoff, steerAddress, steerUfrag).
#include <napi.h>
#include <unistd.h>

#include <cstring>

#include "binding/module_registry.hpp"
#include "native/udp/udp_reuseport_handoff.hpp"
#include "native/udp/udp_reuseport_steering.hpp"

namespace pwt {
namespace {

// createHandoffChannel(bufferBytes) -> [readFd, writeFd]; throws an Error with the errno text.
Napi::Value CreateHandoffChannel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fds[2];
  const int err = handoff_channel_create(fds, info.Length() > 0 ? info[0].ToNumber().Int32Value() : 0);
  if (err != 0) {
    Napi::Error::New(env, std::string("createHandoffChannel: ") + std::strerror(err)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, fds[0]));
  out.Set(1u, Napi::Number::New(env, fds[1]));
  return out;
}

// closeHandoffChannel(readFd, writeFd): the pool calls it once, after every worker has exited.
Napi::Value CloseHandoffChannel(const Napi::CallbackInfo& info) {
  for (size_t i = 0; i < 2 && i < info.Length(); ++i) {
    const int fd = info[i].ToNumber().Int32Value();
    if (fd > 2) close(fd);
  }
  return info.Env().Undefined();
}

// steeringReleaseOwner(table Int32Array, owner) -> entries released (a failed worker's flows).
Napi::Value SteeringReleaseOwner(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    Napi::TypeError::New(env, "steeringReleaseOwner: Int32Array expected").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // Over a SharedArrayBuffer: only napi_get_typedarray_info gives the data pointer.
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, info[0], nullptr, &length, &data, nullptr, nullptr) != napi_ok || !data) {
    return Napi::Number::New(env, 0);
  }
  ReuseportSteeringTable steering(static_cast<uint32_t*>(data), length);
  return Napi::Number::New(env, static_cast<double>(steering.release_owner(info[1].ToNumber().Uint32Value())));
}

void InitUdpReuseport(Napi::Env env, Napi::Object exports) {
  exports.Set("createHandoffChannel", Napi::Function::New(env, CreateHandoffChannel, "createHandoffChannel"));
  exports.Set("closeHandoffChannel", Napi::Function::New(env, CloseHandoffChannel, "closeHandoffChannel"));
  exports.Set("steeringReleaseOwner", Napi::Function::New(env, SteeringReleaseOwner, "steeringReleaseOwner"));
  exports.Set("handoffCounterCount", Napi::Number::New(env, kHandoffCounterCount));
  exports.Set("steeringEntryWords", Napi::Number::New(env, static_cast<double>(ReuseportSteeringTable::kEntryWords)));
}

}  // namespace
}  // namespace pwt

PWT_BINDING(udp_reuseport, ::pwt::InitUdpReuseport);
