// PinnedArray (binding/pinned_array.hpp): one counted reference per ArrayBuffer per thread.
#include "binding/pinned_array.hpp"

#include <cstdint>
#include <map>
#include <utility>

namespace pwt {

struct PinnedArray::Entry {
  napi_env env = nullptr;
  napi_ref ref = nullptr;
  size_t holders = 0;
  bool shared = false;  // listed in the thread's table (a buffer with memory); else this holder's own
  std::pair<napi_env, const void*> key;
};

namespace {

// References are per environment, an environment runs on one thread: the table is per thread, keyed
// by environment and buffer base. A held buffer stays alive, so no other buffer can have its base.
using PinTable = std::map<std::pair<napi_env, const void*>, PinnedArray::Entry>;

PinTable& thread_table() {
  thread_local PinTable table;
  return table;
}

size_t element_size(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array:
    case napi_uint8_array:
    case napi_uint8_clamped_array:
      return 1;
    case napi_int16_array:
    case napi_uint16_array:
      return 2;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array:
      return 4;
    default:  // float64, bigint64, biguint64
      return 8;
  }
}

}  // namespace

PinnedArray& PinnedArray::operator=(PinnedArray&& other) noexcept {
  if (this != &other) {
    Reset();
    entry_ = std::exchange(other.entry_, nullptr);
    data_ = std::exchange(other.data_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

bool PinnedArray::Pin(Napi::Env env, napi_value value, const napi_typedarray_type* type) {
  Reset();
  bool is_typed = false;
  if (value == nullptr || napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return false;
  napi_typedarray_type actual;
  size_t length = 0;
  void* data = nullptr;
  napi_value buffer = nullptr;
  size_t offset = 0;
  if (napi_get_typedarray_info(env, value, &actual, &length, &data, &buffer, &offset) != napi_ok || buffer == nullptr ||
      (type != nullptr && actual != *type)) {
    return false;
  }
  Entry* entry = nullptr;
  if (data != nullptr) {
    const void* base = static_cast<const uint8_t*>(data) - offset;
    PinTable& table = thread_table();
    const auto key = std::make_pair(static_cast<napi_env>(env), base);
    auto it = table.find(key);
    if (it == table.end()) {
      napi_ref ref = nullptr;
      if (napi_create_reference(env, buffer, 1, &ref) != napi_ok) return false;
      it = table.emplace(key, Entry{env, ref, 0, true, key}).first;
    }
    entry = &it->second;
  } else {
    // No memory (empty or detached): nothing to share, and nothing to key it by.
    napi_ref ref = nullptr;
    if (napi_create_reference(env, buffer, 1, &ref) != napi_ok) return false;
    entry = new Entry{env, ref, 0, false, {}};
  }
  entry->holders += 1;
  entry_ = entry;
  data_ = data;
  bytes_ = length * element_size(actual);
  return true;
}

void PinnedArray::Reset() {
  Entry* entry = std::exchange(entry_, nullptr);
  data_ = nullptr;
  bytes_ = 0;
  if (entry == nullptr || --entry->holders > 0) return;
  // Status ignored: during an environment's teardown the reference may already be gone with it.
  napi_delete_reference(entry->env, entry->ref);
  if (entry->shared) thread_table().erase(entry->key);
  else delete entry;
}

size_t PinnedArray::ThreadCount() { return thread_table().size(); }

}  // namespace pwt
