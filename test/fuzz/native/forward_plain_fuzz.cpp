// libFuzzer target: a plain transport's receive path (native/forward/forward_plain_source.hpp, then
// ForwardEngine::process_batch with the filter as the clear source; docs/scaling.md). Input: 1 control
// byte (bit 0: comedia instead of connect, bit 1: the producer's cache on), then datagrams, each as
// 1 source byte (0: the remote, else a stranger's port) + 2-byte length + bytes, up to a batch.
// Checks: only datagrams from the remote are admitted (never a stranger's, never one whose first
// byte is outside RFC 7983's RTP/RTCP range); each slot is judged exactly once (admitted, rejected or
// left to JavaScript); every packet a plain consumer is sent carries the consumer's SSRC and the
// length of an admitted datagram, no more packets than were admitted, nothing through the caller's
// sink; only admitted slots are marked forwarded; a NACK over the cache never crashes.
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "native/forward/forward_engine.hpp"
#include "native/forward/forward_plain_source.hpp"
#include "native/srtp/srtp_packet.hpp"

namespace {

constexpr size_t kSlot = 2048;
constexpr uint32_t kSsrc = 0x0BADF00D;

struct Capture : pwt::ForwardSink {
  std::vector<std::vector<uint8_t>> sent;
  void send(const pwt::UdpSendItem* items, size_t count) override {
    for (size_t i = 0; i < count; ++i) sent.emplace_back(items[i].data, items[i].data + items[i].length);
  }
};

sockaddr_in Address(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(0x7f000001);
  return a;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool comedia = data[0] & 1;
  const bool cache = data[0] & 2;
  pwt::ForwardPlainSource source;
  if (comedia) {
    source.set_comedia(true);
  } else {
    const sockaddr_in remote = Address(4000);
    if (!source.set_remote(reinterpret_cast<const sockaddr*>(&remote), sizeof remote)) std::abort();
  }
  std::vector<uint8_t> buffer(pwt::UdpSocket::kMaxBatch * kSlot);
  uint32_t lengths[pwt::UdpSocket::kMaxBatch] = {};
  uint8_t addresses[pwt::UdpSocket::kMaxBatch * 16] = {};
  uint16_t ports[pwt::UdpSocket::kMaxBatch] = {};
  uint8_t families[pwt::UdpSocket::kMaxBatch] = {};
  uint8_t status[pwt::UdpSocket::kMaxBatch] = {};
  int n = 0;
  size_t at = 1;
  while (at + 3 <= size && n < static_cast<int>(pwt::UdpSocket::kMaxBatch)) {
    const uint8_t from = data[at];
    size_t len = (static_cast<size_t>(data[at + 1]) << 8) | data[at + 2];
    at += 3;
    if (len > size - at) len = size - at;
    if (len > kSlot) len = kSlot;
    std::memcpy(buffer.data() + static_cast<size_t>(n) * kSlot, data + at, len);
    at += len;
    lengths[n] = static_cast<uint32_t>(len);
    const uint8_t ip[4] = {127, 0, 0, 1};
    std::memcpy(addresses + n * 16, ip, 4);
    ports[n] = static_cast<uint16_t>(4000 + from);
    families[n] = 4;
    status[n] = pwt::kRecvNotRouted;
    ++n;
  }
  pwt::UdpRecvTarget t;
  t.buffer = buffer.data();
  t.slot_size = kSlot;
  t.capacity = pwt::UdpSocket::kMaxBatch;
  t.lengths = lengths;
  t.addresses = addresses;
  t.ports = ports;
  t.families = families;
  const std::vector<uint8_t> original(buffer);

  source.filter_batch(t, n, status);
  // With comedia the first RTP/RTCP-looking sender becomes the remote; find which port that was.
  int remote_port = comedia ? -1 : 4000;
  for (int i = 0; i < n && remote_port < 0; ++i) {
    const uint8_t* d = original.data() + static_cast<size_t>(i) * kSlot;
    if (lengths[i] >= 8 && d[0] >= 128 && d[0] <= 191) remote_port = ports[i];
  }
  int admitted = 0;
  for (int i = 0; i < n; ++i) {
    const uint8_t* d = original.data() + static_cast<size_t>(i) * kSlot;
    const bool rtp_looking = lengths[i] >= 8 && d[0] >= 128 && d[0] <= 191;
    const bool ok = rtp_looking && ports[i] == remote_port;
    if (ok != (status[i] == pwt::kRecvClear)) std::abort();
    if (!ok && status[i] != pwt::kRecvRejected) std::abort();
    admitted += ok ? 1 : 0;
  }
  const double* c = source.counters();
  if (c[pwt::kPlainAccepted] + c[pwt::kPlainSpoofed] + c[pwt::kPlainNotRtp] != n) std::abort();
  if (c[pwt::kPlainAccepted] != admitted) std::abort();

  pwt::ForwardEngine engine(8);
  const uint32_t producer = engine.add_producer(&source, kSsrc, false, cache ? 16 : 0);
  Capture plain_sink, other;
  pwt::ForwardPlainSource sink_remote;
  const sockaddr_in sink = Address(9000);
  sink_remote.set_remote(reinterpret_cast<const sockaddr*>(&sink), sizeof sink);
  const uint32_t transport = engine.add_plain_transport(&sink_remote, nullptr, &plain_sink);
  pwt::ForwardConsumerParams p;
  p.ssrc = 0x77;
  for (int pt = 0; pt < 128; ++pt) p.payload_types[pt] = static_cast<uint8_t>(pt);
  p.clock_rate = 90000;
  const uint32_t consumer = engine.add_consumer(producer, transport, p);
  if (producer == 0 || transport == 0 || consumer == 0) std::abort();
  pwt::UdpSessionTable table;  // a plain socket has no SRTP routes
  engine.process_batch(t, n, status, table, 1'000'000, other, &source);
  if (!other.sent.empty()) std::abort();
  for (const auto& s : plain_sink.sent) {
    if (s.size() < pwt::kRtpFixedHeaderLen || pwt::ReadU32(s.data() + 8) != 0x77) std::abort();
    bool same_length = false;
    for (int i = 0; i < n && !same_length; ++i) same_length = ports[i] == remote_port && lengths[i] == s.size();
    if (!same_length) std::abort();
  }
  if (plain_sink.sent.size() > static_cast<size_t>(admitted)) std::abort();
  for (int i = 0; i < n; ++i) {
    if (status[i] == pwt::kRecvForwarded && ports[i] != remote_port) std::abort();
  }
  uint16_t seqs[64];
  for (int i = 0; i < 64; ++i) seqs[i] = static_cast<uint16_t>(i * 1031);
  uint16_t missed[64];
  size_t missed_count = 0;
  engine.retransmit(consumer, seqs, 64, 2'000'000, other, missed, &missed_count);
  if (missed_count > 64 || !other.sent.empty()) std::abort();
  return 0;
}
