// pwt::ReuseportSteeringTable, the STUN USERNAME peek and the hand-off channel (docs/scaling.md "One
// port across workers"): claims, lookups and releases by address and ufrag, a full table, owners
// claiming and readers looking up from several threads at once, and datagrams passed through a real
// socketpair with their source intact (run under ASan/UBSan too).
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "native/udp/udp_reuseport_handoff.hpp"
#include "native/udp/udp_reuseport_steering.hpp"
#include "native/udp/udp_socket.hpp"
#include "test/native/check.hpp"

using namespace pwt;

namespace {

UdpRemoteKey v4(uint32_t n, uint16_t port) {
  UdpRemoteKey k;
  k.family = 4;
  k.port = port;
  k.addr[0] = 10;
  k.addr[1] = static_cast<uint8_t>(n >> 16);
  k.addr[2] = static_cast<uint8_t>(n >> 8);
  k.addr[3] = static_cast<uint8_t>(n);
  return k;
}

UdpRemoteKey v6(uint32_t n, uint16_t port) {
  UdpRemoteKey k;
  k.family = 6;
  k.port = port;
  k.addr[0] = 0x20;
  k.addr[1] = 0x01;
  k.addr[15] = static_cast<uint8_t>(n);
  return k;
}

const uint8_t* u(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

void test_claims() {
  std::vector<uint32_t> mem(8 * 64, 0);
  ReuseportSteeringTable t(mem.data(), mem.size());
  CHECK_EQ(t.capacity(), 64u);
  CHECK_EQ(t.owner_of_address(v4(1, 5000)), ReuseportSteeringTable::kNoOwner);
  CHECK(t.claim_address(v4(1, 5000), 1));
  CHECK(t.claim_address(v6(1, 5000), 2));
  CHECK(t.claim_ufrag(u("abcd"), 4, 3));
  CHECK_EQ(t.owner_of_address(v4(1, 5000)), 1);
  CHECK_EQ(t.owner_of_address(v4(1, 5001)), ReuseportSteeringTable::kNoOwner);  // another port
  CHECK_EQ(t.owner_of_address(v6(1, 5000)), 2);
  CHECK_EQ(t.owner_of_ufrag(u("abcd"), 4), 3);
  CHECK_EQ(t.owner_of_ufrag(u("abce"), 4), ReuseportSteeringTable::kNoOwner);
  // A new claim of the same key moves it; a release by a worker that does not own it changes nothing.
  CHECK(t.claim_address(v4(1, 5000), 4));
  CHECK_EQ(t.owner_of_address(v4(1, 5000)), 4);
  t.release_address(v4(1, 5000), 1);
  CHECK_EQ(t.owner_of_address(v4(1, 5000)), 4);
  t.release_address(v4(1, 5000), 4);
  CHECK_EQ(t.owner_of_address(v4(1, 5000)), ReuseportSteeringTable::kNoOwner);
  t.release_ufrag(u("abcd"), 4, 3);
  CHECK_EQ(t.owner_of_ufrag(u("abcd"), 4), ReuseportSteeringTable::kNoOwner);
  // Fill it: 63 more fit (one v6 entry is live), the next is refused; released slots are reused.
  int claimed = 0;
  for (uint32_t i = 0; i < 100; ++i) claimed += t.claim_address(v4(100 + i, 7000), 5) ? 1 : 0;
  CHECK_EQ(claimed, 63);
  CHECK(!t.claim_ufrag(u("full"), 4, 5));
  CHECK_EQ(t.release_owner(5), 63u);
  CHECK_EQ(t.owner_of_address(v6(1, 5000)), 2);  // other owners' entries stay
  CHECK(t.claim_ufrag(u("full"), 4, 6));
  CHECK_EQ(t.owner_of_ufrag(u("full"), 4), 6);
  // Too little memory makes an invalid table that refuses everything.
  uint32_t tiny[8] = {};
  ReuseportSteeringTable none(tiny, 8);
  CHECK(!none.valid());
  CHECK(!none.claim_address(v4(1, 1), 0));
  CHECK_EQ(none.owner_of_address(v4(1, 1)), ReuseportSteeringTable::kNoOwner);
}

void test_concurrent() {
  // Two owners claim and release while two readers look up: every lookup sees no owner or the right one.
  std::vector<uint32_t> mem(8 * 4096, 0);
  ReuseportSteeringTable t(mem.data(), mem.size());
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0};
  auto owner = [&](uint32_t id) {
    for (int round = 0; round < 20; ++round) {
      for (uint32_t i = 0; i < 500; ++i) CHECK(t.claim_address(v4(id * 100000 + i, 9000), id));
      if (round < 19)
        for (uint32_t i = 0; i < 500; i += 2) t.release_address(v4(id * 100000 + i, 9000), id);
    }
  };
  auto reader = [&]() {
    while (!stop.load()) {
      for (uint32_t id = 1; id <= 2; ++id)
        for (uint32_t i = 0; i < 500; i += 7) {
          const int32_t o = t.owner_of_address(v4(id * 100000 + i, 9000));
          if (o != ReuseportSteeringTable::kNoOwner && o != static_cast<int32_t>(id)) wrong.fetch_add(1);
        }
    }
  };
  std::thread r1(reader), r2(reader), w1(owner, 1u), w2(owner, 2u);
  w1.join();
  w2.join();
  stop.store(true);
  r1.join();
  r2.join();
  CHECK_EQ(wrong.load(), 0);
  for (uint32_t id = 1; id <= 2; ++id)
    for (uint32_t i = 0; i < 500; ++i) CHECK_EQ(t.owner_of_address(v4(id * 100000 + i, 9000)), static_cast<int32_t>(id));
}

std::vector<uint8_t> binding_request(const std::string& username, bool truncate_attr) {
  std::vector<uint8_t> m;
  m.reserve(64 + username.size());
  // Header, then a PRIORITY attribute, then USERNAME (padded to 4).
  for (uint8_t b : {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42}) m.push_back(b);
  for (int i = 0; i < 12; ++i) m.push_back(static_cast<uint8_t>(i));
  for (uint8_t b : {0x00, 0x24, 0x00, 0x04, 1, 2, 3, 4}) m.push_back(b);
  const size_t len = username.size() + (truncate_attr ? 40 : 0);
  for (uint8_t b : {uint8_t{0x00}, uint8_t{0x06}, static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len)}) m.push_back(b);
  for (char c : username) m.push_back(static_cast<uint8_t>(c));
  while (m.size() % 4) m.push_back(0);
  const size_t body = m.size() - 20;
  m[2] = static_cast<uint8_t>(body >> 8), m[3] = static_cast<uint8_t>(body);
  return m;
}

