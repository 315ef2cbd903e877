// libFuzzer target: the generic NACKs of a compound RTCP packet (native/forward/forward_nack_reader.hpp,
// RFC 3550 §6.1, RFC 4585 §6.2.1) answered by ForwardEngine::retransmit_compound (docs/sfu.md
// "Retransmission"). Input: the compound's bytes. Set-up: a plain producer with 16 cached packets
// and, on one plain transport, consumers with SSRCs 0x77 and 0x78 and a paused one with 0x79.
// Checks: every NACK the reader yields lies inside the input and the walk ends; the consumers'
// NACKed-number counters grow by exactly the numbers the NACKs for their SSRCs name; the paused
// consumer's do not; every packet sent carries 0x77 or 0x78 and counts as retransmitted; the miss
// list never holds more than its capacity; one flush per call.
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "native/forward/forward_engine.hpp"
#include "native/forward/forward_nack_reader.hpp"
#include "native/forward/forward_plain_source.hpp"
#include "native/srtp/srtp_packet.hpp"

namespace {

constexpr size_t kSlot = 256;
constexpr uint32_t kSsrc = 0x0BADF00D;
constexpr int kPackets = 16;

struct Capture : pwt::ForwardSink {
  std::vector<std::vector<uint8_t>> sent;
  int calls = 0;
  void send(const pwt::UdpSendItem* items, size_t count) override {
    ++calls;
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

// The producer's packets (sequence numbers 0..15) through the plain source into the engine's cache.
void Feed(pwt::ForwardEngine& engine, pwt::ForwardPlainSource& source) {
  std::vector<uint8_t> buffer(kPackets * kSlot);
  uint32_t lengths[kPackets];
  uint8_t addresses[kPackets * 16] = {};
  uint16_t ports[kPackets];
  uint8_t families[kPackets];
  uint8_t status[kPackets];
  for (int i = 0; i < kPackets; ++i) {
    uint8_t* p = buffer.data() + static_cast<size_t>(i) * kSlot;
    p[0] = 0x80;
    p[1] = 96;
    p[2] = 0;
    p[3] = static_cast<uint8_t>(i);
    pwt::WriteU32(p + 4, 3000u * static_cast<uint32_t>(i));
    pwt::WriteU32(p + 8, kSsrc);
    std::memset(p + 12, i, 40);
    lengths[i] = 52;
    addresses[i * 16] = 127;
    addresses[i * 16 + 3] = 1;
    ports[i] = 4000;
    families[i] = 4;
    status[i] = pwt::kRecvNotRouted;
  }
  pwt::UdpRecvTarget t;
  t.buffer = buffer.data();
  t.slot_size = kSlot;
  t.capacity = kPackets;
  t.lengths = lengths;
  t.addresses = addresses;
  t.ports = ports;
  t.families = families;
  source.filter_batch(t, kPackets, status);
  pwt::UdpSessionTable table;
  Capture forwarded;
  engine.process_batch(t, kPackets, status, table, 1'000'000, forwarded, &source);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // What the reader yields, checked on its own.
  size_t named[3] = {};  // numbers NACKed for 0x77, 0x78, 0x79
  {
    pwt::ForwardNackReader reader(data, size);
    pwt::ForwardNack nack;
    size_t nacks = 0;
    while (reader.next(&nack)) {
      if (++nacks > size / 12) std::abort();  // each NACK takes at least 12 bytes
      if (nack.fci < data || nack.fci + nack.entries * 4 > data + size) std::abort();
      if (nack.media_ssrc < 0x77 || nack.media_ssrc > 0x79) continue;
      uint16_t numbers[pwt::ForwardNackReader::kNumbersPerEntry];
      for (size_t e = 0; e < nack.entries; ++e) {
        const size_t n = pwt::ForwardNackReader::entry_numbers(nack.fci + e * 4, numbers);
        if (n < 1 || n > pwt::ForwardNackReader::kNumbersPerEntry) std::abort();
        named[nack.media_ssrc - 0x77] += n;
      }
    }
  }
  pwt::ForwardPlainSource source;
  const sockaddr_in remote = Address(4000);
  if (!source.set_remote(reinterpret_cast<const sockaddr*>(&remote), sizeof remote)) std::abort();
  // Send slots for every resend one compound can cause (16 packets, two consumers): one flush.
  pwt::ForwardEngine engine(64);
  const uint32_t producer = engine.add_producer(&source, kSsrc, false, kPackets);
  pwt::ForwardPlainSource to;
  const sockaddr_in destination = Address(9000);
  to.set_remote(reinterpret_cast<const sockaddr*>(&destination), sizeof destination);
  Capture leg;
  const uint32_t transport = engine.add_plain_transport(&to, nullptr, &leg);
  uint32_t consumers[3];
  for (uint32_t k = 0; k < 3; ++k) {
    pwt::ForwardConsumerParams p;
    p.ssrc = 0x77 + k;
    p.payload_types[96] = 96;
    p.clock_rate = 90000;
    consumers[k] = engine.add_consumer(producer, transport, p);
    if (consumers[k] == 0) std::abort();
  }
  if (producer == 0 || transport == 0 || !engine.set_consumer_paused(consumers[2], true)) std::abort();
  Feed(engine, source);
  const size_t forwarded = leg.sent.size();
  const int calls_before = leg.calls;
  uint32_t miss_consumers[8];
  uint16_t miss_seqs[8];
  uint8_t miss_layers[8];
  pwt::ForwardNackMisses misses;
  misses.consumers = miss_consumers;
  misses.seqs = miss_seqs;
  misses.layers = miss_layers;
  misses.capacity = 8;
  Capture caller;
  const size_t sent = engine.retransmit_compound(transport, data, size, 2'000'000, caller, &misses);
  if (!caller.sent.empty()) std::abort();  // the plain transport's own sink
  if (leg.sent.size() - forwarded != sent || leg.calls - calls_before > 1) std::abort();
  for (size_t i = forwarded; i < leg.sent.size(); ++i) {
    const uint32_t ssrc = pwt::ReadU32(leg.sent[i].data() + 8);
    if (ssrc != 0x77 && ssrc != 0x78) std::abort();
  }
  uint64_t retransmitted = 0;
  for (uint32_t k = 0; k < 3; ++k) {
    const pwt::ForwardConsumerCounters* c = engine.consumer_counters(consumers[k]);
    if (c->nacks != named[k] * (k < 2 ? 1 : 0)) std::abort();
    retransmitted += c->retransmitted;
  }
  if (retransmitted != sent) std::abort();
  if (misses.count > misses.capacity) std::abort();
  for (size_t i = 0; i < misses.count; ++i) {
    if (miss_consumers[i] != consumers[0] && miss_consumers[i] != consumers[1]) std::abort();
    if (miss_layers[i] != 0) std::abort();
  }
  if (static_cast<double>(misses.count + misses.overflow) > engine.counters()[pwt::kFwdNackMissed]) std::abort();
  return 0;
}
