// Engine cost of the forwarding path alone (`npm run bench -- forward-path`, docs/bench/README.md): pwt::ForwardEngine
// forwarding batches of 1000 B audio packets to N consumers (copy, rewrite, SRTP protect per
// consumer, RFC 3711 §3.3 / RFC 7714 §8) through a sink that sends nothing, timed with the thread's
// CPU clock around process_batch only. Between batches an 8 MiB buffer is walked (untimed), as the
// kernel's sends and the event loop do between two receive wake-ups, so per-leg state comes from
// memory as it does in a server rather than from a warm cache.
// Usage: path_bench <gcm|cm> <consumers> <packets per batch> <batches> [warm]; prints "<forwarded> <cpu_us>";
// `warm` skips the walk (the cost with every leg in cache).
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

constexpr size_t kPayload = 1000;
constexpr size_t kEvictBytes = 8u << 20;

bool Key(SrtpSession& s, SrtpProfile profile, int seed) {
  SrtpProfileParams p{};
  if (!GetSrtpProfileParams(profile, &p)) return false;
  uint8_t k[32], salt[14];
  for (int i = 0; i < 32; ++i) k[i] = static_cast<uint8_t>(i * 7 + seed);
  for (int i = 0; i < 14; ++i) salt[i] = static_cast<uint8_t>(i * 3 + seed);
  return s.Key(profile, k, p.key_len, salt, p.salt_len, k, p.key_len, salt, p.salt_len) == SrtpStatus::kOk;
}

double ThreadCpuUs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

struct NullSink : ForwardSink {
  uint64_t sent = 0;
  void send(const UdpSendItem*, size_t count) override { sent += count; }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: path_bench <gcm|cm> <consumers> <packets per batch> <batches>\n");
    return 2;
  }
  const std::string cipher = argv[1];
  const int consumers = std::atoi(argv[2]);
  const int per_batch = std::atoi(argv[3]);
  const int batches = std::atoi(argv[4]);
  if ((cipher != "gcm" && cipher != "cm") || consumers < 1 || per_batch < 1 ||
      per_batch > static_cast<int>(UdpSocket::kMaxBatch) || batches < 1) {
    return 2;
  }
  const SrtpProfile profile = cipher == "gcm" ? SrtpProfile::kAeadAes128Gcm : SrtpProfile::kAes128CmHmacSha1_80;

  SrtpSession publisher;
  if (!Key(publisher, profile, 1)) return 1;
  UdpSessionTable table;
  const std::array<uint8_t, 16> ip{127, 0, 0, 1};
  table.add(udp_remote_key(ip.data(), 5000, 4), &publisher);
  ForwardEngine engine;
  const uint32_t producer = engine.add_producer(&publisher, 0x100, false, 512);
  if (producer == 0) return 1;
  // Sessions are allocated with other allocations between them, as connections are in a server.
  std::vector<std::unique_ptr<SrtpSession>> sessions;
  std::vector<std::unique_ptr<uint8_t[]>> spacers;
  for (int k = 0; k < consumers; ++k) {
    sessions.push_back(std::make_unique<SrtpSession>());
    spacers.push_back(std::make_unique<uint8_t[]>(4096));
    if (!Key(*sessions.back(), profile, 10 + k)) return 1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(6000 + k));
    a.sin_addr.s_addr = htonl(0x7f000001);
    const uint32_t t = engine.add_transport(sessions.back().get(), reinterpret_cast<const sockaddr*>(&a), sizeof a);
    ForwardConsumerParams p;
    p.ssrc = 0xA000u + static_cast<uint32_t>(k);
    p.payload_types[111] = 111;
    if (engine.add_consumer(producer, t, p) == 0) return 1;
  }

  TestRecvBatch batch;
  const UdpRecvTarget target = batch.target();
  for (int i = 0; i < per_batch; ++i) {
    std::memcpy(batch.addresses + i * 16, ip.data(), 16);
    batch.ports[i] = 5000;
    batch.families[i] = 4;
    batch.lengths[i] = 12 + kPayload;
  }
  const bool warm = argc > 5 && std::string(argv[5]) == "warm";
  std::vector<uint8_t> evict(warm ? 0 : kEvictBytes);
  uint16_t seq = 1;
  NullSink sink;
  double cpu = 0;
  uint64_t checksum = 0;
  for (int b = 0; b < batches; ++b) {
    for (int i = 0; i < per_batch; ++i) {
      uint8_t* p = batch.buffer.data() + static_cast<size_t>(i) * TestRecvBatch::kSlot;
      std::memset(p, 0, 12 + kPayload);
      p[0] = 0x80;
      p[1] = 111;
      p[2] = static_cast<uint8_t>(seq >> 8);
      p[3] = static_cast<uint8_t>(seq);
      WriteU32(p + 4, static_cast<uint32_t>(seq) * 960u);
      WriteU32(p + 8, 0x100);
      ++seq;
      batch.status[i] = kRecvClear;
    }
    for (size_t x = 0; x < evict.size(); x += 64) checksum += ++evict[x];
    const double t0 = ThreadCpuUs();
    engine.process_batch(target, per_batch, batch.status, table, static_cast<uint64_t>(b) * 1000, sink);
    cpu += ThreadCpuUs() - t0;
  }
  // Keeps the eviction walk from being optimised away.
  static volatile uint64_t walked = 0;
  walked = walked + checksum;
  std::printf("%llu %.0f\n", static_cast<unsigned long long>(sink.sent), cpu);
  return 0;
}
