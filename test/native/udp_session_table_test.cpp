// pwt::UdpSessionTable over real loopback sockets: many senders (one SRTP session each) to ONE
// receiving socket, unprotected in place inside the receive batch by the route of each source;
// strangers, STUN/DTLS bytes and forged SRTP from a routed address; route removal and id reuse;
// IPv4-mapped keys; a full table (run under ASan/UBSan too).
#include <poll.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "native/srtp/srtp_session.hpp"
#include "native/udp/udp_session_table.hpp"
#include "native/udp/udp_socket.hpp"
#include "test/native/check.hpp"
#include "test/native/packet_builders.hpp"

using namespace pwt;
using pwt_test::Protect;

namespace {

constexpr size_t kSlot = 2048;

struct Keyed : pwt_test::SrtpPair {  // tx protects at one end, rx unprotects at the other
  explicit Keyed(int seed) : SrtpPair(SrtpProfile::kAeadAes128Gcm, seed, {7, 13, 3, 11}, true) {}
};

std::vector<uint8_t> Rtp(uint16_t seq, uint32_t ssrc, uint8_t fill) {
  return pwt_test::RtpPacket(111, seq, 0, ssrc, 40, fill);
}

struct Pool {
  std::vector<uint8_t> buffer = std::vector<uint8_t>(kSlot * UdpSocket::kMaxBatch);
  uint32_t lengths[UdpSocket::kMaxBatch];
  uint8_t addresses[UdpSocket::kMaxBatch * 16];
  uint16_t ports[UdpSocket::kMaxBatch];
  uint8_t families[UdpSocket::kMaxBatch];
  uint8_t status[UdpSocket::kMaxBatch];
  UdpRecvTarget target() { return UdpRecvTarget{buffer.data(), kSlot, UdpSocket::kMaxBatch, lengths, addresses, ports, families}; }
};

struct Received {
  uint16_t port;
  uint8_t status;
  std::vector<uint8_t> bytes;
};

// Receives (and routes) until `want` datagrams arrived or 2 s passed.
std::vector<Received> Receive(UdpSocket& s, UdpSessionTable& table, size_t want, Pool& pool) {
  std::vector<Received> out;
  for (int spins = 0; spins < 200 && out.size() < want; ++spins) {
    pollfd p{s.fd(), POLLIN, 0};
    ::poll(&p, 1, 10);
    UdpRecvTarget t = pool.target();
    const int n = s.recv_batch(t);
    table.unprotect_batch(t, n, pool.status, s.counters());
    for (int i = 0; i < n; ++i) {
      const uint8_t* d = pool.buffer.data() + static_cast<size_t>(i) * kSlot;
      out.push_back(Received{pool.ports[i], pool.status[i], std::vector<uint8_t>(d, d + pool.lengths[i])});
    }
  }
  return out;
}

uint16_t PortOf(const UdpSocket& s) {
  std::string ip;
  uint16_t port = 0;
  int family = 0;
  CHECK(s.local_address(&ip, &port, &family));
  return port;
}

void SendOne(UdpSocket& from, const std::vector<uint8_t>& d, const UdpAddress& to) {
  UdpSendItem item{d.data(), static_cast<uint32_t>(d.size()), reinterpret_cast<const sockaddr*>(&to.storage), to.length};
  CHECK_EQ(from.send_batch(&item, 1), 1u);
}

UdpRemoteKey KeyOf(uint16_t port) {
  UdpAddress a;
  CHECK(udp_make_address(AF_INET, "127.0.0.1", port, &a));
  return udp_remote_key(a.storage);
}

}  // namespace