void test_stun_peek() {
  const uint8_t* uf = nullptr;
  size_t n = 0;
  std::vector<uint8_t> ok = binding_request("w0ab:remote1", false);
  CHECK(stun_binding_request_ufrag(ok.data(), ok.size(), &uf, &n));
  CHECK_EQ(n, 4u);
  CHECK_MEM(uf, "w0ab", 4);
  std::vector<uint8_t> bad = binding_request("w0ab:remote1", true);
  CHECK(!stun_binding_request_ufrag(bad.data(), bad.size(), &uf, &n));   // attribute past the end
  CHECK(!stun_binding_request_ufrag(ok.data(), ok.size() - 4, &uf, &n));  // message length past the datagram
  for (size_t cut = 0; cut < ok.size(); ++cut) stun_binding_request_ufrag(ok.data(), cut, &uf, &n);  // no read past `cut` (ASan)
  std::vector<uint8_t> response = ok;
  response[0] = 0x01;  // a Binding success response
  CHECK(!stun_binding_request_ufrag(response.data(), response.size(), &uf, &n));
  std::vector<uint8_t> empty = binding_request(":remote", false);
  CHECK(!stun_binding_request_ufrag(empty.data(), empty.size(), &uf, &n));
  const uint8_t rtp[24] = {0x80, 0x60};
  CHECK(!stun_binding_request_ufrag(rtp, sizeof(rtp), &uf, &n));
}

