// pwt::ForwardEngine (native/forward/forward_engine.hpp) over a real session table and real SRTP:
// a publisher's SRTP is unprotected by the table, forwarded to N consumers (rewritten, protected per
// consumer transport) in consumer-major order through a capturing sink; every consumer's client
// session unprotects every packet with the payload intact. Strangers, RTCP, unknown SSRCs, forged
// packets, pause/resume, source switch, removal and flushes of a full slot pool are covered.
#include <netinet/in.h>

#include <array>
#include <initializer_list>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "native/forward/forward_engine.hpp"
#include "native/srtp/srtp_session.hpp"
#include "test/native/check.hpp"
#include "test/native/packet_builders.hpp"
#include "test/native/recv_batch.hpp"

using namespace pwt;
using pwt_test::Protect;

namespace {

struct Keyed : pwt_test::SrtpPair {  // tx protects at one end, rx unprotects at the other
  explicit Keyed(int seed) : SrtpPair(SrtpProfile::kAeadAes128Gcm, seed, {7, 13, 3, 11}) {}
};

std::vector<uint8_t> Rtp(uint16_t seq, uint32_t ssrc, size_t payload, uint8_t pt = 111) {
  std::vector<uint8_t> p = pwt_test::RtpPacket(pt, seq, 960u * seq, ssrc, payload);
  for (size_t i = 0; i < payload; ++i) p[12 + i] = static_cast<uint8_t>(seq * 31 + i);
  return p;
}

using Batch = TestRecvBatch;

struct Sent {
  std::vector<uint8_t> bytes;
  uint16_t port;
};

struct CaptureSink : ForwardSink {
  std::vector<Sent> sent;
  int calls = 0;
  void send(const UdpSendItem* items, size_t count) override {
    ++calls;
    for (size_t i = 0; i < count; ++i) {
      const auto* a = reinterpret_cast<const sockaddr_in*>(items[i].address);
      sent.push_back({std::vector<uint8_t>(items[i].data, items[i].data + items[i].length), ntohs(a->sin_port)});
    }
  }
};

sockaddr_in Address(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(0x7f000001);
  return a;
}

ForwardConsumerParams Params(uint32_t ssrc) {
  ForwardConsumerParams p;
  p.ssrc = ssrc;
  p.payload_types[111] = 109;
  p.clock_rate = 48000;
  return p;
}

constexpr uint32_t kPubSsrc = 0x1234;
constexpr int kConsumers = 12;

// A cached producer (kPubSsrc, 64 packets) whose publisher sends from 127.0.0.1:5000, and one
// transport per leg to 127.0.0.1:`first_port` and `first_port + 1`: the retransmission tests' set-up.
struct TwoLegProducer {
  uint32_t producer;
  uint32_t t1;
  uint32_t t2;
};
TwoLegProducer AddTwoLegProducer(ForwardEngine& engine, UdpSessionTable& table, Keyed& publisher, Keyed& leg1,
                                 Keyed& leg2, uint16_t first_port) {
  table.add(udp_remote_key(std::array<uint8_t, 16>{127, 0, 0, 1}.data(), 5000, 4), &publisher.rx);
  const uint32_t producer = engine.add_producer(&publisher.rx, kPubSsrc, false, 64);
  const sockaddr_in a1 = Address(first_port), a2 = Address(static_cast<uint16_t>(first_port + 1));
  const uint32_t t1 = engine.add_transport(&leg1.tx, reinterpret_cast<const sockaddr*>(&a1), sizeof a1);
  const uint32_t t2 = engine.add_transport(&leg2.tx, reinterpret_cast<const sockaddr*>(&a2), sizeof a2);
  return {producer, t1, t2};
}

void TestFanout() {
  Keyed publisher(1);
  std::vector<std::unique_ptr<Keyed>> subs;
  UdpSessionTable table;
  CHECK(table.add(udp_remote_key(std::array<uint8_t, 16>{127, 0, 0, 1}.data(), 5000, 4), &publisher.rx) != 0);
  ForwardEngine engine(/*slots=*/16);  // small: a batch needs several flushes
  const uint32_t producer = engine.add_producer(&publisher.rx, kPubSsrc, false);
  CHECK(producer != 0);
  CHECK_EQ(engine.add_producer(&publisher.rx, kPubSsrc, false), 0u);  // one producer per stream
  std::vector<uint32_t> consumers;
  std::vector<uint32_t> transports;
  for (int k = 0; k < kConsumers; ++k) {
    subs.push_back(std::make_unique<Keyed>(10 + k));
    // The server side of consumer k protects with subs[k]->tx; the subscriber unprotects with rx.
    const sockaddr_in a = Address(static_cast<uint16_t>(6000 + k));
    const uint32_t t = engine.add_transport(&subs[k]->tx, reinterpret_cast<const sockaddr*>(&a), sizeof a);
    CHECK(t != 0);
    transports.push_back(t);
    consumers.push_back(engine.add_consumer(producer, t, Params(0xA000u + k)));
    CHECK(consumers.back() != 0);
  }

  Batch b;
  std::vector<std::vector<uint8_t>> clear;
  for (int i = 0; i < 20; ++i) {
    clear.push_back(Rtp(static_cast<uint16_t>(100 + i), kPubSsrc, 200));
    b.add(Protect(publisher.tx, clear.back()), 1, 5000);
  }
  b.add(Protect(publisher.tx, Rtp(7, 0x9999, 50)), 1, 5000);  // the publisher, an unknown SSRC
  b.add(Rtp(8, kPubSsrc, 50), 2, 5000);                        // a stranger (no route)
  std::vector<uint8_t> rtcp = {0x80, 200, 0, 6, 0, 0, 0x12, 0x34, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  b.add(Protect(publisher.tx, rtcp), 1, 5000);  // RTCP from the publisher stays with JavaScript
  auto forged = Protect(publisher.tx, Rtp(200, kPubSsrc, 50));
  forged[20] ^= 1;
  b.add(forged, 1, 5000);  // forged at the publisher's address: SRTP refuses it

  double udp_counters[kCounterCount] = {};
  const UdpRecvTarget target = b.target();
  // The receive path keeps each slot's session from unprotect_batch, so the engine hashes no 5-tuple
  // again: the slot of a source without a route keeps null, a refused one its session.
  std::vector<SrtpSession*> kept(static_cast<size_t>(b.n), reinterpret_cast<SrtpSession*>(&table));
  table.unprotect_batch(target, b.n, b.status, udp_counters, nullptr, kept.data());
  for (int i = 0; i < b.n; ++i) CHECK(kept[static_cast<size_t>(i)] == (i == 21 ? nullptr : &publisher.rx));
  CaptureSink sink;
  const int consumed = engine.process_batch(target, b.n, b.status, table, 5'000'000, sink, nullptr, kept.data());
  CHECK_EQ(consumed, 20);
  for (int i = 0; i < 20; ++i) CHECK_EQ(b.status[i], kRecvForwarded);
  CHECK_EQ(b.status[20], kRecvClear);
  CHECK_EQ(b.status[21], kRecvNotRouted);
  CHECK_EQ(b.status[22], kRecvClear);
  CHECK(b.status[23] >= kRecvDropBase && b.status[23] != kRecvForwarded);
  CHECK_EQ(sink.sent.size(), static_cast<size_t>(20 * kConsumers));
  CHECK(sink.calls >= (20 * kConsumers) / 16);
  const double* c = engine.counters();
  CHECK_EQ(c[kFwdPacketsIn], 20.0);
  CHECK_EQ(c[kFwdForwarded], static_cast<double>(20 * kConsumers));
  CHECK_EQ(c[kFwdBatchesWithoutJs], 0.0);  // the batch held other datagrams: JS still runs for them

  // Consumer-major: each consumer's 20 packets are contiguous and in order; each unprotects with
  // that subscriber's session and carries the rewritten SSRC/PT and the original payload.
  for (int k = 0; k < kConsumers; ++k) {
    for (int i = 0; i < 20; ++i) {
      Sent& s = sink.sent[static_cast<size_t>(k * 20 + i)];
      CHECK_EQ(s.port, 6000 + k);
      size_t out = 0;
      CHECK(subs[k]->rx.unprotect(s.bytes.data(), s.bytes.size(), &out) == SrtpStatus::kOk);
      CHECK_EQ(out, clear[i].size());
      CHECK_EQ(ReadU32(s.bytes.data() + 8), 0xA000u + k);
      CHECK_EQ(s.bytes[1], 109);
      CHECK_EQ(ReadU16(s.bytes.data() + 2), 100 + i);
      CHECK_MEM(s.bytes.data() + 12, clear[i].data() + 12, clear[i].size() - 12);
    }
  }
  const ForwardProducerCounters* pc = engine.producer_counters(producer);
  CHECK(pc != nullptr);
  CHECK_EQ(pc->packets, 20u);
  CHECK_EQ(pc->forwarded, static_cast<uint64_t>(20 * kConsumers));
  CHECK_EQ(engine.consumer_counters(consumers[0])->packets, 20u);

  // Pause consumer 0, remove consumer 1; a batch of only producer packets needs no JavaScript.
  CHECK(engine.set_consumer_paused(consumers[0], true));
  CHECK(engine.remove_consumer(consumers[1]));
  Batch b2;
  for (int i = 20; i < 30; ++i) b2.add(Protect(publisher.tx, Rtp(static_cast<uint16_t>(100 + i), kPubSsrc, 200)), 1, 5000);
  const UdpRecvTarget t2 = b2.target();
  table.unprotect_batch(t2, b2.n, b2.status, udp_counters);
  CaptureSink sink2;
  CHECK_EQ(engine.process_batch(t2, b2.n, b2.status, table, 6'000'000, sink2), 10);
  CHECK_EQ(sink2.sent.size(), static_cast<size_t>(10 * (kConsumers - 2)));
  CHECK_EQ(engine.counters()[kFwdBatchesWithoutJs], 1.0);
  CHECK_EQ(engine.consumer_counters(consumers[0])->dropped[static_cast<size_t>(ForwardDrop::kPaused)], 10u);
  CHECK(engine.consumer_counters(consumers[1]) == nullptr);

  // Resume: consumer 0 continues at its last sequence number + 1, with no gap to NACK.
  CHECK(engine.set_consumer_paused(consumers[0], false));
  Batch b3;
  b3.add(Protect(publisher.tx, Rtp(500, kPubSsrc, 200)), 1, 5000);
  const UdpRecvTarget t3 = b3.target();
  table.unprotect_batch(t3, b3.n, b3.status, udp_counters);
  CaptureSink sink3;
  CHECK_EQ(engine.process_batch(t3, b3.n, b3.status, table, 7'000'000, sink3), 1);
  CHECK_EQ(sink3.sent.size(), static_cast<size_t>(kConsumers - 1));
  size_t out = 0;
  CHECK(subs[0]->rx.unprotect(sink3.sent[0].bytes.data(), sink3.sent[0].bytes.size(), &out) == SrtpStatus::kOk);
  CHECK_EQ(ReadU16(sink3.sent[0].bytes.data() + 2), 120);  // 100..119 sent before the pause
  CHECK_EQ(ReadU16(sink3.sent[1].bytes.data() + 2), 500);  // consumer 2 was never rebased

  // Removing the transport of consumer 2 drops its copies as no-transport; removing the producer
  // leaves the batch to JavaScript.
  CHECK(engine.remove_transport(3));
  Batch b4;
  b4.add(Protect(publisher.tx, Rtp(501, kPubSsrc, 200)), 1, 5000);
  const UdpRecvTarget t4 = b4.target();
  table.unprotect_batch(t4, b4.n, b4.status, udp_counters);
  CaptureSink sink4;
  engine.process_batch(t4, b4.n, b4.status, table, 7'020'000, sink4);
  CHECK_EQ(sink4.sent.size(), static_cast<size_t>(kConsumers - 2));
  CHECK_EQ(engine.counters()[kFwdDropBase + static_cast<int>(ForwardDrop::kNoTransport)], 1.0);
  CHECK(engine.remove_producer(producer));
  CHECK(!engine.has_producers());
  Batch b5;
  b5.add(Protect(publisher.tx, Rtp(502, kPubSsrc, 200)), 1, 5000);
  const UdpRecvTarget t5 = b5.target();
  table.unprotect_batch(t5, b5.n, b5.status, udp_counters);
  CaptureSink sink5;
  CHECK_EQ(engine.process_batch(t5, b5.n, b5.status, table, 7'040'000, sink5), 0);
  CHECK_EQ(b5.status[0], kRecvClear);

  // With no producer left, a subscriber's RR about its (still open) consumer is consumed all the
  // same when its transport lets the engine keep RR (docs/sfu.md "What a subscriber's RTCP costs"):
  // the leg still reports, and that must not wake JavaScript.
  CHECK(engine.set_transport_rtcp_kinds(transports[0], kRtcpKindReceiverReport));
  CHECK(engine.has_batch_work());
  std::vector<uint8_t> rr = {0x81, 201, 0, 7, 0, 0, 0x0C, 0x01};  // RR, one block, reporter 0xC01
  for (uint8_t v : {uint8_t{0}, uint8_t{0}, uint8_t{0xA0}, uint8_t{0x00}}) rr.push_back(v);  // about consumer 0
  rr.resize(32, 0);
  Batch b6;
  b6.add(rr, 1, 6000);
  b6.status[0] = kRecvClear;  // as unprotect_batch leaves it: the slot's session is subs[0]'s
  std::vector<SrtpSession*> s6 = {&subs[0]->tx};
  const double consumed_before = engine.counters()[kFwdRtcpConsumed];
  CaptureSink sink6;
  CHECK_EQ(engine.process_batch(b6.target(), b6.n, b6.status, table, 7'060'000, sink6, nullptr, s6.data()), 1);
  CHECK_EQ(b6.status[0], kRecvForwarded);
  CHECK_EQ(engine.counters()[kFwdRtcpConsumed], consumed_before + 1);
  CHECK(engine.set_transport_rtcp_kinds(transports[0], 0));
  CHECK(!engine.has_batch_work());
  CHECK(sink5.sent.empty());
}

// One RTP packet from `src` (host 127.0.0.<host>:5000) through the session table and the engine:
// the sequence numbers the subscriber (`sub_rx`) decrypts from what was sent, and the slot's status.
std::vector<uint16_t> ForwardOne(UdpSessionTable& table, ForwardEngine& engine, SrtpSession& sub_rx, SrtpSession& src,
                                 uint8_t host, uint16_t seq, uint64_t now, uint8_t* status_out = nullptr) {
  Batch batch;
  batch.add(Protect(src, Rtp(seq, 1, 100)), host, 5000);
  const UdpRecvTarget tg = batch.target();
  double counters[kCounterCount] = {};
  table.unprotect_batch(tg, batch.n, batch.status, counters);
  CaptureSink sink;
  engine.process_batch(tg, batch.n, batch.status, table, now, sink);
  if (status_out) *status_out = batch.status[0];
  std::vector<uint16_t> seqs;
  for (Sent& s : sink.sent) {
    size_t out = 0;
    CHECK(sub_rx.unprotect(s.bytes.data(), s.bytes.size(), &out) == SrtpStatus::kOk);
    seqs.push_back(ReadU16(s.bytes.data() + 2));
  }
  return seqs;
}

void TestSwitchAndTap() {
  Keyed a(1), b(2), sub(3);
  UdpSessionTable table;
  table.add(udp_remote_key(std::array<uint8_t, 16>{127, 0, 0, 1}.data(), 5000, 4), &a.rx);
  table.add(udp_remote_key(std::array<uint8_t, 16>{127, 0, 0, 2}.data(), 5000, 4), &b.rx);
  ForwardEngine engine;
  const uint32_t pa = engine.add_producer(&a.rx, 1, false);
  const uint32_t pb = engine.add_producer(&b.rx, 1, true);  // same SSRC, other session: another producer
  CHECK(pa && pb && pa != pb);
  const sockaddr_in addr = Address(7000);
  const uint32_t t = engine.add_transport(&sub.tx, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const uint32_t c = engine.add_consumer(pa, t, Params(77));
  CHECK(c != 0);
  CHECK_EQ(engine.add_consumer(pa, 99, Params(77)), 0u);
  CHECK_EQ(engine.add_consumer(pa, t, Params(0)), 0u);
  auto run = [&](SrtpSession& src, uint8_t host, uint16_t seq, uint64_t now, uint8_t* status_out) {
    return ForwardOne(table, engine, sub.rx, src, host, seq, now, status_out);
  };
  uint8_t st = 0;
  CHECK(run(a.tx, 1, 10, 1'000'000, &st) == std::vector<uint16_t>{10});
  CHECK(run(b.tx, 2, 4000, 1'020'000, &st).empty());  // not its producer yet; tapped: JS sees it
  CHECK_EQ(st, kRecvClear);
  CHECK(engine.set_consumer_producer(c, pb));
  CHECK(run(b.tx, 2, 4001, 1'040'000, &st) == std::vector<uint16_t>{11});  // continuity across the switch
  CHECK_EQ(st, kRecvClear);                                              // tap keeps it for JavaScript
  CHECK(run(a.tx, 1, 11, 1'060'000, &st).empty());
  CHECK_EQ(st, kRecvForwarded);  // still a producer, now with no consumer
  CHECK(!engine.set_consumer_producer(c, 1234));
  CHECK(engine.set_producer_tap(pb, false));
  CHECK(run(b.tx, 2, 4002, 1'080'000, &st) == std::vector<uint16_t>{12});
  CHECK_EQ(st, kRecvForwarded);
}

// A new consumer replacing one whose producer has gone, on the same transport and SSRC (lib/sfu
// router.ts replaceStaleConsumers): it continues the old one's sequence numbers.
void TestContinueNumbering() {
  Keyed a(1), b(2), sub(3);
  UdpSessionTable table;
  table.add(udp_remote_key(std::array<uint8_t, 16>{127, 0, 0, 1}.data(), 5000, 4), &a.rx);
  table.add(udp_remote_key(std::array<uint8_t, 16>{127, 0, 0, 2}.data(), 5000, 4), &b.rx);
  ForwardEngine engine;
  const uint32_t pa = engine.add_producer(&a.rx, 1, false);
  const uint32_t pb = engine.add_producer(&b.rx, 1, false);
  const sockaddr_in addr = Address(7001);
  const uint32_t t = engine.add_transport(&sub.tx, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const uint32_t old_c = engine.add_consumer(pa, t, Params(77));
  auto run = [&](SrtpSession& src, uint8_t host, uint16_t seq, uint64_t now) {
    return ForwardOne(table, engine, sub.rx, src, host, seq, now);
  };
  CHECK(run(a.tx, 1, 10, 1'000'000) == std::vector<uint16_t>{10});
  CHECK(run(a.tx, 1, 11, 1'020'000) == std::vector<uint16_t>{11});
  const uint32_t other_ssrc = engine.add_consumer(pb, t, Params(78));
  CHECK(!engine.continue_consumer_numbering(other_ssrc, old_c));  // another SSRC
  CHECK(engine.remove_consumer(other_ssrc));
  const uint32_t c = engine.add_consumer(pb, t, Params(77));
  CHECK(c != 0);
  CHECK(!engine.continue_consumer_numbering(c, c));
  CHECK(!engine.continue_consumer_numbering(c, 4321));
  CHECK(!engine.continue_consumer_numbering(4321, old_c));
  CHECK(engine.continue_consumer_numbering(c, old_c));
  CHECK(engine.remove_consumer(old_c));
  // B's stream (its own numbering from 4000) continues at A's 11 + 1 on the SSRC; the SRTP context
  // of the subscriber accepts it (run() unprotects every packet sent).
  CHECK(run(b.tx, 2, 4000, 1'040'000) == std::vector<uint16_t>{12});
  CHECK(run(b.tx, 2, 4001, 1'060'000) == std::vector<uint16_t>{13});
  // A consumer that already sent does not take another's numbering.
  const uint32_t late = engine.add_consumer(pa, t, Params(77));
  CHECK(!engine.continue_consumer_numbering(c, late));
  CHECK(engine.remove_consumer(late));
  // Without the call the new consumer starts at its producer's numbering (what the call avoids).
  const uint32_t fresh = engine.add_consumer(pa, t, Params(79));
  CHECK(run(a.tx, 1, 500, 1'080'000) == std::vector<uint16_t>{500});
  CHECK(engine.remove_consumer(fresh));
}

void TestPacketCache() {
  ForwardPacketCache none;
  size_t len = 0;
  CHECK(!none.enabled());
  CHECK(none.find(1, &len) == nullptr);
  ForwardPacketCache cache(100);  // rounded up to 128
  CHECK_EQ(cache.capacity(), 128u);
  const auto a = Rtp(5, 1, 100);
  cache.store(5, a.data(), a.size());
  const uint8_t* got = cache.find(5, &len);
  CHECK(got != nullptr && len == a.size());
  if (got) CHECK_MEM(got, a.data(), a.size());
  CHECK(cache.find(6, &len) == nullptr);
  const auto b = Rtp(5 + 128, 1, 100);  // same slot, newer: replaces
  cache.store(5 + 128, b.data(), b.size());
  CHECK(cache.find(5, &len) == nullptr);
  CHECK(cache.find(5 + 128, &len) != nullptr);
  std::vector<uint8_t> big(ForwardPacketCache::kSlotBytes + 1, 0x80);
  cache.store(5 + 256, big.data(), big.size());  // too big: the slot is emptied, nothing kept
  CHECK(cache.find(5 + 128, &len) == nullptr);
  CHECK(cache.find(5 + 256, &len) == nullptr);
}

void TestRetransmit() {
  Keyed publisher(1), plain(2), rtx(3);
  UdpSessionTable table;
  ForwardEngine engine;
  const auto [producer, t1, t2] = AddTwoLegProducer(engine, table, publisher, plain, rtx, 7001);
  const uint32_t c1 = engine.add_consumer(producer, t1, Params(0xB1));
  ForwardConsumerParams with_rtx = Params(0xB2);
  with_rtx.rtx_payload_type = 110;
  with_rtx.rtx_ssrc = 0xB3;
  with_rtx.rtx_seq = 900;
  const uint32_t c2 = engine.add_consumer(producer, t2, with_rtx);
  Batch b;
  std::vector<std::vector<uint8_t>> clear;
  for (int i = 0; i < 10; ++i) {
    clear.push_back(Rtp(static_cast<uint16_t>(300 + i), kPubSsrc, 80));
    b.add(Protect(publisher.tx, clear.back()), 1, 5000);
  }
  const UdpRecvTarget tg = b.target();
  double counters[kCounterCount] = {};
  table.unprotect_batch(tg, b.n, b.status, counters);
  CaptureSink sink;
  engine.process_batch(tg, b.n, b.status, table, 1'000'000, sink);
  CHECK_EQ(sink.sent.size(), 20u);
  CHECK_EQ(engine.producer_counters(producer)->cached, 10u);
  // Both consumers ask for 303 and 305, and for 250 (never cached) and 320 (not sent yet).
  const uint16_t seqs[] = {303, 305, 250, 320};
  CaptureSink resend;
  CHECK_EQ(engine.retransmit(c1, seqs, 4, 1'100'000, resend), 2u);
  CHECK_EQ(engine.retransmit(c2, seqs, 4, 1'100'000, resend), 2u);
  CHECK_EQ(resend.sent.size(), 4u);
  for (int k = 0; k < 2; ++k) {
    Sent& s = resend.sent[static_cast<size_t>(k)];
    size_t out = 0;
    CHECK(plain.rx.unprotect(s.bytes.data(), s.bytes.size(), &out) == SrtpStatus::kOk);
    CHECK_EQ(ReadU16(s.bytes.data() + 2), k == 0 ? 303 : 305);  // the same packet again, same number
    CHECK_EQ(ReadU32(s.bytes.data() + 8), 0xB1u);
    CHECK_MEM(s.bytes.data() + 12, clear[k == 0 ? 3 : 5].data() + 12, 80);
  }
  for (int k = 0; k < 2; ++k) {
    Sent& s = resend.sent[static_cast<size_t>(2 + k)];
    size_t out = 0;
    CHECK(rtx.rx.unprotect(s.bytes.data(), s.bytes.size(), &out) == SrtpStatus::kOk);
    CHECK_EQ(out, 12u + 2 + 80);  // RFC 4588: OSN before the original payload
    CHECK_EQ(s.bytes[1], 110);
    CHECK_EQ(ReadU32(s.bytes.data() + 8), 0xB3u);
    CHECK_EQ(ReadU16(s.bytes.data() + 2), 900 + k);
    CHECK_EQ(ReadU16(s.bytes.data() + 12), k == 0 ? 303 : 305);
    CHECK_MEM(s.bytes.data() + 14, clear[k == 0 ? 3 : 5].data() + 12, 80);
  }
  CHECK_EQ(engine.consumer_counters(c2)->retransmitted, 2u);
  CHECK_EQ(engine.consumer_counters(c2)->nacks, 4u);
  CHECK_EQ(engine.counters()[kFwdNackMissed], 4.0);
  // After a rebase (resume) the old numbers no longer map: misses, never a wrong packet.
  CHECK(engine.set_consumer_paused(c1, true));
  CHECK(engine.set_consumer_paused(c1, false));
  CaptureSink after;
  CHECK_EQ(engine.retransmit(c1, seqs, 2, 1'200'000, after), 0u);
  CHECK(after.sent.empty());
  CHECK_EQ(engine.retransmit(999, seqs, 2, 1'200'000, after), 0u);

  // AES-GCM leg with per-leg transport-cc and no RTX: a retransmission in the original stream would
  // authenticate a different header under the first send's nonce, so it is refused and counted.
  const sockaddr_in a3 = Address(7003);
  Keyed gcm(4);
  const uint32_t t3 = engine.add_transport(&gcm.tx, reinterpret_cast<const sockaddr*>(&a3), sizeof a3);
  ForwardConsumerParams with_twcc = Params(0xB4);
  with_twcc.transport_cc_id = 5;
  const uint32_t c3 = engine.add_consumer(producer, t3, with_twcc);
  Batch b2;
  clear.push_back(Rtp(310, kPubSsrc, 80));
  b2.add(Protect(publisher.tx, clear.back()), 1, 5000);
  const UdpRecvTarget tg2 = b2.target();
  table.unprotect_batch(tg2, b2.n, b2.status, counters);
  CaptureSink first;
  engine.process_batch(tg2, b2.n, b2.status, table, 1'300'000, first);
  const double missed = engine.counters()[kFwdNackMissed];
  CaptureSink refused;
  uint16_t c3_seq[1] = {0};
  for (const Sent& s : first.sent) {
    if (ReadU32(s.bytes.data() + 8) == 0xB4u) c3_seq[0] = ReadU16(s.bytes.data() + 2);
  }
  CHECK_EQ(engine.consumer_counters(c3)->packets, 1u);
  CHECK_EQ(engine.retransmit(c3, c3_seq, 1, 1'400'000, refused), 0u);
  CHECK(refused.sent.empty());
  CHECK_EQ(engine.counters()[kFwdNackMissed], missed + 1);
}

// RFC 4585 §6.2.1: a receiver repeats a NACK until the packet arrives; the engine resends a cached
// packet to one consumer at most once per round trip of that consumer's leg (100 ms while unknown,
// a measured RTT clamped to [20 ms, 1 s]) and counts each suppressed resend (docs/sfu.md).
void TestResendOncePerRoundTrip() {
  Keyed publisher(1), leg1(2), leg2(3);
  UdpSessionTable table;
  ForwardEngine engine;
  const auto [producer, t1, t2] = AddTwoLegProducer(engine, table, publisher, leg1, leg2, 7101);
  const uint32_t c1 = engine.add_consumer(producer, t1, Params(0xC1));
  const uint32_t c2 = engine.add_consumer(producer, t2, Params(0xC2));
  Batch b;
  for (int i = 0; i < 10; ++i) b.add(Protect(publisher.tx, Rtp(static_cast<uint16_t>(300 + i), kPubSsrc, 80)), 1, 5000);
  const UdpRecvTarget tg = b.target();
  double counters[kCounterCount] = {};
  table.unprotect_batch(tg, b.n, b.status, counters);
  CaptureSink sink;
  engine.process_batch(tg, b.n, b.status, table, 1'000'000, sink);
  CHECK_EQ(sink.sent.size(), 20u);
  const size_t within = static_cast<size_t>(ForwardDrop::kResendWithinRtt);
  CHECK(std::strcmp(ForwardDropName(ForwardDrop::kResendWithinRtt), "resend-within-rtt") == 0);
  const uint16_t one[] = {303};
  CaptureSink out;
  // No RTT known yet: 100 ms.
  CHECK_EQ(engine.retransmit(c1, one, 1, 1'100'000, out), 1u);
  CHECK_EQ(engine.retransmit(c1, one, 1, 1'100'000, out), 0u);  // the same NACK again at once
  CHECK_EQ(engine.retransmit(c1, one, 1, 1'199'999, out), 0u);
  CHECK_EQ(engine.consumer_counters(c1)->dropped[within], 2u);
  CHECK_EQ(engine.counters()[kFwdDropBase + static_cast<int>(within)], 2.0);
  CHECK_EQ(engine.counters()[kFwdNackMissed], 0.0);  // suppressed is not missed
  // Another consumer's NACK for the same packet is its own.
  CHECK_EQ(engine.retransmit(c2, one, 1, 1'150'000, out), 1u);
  CHECK_EQ(engine.consumer_counters(c2)->dropped[within], 0u);
  // A round trip later the packet may have been lost again: resent.
  CHECK_EQ(engine.retransmit(c1, one, 1, 1'200'000, out), 1u);
  // One NACK that names a packet twice is answered once; other packets are not held back.
  const uint16_t twice[] = {305, 305, 306};
  CHECK_EQ(engine.retransmit(c1, twice, 3, 1'210'000, out), 2u);
  CHECK_EQ(engine.consumer_counters(c1)->dropped[within], 3u);
  // The leg's measured RTT: 300 ms, so 305 ms (RTT + 5 ms, docs/policy.md "Resend interval").
  CHECK(engine.set_consumer_round_trip_time(c1, 300'000));
  CHECK_EQ(engine.retransmit(c1, one, 1, 1'504'999, out), 0u);
  CHECK_EQ(engine.retransmit(c1, one, 1, 1'505'000, out), 1u);
  // A loopback RTT is clamped to 20 ms; a huge one to 1 s.
  CHECK(engine.set_consumer_round_trip_time(c1, 300));
  CHECK_EQ(engine.retransmit(c1, one, 1, 1'524'999, out), 0u);
  CHECK_EQ(engine.retransmit(c1, one, 1, 1'525'000, out), 1u);
  CHECK(engine.set_consumer_round_trip_time(c1, 60'000'000));
  CHECK_EQ(engine.retransmit(c1, one, 1, 2'524'999, out), 0u);
  CHECK_EQ(engine.retransmit(c1, one, 1, 2'525'000, out), 1u);
  CHECK_EQ(ForwardResendGuard::interval_us(0), 100'000u);
  CHECK_EQ(ForwardResendGuard::interval_us(1), 20'000u);
  CHECK_EQ(ForwardResendGuard::interval_us(15'000), 20'000u);
  CHECK_EQ(ForwardResendGuard::interval_us(15'001), 20'001u);
  CHECK_EQ(ForwardResendGuard::interval_us(995'000), 1'000'000u);
  CHECK_EQ(ForwardResendGuard::interval_us(4'000'000'000u), 1'000'000u);
  CHECK(!engine.set_consumer_round_trip_time(999, 1000));
  const ForwardConsumerCounters* k = engine.consumer_counters(c1);
  CHECK_EQ(k->retransmitted, 7u);
  CHECK_EQ(k->dropped[within], 6u);
  CHECK_EQ(k->nacks, k->retransmitted + k->dropped[within]);  // each NACKed number answered or counted
  CHECK_EQ(out.sent.size(), 8u);
  // What went out, in order (the header is clear under SRTP; resends of one packet reuse its index,
  // so a receiver's replay check would keep only the first: numbers and SSRCs are read instead).
  const uint16_t want_seq[] = {303, 303, 303, 305, 306, 303, 303, 303};
  const uint32_t want_ssrc[] = {0xC1, 0xC2, 0xC1, 0xC1, 0xC1, 0xC1, 0xC1, 0xC1};
  for (size_t i = 0; i < out.sent.size(); ++i) {
    CHECK_EQ(ReadU16(out.sent[i].bytes.data() + 2), want_seq[i]);
    CHECK_EQ(ReadU32(out.sent[i].bytes.data() + 8), want_ssrc[i]);
  }
}

// One compound RTCP packet (RR, NACKs for two consumers' SSRCs, a repeat, a stranger's SSRC, a
// number no cache holds) answered in one call and one flush (docs/sfu.md "Retransmission").
void AddNack(std::vector<uint8_t>& c, uint32_t media_ssrc, std::initializer_list<uint32_t> fci) {
  const size_t at = c.size();
  c.resize(at + 12 + fci.size() * 4);
  c[at] = 0x81;  // V=2, FMT 1
  c[at + 1] = 205;
  c[at + 2] = 0;
  c[at + 3] = static_cast<uint8_t>(2 + fci.size());
  WriteU32(c.data() + at + 4, 0x5E17);
  WriteU32(c.data() + at + 8, media_ssrc);
  size_t o = at + 12;
  for (uint32_t e : fci) {
    WriteU32(c.data() + o, e);
    o += 4;
  }
}

void TestRetransmitCompound() {
  Keyed publisher(1), leg1(2), leg2(3);
  UdpSessionTable table;
  ForwardEngine engine;
  const auto [producer, t1, t2] = AddTwoLegProducer(engine, table, publisher, leg1, leg2, 7201);
  const uint32_t c1 = engine.add_consumer(producer, t1, Params(0xC1));
  const uint32_t c2 = engine.add_consumer(producer, t1, Params(0xC2));
  const uint32_t other = engine.add_consumer(producer, t2, Params(0xC1));  // same SSRC, another leg
  const uint32_t paused = engine.add_consumer(producer, t1, Params(0xC3));
  Batch b;
  for (int i = 0; i < 10; ++i) b.add(Protect(publisher.tx, Rtp(static_cast<uint16_t>(300 + i), kPubSsrc, 80)), 1, 5000);
  const UdpRecvTarget tg = b.target();
  double counters[kCounterCount] = {};
  table.unprotect_batch(tg, b.n, b.status, counters);
  CaptureSink sink;
  engine.process_batch(tg, b.n, b.status, table, 1'000'000, sink);
  CHECK_EQ(sink.sent.size(), 40u);
  CHECK(engine.set_consumer_paused(paused, true));
  std::vector<uint8_t> compound = {0x80, 201, 0, 1, 0, 0, 0x5E, 0x17};  // RR without blocks
  AddNack(compound, 0xC1, {(303u << 16) | 0x0001});  // 303, 304
  AddNack(compound, 0xC2, {(305u << 16), (900u << 16)});  // 305; 900 was never sent
  AddNack(compound, 0xC1, {(303u << 16)});  // a repeat in the same compound
  AddNack(compound, 0xDEAD, {(303u << 16)});  // nobody's SSRC
  AddNack(compound, 0xC3, {(303u << 16)});  // paused: left alone
  uint32_t miss_consumers[4] = {};
  uint16_t miss_seqs[4] = {};
  uint8_t miss_layers[4] = {9, 9, 9, 9};
  ForwardNackMisses misses;
  misses.consumers = miss_consumers;
  misses.seqs = miss_seqs;
  misses.layers = miss_layers;
  misses.capacity = 4;
  CaptureSink out;
  CHECK_EQ(engine.retransmit_compound(t1, compound.data(), compound.size(), 1'100'000, out, &misses), 3u);
  CHECK_EQ(out.calls, 1);  // one flush for the compound
  CHECK_EQ(out.sent.size(), 3u);
  const uint16_t want_seq[] = {303, 304, 305};
  const uint32_t want_ssrc[] = {0xC1, 0xC1, 0xC2};
  for (size_t i = 0; i < out.sent.size() && i < 3; ++i) {
    CHECK_EQ(ReadU16(out.sent[i].bytes.data() + 2), want_seq[i]);
    CHECK_EQ(ReadU32(out.sent[i].bytes.data() + 8), want_ssrc[i]);
    CHECK_EQ(out.sent[i].port, 7201);
  }
  const size_t within = static_cast<size_t>(ForwardDrop::kResendWithinRtt);
  CHECK_EQ(engine.consumer_counters(c1)->nacks, 3u);
  CHECK_EQ(engine.consumer_counters(c1)->retransmitted, 2u);
  CHECK_EQ(engine.consumer_counters(c1)->dropped[within], 1u);
  CHECK_EQ(engine.consumer_counters(c2)->nacks, 2u);
  CHECK_EQ(engine.consumer_counters(c2)->retransmitted, 1u);
  CHECK_EQ(engine.consumer_counters(other)->nacks, 0u);
  CHECK_EQ(engine.consumer_counters(paused)->nacks, 0u);
  CHECK_EQ(misses.count, 1u);
  CHECK_EQ(miss_consumers[0], c2);
  CHECK_EQ(miss_seqs[0], 900);
  CHECK_EQ(miss_layers[0], 0);
  CHECK_EQ(engine.counters()[kFwdNackMissed], 1.0);
  // A full miss list counts what it could not hold; an unknown transport answers nothing.
  misses.capacity = 0;
  CHECK_EQ(engine.retransmit_compound(t1, compound.data(), compound.size(), 1'100'000, out, &misses), 0u);
  CHECK_EQ(misses.count, 0u);
  CHECK_EQ(misses.overflow, 1u);
  CHECK_EQ(engine.retransmit_compound(999, compound.data(), compound.size(), 1'100'000, out, nullptr), 0u);
  // After the consumer is removed, its SSRC is nobody's on that transport.
  CHECK(engine.remove_consumer(c2));
  const uint64_t before = static_cast<uint64_t>(engine.counters()[kFwdNackRequested]);
  std::vector<uint8_t> only_c2;
  AddNack(only_c2, 0xC2, {(305u << 16)});
  CHECK_EQ(engine.retransmit_compound(t1, only_c2.data(), only_c2.size(), 3'000'000, out, nullptr), 0u);
  CHECK_EQ(static_cast<uint64_t>(engine.counters()[kFwdNackRequested]), before);
  // The resend interval in force for a consumer and the RTT it came from.
  uint64_t interval = 0;
  uint32_t rtt = 7;
  CHECK(engine.consumer_resend_interval(c1, &interval, &rtt));
  CHECK_EQ(interval, 100'000u);
  CHECK_EQ(rtt, 0u);
  CHECK(engine.set_consumer_round_trip_time(c1, 40'000));
  CHECK(engine.consumer_resend_interval(c1, &interval, &rtt));
  CHECK_EQ(interval, 45'000u);
  CHECK_EQ(rtt, 40'000u);
  CHECK(!engine.consumer_resend_interval(c2, &interval, &rtt));
}

// Arrivals for transport-cc feedback carry the kernel's receive time of each slot (docs/udp.md
// "Receive timestamps"), and the batch's read time where the slot has none (0).
void TestArrivalTimes() {
  Keyed publisher(3);
  UdpSessionTable table;
  CHECK(table.add(udp_remote_key(std::array<uint8_t, 16>{127, 0, 0, 1}.data(), 5000, 4), &publisher.rx) != 0);
  ForwardEngine engine(16);
  const uint32_t producer = engine.add_producer(&publisher.rx, kPubSsrc, false);
  CHECK(engine.set_producer_transport_cc(producer, 5));
  Batch b;
  for (uint16_t i = 0; i < 3; ++i) {
    // One-byte extension block: transport-wide sequence number 40 + i under id 5.
    std::vector<uint8_t> p = Rtp(static_cast<uint16_t>(10 + i), kPubSsrc, 20);
    p[0] |= 0x10;
    const uint8_t ext[] = {0xBE, 0xDE, 0, 1, 0x51, 0, static_cast<uint8_t>(40 + i), 0};
    p.insert(p.begin() + 12, ext, ext + sizeof ext);
    b.add(Protect(publisher.tx, p), 1, 5000);
  }
  uint64_t arrivals[UdpSocket::kMaxBatch] = {4'000'000, 0, 4'500'000};
  UdpRecvTarget target = b.target();
  target.arrival_us = arrivals;
  double udp_counters[kCounterCount] = {};
  table.unprotect_batch(target, b.n, b.status, udp_counters);
  CaptureSink sink;
  CHECK_EQ(engine.process_batch(target, b.n, b.status, table, 5'000'000, sink), 3);
  ForwardArrivalLog* log = engine.producer_arrivals(producer);
  CHECK(log != nullptr);
  uint16_t seqs[8] = {};
  uint64_t times[8] = {};
  CHECK_EQ(log->drain(seqs, times, 8), 3u);
  CHECK_EQ(seqs[0], 40);
  CHECK_EQ(times[0], 4'000'000u);
  CHECK_EQ(seqs[1], 41);
  CHECK_EQ(times[1], 5'000'000u);
  CHECK_EQ(seqs[2], 42);
  CHECK_EQ(times[2], 4'500'000u);
}

// A subscriber's transport moved onto another route (its selected pair went from the shared UDP port
// to a TCP connection's sink, then to another connection with a rebuilt session): each packet leaves
// through the sink of the route it was forwarded under, protected with that route's session, and the
// sequence numbers continue across the moves. Plain transports and bad arguments are refused.
void TestTransportRoute() {
  Keyed publisher(3);
  Keyed first(40), second(41);
  UdpSessionTable table;
  CHECK(table.add(udp_remote_key(std::array<uint8_t, 16>{127, 0, 0, 1}.data(), 5000, 4), &publisher.rx) != 0);
  ForwardEngine engine;
  const uint32_t producer = engine.add_producer(&publisher.rx, kPubSsrc, false);
  const sockaddr_in udp = Address(6100);
  const uint32_t t = engine.add_transport(&first.tx, reinterpret_cast<const sockaddr*>(&udp), sizeof udp);
  CHECK(engine.add_consumer(producer, t, Params(0xB000u)) != 0);
  uint16_t seq = 300;
  auto forward = [&](CaptureSink& caller) {
    Batch b;
    b.add(Protect(publisher.tx, Rtp(seq, kPubSsrc, 100)), 1, 5000);
    ++seq;
    const UdpRecvTarget target = b.target();
    double udp_counters[kCounterCount] = {};
    table.unprotect_batch(target, b.n, b.status, udp_counters);
    CHECK_EQ(engine.process_batch(target, b.n, b.status, table, 8'000'000 + seq * 20'000ull, caller), 1);
  };
  CaptureSink caller, tcp_a, tcp_b;
  forward(caller);
  CHECK_EQ(caller.sent.size(), 1u);

  const sockaddr_in a = Address(6200);
  CHECK(engine.set_transport_route(t, &first.tx, reinterpret_cast<const sockaddr*>(&a), sizeof a, &tcp_a));
  forward(caller);
  CHECK_EQ(caller.sent.size(), 1u);
  CHECK_EQ(tcp_a.sent.size(), 1u);
  CHECK_EQ(tcp_a.sent[0].port, 6200);

  const sockaddr_in b = Address(6300);
  CHECK(engine.set_transport_route(t, &second.tx, reinterpret_cast<const sockaddr*>(&b), sizeof b, &tcp_b));
  forward(caller);
  CHECK_EQ(tcp_a.sent.size(), 1u);
  CHECK_EQ(tcp_b.sent.size(), 1u);
  CHECK_EQ(tcp_b.sent[0].port, 6300);

  size_t out = 0;
  CHECK(first.rx.unprotect(caller.sent[0].bytes.data(), caller.sent[0].bytes.size(), &out) == SrtpStatus::kOk);
  CHECK(first.rx.unprotect(tcp_a.sent[0].bytes.data(), tcp_a.sent[0].bytes.size(), &out) == SrtpStatus::kOk);
  CHECK(second.rx.unprotect(tcp_b.sent[0].bytes.data(), tcp_b.sent[0].bytes.size(), &out) == SrtpStatus::kOk);
  CHECK_EQ(ReadU16(caller.sent[0].bytes.data() + 2), 300);
  CHECK_EQ(ReadU16(tcp_a.sent[0].bytes.data() + 2), 301);
  CHECK_EQ(ReadU16(tcp_b.sent[0].bytes.data() + 2), 302);

  // Back to the caller's sink (a UDP pair again).
  CHECK(engine.set_transport_route(t, &second.tx, reinterpret_cast<const sockaddr*>(&udp), sizeof udp, nullptr));
  forward(caller);
  CHECK_EQ(caller.sent.size(), 2u);
  CHECK_EQ(tcp_b.sent.size(), 1u);

  CHECK(!engine.set_transport_route(t, nullptr, reinterpret_cast<const sockaddr*>(&udp), sizeof udp, nullptr));
  CHECK(!engine.set_transport_route(t, &second.tx, nullptr, 0, nullptr));
  CHECK(!engine.set_transport_route(t + 7, &second.tx, reinterpret_cast<const sockaddr*>(&udp), sizeof udp, nullptr));
  CHECK(engine.remove_transport(t));
  CHECK(!engine.set_transport_route(t, &second.tx, reinterpret_cast<const sockaddr*>(&udp), sizeof udp, nullptr));
}

// A TCP leg's connection closes while the engine still routes its transport there: nothing more
// reaches that sink (not even a NACK answer), each copy is dropped and counted as sink-closed, the
// other consumers are untouched, and a new route (another connection) carries the leg again.
void TestClosedSink() {
  Keyed publisher(5), lost(50), other(51);
  UdpSessionTable table;
  CHECK(table.add(udp_remote_key(std::array<uint8_t, 16>{127, 0, 0, 1}.data(), 5000, 4), &publisher.rx) != 0);
  ForwardEngine engine;
  const uint32_t producer = engine.add_producer(&publisher.rx, kPubSsrc, false, 64);
  const sockaddr_in tcp_address = Address(6400), udp_address = Address(6500);
  CaptureSink caller, first, second;
  const uint32_t t = engine.add_transport(&lost.tx, reinterpret_cast<const sockaddr*>(&tcp_address), sizeof tcp_address, &first);
  const uint32_t u = engine.add_transport(&other.tx, reinterpret_cast<const sockaddr*>(&udp_address), sizeof udp_address);
  const uint32_t c = engine.add_consumer(producer, t, Params(0xC000u));
  const uint32_t d = engine.add_consumer(producer, u, Params(0xD000u));
  CHECK(c != 0 && d != 0);
  uint16_t seq = 700;
  auto forward = [&](int packets) {
    Batch b;
    for (int i = 0; i < packets; ++i, ++seq) b.add(Protect(publisher.tx, Rtp(seq, kPubSsrc, 100)), 1, 5000);
    const UdpRecvTarget target = b.target();
    double udp_counters[kCounterCount] = {};
    table.unprotect_batch(target, b.n, b.status, udp_counters);
    CHECK_EQ(engine.process_batch(target, b.n, b.status, table, 9'000'000 + seq * 20'000ull, caller), packets);
  };
  forward(3);
  CHECK_EQ(first.sent.size(), 3u);
  CHECK_EQ(caller.sent.size(), 3u);

  first.close();
  forward(4);
  CHECK_EQ(first.sent.size(), 3u);   // nothing more for the closed sink
  CHECK_EQ(caller.sent.size(), 7u);  // the UDP consumer keeps everything
  CHECK_EQ(engine.consumer_counters(c)->dropped[static_cast<size_t>(ForwardDrop::kSinkClosed)], 4u);
  CHECK_EQ(engine.consumer_counters(d)->dropped[static_cast<size_t>(ForwardDrop::kSinkClosed)], 0u);
  CHECK_EQ(engine.counters()[kFwdDropBase + static_cast<int>(ForwardDrop::kSinkClosed)], 4.0);
  CHECK_EQ(engine.consumer_counters(c)->packets, 3u);
  const uint16_t asked[] = {700, 701};
  CaptureSink resend;
  CHECK_EQ(engine.retransmit(c, asked, 2, 9'500'000, resend), 0u);  // a NACK answer has nowhere to go either
  CHECK_EQ(resend.sent.size(), 0u);
  CHECK_EQ(first.sent.size(), 3u);

  // ICE selected another connection: its sink carries the leg from the next packet on.
  CHECK(engine.set_transport_route(t, &lost.tx, reinterpret_cast<const sockaddr*>(&tcp_address), sizeof tcp_address, &second));
  forward(2);
  CHECK_EQ(second.sent.size(), 2u);
  CHECK_EQ(first.sent.size(), 3u);
  size_t out = 0;
  CHECK(lost.rx.unprotect(second.sent[0].bytes.data(), second.sent[0].bytes.size(), &out) == SrtpStatus::kOk);
  CHECK_EQ(ReadU32(second.sent[0].bytes.data() + 8), 0xC000u);
  CHECK_EQ(engine.consumer_counters(c)->packets, 5u);
  CHECK_EQ(engine.consumer_counters(c)->dropped[static_cast<size_t>(ForwardDrop::kSinkClosed)], 4u);
  CHECK(ForwardDropName(ForwardDrop::kSinkClosed) == std::string("sink-closed"));
}

}  // namespace

// A publisher behind a TURN relay (RFC 8656 §12): its ChannelData route is found by (server address,
// channel), which a second lookup by address alone would miss; with the sessions kept by
// unprotect_batch its packets are forwarded natively like any other (docs/sfu.md "Data path").
void TestTurnChannelProducer() {
  Keyed publisher(5);
  Keyed leg(50);
  UdpSessionTable table;
  UdpRemoteKey relayed = udp_remote_key(std::array<uint8_t, 16>{127, 0, 0, 9}.data(), 3478, 4);
  relayed.channel = 0x4001;
  CHECK(table.add(relayed, &publisher.rx) != 0);
  ForwardEngine engine;
  const uint32_t producer = engine.add_producer(&publisher.rx, kPubSsrc, false);
  const sockaddr_in a = Address(6300);
  const uint32_t t = engine.add_transport(&leg.tx, reinterpret_cast<const sockaddr*>(&a), sizeof a);
  CHECK(engine.add_consumer(producer, t, Params(0xC000u)) != 0);
  Batch b;
  for (int i = 0; i < 3; ++i) {
    std::vector<uint8_t> inner = Protect(publisher.tx, Rtp(static_cast<uint16_t>(500 + i), kPubSsrc, 120));
    std::vector<uint8_t> framed = {0x40, 0x01, static_cast<uint8_t>(inner.size() >> 8), static_cast<uint8_t>(inner.size() & 0xff)};
    framed.insert(framed.end(), inner.begin(), inner.end());
    b.add(framed, 9, 3478);
  }
  const UdpRecvTarget target = b.target();
  double udp_counters[kCounterCount] = {};
  uint16_t relays[UdpSocket::kMaxBatch] = {};
  SrtpSession* kept[UdpSocket::kMaxBatch] = {};
  table.unprotect_batch(target, b.n, b.status, udp_counters, relays, kept);
  for (int i = 0; i < b.n; ++i) {
    CHECK_EQ(b.status[i], kRecvClear);
    CHECK(kept[i] == &publisher.rx);
  }
  CaptureSink sink;
  CHECK_EQ(engine.process_batch(target, b.n, b.status, table, 9'000'000, sink, nullptr, kept), 3);
  CHECK_EQ(sink.sent.size(), 3u);
  for (int i = 0; i < b.n; ++i) CHECK_EQ(b.status[i], kRecvForwarded);
  size_t out = 0;
  CHECK(leg.rx.unprotect(sink.sent[0].bytes.data(), sink.sent[0].bytes.size(), &out) == SrtpStatus::kOk);
  CHECK_EQ(ReadU32(sink.sent[0].bytes.data() + 8), 0xC000u);
}

// An SRTP leg copies only the header and encrypts the payload out of the received packet (docs/sfu.md
// "Per-leg cost"): a packet with CSRCs, a header extension (rewritten per leg) and padding arrives
// whole, and the sender report's payload octets leave the padding out (read from the clear packet,
// not from the ciphertext's last octet).
void TestHeaderOnlyCopy() {
  Keyed publisher(3), leg(40);
  UdpSessionTable table;
  CHECK(table.add(udp_remote_key(std::array<uint8_t, 16>{127, 0, 0, 1}.data(), 5000, 4), &publisher.rx) != 0);
  ForwardEngine engine;
  const uint32_t producer = engine.add_producer(&publisher.rx, kPubSsrc, false);
  const sockaddr_in a = Address(6100);
  const uint32_t t = engine.add_transport(&leg.tx, reinterpret_cast<const sockaddr*>(&a), sizeof a);
  ForwardConsumerParams params = Params(0xB000u);
  params.extension_ids[3] = 5;  // the publisher's id 3 is the leg's id 5
  const uint32_t consumer = engine.add_consumer(producer, t, params);
  CHECK(consumer != 0);
  // V=2, P=1, X=1, CC=2; two CSRCs; a one-byte extension block (id 3, 2 data bytes, 1 pad byte).
  std::vector<uint8_t> clear = {0xB2, 111, 0, 50, 0, 0, 0x10, 0, 0, 0, 0x12, 0x34, 1, 2, 3, 4, 5, 6, 7, 8,
                                0xBE, 0xDE, 0, 1, 0x31, 0xAA, 0xBB, 0};
  const size_t header = clear.size();
  for (int i = 0; i < 300; ++i) clear.push_back(static_cast<uint8_t>(i * 7));
  for (int i = 0; i < 3; ++i) clear.push_back(0);
  clear.push_back(4);  // 4 octets of padding, this one included
  Batch b;
  b.add(Protect(publisher.tx, clear), 1, 5000);
  double udp_counters[kCounterCount] = {};
  const UdpRecvTarget target = b.target();
  table.unprotect_batch(target, b.n, b.status, udp_counters);
  CaptureSink sink;
  CHECK_EQ(engine.process_batch(target, b.n, b.status, table, 1'000'000, sink), 1);
  CHECK_EQ(sink.sent.size(), size_t{1});
  std::vector<uint8_t> got = sink.sent[0].bytes;
  size_t out = 0;
  CHECK(leg.rx.unprotect(got.data(), got.size(), &out) == SrtpStatus::kOk);
  CHECK_EQ(out, clear.size());
  CHECK_EQ(got[1], 109);
  CHECK_EQ(ReadU32(got.data() + 8), 0xB000u);
  CHECK_MEM(got.data() + 12, clear.data() + 12, 8);  // CSRCs
  CHECK_EQ(got[24], 0x51);                            // extension id 3 -> 5, length kept
  CHECK_MEM(got.data() + 25, clear.data() + 25, 3);
  CHECK_MEM(got.data() + header, clear.data() + header, clear.size() - header);
  const ForwardConsumerCounters* cc = engine.consumer_counters(consumer);
  CHECK(cc != nullptr);
  CHECK_EQ(cc->payload_bytes, uint64_t{300});
}

int main() {
  TestArrivalTimes();
  TestHeaderOnlyCopy();
  TestFanout();
  TestTransportRoute();
  TestTurnChannelProducer();
  TestClosedSink();
  TestSwitchAndTap();
  TestContinueNumbering();
  TestPacketCache();
  TestRetransmit();
  TestResendOncePerRoundTrip();
  TestRetransmitCompound();
  TEST_MAIN_END();
}
