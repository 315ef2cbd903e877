// N-API glue for releaseIdleMemory() (lib/native/release-idle-memory.ts; docs/architecture.md,
// "Giving memory back after a burst"): V8's low-memory notification, then the C-heap trim
// (native/memory/native_heap_trim.hpp). releaseIdleMemory() -> bit 0: V8 notified; bits 1-2:
// the NativeHeapTrim result.
#include <napi.h>

#include "binding/module_registry.hpp"
#include "native/memory/native_heap_trim.hpp"

#if defined(__linux__) || defined(__APPLE__)
#include <dlfcn.h>
#endif

namespace pwt {
namespace {

// Node-API has no call for it, so the two V8 functions are looked up in the running process
// (node exports V8's API for addons) instead of being linked: the addon keeps no link-time
// dependency on V8's C++ ABI, and a runtime without them (not Node, or an unusual build) reports
// that V8 was not asked instead of failing to load or to call. Itanium C++ ABI (Linux, macOS):
// the static v8::Isolate::GetCurrent() takes no argument; the non-virtual member
// v8::Isolate::LowMemoryNotification() takes the isolate as its first argument.
using IsolateGetCurrent = void* (*)();
using IsolateLowMemoryNotification = void (*)(void* isolate);

/** Asks the calling thread's V8 isolate to free what it can; false when V8's API is not found. */
bool NotifyV8LowMemory() {
#if defined(__linux__) || defined(__APPLE__)
  static const auto get_current =
      reinterpret_cast<IsolateGetCurrent>(dlsym(RTLD_DEFAULT, "_ZN2v87Isolate10GetCurrentEv"));
  static const auto low_memory = reinterpret_cast<IsolateLowMemoryNotification>(
      dlsym(RTLD_DEFAULT, "_ZN2v87Isolate21LowMemoryNotificationEv"));
  if (get_current == nullptr || low_memory == nullptr) return false;
  void* isolate = get_current();
  if (isolate == nullptr) return false;
  low_memory(isolate);
  return true;
#else
  return false;
#endif
}

Napi::Value ReleaseIdleMemoryJs(const Napi::CallbackInfo& info) {
  // V8 first: its collections free ArrayBuffer backing stores into the C heap, which the trim
  // then gives back.
  const bool notified = NotifyV8LowMemory();
  const auto trim = static_cast<unsigned>(TrimNativeHeap());
  return Napi::Number::New(info.Env(), static_cast<double>((notified ? 1u : 0u) | (trim << 1)));
}

void InitNativeHeapRelease(Napi::Env env, Napi::Object exports) {
  exports.Set("releaseIdleMemory", Napi::Function::New(env, ReleaseIdleMemoryJs, "releaseIdleMemory"));
}

}  // namespace
}  // namespace pwt

PWT_BINDING(native_heap_release, ::pwt::InitNativeHeapRelease);