struct Batch {
  static constexpr size_t kSlot = 256;
  std::vector<uint8_t> buffer = std::vector<uint8_t>(kSlot * UdpSocket::kMaxBatch);
  uint32_t lengths[UdpSocket::kMaxBatch] = {};
  uint8_t addresses[UdpSocket::kMaxBatch * 16] = {};
  uint16_t ports[UdpSocket::kMaxBatch] = {};
  uint8_t families[UdpSocket::kMaxBatch] = {};
  UdpRecvTarget target() {
    UdpRecvTarget t;
    t.buffer = buffer.data();
    t.slot_size = kSlot;
    t.capacity = UdpSocket::kMaxBatch;
    t.lengths = lengths;
    t.addresses = addresses;
    t.ports = ports;
    t.families = families;
    return t;
  }
};

void test_channel() {
  int fds[2];
  CHECK_EQ(handoff_channel_create(fds, 64 * 1024), 0);
  Batch in, out;
  UdpRecvTarget tin = in.target();
  for (int i = 0; i < 10; ++i) {
    in.lengths[i] = static_cast<uint32_t>(20 + i);
    std::memset(in.buffer.data() + i * Batch::kSlot, 'a' + i, in.lengths[i]);
    in.families[i] = i % 2 ? 6 : 4;
    in.ports[i] = static_cast<uint16_t>(40000 + i);
    in.addresses[i * 16] = static_cast<uint8_t>(i + 1);
  }
  double counters[kHandoffCounterCount] = {};
  HandoffOutbox box;
  for (int i = 0; i < 10; i += 2) box.add(fds[1], 7, tin, i);  // even slots go to the owner
  box.flush(counters);
  CHECK(box.empty());
  CHECK_EQ(counters[kHandoffSent], 5.0);
  UdpRecvTarget tout = out.target();
  const int n = handoff_recv_batch(fds[0], tout, counters);
  CHECK_EQ(n, 5);
  for (int k = 0; k < n; ++k) {
    const int i = k * 2;
    CHECK_EQ(out.lengths[k], in.lengths[i]);
    CHECK_MEM(out.buffer.data() + k * Batch::kSlot, in.buffer.data() + i * Batch::kSlot, in.lengths[i]);
    CHECK_EQ(out.families[k], in.families[i]);
    CHECK_EQ(out.ports[k], in.ports[i]);
    CHECK_MEM(out.addresses + k * 16, in.addresses + i * 16, 16);
  }
  CHECK_EQ(counters[kHandoffReceived], 5.0);
  CHECK_EQ(handoff_recv_batch(fds[0], tout, counters), 0);  // nothing pending
  // The owner stops reading: sends fail once its queue is full, and are counted, never block.
  for (int r = 0; r < 2000; ++r) {
    box.add(fds[1], 7, tin, 0);
    box.flush(counters);
  }
  CHECK(counters[kHandoffDropped] > 0);
  CHECK_EQ(counters[kHandoffSent] + counters[kHandoffDropped], 2005.0);
  close(fds[0]);
  // The owner gone: dropped and counted.
  const double dropped = counters[kHandoffDropped];
  box.add(fds[1], 7, tin, 0);
  box.flush(counters);
  CHECK_EQ(counters[kHandoffDropped], dropped + 1);
  close(fds[1]);
}

// A free loopback port: an ordinary bind (never a SO_REUSEPORT bind to port 0: docs/scaling.md "Port 0").
uint16_t free_port() {
  UdpSocket s;
  UdpBindOptions o;
  o.address = "127.0.0.1";
  int err = 0;
  CHECK(s.bind(o, &err) == UdpStatus::kOk);
  std::string ip;
  uint16_t port = 0;
  int family = 0;
  CHECK(s.local_address(&ip, &port, &family));
  return port;
}

