// Minimal assertion helpers for the C++ core tests (ctest runs one executable per file).
#pragma once
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace pwt_test {
inline int& failures() { static int n = 0; return n; }
}  // namespace pwt_test

#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++pwt_test::failures();                                                       \
    }                                                                               \
  } while (0)

#define CHECK_EQ(a, b)                                                                        \
  do {                                                                                        \
    auto va_ = (a);                                                                           \
    auto vb_ = (b);                                                                           \
    if (!(va_ == vb_)) {                                                                      \
      std::fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld vs %lld)\n", __FILE__,      \
                   __LINE__, #a, #b, static_cast<long long>(va_), static_cast<long long>(vb_)); \
      ++pwt_test::failures();                                                                 \
    }                                                                                         \
  } while (0)

#define CHECK_MEM(a, b, n)                                                                  \
  do {                                                                                      \
    if (std::memcmp((a), (b), (n)) != 0) {                                                  \
      std::fprintf(stderr, "%s:%d: CHECK_MEM failed: %s vs %s\n", __FILE__, __LINE__, #a, #b); \
      ++pwt_test::failures();                                                               \
    }                                                                                       \
  } while (0)

#define TEST_MAIN_END()                                                         \
  do {                                                                          \
    if (pwt_test::failures()) {                                                 \
      std::fprintf(stderr, "%d check(s) failed\n", pwt_test::failures());        \
      return 1;                                                                 \
    }                                                                           \
    std::printf("ok\n");                                                        \
    return 0;                                                                   \
  } while (0)
