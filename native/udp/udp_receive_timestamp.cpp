// Kernel receive timestamps (see udp_receive_timestamp.hpp; docs/udp.md "Receive timestamps").
#include "native/udp/udp_receive_timestamp.hpp"

#include <time.h>

#include <cstring>

namespace pwt {

namespace {
uint64_t Micros(const timespec& ts) {
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}
// A wall-clock step would otherwise move arrivals arbitrarily far; anything older is a stalled reader.
constexpr uint64_t kMaxAgeUs = 10'000'000;
}  // namespace

bool udp_set_receive_timestamps(int fd, bool on) {
#ifdef SO_TIMESTAMPNS
  int value = on ? 1 : 0;
  return ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &value, sizeof(value)) == 0;
#else
  (void)fd;
  (void)on;
  return false;
#endif
}

UdpClockPair UdpClockPair::now() {
  timespec real{};
  timespec mono{};
  clock_gettime(CLOCK_REALTIME, &real);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  return UdpClockPair{Micros(real), Micros(mono)};
}

uint64_t udp_receive_time_us(const msghdr& h, const UdpClockPair& clocks) {
#ifdef SCM_TIMESTAMPNS
  if (!h.msg_control || h.msg_controllen < sizeof(cmsghdr)) return 0;
  for (const cmsghdr* cm = CMSG_FIRSTHDR(&h); cm; cm = CMSG_NXTHDR(const_cast<msghdr*>(&h), const_cast<cmsghdr*>(cm))) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_TIMESTAMPNS || cm->cmsg_len < CMSG_LEN(sizeof(timespec))) continue;
    timespec ts{};
    std::memcpy(&ts, CMSG_DATA(cm), sizeof ts);
    if (ts.tv_sec < 0 || ts.tv_nsec < 0) return 0;
    const uint64_t at = Micros(ts);
    uint64_t age = at < clocks.realtime_us ? clocks.realtime_us - at : 0;
    if (age > kMaxAgeUs) age = kMaxAgeUs;
    return age < clocks.monotonic_us ? clocks.monotonic_us - age : 1;
  }
#else
  (void)h;
  (void)clocks;
#endif
  return 0;
}

}  // namespace pwt
