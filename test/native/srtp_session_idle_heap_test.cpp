// What a keyed but idle SrtpSession costs on the C heap (RFC 3711 section 3.2 contexts, keyed on
// first use: docs/srtp.md): keying 200 sessions allocates nothing per session (the master keys live
// in the object, the stream tables start empty), the first protected packet of each allocates its
// transform's cipher context and its stream entry, Close() gives them back. Counted with glibc's
// mallinfo2 (bytes, not time); a sanitizer build, whose allocator is not glibc's, has no totals.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

#include "native/memory/native_heap_stats.hpp"
#include "native/srtp/srtp_session.hpp"
#include "test/native/check.hpp"

using namespace pwt;

int main() {
  constexpr size_t kSessions = 200;
  // Made before counting: the objects themselves (the inline hash states and counters) are not
  // what keying costs.
  std::vector<std::unique_ptr<SrtpSession>> sessions;
  for (size_t i = 0; i < kSessions; ++i) sessions.push_back(std::make_unique<SrtpSession>());
  uint8_t key[16], salt[14];
  for (int i = 0; i < 16; ++i) key[i] = static_cast<uint8_t>(i * 5 + 3);
  for (int i = 0; i < 14; ++i) salt[i] = static_cast<uint8_t>(i * 7 + 1);
  std::vector<uint8_t> rtp(12 + 100 + 16, 0);
  rtp[0] = 0x80;
  rtp[1] = 96;
  rtp[11] = 1;

  const NativeHeapStats before = ReadNativeHeapStats();
  for (auto& s : sessions)
    CHECK(s->Key(SrtpProfile::kAes128CmHmacSha1_80, key, 16, salt, 14, key, 16, salt, 14) == SrtpStatus::kOk);
  const NativeHeapStats keyed = ReadNativeHeapStats();
  for (auto& s : sessions) {
    std::vector<uint8_t> buf(rtp);
    size_t out = 0;
    CHECK(s->protect_rtp(buf.data(), 112, buf.size(), &out) == SrtpStatus::kOk);
    CHECK_EQ(s->keyed_transforms(), size_t{1});
  }
  const NativeHeapStats used = ReadNativeHeapStats();
  for (auto& s : sessions) s->Close();
  const NativeHeapStats closed = ReadNativeHeapStats();
#if defined(__SANITIZE_ADDRESS__) || !defined(__GLIBC__)
  CHECK(!before.supported && !keyed.supported && !used.supported && !closed.supported);
#else
  CHECK(before.supported);
  // Keyed and idle: no cipher context, no stream table (before: four contexts and four reserved
  // tables, about 5.5 KiB per session). A little room for the allocator's own bookkeeping.
  const int64_t per_keyed = (static_cast<int64_t>(keyed.in_use) - static_cast<int64_t>(before.in_use)) / int64_t{kSessions};
  CHECK(per_keyed <= 64);
  // The first packet keys one transform: an OpenSSL cipher context (hundreds of bytes) and a stream entry.
  const int64_t per_used = (static_cast<int64_t>(used.in_use) - static_cast<int64_t>(keyed.in_use)) / int64_t{kSessions};
  CHECK(per_used >= 256);
  CHECK(closed.in_use + kSessions * 256 <= used.in_use);
  std::printf("per session: keyed %lld B, first packet +%lld B\n", static_cast<long long>(per_keyed), static_cast<long long>(per_used));
#endif
  TEST_MAIN_END();
}
