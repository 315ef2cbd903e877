// N-API glue for TrimNativeHeap (native/memory/native_heap_trim.hpp): trimNativeHeap() -> 0
// unsupported, 1 nothing released, 2 released; lib/native/native-heap-trim.ts types it.
#include <napi.h>

#include "binding/module_registry.hpp"
#include "native/memory/native_heap_trim.hpp"

namespace pwt {
namespace {

Napi::Value TrimNativeHeapJs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(TrimNativeHeap()));
}

void InitNativeHeapTrim(Napi::Env env, Napi::Object exports) {
  exports.Set("trimNativeHeap", Napi::Function::New(env, TrimNativeHeapJs, "trimNativeHeap"));
}

}  // namespace
}  // namespace pwt

PWT_BINDING(native_heap_trim, ::pwt::InitNativeHeapTrim);
