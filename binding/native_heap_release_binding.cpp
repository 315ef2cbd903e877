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
// v8::Isolate::MemoryPressureNotification(v8::MemoryPressureLevel): an enum class over int,
// kNone = 0, kModerate = 1, kCritical = 2 (v8-isolate.h, stable since V8 5.x).
using IsolateMemoryPressureNotification = void (*)(void* isolate, int level);

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

/**
 * Tells the calling thread's isolate about memory pressure: `critical` runs one full collection
 * that reduces memory (V8 then shrinks its young generation to the minimum and releases free
 * pages; a second one only when the first was fast and freed much), the moderate level starts
 * incremental marking that ends in such a collection. Unlike the low-memory notification (up to
 * seven full collections) it costs one. False when V8's API is not found.
 */
bool NotifyV8MemoryPressure(bool critical) {
#if defined(__linux__) || defined(__APPLE__)
  static const auto get_current =
      reinterpret_cast<IsolateGetCurrent>(dlsym(RTLD_DEFAULT, "_ZN2v87Isolate10GetCurrentEv"));
  static const auto pressure = reinterpret_cast<IsolateMemoryPressureNotification>(
      dlsym(RTLD_DEFAULT, "_ZN2v87Isolate26MemoryPressureNotificationENS_19MemoryPressureLevelE"));
  if (get_current == nullptr || pressure == nullptr) return false;
  void* isolate = get_current();
  if (isolate == nullptr) return false;
  // On the isolate's own thread V8 acts at once and resets the level to kNone itself.
  pressure(isolate, critical ? 2 : 1);
  return true;
#else
  (void)critical;
  return false;
#endif
}

/** relieveJsHeap(critical) -> whether V8 was notified (docs/architecture.md, "after a burst"). */
Napi::Value RelieveJsHeapJs(const Napi::CallbackInfo& info) {
  const bool critical = info.Length() > 0 && info[0].IsBoolean() && info[0].As<Napi::Boolean>().Value();
  return Napi::Boolean::New(info.Env(), NotifyV8MemoryPressure(critical));
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
  exports.Set("relieveJsHeap", Napi::Function::New(env, RelieveJsHeapJs, "relieveJsHeap"));
}

}  // namespace
}  // namespace pwt

PWT_BINDING(native_heap_release, ::pwt::InitNativeHeapRelease);
