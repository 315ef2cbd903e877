// pwt::UdpSocket core over loopback: bind errors, batched send/receive, truncation, GSO grouping.
#include <poll.h>

#include <string>
#include <vector>

#include "native/udp/udp_socket.hpp"
#include "test/native/check.hpp"

using namespace pwt;

namespace {

struct RecvPool {
  static constexpr size_t kSlot = 2048;
  std::vector<uint8_t> buffer = std::vector<uint8_t>(kSlot * UdpSocket::kMaxBatch);
  uint32_t lengths[UdpSocket::kMaxBatch];
  uint8_t addresses[UdpSocket::kMaxBatch * 16];
  uint16_t ports[UdpSocket::kMaxBatch];
  uint8_t families[UdpSocket::kMaxBatch];
  UdpRecvTarget target(size_t slot = kSlot) {
    return UdpRecvTarget{buffer.data(), slot, buffer.size() / slot, lengths, addresses, ports, families};
  }
};

// Receives until `want` datagrams arrived or 2 s passed; returns what arrived.
std::vector<std::vector<uint8_t>> receive(UdpSocket& s, size_t want, RecvPool& pool, size_t slot = RecvPool::kSlot) {
  std::vector<std::vector<uint8_t>> out;
  for (int spins = 0; spins < 200 && out.size() < want; ++spins) {
    pollfd p{s.fd(), POLLIN, 0};
    ::poll(&p, 1, 10);
    UdpRecvTarget t = pool.target(slot);
    int n = s.recv_batch(t);
    for (int i = 0; i < n; ++i) {
      const uint8_t* d = pool.buffer.data() + i * slot;
      out.emplace_back(d, d + pool.lengths[i]);
    }
  }
  return out;
}

uint16_t port_of(const UdpSocket& s) {
  std::string ip;
  uint16_t port = 0;
  int family = 0;
  CHECK(s.local_address(&ip, &port, &family));
  CHECK(ip == "127.0.0.1");
  CHECK_EQ(family, 4);
  return port;
}

}  // namespace

