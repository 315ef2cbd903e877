// A receive batch laid out as UdpSocket::recv_batch leaves it (slots, lengths, IPv4 sources),
// filled by hand for the native tests of the session table, the plain filter and the engine, and the
// engine benchmarks (bench/forward).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "native/udp/udp_session_table.hpp"
#include "native/udp/udp_socket.hpp"

namespace pwt {

struct TestRecvBatch {
  static constexpr size_t kSlot = 2048;
  std::vector<uint8_t> buffer = std::vector<uint8_t>(UdpSocket::kMaxBatch * kSlot);
  uint32_t lengths[UdpSocket::kMaxBatch] = {};
  uint8_t addresses[UdpSocket::kMaxBatch * 16] = {};
  uint16_t ports[UdpSocket::kMaxBatch] = {};
  uint8_t families[UdpSocket::kMaxBatch] = {};
  uint8_t status[UdpSocket::kMaxBatch] = {};
  int n = 0;

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

  /** Appends a datagram from 127.0.0.`host`:`port`, not routed yet. */
  void add(const std::vector<uint8_t>& bytes, uint8_t host = 1, uint16_t port = 5000) {
    if (!bytes.empty()) std::memcpy(buffer.data() + static_cast<size_t>(n) * kSlot, bytes.data(), bytes.size());
    lengths[n] = static_cast<uint32_t>(bytes.size());
    const uint8_t ip[4] = {127, 0, 0, host};
    std::memcpy(addresses + n * 16, ip, 4);
    ports[n] = port;
    families[n] = 4;
    status[n] = kRecvNotRouted;
    ++n;
  }
};

}  // namespace pwt
