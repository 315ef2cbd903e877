// Addon entry point: runs every registered binding's init and reports build facts.
#include <napi.h>
#include <openssl/opensslv.h>

#include "binding/module_registry.hpp"
#include "pwt_source_hash.h"  // generated into the build tree by scripts/build-native.mjs

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // The hash of the native sources this binary was built from; test/unit compares it with
  // the tree so that a stale binary is never tested by mistake.
  exports.Set("sourceHash", Napi::String::New(env, PWT_SOURCE_HASH));
  exports.Set("opensslHeaders", Napi::String::New(env, OPENSSL_VERSION_TEXT));
  for (const auto& entry : pwt::binding_registry()) entry.init(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(pure_webrtc_transport, Init)
