// Engine cost of layer selection (docs/sfu.md "Simulcast and temporal layers"): pwt::ForwardEngine
// forwarding 64-packet batches of 1000 B VP8 packets to N consumers through a sink that sends
// nothing, timed with the thread's CPU clock around process_batch only (copy, rewrite, selection,
// SRTP protect per consumer). Modes: `whole` (one stream, consumers select nothing: the baseline),
// `temporal` (the same stream with TIDs 0,2,1,2; consumers select TL2, so they forward everything
// but inspect and renumber every packet), `simulcast` (three layers, consumers spread over them).
// Usage: layer_bench <whole|temporal|simulcast> <consumers> <batches>; prints
// "<forwarded> <cpu_us>".
#include <netinet/in.h>
#include <time.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "native/forward/forward_engine.hpp"
#include "native/srtp/srtp_session.hpp"
#include "test/native/recv_batch.hpp"

using namespace pwt;

namespace {

constexpr int kBatch = 64;
constexpr size_t kPayload = 1000;

struct NullSink : ForwardSink {
  uint64_t sent = 0;
  void send(const UdpSendItem*, size_t count) override { sent += count; }
};

bool Key(SrtpSession& s, int seed) {
  SrtpProfileParams p{};
  if (!GetSrtpProfileParams(SrtpProfile::kAeadAes128Gcm, &p)) return false;
  uint8_t k[32], salt[14];
  for (int i = 0; i < 32; ++i) k[i] = static_cast<uint8_t>(i * 7 + seed);
  for (int i = 0; i < 14; ++i) salt[i] = static_cast<uint8_t>(i * 3 + seed);
  return s.Key(SrtpProfile::kAeadAes128Gcm, k, p.key_len, salt, p.salt_len, k, p.key_len, salt, p.salt_len) == SrtpStatus::kOk;
}

double ThreadCpuUs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

// A VP8 packet: descriptor X|S, I (15-bit PictureID), L, T; a key frame every 64 frames.
void Packet(uint8_t* p, uint16_t seq, uint32_t ssrc, uint32_t frame, bool start, uint8_t tid) {
  std::memset(p, 0, 12 + kPayload);
  p[0] = 0x80;
  p[1] = 96;
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  WriteU32(p + 4, frame * 3000);
  WriteU32(p + 8, ssrc);
  uint8_t* d = p + 12;
  d[0] = static_cast<uint8_t>(0x80 | (start ? 0x10 : 0));
  d[1] = 0xE0;
  d[2] = static_cast<uint8_t>(0x80 | ((frame >> 8) & 0x7f));
  d[3] = static_cast<uint8_t>(frame);
  d[4] = static_cast<uint8_t>(frame / 4);
  d[5] = static_cast<uint8_t>(tid << 6);
  d[6] = start && frame % 64 == 0 ? 0x10 : 0x11;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: layer_bench <whole|temporal|simulcast> <consumers> <batches>\n");
    return 2;
  }
  const std::string mode = argv[1];
  const int consumers = std::atoi(argv[2]);
  const int batches = std::atoi(argv[3]);
  const bool simulcast = mode == "simulcast";
  const bool temporal = mode == "temporal";
  if ((!simulcast && !temporal && mode != "whole") || consumers < 1 || batches < 1) return 2;

  SrtpSession publisher;
  if (!Key(publisher, 1)) return 1;
  UdpSessionTable table;
  const std::array<uint8_t, 16> ip{127, 0, 0, 1};
  table.add(udp_remote_key(ip.data(), 5000, 4), &publisher);
  ForwardEngine engine;
  const uint32_t ssrcs[3] = {0x100, 0x200, 0x300};
  const uint32_t producer = simulcast ? engine.add_simulcast_producer(&publisher, 3, false, 512)
                                      : engine.add_producer(&publisher, ssrcs[0], false, 512);
  if (producer == 0) return 1;
  if (simulcast) {
    for (uint8_t l = 0; l < 3; ++l) engine.set_producer_layer(producer, l, ssrcs[l]);
  }
  uint8_t codecs[128] = {};
  codecs[96] = static_cast<uint8_t>(ForwardLayerCodec::kVp8);
  engine.set_producer_codecs(producer, codecs);
  std::vector<std::unique_ptr<SrtpSession>> sessions;
  for (int k = 0; k < consumers; ++k) {
    sessions.push_back(std::make_unique<SrtpSession>());
    if (!Key(*sessions.back(), 10 + k)) return 1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(6000 + k));
    a.sin_addr.s_addr = htonl(0x7f000001);
    const uint32_t t = engine.add_transport(sessions.back().get(), reinterpret_cast<const sockaddr*>(&a), sizeof a);
    ForwardConsumerParams p;
    p.ssrc = 0xA000u + k;
    p.payload_types[96] = 96;
    const uint32_t c = engine.add_consumer(producer, t, p);
    if (c == 0) return 1;
    if (simulcast) engine.set_consumer_layers(c, static_cast<uint8_t>(k % 3), ForwardLayerState::kMaxTemporal);
    if (temporal) engine.set_consumer_layers(c, 0, 2);
  }

  TestRecvBatch batch;
  const UdpRecvTarget target = batch.target();
  for (int i = 0; i < kBatch; ++i) {
    std::memcpy(batch.addresses + i * 16, ip.data(), 16);
    batch.ports[i] = 5000;
    batch.families[i] = 4;
    batch.lengths[i] = 12 + kPayload;
  }
  const uint8_t pattern[4] = {0, 2, 1, 2};
  uint16_t seq[3] = {1, 1, 1};
  uint32_t frame = 0;
  NullSink sink;
  double cpu = 0;
  for (int b = 0; b < batches; ++b) {
    // 4 packets per frame; simulcast sends each frame on every layer.
    for (int i = 0; i < kBatch; ++i) {
      const int layer = simulcast ? i % 3 : 0;
      const int index = simulcast ? i / 3 : i;
      const uint32_t f = frame + static_cast<uint32_t>(index / 4);
      Packet(batch.buffer.data() + static_cast<size_t>(i) * TestRecvBatch::kSlot, seq[layer]++, ssrcs[layer], f, index % 4 == 0, temporal ? pattern[f % 4] : 0);
      batch.status[i] = kRecvClear;
    }
    frame += (simulcast ? kBatch / 3 : kBatch) / 4 + 1;
    const double t0 = ThreadCpuUs();
    engine.process_batch(target, kBatch, batch.status, table, static_cast<uint64_t>(b) * 1000, sink);
    cpu += ThreadCpuUs() - t0;
  }
  std::printf("%llu %.0f\n", static_cast<unsigned long long>(sink.sent), cpu);
  return 0;
}
