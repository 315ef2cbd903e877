// A typed array's memory held for native code: the ArrayBuffer under it is kept alive by ONE
// reference per thread, counted, shared by every holder of the same buffer (docs/udp.md "Cost per
// connection": every socket of a thread reads into the same receive pool and starts on the same
// send pool, so a socket adds no reference of its own for them).
#pragma once
#include <napi.h>

#include <cstddef>

namespace pwt {

class PinnedArray {
 public:
  PinnedArray() = default;
  ~PinnedArray() { Reset(); }
  PinnedArray(const PinnedArray&) = delete;
  PinnedArray& operator=(const PinnedArray&) = delete;
  PinnedArray(PinnedArray&& other) noexcept { *this = static_cast<PinnedArray&&>(other); }
  PinnedArray& operator=(PinnedArray&& other) noexcept;

  /**
   * Holds the typed array `value` (of `type`, or any type when `type` is null): false, and nothing
   * held, when it is not one. A SharedArrayBuffer's views are accepted too.
   */
  bool Pin(Napi::Env env, napi_value value, const napi_typedarray_type* type = nullptr);
  /** Lets go (the buffer's reference is deleted with its last holder on this thread). */
  void Reset();

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

  /** Buffers held on this thread, for tests (lib/native/pinned-array-count.ts). */
  static size_t ThreadCount();

  struct Entry;

 private:
  Entry* entry_ = nullptr;
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace pwt
