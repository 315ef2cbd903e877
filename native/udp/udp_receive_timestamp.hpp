// Kernel receive timestamps (Linux SO_TIMESTAMPNS, socket(7)) mapped onto the monotonic clock, so a
// packet's arrival time is when the kernel queued it, not when a late event loop read it
// (docs/udp.md "Receive timestamps"; transport-cc arrivals in docs/sfu.md "RTCP per leg").
#pragma once
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

namespace pwt {

/** Control-message room one datagram's receive timestamp needs (0 where the platform has none). */
#ifdef SCM_TIMESTAMPNS
constexpr size_t kUdpTimestampControlBytes = CMSG_SPACE(sizeof(struct timespec));
#else
constexpr size_t kUdpTimestampControlBytes = 0;
#endif

/** Asks the kernel to timestamp every datagram `fd` receives; false when it refuses. */
bool udp_set_receive_timestamps(int fd, bool on);

/** The two clocks read once per receive batch: kernel timestamps are CLOCK_REALTIME. */
struct UdpClockPair {
  uint64_t realtime_us = 0;
  uint64_t monotonic_us = 0;
  static UdpClockPair now();
};

/**
 * The SO_TIMESTAMPNS receive time in `h`'s control messages, on the monotonic clock of `clocks`
 * (a timestamp after `clocks.realtime_us`, e.g. a wall-clock step, counts as now; older than 10 s
 * is capped there); 0 when `h` carries none.
 */
uint64_t udp_receive_time_us(const msghdr& h, const UdpClockPair& clocks);

}  // namespace pwt
