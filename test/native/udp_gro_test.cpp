// UDP GRO receive (native/udp/udp_gro_receiver.hpp) over loopback: a burst sent with UDP_SEGMENT
// from a test socket reaches a GRO socket as one coalesced buffer and is split into the right
// datagrams, in order, with the sender's address, also when the caller's batch is smaller than the
// burst (the rest comes with the next call) and across several bursts; a socket without GRO gets
// the same datagrams from the kernel; segments larger than a slot are dropped and counted, an empty
// datagram arrives as one; datagrams of many sources (no coalescing) fill a whole batch in one call. Where the
// kernel refuses UDP_GRO the socket stays on the plain path (checked, then the test ends).
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "native/udp/udp_socket.hpp"
#include "test/native/check.hpp"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

using namespace pwt;

namespace {

struct RecvPool {
  static constexpr size_t kSlot = 2048;
  std::vector<uint8_t> buffer = std::vector<uint8_t>(kSlot * UdpSocket::kMaxBatch);
  uint32_t lengths[UdpSocket::kMaxBatch];
  uint8_t addresses[UdpSocket::kMaxBatch * 16];
  uint16_t ports[UdpSocket::kMaxBatch];
  uint8_t families[UdpSocket::kMaxBatch];
};

struct Datagram {
  std::vector<uint8_t> data;
  uint16_t port;
};

// Receives with batches of `capacity` slots of `slot` bytes until `want` datagrams or 2 s.
std::vector<Datagram> receive(UdpSocket& s, size_t want, size_t capacity, size_t slot = RecvPool::kSlot) {
  RecvPool pool;
  std::vector<Datagram> out;
  for (int spins = 0; spins < 200 && out.size() < want; ++spins) {
    if (!s.has_pending_receive()) {
      pollfd p{s.fd(), POLLIN, 0};
      ::poll(&p, 1, 10);
    }
    UdpRecvTarget t{pool.buffer.data(), slot, capacity, pool.lengths, pool.addresses, pool.ports, pool.families};
    const int n = s.recv_batch(t);
    for (int i = 0; i < n; ++i) {
      const uint8_t* d = pool.buffer.data() + i * slot;
      out.push_back(Datagram{std::vector<uint8_t>(d, d + pool.lengths[i]), pool.ports[i]});
      CHECK_EQ(pool.families[i], 4);
    }
  }
  return out;
}

uint16_t port_of(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// The test sender: a plain socket that sends `segments` datagrams of `size` bytes (the last one
// `last` bytes) as one UDP_SEGMENT send; byte j of datagram i is (tag + i * 7 + j) & 0xff.
struct GsoSender {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  GsoSender() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~GsoSender() { ::close(fd); }
  bool send(uint16_t to, int segments, uint16_t size, uint16_t last, uint8_t tag) {
    std::vector<uint8_t> data;
    for (int i = 0; i < segments; ++i) {
      const size_t n = i == segments - 1 ? last : size;
      for (size_t j = 0; j < n; ++j) data.push_back(static_cast<uint8_t>(tag + i * 7 + j));
    }
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    dst.sin_port = htons(to);
    iovec iov{data.data(), data.size()};
    alignas(cmsghdr) uint8_t control[CMSG_SPACE(sizeof(uint16_t))] = {};
    msghdr h{};
    h.msg_name = &dst;
    h.msg_namelen = sizeof dst;
    h.msg_iov = &iov;
    h.msg_iovlen = 1;
    h.msg_control = control;
    h.msg_controllen = sizeof control;
    cmsghdr* cm = CMSG_FIRSTHDR(&h);
    cm->cmsg_level = SOL_UDP;
    cm->cmsg_type = UDP_SEGMENT;
    cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    std::memcpy(CMSG_DATA(cm), &size, sizeof size);
    return ::sendmsg(fd, &h, 0) == static_cast<ssize_t>(data.size());
  }
};

void expect_burst(const std::vector<Datagram>& got, size_t from, int segments, uint16_t size, uint16_t last, uint8_t tag, uint16_t port) {
  for (int i = 0; i < segments; ++i) {
    const Datagram& d = got[from + i];
    const size_t n = i == segments - 1 ? last : size;
    CHECK_EQ(d.data.size(), n);
    CHECK_EQ(d.port, port);
    bool same = d.data.size() == n;
    for (size_t j = 0; same && j < n; ++j) same = d.data[j] == static_cast<uint8_t>(tag + i * 7 + j);
    CHECK(same);
  }
}


}  // namespace

int main() {
  GsoSender sender;
  const uint16_t from = port_of(sender.fd);
  UdpSocket gro;
  UdpSocket plain;
  {
    UdpBindOptions o;
    o.address = "127.0.0.1";
    o.recv_buffer = 4 << 20;
    int err = 0;
    CHECK(gro.bind(o, &err) == UdpStatus::kOk);
    CHECK(plain.bind(o, &err) == UdpStatus::kOk);
  }
  const bool on = gro.set_gro(true);
  CHECK_EQ(gro.gro_enabled(), on);
  if (!sender.send(port_of(plain.fd()), 11, 1000, 500, 1)) {
    std::printf("UDP_SEGMENT refused by this kernel: GSO sends cannot be made here, GRO not tested\n");
    TEST_MAIN_END();
  }
  // Without GRO the kernel splits the GSO send itself: 11 datagrams, no coalesced receive.
  std::vector<Datagram> p = receive(plain, 11, 64);
  CHECK_EQ(p.size(), 11u);
  if (p.size() == 11) expect_burst(p, 0, 11, 1000, 500, 1, from);
  CHECK_EQ(plain.counters()[kGroReceives], 0.0);
  if (!on) {
    // Refused: the plain path receives as before.
    std::printf("UDP_GRO refused by this kernel: the socket stays on the plain receive path\n");
    CHECK(sender.send(port_of(gro.fd()), 3, 800, 800, 2));
    CHECK_EQ(receive(gro, 3, 64).size(), 3u);
    TEST_MAIN_END();
  }

  // One burst of 11 through batches of 4 slots: 4 + 4 + 3, in order, one coalesced buffer.
  CHECK(sender.send(port_of(gro.fd()), 11, 1000, 500, 3));
  std::vector<Datagram> g = receive(gro, 11, 4);
  CHECK_EQ(g.size(), 11u);
  if (g.size() == 11) expect_burst(g, 0, 11, 1000, 500, 3, from);
  CHECK_EQ(gro.counters()[kGroReceives], 1.0);
  CHECK_EQ(gro.counters()[kGroSegments], 11.0);
  CHECK_EQ(gro.counters()[kPacketsIn], 11.0);
  CHECK(gro.counters()[kRecvSyscalls] < 11.0);
  CHECK(!gro.has_pending_receive());

  // Three bursts back to back (and a lone datagram), received with full batches.
  CHECK(sender.send(port_of(gro.fd()), 5, 1200, 1200, 10));
  CHECK(sender.send(port_of(gro.fd()), 1, 300, 300, 20));
  CHECK(sender.send(port_of(gro.fd()), 40, 100, 60, 30));
  std::vector<Datagram> m = receive(gro, 46, 64);
  CHECK_EQ(m.size(), 46u);
  if (m.size() == 46) {
    expect_burst(m, 0, 5, 1200, 1200, 10, from);
    expect_burst(m, 5, 1, 300, 300, 20, from);
    expect_burst(m, 6, 40, 100, 60, 30, from);
  }
  CHECK_EQ(gro.counters()[kPacketsIn], 57.0);

  // Segments larger than the caller's slots: dropped and counted, the socket goes on.
  const double truncated = gro.counters()[kDropTruncated];
  CHECK(sender.send(port_of(gro.fd()), 4, 1000, 1000, 40));
  CHECK(receive(gro, 4, 64, 512).empty());
  CHECK_EQ(gro.counters()[kDropTruncated], truncated + 4);
  CHECK(sender.send(port_of(gro.fd()), 2, 200, 200, 50));
  std::vector<Datagram> after = receive(gro, 2, 64);
  CHECK_EQ(after.size(), 2u);
  if (after.size() == 2) expect_burst(after, 0, 2, 200, 200, 50, from);

  // An empty datagram is delivered as one (the hostile-input counters count it like any other).
  {
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    dst.sin_port = htons(port_of(gro.fd()));
    CHECK(::sendto(sender.fd, "", 0, 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst) == 0);
    std::vector<Datagram> empty = receive(gro, 1, 64);
    CHECK_EQ(empty.size(), 1u);
    if (!empty.empty()) CHECK_EQ(empty[0].data.size(), 0u);
  }

  // A shared port's burst: 100 datagrams from 50 sources, which never coalesce. One call fills the
  // whole batch of 64 (from several recvmmsg calls of kMessages buffers; issue 14: one call used to
  // stop at kMessages), the next brings the 36 left, in arrival order, and the socket is then empty.
  {
    std::vector<GsoSender> sources(50);
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    dst.sin_port = htons(port_of(gro.fd()));
    for (int i = 0; i < 100; ++i) {
      const uint8_t byte = static_cast<uint8_t>(i);
      CHECK(::sendto(sources[i % 50].fd, &byte, 1, 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst) == 1);
    }
    pollfd p{gro.fd(), POLLIN, 0};
    CHECK(::poll(&p, 1, 1000) == 1);
    RecvPool pool;
    UdpRecvTarget t{pool.buffer.data(), RecvPool::kSlot, 64, pool.lengths, pool.addresses, pool.ports, pool.families};
    CHECK_EQ(gro.recv_batch(t), 64);
    bool ordered = true;
    for (int i = 0; i < 64; ++i) ordered = ordered && pool.lengths[i] == 1 && pool.buffer[i * RecvPool::kSlot] == i && pool.ports[i] == port_of(sources[i % 50].fd);
    CHECK(ordered);
    CHECK_EQ(gro.recv_batch(t), 36);
    for (int i = 0; i < 36; ++i) ordered = ordered && pool.buffer[i * RecvPool::kSlot] == 64 + i;
    CHECK(ordered);
    CHECK_EQ(gro.recv_batch(t), 0);
  }

  // Turning GRO off returns to the plain path.
  CHECK(!gro.set_gro(false));
  CHECK(!gro.gro_enabled());
  TEST_MAIN_END();
}