int main() {
  // Address parsing.
  UdpAddress a;
  CHECK(udp_make_address(AF_INET, "127.0.0.1", 5, &a));
  CHECK_EQ(a.length, sizeof(sockaddr_in));
  CHECK(!udp_make_address(AF_INET, "999.1.1.1", 5, &a));
  CHECK(!udp_make_address(AF_INET, "::1", 5, &a));
  CHECK(udp_make_address(AF_INET6, "::1", 5, &a));
  CHECK(udp_make_address(AF_INET6, "10.0.0.1", 5, &a));  // mapped
  CHECK_EQ(a.length, sizeof(sockaddr_in6));
  CHECK(!udp_make_address(12345, "::1", 5, &a));

  UdpSocket rx;
  UdpBindOptions o;
  o.address = "127.0.0.1";
  o.recv_buffer = 1 << 20;
  int err = 0;
  CHECK(rx.bind(o, &err) == UdpStatus::kOk);
  const uint16_t rx_port = port_of(rx);

  // Address in use, invalid address.
  {
    UdpSocket dup;
    UdpBindOptions d = o;
    d.port = rx_port;
    CHECK(dup.bind(d, &err) == UdpStatus::kAddressInUse);
    CHECK(!dup.is_open());
    UdpSocket bad;
    UdpBindOptions b = o;
    b.address = "not-an-ip";
    CHECK(bad.bind(b, &err) == UdpStatus::kInvalidAddress);
  }

  // A batch of 150 datagrams of mixed sizes arrives intact and in order.
  UdpSocket tx;
  CHECK(tx.bind(o, &err) == UdpStatus::kOk);
  UdpAddress dest;
  CHECK(udp_make_address(AF_INET, "127.0.0.1", rx_port, &dest));
  std::vector<std::vector<uint8_t>> payloads;
  std::vector<UdpSendItem> items;
  for (int i = 0; i < 150; ++i) payloads.emplace_back(10 + (i * 7) % 400, static_cast<uint8_t>(i));
  for (auto& p : payloads)
    items.push_back({p.data(), static_cast<uint32_t>(p.size()), reinterpret_cast<const sockaddr*>(&dest.storage), dest.length});
  CHECK_EQ(tx.send_batch(items.data(), items.size()), items.size());
  CHECK_EQ(tx.counters()[kSendSyscalls], 1.0);  // up to kMaxSendBatch (256) per sendmmsg
  RecvPool pool;
  auto got = receive(rx, payloads.size(), pool);
  CHECK_EQ(got.size(), payloads.size());
  for (size_t i = 0; i < got.size() && i < payloads.size(); ++i) CHECK(got[i] == payloads[i]);
  CHECK_EQ(pool.families[0], 4);
  CHECK_EQ(pool.ports[0], port_of(tx));

  // GSO: 100 equal datagrams + a shorter tail to one destination arrive as 101 datagrams.
  tx.set_gso(true);
  payloads.clear();
  items.clear();
  for (int i = 0; i < 101; ++i) payloads.emplace_back(i == 100 ? 100 : 500, static_cast<uint8_t>(i));
  for (auto& p : payloads)
    items.push_back({p.data(), static_cast<uint32_t>(p.size()), reinterpret_cast<const sockaddr*>(&dest.storage), dest.length});
  const double gso_before = tx.counters()[kGsoSends];
  CHECK_EQ(tx.send_batch(items.data(), items.size()), items.size());
  got = receive(rx, payloads.size(), pool);
  CHECK_EQ(got.size(), payloads.size());
  for (size_t i = 0; i < got.size() && i < payloads.size(); ++i) CHECK(got[i] == payloads[i]);
  if (tx.gso_enabled()) CHECK(tx.counters()[kGsoSends] > gso_before);

  // Truncation: a datagram larger than the slot is dropped and counted, the next one survives.
  std::vector<uint8_t> big(600, 1), small(10, 2);
  UdpSendItem two[2] = {{big.data(), 600, reinterpret_cast<const sockaddr*>(&dest.storage), dest.length},
                        {small.data(), 10, reinterpret_cast<const sockaddr*>(&dest.storage), dest.length}};
  CHECK_EQ(tx.send_batch(two, 2), 2u);
  got = receive(rx, 1, pool, 256);
  CHECK_EQ(got.size(), 1u);
  if (!got.empty()) CHECK(got[0] == small);
  CHECK_EQ(rx.counters()[kDropTruncated], 1.0);

  // An oversized datagram is dropped with a reason, not thrown, and the rest still goes.
  std::vector<uint8_t> huge(70000, 3);
  UdpSendItem mixed[2] = {{huge.data(), 70000, reinterpret_cast<const sockaddr*>(&dest.storage), dest.length},
                          {small.data(), 10, reinterpret_cast<const sockaddr*>(&dest.storage), dest.length}};
  tx.set_gso(false);
  CHECK_EQ(tx.send_batch(mixed, 2), 2u);
  CHECK_EQ(tx.counters()[kDropSendTooBig], 1.0);
  got = receive(rx, 1, pool);
  CHECK_EQ(got.size(), 1u);

  // Buffer sizes read back what the kernel granted: a 256 KiB request gets at least the default
  // (the kernel may cap it at rmem_max, never below the default), an unbound socket reports none.
  {
    UdpSocket plain;
    UdpBindOptions o;
    o.address = "127.0.0.1";
    int err = 0;
    CHECK(plain.bind(o, &err) == UdpStatus::kOk);
    int default_recv = 0, default_send = 0;
    CHECK(plain.buffer_sizes(&default_recv, &default_send));
    CHECK(default_recv > 0 && default_send > 0);
    UdpSocket big;
    o.recv_buffer = 256 * 1024;
    CHECK(big.bind(o, &err) == UdpStatus::kOk);
    int big_recv = 0, big_send = 0;
    CHECK(big.buffer_sizes(&big_recv, &big_send));
    CHECK(big_recv >= default_recv);
    UdpSocket unbound;
    CHECK(!unbound.buffer_sizes(&big_recv, &big_send));
  }

  // Closed sockets refuse work without crashing.
  rx.close();
  CHECK(!rx.is_open());
  CHECK_EQ(rx.recv_batch(pool.target()), -1);
  int r = 0, w = 0;
  CHECK(!rx.buffer_sizes(&r, &w));
  TEST_MAIN_END();
}
