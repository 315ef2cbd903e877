// pwt::ForwardReportReader and ForwardEngine::read_receiver_reports (native/forward/forward_receiver_report.hpp):
// the report blocks of SR and RR packets (RFC 3550 §6.4.1, §6.4.2) are found among other packet types
// of a compound (§6.1), field by field (24-bit signed cumulative loss); padding (§6.4.1) is removed;
// truncated headers, lengths past the end and report counts the length cannot hold end the walk or
// skip the packet without a read past the end; the engine keeps the blocks about each consumer leg,
// counts blocks about unknown SSRCs, measures the RTT from LSR/DLSR against the leg's own SR send
// times (the SR actually sent by send_sender_reports, parsed here) and uses it as the resend RTT.
#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "native/forward/forward_engine.hpp"
#include "native/forward/forward_receiver_report.hpp"
#include "native/forward/forward_resend_guard.hpp"
#include "native/srtp/srtp_session.hpp"
#include "test/native/check.hpp"
#include "test/native/packet_builders.hpp"
#include "test/native/recv_batch.hpp"

using namespace pwt;
using pwt_test::Put16;
using pwt_test::Put32;
using pwt_test::RtcpPacket;

namespace {

struct Block {
  uint32_t ssrc;
  uint8_t fraction;
  int32_t lost;
  uint32_t highest, jitter, lsr, dlsr;
};

void PutBlock(std::vector<uint32_t>& words, const Block& b) {
  words.push_back(b.ssrc);
  words.push_back((static_cast<uint32_t>(b.fraction) << 24) | (static_cast<uint32_t>(b.lost) & 0xffffffu));
  words.push_back(b.highest);
  words.push_back(b.jitter);
  words.push_back(b.lsr);
  words.push_back(b.dlsr);
}

std::vector<uint8_t> Rr(uint32_t reporter, const std::vector<Block>& blocks) {
  std::vector<uint32_t> w{reporter};
  for (const Block& b : blocks) PutBlock(w, b);
  std::vector<uint8_t> out;
  RtcpPacket(out, static_cast<uint8_t>(blocks.size()), 201, w);
  return out;
}

void TestFieldsAmongOthers() {
  std::vector<uint8_t> c;
  // SR with one block (sender info: 5 words), SDES, RR with two blocks, a NACK, an RR padded by 4.
  std::vector<uint32_t> sr{0x11, 1, 2, 3, 4, 5};
  PutBlock(sr, {0xA1, 12, 300, 0x0001FFFF, 77, 0xDEADBEEF, 65536});
  RtcpPacket(c, 1, 200, sr);
  RtcpPacket(c, 1, 202, {0x11, 0x01000000});
  std::vector<uint32_t> rr{0x11};
  PutBlock(rr, {0xA2, 255, -3, 5, 0, 0, 0});
  PutBlock(rr, {0xA3, 0, 0x7fffff, 0xffffffff, 0xffffffff, 1, 2});
  RtcpPacket(c, 2, 201, rr);
  RtcpPacket(c, 1, 205, {0x11, 0xA1, (100u << 16)});
  std::vector<uint32_t> padded{0x11};
  PutBlock(padded, {0xA4, 1, -0x800000, 9, 9, 9, 9});
  padded.push_back(0x00000004);
  RtcpPacket(c, 1, 201, padded, true);
  ForwardReportReader r(c.data(), c.size());
  ForwardReportBlock b;
  CHECK(r.next(&b));
  CHECK_EQ(b.ssrc, 0xA1u);
  CHECK_EQ(b.fraction_lost, 12);
  CHECK_EQ(b.cumulative_lost, 300);
  CHECK_EQ(b.highest_seq, 0x0001FFFFu);
  CHECK_EQ(b.jitter, 77u);
  CHECK_EQ(b.lsr, 0xDEADBEEFu);
  CHECK_EQ(b.dlsr, 65536u);
  CHECK(r.next(&b));
  CHECK_EQ(b.ssrc, 0xA2u);
  CHECK_EQ(b.fraction_lost, 255);
  CHECK_EQ(b.cumulative_lost, -3);
  CHECK(r.next(&b));
  CHECK_EQ(b.ssrc, 0xA3u);
  CHECK_EQ(b.cumulative_lost, 0x7fffff);
  CHECK_EQ(b.highest_seq, 0xffffffffu);
  CHECK(r.next(&b));
  CHECK_EQ(b.ssrc, 0xA4u);
  CHECK_EQ(b.cumulative_lost, -0x800000);
  CHECK(!r.next(&b));
  CHECK(!r.malformed());
}

void TestMalformed() {
  ForwardReportBlock b;
  const std::vector<uint8_t> good = Rr(0x11, {{0xA1, 1, 1, 1, 1, 0, 0}});
  // Every truncation of a good RR: never a read past the end, never a block from a cut packet.
  for (size_t n = 0; n < good.size(); ++n) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<long>(n));
    ForwardReportReader r(cut.empty() ? nullptr : cut.data(), cut.size());
    CHECK(!r.next(&b));
    CHECK_EQ(r.malformed(), n != 0);
  }
  // A report count of 2 in a packet that holds one block: no block of it is trusted; what follows
  // its (consistent) length is still read.
  std::vector<uint8_t> lying = good;
  lying[0] = 0x82;
  const std::vector<uint8_t> next = Rr(0x11, {{0xB1, 0, 0, 0, 0, 0, 0}});
  lying.insert(lying.end(), next.begin(), next.end());
  {
    ForwardReportReader r(lying.data(), lying.size());
    CHECK(r.next(&b));
    CHECK_EQ(b.ssrc, 0xB1u);
    CHECK(!r.next(&b));
    CHECK(r.malformed());
  }
  // A length past the end and a wrong version end the walk before anything is read.
  std::vector<uint8_t> long_len = good;
  long_len[3] = 40;
  ForwardReportReader r1(long_len.data(), long_len.size());
  CHECK(!r1.next(&b));
  CHECK(r1.malformed());
  std::vector<uint8_t> v1 = good;
  v1[0] = 0x41;
  ForwardReportReader r2(v1.data(), v1.size());
  CHECK(!r2.next(&b));
  CHECK(r2.malformed());
  // Padding of 0 or larger than the packet: skipped as malformed.
  std::vector<uint8_t> pad = good;
  pad[0] |= 0x20;
  pad[pad.size() - 1] = 0;
  ForwardReportReader r3(pad.data(), pad.size());
  CHECK(!r3.next(&b));
  CHECK(r3.malformed());
  pad[pad.size() - 1] = 200;
  ForwardReportReader r4(pad.data(), pad.size());
  CHECK(!r4.next(&b));
  CHECK(r4.malformed());
}

