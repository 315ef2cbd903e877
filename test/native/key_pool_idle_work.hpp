// The ECDHE key pools' idle-time work as a handshake thread does it, for the native tests of the
// pools (docs/dtls.md "Library context").
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <thread>

#include "native/dtls/dtls_library_context.hpp"

namespace pwt {

// One piece of idle-time work: waits out a refill that asks to wait (keys were just taken), at most
// a few times.
inline bool IdleWorkNow() {
  for (int i = 0; i < 10; ++i) {
    uint32_t retry_ms = 0;
    if (DtlsLibraryContextIdleWork(&retry_ms)) return true;
    if (retry_ms == 0) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(retry_ms));
  }
  return false;
}

// Idle-time work until the pools are at their fill targets; returns the keys made.
inline size_t FillPools() {
  size_t made = 0;
  // Bounded: the capacities together are well under this.
  for (int i = 0; i < 10000 && IdleWorkNow(); ++i) ++made;
  return made;
}

}  // namespace pwt
