// What a bound, idle native UdpSocket costs on the C heap (docs/udp.md "Cost per connection"):
// nothing. The syscall scratch is the thread's (made by the first socket), the counters are the
// caller's array (the binding's, in JavaScript memory), and the socket's own counters are made only
// when something counts into a socket that has none. Counted with glibc's mallinfo2 over 200 sockets
// on loopback (bytes, not time); a sanitizer build, whose allocator is not glibc's, has no totals.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

#include "native/memory/native_heap_stats.hpp"
#include "native/udp/udp_socket.hpp"
#include "test/native/check.hpp"

using namespace pwt;

namespace {

UdpBindOptions Loopback() {
  UdpBindOptions o;
  o.address = "127.0.0.1";
  return o;
}

}  // namespace

int main() {
  constexpr size_t kSockets = 200;
  double shared_counters[kCounterCount] = {};
  // The first socket makes the thread's scratch; it is not what a socket costs.
  {
    UdpSocket first;
    int err = 0;
    CHECK(first.bind(Loopback(), &err) == UdpStatus::kOk);
  }
  std::vector<std::unique_ptr<UdpSocket>> sockets;
  sockets.reserve(kSockets * 2);
  for (size_t i = 0; i < kSockets; ++i) sockets.push_back(std::make_unique<UdpSocket>());
  const NativeHeapStats before = ReadNativeHeapStats();
  for (auto& s : sockets) {
    s->set_counters(shared_counters);
    int err = 0;
    CHECK(s->bind(Loopback(), &err) == UdpStatus::kOk);
  }
  const NativeHeapStats bound = ReadNativeHeapStats();
  // Without the caller's array a socket counts into one of its own, made when first counted into.
  for (auto& s : sockets) {
    s->set_counters(nullptr);
    s->counters()[kPacketsIn] += 1;
  }
  const NativeHeapStats own = ReadNativeHeapStats();
  for (auto& s : sockets) CHECK_EQ(s->counters()[kPacketsIn], 1.0);
  // And a socket whose counters were never asked for never makes them.
  std::vector<std::unique_ptr<UdpSocket>> quiet;
  quiet.reserve(kSockets);
  const NativeHeapStats before_quiet = ReadNativeHeapStats();
  for (size_t i = 0; i < kSockets; ++i) quiet.push_back(std::make_unique<UdpSocket>());
  const NativeHeapStats made_quiet = ReadNativeHeapStats();
#if defined(__SANITIZE_ADDRESS__) || !defined(__GLIBC__)
  CHECK(!before.supported && !bound.supported && !own.supported && !made_quiet.supported);
  (void)before_quiet;
#else
  CHECK(before.supported);
  const int64_t per_bound = (static_cast<int64_t>(bound.in_use) - static_cast<int64_t>(before.in_use)) / int64_t{kSockets};
  // Bound on the caller's counters: nothing per socket (before: 208 bytes of counters inside every
  // socket of the binding, which never used them). Room for the allocator's own bookkeeping.
  CHECK(per_bound <= 16);
  const int64_t per_own = (static_cast<int64_t>(own.in_use) - static_cast<int64_t>(bound.in_use)) / int64_t{kSockets};
  CHECK(per_own >= static_cast<int64_t>(kCounterCount * sizeof(double)));
  // A socket object (the vector's room for its pointer aside) is its own size, nothing more.
  const int64_t per_quiet = (static_cast<int64_t>(made_quiet.in_use) - static_cast<int64_t>(before_quiet.in_use)) / int64_t{kSockets};
  CHECK(per_quiet <= static_cast<int64_t>(sizeof(UdpSocket) + 16 + 16));
  std::printf("per socket: bound %lld B, own counters +%lld B, object %lld B (sizeof %zu)\n", static_cast<long long>(per_bound),
              static_cast<long long>(per_own), static_cast<long long>(per_quiet), sizeof(UdpSocket));
#endif
  TEST_MAIN_END();
}