void bind_loopback(UdpSocket* s, uint16_t port, bool reuse) {
  UdpBindOptions o;
  o.address = "127.0.0.1";
  o.port = port;
  o.reuse_port = reuse;
  int err = 0;
  CHECK(s->bind(o, &err) == UdpStatus::kOk);
}

void send_to(UdpSocket* from, uint16_t port, int count) {
  UdpAddress to;
  CHECK(udp_make_address(AF_INET, "127.0.0.1", port, &to));
  const uint8_t data[8] = {0x80, 0x60, 0, 1, 0, 0, 0, 1};
  for (int i = 0; i < count; ++i) {
    UdpSendItem item{data, sizeof(data), reinterpret_cast<const sockaddr*>(&to.storage), to.length};
    CHECK_EQ(from->send_batch(&item, 1), 1u);
  }
}

// Reads every socket until `total` datagrams arrived (bounded: 10 s); per socket, from which source ports.
std::vector<std::vector<uint16_t>> receive_all(const std::vector<UdpSocket*>& sockets, size_t total) {
  std::vector<std::vector<uint16_t>> got(sockets.size());
  size_t n = 0;
  Batch b;
  UdpRecvTarget t = b.target();
  for (int round = 0; round < 10000 && n < total; ++round) {
    for (size_t s = 0; s < sockets.size(); ++s) {
      const int k = sockets[s]->recv_batch(t);
      for (int i = 0; i < k; ++i) got[s].push_back(b.ports[i]);
      n += k > 0 ? static_cast<size_t>(k) : 0;
    }
    if (n < total) ::poll(nullptr, 0, 1);
  }
  CHECK_EQ(n, total);
  return got;
}

// docs/scaling.md "Connected flow sockets": in a SO_REUSEPORT group, a socket connect()ed to a remote
// gets every datagram of that 4-tuple, forged ones from a second socket bound to the remote's own
// address and port included; the group's unconnected sockets keep sharing every other flow; when the
// connected socket closes, its flow returns to the group.
void test_connected_flow_socket() {
  const uint16_t server = free_port();
  UdpSocket a, b;
  bind_loopback(&a, server, true);
  bind_loopback(&b, server, true);
  const uint16_t remote_port = free_port();
  UdpSocket remote, forger;
  bind_loopback(&remote, remote_port, true);
  bind_loopback(&forger, remote_port, true);  // same address and port: the 4-tuple cannot be told apart
  UdpSocket flow;
  bind_loopback(&flow, server, true);
  UdpAddress to;
  CHECK(udp_make_address(AF_INET, "127.0.0.1", remote_port, &to));
  int err = 0;
  CHECK(flow.connect(to, &err) == UdpStatus::kOk);
  std::vector<std::unique_ptr<UdpSocket>> others;
  for (int i = 0; i < 16; ++i) {
    others.push_back(std::make_unique<UdpSocket>());
    bind_loopback(others.back().get(), 0, false);
  }
  send_to(&remote, server, 40);
  send_to(&forger, server, 40);
  for (auto& o : others) send_to(o.get(), server, 2);
  auto got = receive_all({&a, &b, &flow}, 80 + 32);
  CHECK_EQ(got[2].size(), 80u);  // the established flow, forged datagrams included, only on its socket
  for (uint16_t p : got[2]) CHECK_EQ(p, remote_port);
  for (int s = 0; s < 2; ++s) {
    for (uint16_t p : got[static_cast<size_t>(s)]) CHECK(p != remote_port);
  }
  CHECK_EQ(got[0].size() + got[1].size(), 32u);
  // Closed: the flow is hashed to one of the unconnected sockets again, none is lost.
  flow.close();
  send_to(&remote, server, 10);
  got = receive_all({&a, &b}, 10);
  CHECK_EQ(got[0].size() + got[1].size(), 10u);
}

}  // namespace

int main() {
  test_claims();
  test_concurrent();
  test_stun_peek();
  test_channel();
  test_connected_flow_socket();
  TEST_MAIN_END();
}
