// Each binding file registers its exports with PWT_BINDING(name, init) so that adding a
// wrapped class never needs an edit to a central list.
#pragma once
#include <napi.h>
#include <vector>

namespace pwt {

using BindingInit = void (*)(Napi::Env env, Napi::Object exports);

struct BindingEntry {
  const char* name;
  BindingInit init;
};

inline std::vector<BindingEntry>& binding_registry() {
  static std::vector<BindingEntry> entries;
  return entries;
}

struct BindingRegistrar {
  BindingRegistrar(const char* name, BindingInit init) { binding_registry().push_back({name, init}); }
};

}  // namespace pwt

#define PWT_BINDING(name, init) static ::pwt::BindingRegistrar pwt_binding_registrar_##name(#name, init)
