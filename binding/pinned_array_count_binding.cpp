// N-API glue for PinnedArray::ThreadCount (binding/pinned_array.hpp): pinnedArrayCount() -> buffers
// held by native objects on this thread, one each however many objects hold it (for tests,
// lib/native/pinned-array-count.ts).
#include <napi.h>

#include "binding/module_registry.hpp"
#include "binding/pinned_array.hpp"

namespace pwt {
namespace {

Napi::Value PinnedArrayCountJs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(PinnedArray::ThreadCount()));
}

void InitPinnedArrayCount(Napi::Env env, Napi::Object exports) {
  exports.Set("pinnedArrayCount", Napi::Function::New(env, PinnedArrayCountJs, "pinnedArrayCount"));
}

}  // namespace
}  // namespace pwt

PWT_BINDING(pinned_array_count, ::pwt::InitPinnedArrayCount);
