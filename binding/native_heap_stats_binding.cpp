// N-API glue for ReadNativeHeapStats (native/memory/native_heap_stats.hpp): nativeHeapStats(out)
// fills a Float64Array of 4 (supported 0/1, in use, free, mmapped); lib/native/native-heap-stats.ts types it.
#include <napi.h>

#include "binding/module_registry.hpp"
#include "native/memory/native_heap_stats.hpp"

namespace pwt {
namespace {

// Returns false (and writes nothing) unless `out` is a Float64Array of at least 4 slots.
Napi::Value NativeHeapStatsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    return Napi::Boolean::New(env, false);
  }
  Napi::Float64Array out = info[0].As<Napi::Float64Array>();
  if (out.ElementLength() < 4) return Napi::Boolean::New(env, false);
  const NativeHeapStats s = ReadNativeHeapStats();
  out[0] = s.supported ? 1 : 0;
  out[1] = static_cast<double>(s.in_use);
  out[2] = static_cast<double>(s.free);
  out[3] = static_cast<double>(s.mmapped);
  return Napi::Boolean::New(env, true);
}

void InitNativeHeapStats(Napi::Env env, Napi::Object exports) {
  exports.Set("nativeHeapStats", Napi::Function::New(env, NativeHeapStatsJs, "nativeHeapStats"));
}

}  // namespace
}  // namespace pwt

PWT_BINDING(native_heap_stats, ::pwt::InitNativeHeapStats);