void TestManyBlocks() {
  // 31 blocks (the most an RC of 5 bits gives) in each of 8 RRs.
  std::vector<uint8_t> c;
  for (uint32_t k = 0; k < 8; ++k) {
    std::vector<Block> blocks;
    for (uint32_t i = 0; i < 31; ++i) blocks.push_back({k * 100 + i, 0, 0, i, 0, 0, 0});
    const auto p = Rr(k, blocks);
    c.insert(c.end(), p.begin(), p.end());
  }
  ForwardReportReader r(c.data(), c.size());
  ForwardReportBlock b;
  size_t n = 0;
  while (r.next(&b) && n < 1000) {
    CHECK_EQ(b.ssrc, (n / 31) * 100 + n % 31);
    CHECK_EQ(b.highest_seq, n % 31);
    ++n;
  }
  CHECK_EQ(n, 248u);
  CHECK(!r.malformed());
}

void TestLegRoundTrip() {
  ForwardLegReceiverReport leg;
  ForwardReportBlock b;
  b.ssrc = 1;
  b.lsr = 0;
  CHECK_EQ(leg.apply(b, 5'000'000), 0u);  // no SR received yet: no RTT, nothing unmatched
  CHECK_EQ(leg.rtt_unmatched, 0u);
  leg.sr_sent(0x12345678, 1'000'000);
  b.lsr = 0x12345678;
  b.dlsr = 65536 / 2;  // 0.5 s
  // Arrives 0.6 s after the SR left: 100 ms round trip (±1 µs of DLSR rounding).
  const uint32_t rtt = leg.apply(b, 1'600'000);
  CHECK(rtt >= 99'999 && rtt <= 100'001);
  CHECK_EQ(leg.rtt_measurements, 1u);
  // A DLSR longer than the time since the SR: not measured.
  b.dlsr = 65536;
  CHECK_EQ(leg.apply(b, 1'600'000), 0u);
  // An LSR of an SR not in the log (built by the JavaScript reporter, or forged).
  b.lsr = 0x1;
  CHECK_EQ(leg.apply(b, 1'600'000), 0u);
  CHECK_EQ(leg.rtt_unmatched, 2u);
  CHECK_EQ(leg.blocks, 4u);
  // The log keeps the last kSrLog SRs.
  for (uint32_t i = 0; i < ForwardLegReceiverReport::kSrLog + 1; ++i) leg.sr_sent(0x100 + i, 2'000'000 + i);
  b.lsr = 0x100;
  b.dlsr = 0;
  CHECK_EQ(leg.apply(b, 3'000'000), 0u);
  b.lsr = 0x101;
  CHECK_EQ(leg.apply(b, 3'000'000), 999'999u);
}

// tx protects at one end, rx unprotects at the other
struct Keyed : pwt_test::SrtpPair {
  explicit Keyed(int seed) : SrtpPair(SrtpProfile::kAeadAes128Gcm, seed, {5, 17, 9, 19}) {}
};

struct CaptureSink : ForwardSink {
  std::vector<std::vector<uint8_t>> sent;
  void send(const UdpSendItem* items, size_t count) override {
    for (size_t i = 0; i < count; ++i) sent.emplace_back(items[i].data, items[i].data + items[i].length);
  }
};

// The engine: a leg's SR goes out, the subscriber's RR echoes its NTP middle bits with a DLSR, and
// the leg's counters, the RTT and the resend interval follow; blocks about others are counted.
void TestEngineLegs() {
  Keyed publisher(1), leg(2);
  UdpSessionTable table;
  ForwardEngine engine;
  table.add(udp_remote_key(std::array<uint8_t, 16>{127, 0, 0, 1}.data(), 5000, 4), &publisher.rx);
  const uint32_t producer = engine.add_producer(&publisher.rx, 0x5151, false, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(7301);
  a.sin_addr.s_addr = htonl(0x7f000001);
  const uint32_t t = engine.add_transport(&leg.tx, reinterpret_cast<const sockaddr*>(&a), sizeof a);
  ForwardConsumerParams p;
  p.ssrc = 0xC1;
  p.payload_types[96] = 96;
  p.clock_rate = 90000;
  const uint32_t c1 = engine.add_consumer(producer, t, p);
  p.ssrc = 0xC2;
  const uint32_t c2 = engine.add_consumer(producer, t, p);
  CHECK(c1 != 0 && c2 != 0);
  // One packet so the legs have something to report.
  TestRecvBatch batch;
  std::vector<uint8_t> rtp(112, 0);
  rtp[0] = 0x80;
  rtp[1] = 96;
  WriteU32(rtp.data() + 8, 0x5151);
  std::vector<uint8_t> prot(rtp);
  prot.resize(rtp.size() + 32);
  size_t plen = 0;
  CHECK(publisher.tx.protect(prot.data(), rtp.size(), prot.size(), &plen) == SrtpStatus::kOk);
  prot.resize(plen);
  batch.add(prot, 1, 5000);
  const UdpRecvTarget tg = batch.target();
  double counters[kCounterCount] = {};
  table.unprotect_batch(tg, batch.n, batch.status, counters);
  CaptureSink fwd;
  CHECK_EQ(engine.process_batch(tg, batch.n, batch.status, table, 1'000'000, fwd), 1);
  const uint32_t ids[] = {c1};
  const double wall[] = {1.7e12};
  CaptureSink srs;
  CHECK_EQ(engine.send_sender_reports(ids, wall, 1, 2'000'000, srs), 1u);
  CHECK_EQ(srs.sent.size(), 1u);
  size_t len = 0;
  CHECK(leg.rx.unprotect_rtcp(srs.sent[0].data(), srs.sent[0].size(), &len) == SrtpStatus::kOk);
  const uint32_t lsr = (ReadU32(srs.sent[0].data() + 8) << 16) | (ReadU32(srs.sent[0].data() + 12) >> 16);
  // The subscriber answers 80 ms later, having held the SR for 30 ms: 50 ms round trip.
  const uint32_t dlsr = 30 * 65536 / 1000;
  const auto rr = Rr(0x99, {{0xC1, 64, 5, 70000, 123, lsr, dlsr}, {0xC2, 0, 0, 1, 2, 0, 0}, {0xEE, 0, 0, 0, 0, 0, 0}});
  CHECK_EQ(engine.read_receiver_reports(t, rr.data(), rr.size(), 2'080'000), 2u);
  const ForwardLegReceiverReport* r1 = engine.consumer_receiver_report(c1);
  CHECK(r1 != nullptr);
  CHECK_EQ(r1->blocks, 1u);
  CHECK_EQ(r1->fraction_lost, 64);
  CHECK_EQ(r1->cumulative_lost, 5);
  CHECK_EQ(r1->highest_seq, 70000u);
  CHECK_EQ(r1->jitter, 123u);
  CHECK(r1->rtt_us >= 49'990 && r1->rtt_us <= 50'010);
  uint64_t interval = 0;
  uint32_t rtt = 0;
  CHECK(engine.consumer_resend_interval(c1, &interval, &rtt));
  CHECK_EQ(rtt, r1->rtt_us);
  const ForwardLegReceiverReport* r2 = engine.consumer_receiver_report(c2);
  CHECK_EQ(r2->blocks, 1u);
  CHECK_EQ(r2->rtt_measurements, 0u);
  CHECK_EQ(engine.counters()[kFwdReportBlocks], 2.0);
  CHECK_EQ(engine.counters()[kFwdReportBlocksUnknownSsrc], 1.0);
  CHECK_EQ(engine.counters()[kFwdRoundTrips], 1.0);
  CHECK_EQ(engine.counters()[kFwdRtcpMalformed], 0.0);
  // A malformed compound after a good RR: the good block counts, the compound counts as malformed.
  std::vector<uint8_t> bad = Rr(0x99, {{0xC2, 1, 1, 2, 3, 0, 0}});
  bad.push_back(0x81);
  CHECK_EQ(engine.read_receiver_reports(t, bad.data(), bad.size(), 2'100'000), 1u);
  CHECK_EQ(engine.counters()[kFwdRtcpMalformed], 1.0);
  CHECK_EQ(engine.consumer_receiver_report(c2)->highest_seq, 2u);
  // Unknown transport, null data, removed consumer: nothing applied.
  CHECK_EQ(engine.read_receiver_reports(999, rr.data(), rr.size(), 2'200'000), 0u);
  CHECK_EQ(engine.read_receiver_reports(t, nullptr, 100, 2'200'000), 0u);
  CHECK(engine.remove_consumer(c2));
  CHECK(engine.consumer_receiver_report(c2) == nullptr);
  CHECK_EQ(engine.read_receiver_reports(t, rr.data(), rr.size(), 2'300'000), 1u);

  // NACK from a consumer whose producer was removed: its own reason, not a cache miss.
  const double missed = engine.counters()[kFwdNackMissed];
  CHECK(engine.remove_producer(producer));
  std::vector<uint8_t> nack;
  RtcpPacket(nack, 1, 205, {0x99, 0xC1, (0u << 16) | 0x0001});
  CaptureSink none;
  CHECK_EQ(engine.retransmit_compound(t, nack.data(), nack.size(), 2'400'000, none), 0u);
  CHECK_EQ(engine.counters()[kFwdNackUnknownProducer], 2.0);
  CHECK_EQ(engine.counters()[kFwdNackMissed], missed);
}

// RFC 6298-style smoothing of the leg's RTT: the first sample is SRTT; a late sample (a report read
// after a loop stall) enters clamped to kOutlierFactor x SRTT and is counted, so the resend interval
// stays near the real RTT; a sustained rise still gets there.
void TestSmoothedRoundTrip() {
  ForwardLegReceiverReport leg;
  ForwardReportBlock b;
  b.ssrc = 1;
  b.dlsr = 0;
  uint64_t at = 1'000'000;
  uint32_t ntp = 0x1000;
  auto sample = [&](uint64_t rtt_us) {
    leg.sr_sent(++ntp, at);
    b.lsr = ntp;
    const uint32_t r = leg.apply(b, at + rtt_us);
    at += 1'000'000;
    return r;
  };
  CHECK_EQ(sample(50'000), 50'000u);
  CHECK_EQ(leg.srtt_us, 50'000u);
  CHECK_EQ(sample(50'000), 50'000u);
  CHECK_EQ(leg.srtt_us, 50'000u);
  // One sample of 1 s: reported as sampled, smoothed as 4 x 50 ms.
  CHECK_EQ(sample(1'000'000), 1'000'000u);
  CHECK_EQ(leg.rtt_us, 1'000'000u);
  CHECK_EQ(leg.rtt_clamped, 1u);
  CHECK(leg.srtt_us >= 68'000 && leg.srtt_us <= 69'000);  // 50 + (200 - 50) / 8 ms
  CHECK(ForwardResendGuard::interval_us(leg.srtt_us) < 80'000);
  CHECK_EQ(ForwardResendGuard::interval_us(leg.rtt_us), ForwardResendGuard::kMaxIntervalUs);
  // Back to 50 ms: SRTT returns.
  for (int i = 0; i < 80; ++i) sample(50'000);
  CHECK(leg.srtt_us >= 50'000 && leg.srtt_us <= 50'010);
  // A real rise to 400 ms: reached (within 2 %) in a bounded number of reports.
  int reports = 0;
  while (leg.srtt_us < 392'000 && reports < 100) {
    sample(400'000);
    ++reports;
  }
  CHECK(reports < 40);
  CHECK(leg.srtt_us <= 400'000);
  // A fall is followed without clamping.
  const uint64_t clamped = leg.rtt_clamped;
  for (int i = 0; i < 120; ++i) sample(20'000);
  CHECK(leg.srtt_us >= 20'000 && leg.srtt_us <= 20'010);
  CHECK_EQ(leg.rtt_clamped, clamped);
}

// A report is timed at its datagram's arrival: the kernel receive time of its batch slot, else the
// batch read time, else now (never later than now).
void TestArrivalClock() {
  TestRecvBatch batch;
  const std::vector<uint8_t> rr = Rr(0x99, {{0xC1, 0, 0, 0, 0, 0, 0}});
  batch.add(std::vector<uint8_t>(40, 1));
  batch.add(rr);
  UdpRecvTarget tg = batch.target();
  uint64_t arrivals[UdpSocket::kMaxBatch] = {};
  const uint8_t* slot1 = udp_slot_data(tg, 1);
  ForwardBatchClock none;
  CHECK_EQ(forward_report_arrival_us(none, slot1, 9'000'000), 9'000'000u);
  ForwardBatchClock clock{&tg, batch.n, 7'000'000};
  // No kernel timestamps: the batch read time.
  CHECK_EQ(forward_report_arrival_us(clock, slot1, 9'000'000), 7'000'000u);
  tg.arrival_us = arrivals;
  arrivals[0] = 6'000'000;
  arrivals[1] = 6'500'000;
  CHECK_EQ(forward_report_arrival_us(clock, slot1, 9'000'000), 6'500'000u);
  CHECK_EQ(forward_report_arrival_us(clock, slot1 + 8, 9'000'000), 6'500'000u);  // an offset into the slot
  // Copied out of the batch: the batch's read time.
  CHECK_EQ(forward_report_arrival_us(clock, rr.data(), 9'000'000), 7'000'000u);
  // Past the slot's length (the slot's unused room): not that datagram.
  CHECK_EQ(forward_report_arrival_us(clock, slot1 + rr.size(), 9'000'000), 7'000'000u);
  // A slot without a timestamp: the read time. Times after now: now.
  arrivals[1] = 0;
  CHECK_EQ(forward_report_arrival_us(clock, slot1, 9'000'000), 7'000'000u);
  CHECK_EQ(forward_report_arrival_us(clock, slot1, 5'000'000), 5'000'000u);
  CHECK_EQ(forward_report_arrival_us(clock, nullptr, 9'000'000), 9'000'000u);
}

// Many consumers on one transport and compounds of many blocks: one lookup per block by SSRC, the
// map follows add/remove (two consumers with one SSRC: the first added is named, then the next), and
// blocks past kMaxReportBlocksPerCompound are counted, not read.
void TestManyConsumersManyBlocks() {
  Keyed publisher(3), leg(4);
  ForwardEngine engine;
  const uint32_t producer = engine.add_producer(&publisher.rx, 0x5151, false, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(7302);
  a.sin_addr.s_addr = htonl(0x7f000001);
  const uint32_t t = engine.add_transport(&leg.tx, reinterpret_cast<const sockaddr*>(&a), sizeof a);
  const uint32_t t2 = engine.add_transport(&leg.tx, reinterpret_cast<const sockaddr*>(&a), sizeof a);
  ForwardConsumerParams p;
  p.payload_types[96] = 96;
  p.clock_rate = 90000;
  constexpr uint32_t kConsumers = 600;
  std::vector<uint32_t> ids;
  for (uint32_t i = 0; i < kConsumers; ++i) {
    p.ssrc = 0x10000 + i;
    ids.push_back(engine.add_consumer(producer, t, p));
    CHECK(ids.back() != 0);
  }
  // The same SSRC on the other transport: not this transport's.
  p.ssrc = 0x10000;
  const uint32_t other = engine.add_consumer(producer, t2, p);
  CHECK(other != 0);
  // 8 RRs x 31 blocks: the first 64 about the last 32 consumers and 32 unknown SSRCs, interleaved.
  std::vector<uint8_t> c;
  for (uint32_t k = 0; k < 8; ++k) {
    std::vector<Block> blocks;
    for (uint32_t i = 0; i < 31; ++i) {
      const uint32_t n = k * 31 + i;
      const uint32_t ssrc = (n % 2 == 0) ? 0x10000 + kConsumers - 1 - n / 2 : 0xBAD00000 + n;
      blocks.push_back({ssrc, 0, 0, n, 0, 0, 0});
    }
    const auto pkt = Rr(0x99, blocks);
    c.insert(c.end(), pkt.begin(), pkt.end());
  }
  constexpr int kRounds = 200;
  for (int r = 0; r < kRounds; ++r) CHECK_EQ(engine.read_receiver_reports(t, c.data(), c.size(), 3'000'000 + r), 32u);
  CHECK_EQ(engine.counters()[kFwdReportBlocks], 32.0 * kRounds);
  CHECK_EQ(engine.counters()[kFwdReportBlocksUnknownSsrc], 32.0 * kRounds);
  CHECK_EQ(engine.counters()[kFwdReportBlocksSkipped], (248.0 - 64.0) * kRounds);
  CHECK_EQ(engine.counters()[kFwdRtcpMalformed], 0.0);
  CHECK_EQ(engine.consumer_receiver_report(ids[kConsumers - 1])->blocks, static_cast<uint64_t>(kRounds));
  CHECK_EQ(engine.consumer_receiver_report(ids[kConsumers - 1])->highest_seq, 0u);
  CHECK_EQ(engine.consumer_receiver_report(ids[kConsumers - 32])->highest_seq, 62u);
  CHECK_EQ(engine.consumer_receiver_report(ids[kConsumers - 33])->blocks, 0u);  // its block was past the cap
  CHECK_EQ(engine.consumer_receiver_report(ids[0])->blocks, 0u);
  CHECK_EQ(engine.consumer_receiver_report(other)->blocks, 0u);
  // A block exactly at the cap is read; one more is skipped.
  std::vector<uint8_t> cap;
  for (uint32_t k = 0; k < 3; ++k) {
    std::vector<Block> blocks;
    for (uint32_t i = 0; i < (k < 2 ? 31u : 3u); ++i) blocks.push_back({0x10000u + k * 31 + i, 0, 0, 1, 0, 0, 0});
    const auto pkt = Rr(0x99, blocks);
    cap.insert(cap.end(), pkt.begin(), pkt.end());
  }
  const double skipped = engine.counters()[kFwdReportBlocksSkipped];
  CHECK_EQ(engine.read_receiver_reports(t, cap.data(), cap.size(), 4'000'000), 64u);  // 31 + 31 + 2 read, 1 skipped
  CHECK_EQ(engine.counters()[kFwdReportBlocksSkipped], skipped + 1);
  CHECK_EQ(engine.counters()[kFwdRtcpMalformed], 0.0);
  // Remove consumers: their SSRCs are unknown from then on; a duplicate SSRC takes over its name.
  const auto one = Rr(0x99, {{0x10005, 0, 0, 7, 0, 0, 0}});
  CHECK(engine.remove_consumer(ids[5]));
  const double unknown = engine.counters()[kFwdReportBlocksUnknownSsrc];
  CHECK_EQ(engine.read_receiver_reports(t, one.data(), one.size(), 4'100'000), 0u);
  CHECK_EQ(engine.counters()[kFwdReportBlocksUnknownSsrc], unknown + 1);
  p.ssrc = 0x10006;
  const uint32_t dup = engine.add_consumer(producer, t, p);
  const auto six = Rr(0x99, {{0x10006, 0, 0, 9, 0, 0, 0}});
  CHECK_EQ(engine.read_receiver_reports(t, six.data(), six.size(), 4'200'000), 1u);
  CHECK_EQ(engine.consumer_receiver_report(ids[6])->highest_seq, 9u);
  CHECK_EQ(engine.consumer_receiver_report(dup)->blocks, 0u);
  CHECK(engine.remove_consumer(ids[6]));
  CHECK_EQ(engine.read_receiver_reports(t, six.data(), six.size(), 4'300'000), 1u);
  CHECK_EQ(engine.consumer_receiver_report(dup)->highest_seq, 9u);
  // A reused consumer id with another SSRC on another transport: the old name does not follow it.
  p.ssrc = 0x777;
  const uint32_t reused = engine.add_consumer(producer, t2, p);
  CHECK_EQ(reused, ids[6]);
  CHECK_EQ(engine.read_receiver_reports(t, six.data(), six.size(), 4'400'000), 1u);
  CHECK_EQ(engine.consumer_receiver_report(reused)->blocks, 0u);
  CHECK_EQ(engine.counters()[kFwdReportBlocksSkipped], skipped + 1);
  // The transport removed: nothing read.
  CHECK(engine.remove_transport(t));
  CHECK_EQ(engine.read_receiver_reports(t, six.data(), six.size(), 4'500'000), 0u);
}

}  // namespace

int main() {
  TestFieldsAmongOthers();
  TestMalformed();
  TestManyBlocks();
  TestLegRoundTrip();
  TestEngineLegs();
  TestSmoothedRoundTrip();
  TestArrivalClock();
  TestManyConsumersManyBlocks();
  return pwt_test::failures() == 0 ? 0 : 1;
}
