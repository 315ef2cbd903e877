// Kernel receive timestamps (native/udp/udp_receive_timestamp.*, docs/udp.md "Receive timestamps"):
// a datagram that waited in the socket's queue keeps the time the kernel queued it, on the plain
// recvmmsg path and on the GRO path, and nothing is written without timestamps on.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <vector>

#include "native/udp/udp_receive_timestamp.hpp"
#include "native/udp/udp_socket.hpp"
#include "test/native/check.hpp"

using namespace pwt;

namespace {

uint64_t MonotonicUs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

struct Pool {
  static constexpr size_t kSlot = 2048;
  std::vector<uint8_t> buffer = std::vector<uint8_t>(kSlot * UdpSocket::kMaxBatch);
  uint32_t lengths[UdpSocket::kMaxBatch];
  uint8_t addresses[UdpSocket::kMaxBatch * 16];
  uint16_t ports[UdpSocket::kMaxBatch];
  uint8_t families[UdpSocket::kMaxBatch];
  uint64_t arrivals[UdpSocket::kMaxBatch];
  UdpRecvTarget target() {
    UdpRecvTarget t{buffer.data(), kSlot, UdpSocket::kMaxBatch, lengths, addresses, ports, families};
    t.arrival_us = arrivals;
    return t;
  }
};

uint16_t port_of(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// Sends `count` datagrams of 100 bytes to `port` from `fd`.
void send_to(int fd, uint16_t port, int count) {
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  dst.sin_port = htons(port);
  uint8_t data[100] = {0x80};
  for (int i = 0; i < count; ++i) CHECK(::sendto(fd, data, sizeof data, 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst) == 100);
}

// Waits (bounded, 2 s) until `s` is readable.
bool readable(const UdpSocket& s) {
  pollfd p{s.fd(), POLLIN, 0};
  return ::poll(&p, 1, 2000) == 1;
}

// The slack for mapping a realtime stamp onto the monotonic clock (udp_receive_time_us reads the
// two clocks one after the other: a preemption between the reads shifts the mapping by its length,
// milliseconds on a loaded machine). The reads below come at least 40 ms after the queueing, so a
// stamp taken at the read still fails the checks.
constexpr uint64_t kSlackUs = 15'000;

// `count` datagrams sent while `s` waits, read 60 ms after they were queued: each carries a receive
// time between the send and the start of the wait, not the time of the read.
void CheckQueuedArrivals(UdpSocket& s, int sender, int count) {
  Pool pool;
  const uint64_t before = MonotonicUs();
  send_to(sender, port_of(s.fd()), count);
  CHECK(readable(s));
  const uint64_t queued = MonotonicUs();
  ::usleep(60'000);
  int got = 0;
  for (int spins = 0; spins < 200 && got < count; ++spins) {
    if (!s.has_pending_receive() && got > 0 && !readable(s)) break;
    UdpRecvTarget t = pool.target();
    const int n = s.recv_batch(t);
    for (int i = 0; i < n; ++i) {
      CHECK(pool.arrivals[i] != 0);
      CHECK(pool.arrivals[i] + kSlackUs >= before);
      CHECK(pool.arrivals[i] <= queued + kSlackUs);
    }
    got += n > 0 ? n : 0;
  }
  CHECK_EQ(got, count);
}

// The kernel turns timestamping on asynchronously (the first socket to ask enables it system-wide);
// a datagram that arrived before then is stamped when it is read. Waits (bounded: 50 tries) until a
// datagram read 40 ms after it was queued carries its queueing time.
bool WaitUntilStamped(UdpSocket& s, int sender) {
  Pool pool;
  for (int tries = 0; tries < 50; ++tries) {
    send_to(sender, port_of(s.fd()), 1);
    if (!readable(s)) return false;
    const uint64_t queued = MonotonicUs();
    ::usleep(40'000);
    UdpRecvTarget t = pool.target();
    if (s.recv_batch(t) == 1 && pool.arrivals[0] != 0 && pool.arrivals[0] <= queued + kSlackUs) return true;
  }
  return false;
}

}  // namespace

int main() {
  const int sender = ::socket(AF_INET, SOCK_DGRAM, 0);
  {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(::bind(sender, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  UdpBindOptions o;
  o.address = "127.0.0.1";
  o.recv_buffer = 1 << 20;
  int err = 0;

  // Off (the default): the slots' arrival times are 0, "unknown".
  UdpSocket off;
  CHECK(off.bind(o, &err) == UdpStatus::kOk);
  CHECK(!off.receive_timestamps());
  {
    Pool pool;
    for (auto& a : pool.arrivals) a = 7;
    send_to(sender, port_of(off.fd()), 1);
    CHECK(readable(off));
    UdpRecvTarget t = pool.target();
    CHECK_EQ(off.recv_batch(t), 1);
    CHECK_EQ(pool.arrivals[0], 0u);
  }

  // Plain recvmmsg path.
  UdpSocket plain;
  CHECK(plain.bind(o, &err) == UdpStatus::kOk);
  if (!plain.set_receive_timestamps(true)) {
    std::printf("SO_TIMESTAMPNS refused by this kernel: receive timestamps not tested\n");
    ::close(sender);
    TEST_MAIN_END();
  }
  CHECK(plain.receive_timestamps());
  CHECK(WaitUntilStamped(plain, sender));
  CheckQueuedArrivals(plain, sender, 5);

  // GRO path: the same, whether or not the kernel coalesces these datagrams.
  UdpSocket gro;
  CHECK(gro.bind(o, &err) == UdpStatus::kOk);
  if (gro.set_gro(true)) {
    CHECK(gro.set_receive_timestamps(true));
    CheckQueuedArrivals(gro, sender, 20);
  } else {
    std::printf("UDP_GRO refused by this kernel: the GRO path's timestamps not tested\n");
  }

  // Turned off again: nothing is written.
  CHECK(!plain.set_receive_timestamps(false));
  CHECK(!plain.receive_timestamps());
  ::close(sender);
  TEST_MAIN_END();
}