int main() {
  // Keys: IPv4-mapped IPv6 equals IPv4; ports and families distinguish.
  {
    UdpAddress v4, mapped, v6, other_port;
    CHECK(udp_make_address(AF_INET, "10.1.2.3", 4000, &v4));
    CHECK(udp_make_address(AF_INET6, "10.1.2.3", 4000, &mapped));
    CHECK(udp_make_address(AF_INET6, "2001:db8::1", 4000, &v6));
    CHECK(udp_make_address(AF_INET, "10.1.2.3", 4001, &other_port));
    CHECK(udp_remote_key(v4.storage) == udp_remote_key(mapped.storage));
    CHECK(UdpRemoteKeyHash{}(udp_remote_key(v4.storage)) == UdpRemoteKeyHash{}(udp_remote_key(mapped.storage)));
    CHECK(!(udp_remote_key(v4.storage) == udp_remote_key(v6.storage)));
    CHECK(!(udp_remote_key(v4.storage) == udp_remote_key(other_port.storage)));
    const uint8_t slot_addr[16] = {10, 1, 2, 3};
    CHECK(udp_remote_key(slot_addr, 4000, 4) == udp_remote_key(v4.storage));
  }

  // Table bookkeeping: null sessions refused, ids reused, newer routes win for receiving.
  {
    UdpSessionTable t;
    Keyed a(1), b(2);
    CHECK_EQ(t.add(KeyOf(1000), nullptr), 0u);
    const uint32_t ia = t.add(KeyOf(1000), &a.rx);
    const uint32_t ib = t.add(KeyOf(1001), &b.rx);
    CHECK(ia != 0 && ib != 0 && ia != ib);
    CHECK_EQ(t.size(), 2u);
    CHECK(t.find(KeyOf(1000)) == &a.rx);
    CHECK(t.session(ib) == &b.rx);
    CHECK(t.remove(ia));
    CHECK(!t.remove(ia));
    CHECK(!t.remove(0));
    CHECK(!t.remove(9999));
    CHECK(t.find(KeyOf(1000)) == nullptr);
    CHECK(t.session(ia) == nullptr);
    const uint32_t again = t.add(KeyOf(1002), &a.rx);
    CHECK_EQ(again, ia);  // the freed id is reused
    const uint32_t newer = t.add(KeyOf(1001), &a.rx);
    CHECK(t.find(KeyOf(1001)) == &a.rx);
    CHECK(t.session(ib) == &b.rx);  // the older route still protects sends
    CHECK(t.remove(ib));            // and removing it keeps the newer receive route
    CHECK(t.find(KeyOf(1001)) == &a.rx);
    CHECK(t.remove(newer));
    t.clear();
    CHECK(t.empty());
  }

  // A full table refuses the next route.
  {
    UdpSessionTable t;
    Keyed a(3);
    uint32_t last = 0;
    for (uint32_t i = 0; i < UdpSessionTable::kMaxRoutes; ++i) {
      UdpRemoteKey k;
      k.family = 6;
      k.port = static_cast<uint16_t>(i);
      k.addr[0] = static_cast<uint8_t>(i >> 8);
      last = t.add(k, &a.rx);
    }
    CHECK_EQ(last, UdpSessionTable::kMaxRoutes);
    CHECK_EQ(t.add(KeyOf(7), &a.rx), 0u);
    CHECK(t.remove(17));
    CHECK_EQ(t.add(KeyOf(7), &a.rx), 17u);
  }

  // Many connections on one port: every sender has its own session; the receiving socket's table
  // unprotects each datagram with the session of its source, inside the batch.
  UdpSocket rx;
  UdpBindOptions o;
  o.address = "127.0.0.1";
  o.recv_buffer = 4 << 20;
  int err = 0;
  CHECK(rx.bind(o, &err) == UdpStatus::kOk);
  UdpAddress rx_addr;
  CHECK(udp_make_address(AF_INET, "127.0.0.1", PortOf(rx), &rx_addr));
  constexpr int kConnections = 200;
  std::vector<std::unique_ptr<UdpSocket>> senders;
  std::vector<std::unique_ptr<Keyed>> keys;
  UdpSessionTable table;
  for (int i = 0; i < kConnections; ++i) {
    senders.push_back(std::make_unique<UdpSocket>());
    UdpBindOptions so;
    so.address = "127.0.0.1";
    CHECK(senders.back()->bind(so, &err) == UdpStatus::kOk);
    keys.push_back(std::make_unique<Keyed>(i + 10));
    CHECK(table.add(KeyOf(PortOf(*senders.back())), &keys.back()->rx) != 0);
  }
  CHECK_EQ(table.size(), static_cast<size_t>(kConnections));
  Pool pool;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kConnections; ++i) {
      SendOne(*senders[i], Protect(keys[i]->tx, Rtp(static_cast<uint16_t>(round), 1000 + i, static_cast<uint8_t>(i))), rx_addr);
    }
  }
  auto got = Receive(rx, table, 2 * kConnections, pool);
  CHECK_EQ(got.size(), static_cast<size_t>(2 * kConnections));
  int clear = 0;
  for (const Received& r : got) {
    CHECK_EQ(r.status, kRecvClear);
    int sender = -1;
    for (int i = 0; i < kConnections; ++i)
      if (PortOf(*senders[i]) == r.port) sender = i;
    CHECK(sender >= 0);
    if (sender < 0 || r.status != kRecvClear) continue;
    CHECK_EQ(r.bytes.size(), 52u);
    CHECK_EQ(r.bytes[11], static_cast<uint8_t>((1000 + sender) & 0xff));
    CHECK_EQ(r.bytes[12], static_cast<uint8_t>(sender));
    ++clear;
  }
  CHECK_EQ(clear, 2 * kConnections);
  CHECK_EQ(rx.counters()[kSrtpUnprotected], 2.0 * kConnections);

  // Hostile: a stranger's SRTP-looking bytes are not routed; STUN/DTLS from a routed source are
  // left for the layers above; a forged and a replayed packet from a routed source are refused.
  {
    UdpSocket stranger;
    UdpBindOptions so;
    so.address = "127.0.0.1";
    CHECK(stranger.bind(so, &err) == UdpStatus::kOk);
    Keyed other(99);
    SendOne(stranger, Protect(other.tx, Rtp(1, 5, 5)), rx_addr);
    std::vector<uint8_t> stun(20, 0);
    stun[0] = 0x00;
    stun[1] = 0x01;
    SendOne(*senders[0], stun, rx_addr);
    std::vector<uint8_t> dtls(30, 0x17);
    SendOne(*senders[0], dtls, rx_addr);
    std::vector<uint8_t> forged = Protect(keys[1]->tx, Rtp(7, 1001, 1));
    forged.back() ^= 1;
    SendOne(*senders[1], forged, rx_addr);
    const std::vector<uint8_t> genuine = Protect(keys[2]->tx, Rtp(8, 1002, 2));
    SendOne(*senders[2], genuine, rx_addr);
    SendOne(*senders[2], genuine, rx_addr);  // replayed
    std::vector<uint8_t> truncated(genuine.begin(), genuine.begin() + 14);
    SendOne(*senders[2], truncated, rx_addr);
    auto h = Receive(rx, table, 7, pool);
    CHECK_EQ(h.size(), 7u);
    if (h.size() == 7) {
      CHECK_EQ(h[0].status, kRecvNotRouted);
      CHECK_EQ(h[1].status, kRecvNotRouted);
      CHECK(h[1].bytes == stun);
      CHECK_EQ(h[2].status, kRecvNotRouted);
      CHECK_EQ(h[3].status, kRecvDropBase + static_cast<uint8_t>(SrtpStatus::kAuthFailed));
      CHECK_EQ(h[4].status, kRecvClear);
      CHECK_EQ(h[5].status, kRecvDropBase + static_cast<uint8_t>(SrtpStatus::kReplayed));
      CHECK(h[6].status >= kRecvDropBase);
    }
    CHECK_EQ(rx.counters()[kSrtpRecvDropped], 3.0);
  }

  // A removed route no longer unprotects.
  {
    UdpSessionTable one;
    const uint32_t id = one.add(KeyOf(PortOf(*senders[3])), &keys[3]->rx);
    CHECK(one.remove(id));
    SendOne(*senders[3], Protect(keys[3]->tx, Rtp(9, 1003, 3)), rx_addr);
    auto r = Receive(rx, one, 1, pool);
    CHECK_EQ(r.size(), 1u);
    if (!r.empty()) CHECK_EQ(r[0].status, kRecvNotRouted);
  }
  TEST_MAIN_END();
}
