// The fanout load generator's connection (bench/loadgen/loadgen_connection.hpp) against itself on
// loopback: a publisher (controlling, DTLS server) and a subscriber (controlled, DTLS client) check,
// nominate, handshake and key SRTP; every published packet is counted once at the subscriber; a
// NACKing subscriber drops every 10th packet before SRTP and the publisher receives one NACK each;
// forged RTP from the peer's address fails SRTP and is counted, not delivered. Bounded by deadlines.
#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "bench/loadgen/loadgen_connection.hpp"
#include "native/dtls/dtls_certificate.hpp"
#include "native/dtls/dtls_context.hpp"
#include "test/native/check.hpp"

using namespace pwt;
using namespace pwt::loadgen;

namespace {

uint64_t NowUs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

/** Runs both connections' I/O and timers until `done` or a generous deadline (false then). */
template <typename Done>
bool Drive(LoadConnection& a, LoadConnection& b, Done done, uint64_t deadline_ms = 20'000) {
  const uint64_t end = NowUs() + deadline_ms * 1000;
  while (!done()) {
    if (NowUs() > end) return false;
    pollfd fds[2] = {{a.fd(), POLLIN, 0}, {b.fd(), POLLIN, 0}};
    poll(fds, 2, 5);
    const uint64_t now = NowUs();
    a.Receive(now);
    b.Receive(now);
    if (now >= a.NextTickUs()) a.Tick(now);
    if (now >= b.NextTickUs()) b.Tick(now);
  }
  return true;
}

struct Pair {
  std::unique_ptr<LoadConnection> pub;
  std::unique_ptr<LoadConnection> sub;
};

Pair Connect(uint32_t nack_every) {
  CertificateStatus cs;
  auto cert_a = DtlsCertificate::Generate(DtlsKeyType::kEcdsaP256, 86400, &cs);
  auto cert_b = DtlsCertificate::Generate(DtlsKeyType::kEcdsaP256, 86400, &cs);
  std::string error;
  Pair p;
  p.pub = LoadConnection::Open(1, true, DtlsContext::Create(cert_a), &error);
  p.sub = LoadConnection::Open(2, false, DtlsContext::Create(cert_b), &error);
  CHECK(p.pub && p.sub);
  if (!p.pub || !p.sub) return p;
  RemoteParameters to_sub;  // what the publisher knows about the subscriber
  to_sub.ufrag = p.sub->ufrag();
  to_sub.password = p.sub->password();
  to_sub.ip = 0x7f000001;
  to_sub.port = p.sub->local_port();
  to_sub.fingerprint_sha256.resize(32);
  cert_b->Fingerprint(FingerprintAlgorithm::kSha256, to_sub.fingerprint_sha256.data(), 32);
  to_sub.dtls_client = false;
  to_sub.remote_controlling = false;
  to_sub.payload_type = 111;
  RemoteParameters to_pub;  // what the subscriber knows about the publisher
  to_pub.ufrag = p.pub->ufrag();
  to_pub.password = p.pub->password();
  to_pub.ip = 0x7f000001;
  to_pub.port = p.pub->local_port();
  to_pub.fingerprint_sha256.resize(32);
  cert_a->Fingerprint(FingerprintAlgorithm::kSha256, to_pub.fingerprint_sha256.data(), 32);
  to_pub.dtls_client = true;
  to_pub.remote_controlling = true;
  to_pub.payload_type = 111;
  to_pub.nack_every = nack_every;
  const uint64_t now = NowUs();
  CHECK(p.pub->Start(to_sub, 0x1111, now, &error));
  CHECK(p.sub->Start(to_pub, 0x2222, now, &error));
  CHECK(Drive(*p.pub, *p.sub, [&] { return p.pub->connected() && p.sub->connected(); }));
  CHECK(!p.pub->failed() && !p.sub->failed());
  CHECK(p.pub->TakeStateChanged());
  CHECK(p.sub->TakeStateChanged());
  // The publisher selected its pair on its own nominating check's answer.
  CHECK(p.pub->counters().checks_answered >= 1);
  return p;
}

void Publish(LoadConnection& pub, uint32_t round, uint32_t count) {
  uint8_t buf[1500];
  for (uint32_t i = 0; i < count; ++i) {
    const size_t len = pub.WriteRtp(buf, sizeof buf, 200, 960 * i, false, round, i);
    CHECK(len > 200);
    CHECK(sendto(pub.fd(), buf, len, 0, reinterpret_cast<const sockaddr*>(&pub.peer()), sizeof(sockaddr_in)) ==
          static_cast<ssize_t>(len));
  }
}

}  // namespace

int main() {
  {
    Pair p = Connect(0);
    if (!p.pub || !p.sub || !p.sub->connected()) {
      TEST_MAIN_END();
    }
    Publish(*p.pub, 1, 300);
    CHECK(Drive(*p.pub, *p.sub, [&] { return p.sub->delivery().Round(1).unique == 300; }));
    const RoundDelivery d = p.sub->delivery().Round(1);
    CHECK_EQ(d.unique, 300u);
    CHECK_EQ(d.duplicates, 0u);
    CHECK_EQ(d.out_of_order, 0u);
    CHECK_EQ(p.sub->counters().rtp_received, 300u);
    CHECK_EQ(p.sub->counters().foreign_payload, 0u);
    // A forged packet from the publisher's own socket (right address, no valid SRTP tag) is dropped and counted.
    uint8_t forged[100] = {0x80, 111, 0x12, 0x34, 0, 0, 0, 1, 0, 0, 0x11, 0x11};
    CHECK(sendto(p.pub->fd(), forged, sizeof forged, 0, reinterpret_cast<const sockaddr*>(&p.pub->peer()),
                 sizeof(sockaddr_in)) == static_cast<ssize_t>(sizeof forged));
    CHECK(Drive(*p.pub, *p.sub, [&] { return p.sub->counters().unauthenticated == 1; }));
    CHECK_EQ(p.sub->delivery().Round(1).unique, 300u);
    CHECK_EQ(p.sub->counters().rtp_received, 300u);
  }
  {
    // Every 10th sequence number is dropped on arrival and NACKed (one NACK packet each).
    Pair p = Connect(10);
    if (!p.pub || !p.sub || !p.sub->connected()) {
      TEST_MAIN_END();
    }
    Publish(*p.pub, 1, 200);
    CHECK(Drive(*p.pub, *p.sub, [&] {
      return p.sub->delivery().Round(1).unique + p.sub->counters().dropped_on_purpose == 200 &&
             p.pub->counters().nacks_received == p.sub->counters().dropped_on_purpose;
    }));
    const uint64_t dropped = p.sub->counters().dropped_on_purpose;
    CHECK(dropped >= 19 && dropped <= 21);  // the first sequence number is random: 20 multiples of 10, give or take one
    CHECK_EQ(p.sub->counters().nacks_sent, dropped);
    CHECK_EQ(p.pub->counters().nacked_sequences, dropped);
    CHECK_EQ(p.sub->delivery().Round(1).unique, 200 - dropped);
  }
  TEST_MAIN_END();
}
