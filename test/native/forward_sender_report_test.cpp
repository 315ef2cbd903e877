// ForwardEngine::send_sender_reports (native/forward/forward_engine.hpp, forward_sender_report.hpp):
// each consumer leg's SR + SDES CNAME (RFC 3550 §6.1, §6.4.1, §6.5.1), SRTCP-protected with the leg's
// session (RFC 3711 §3.4), read back with the subscriber's session and parsed here field by field:
// SSRC, the subscriber's received packet and payload octet counts, the RTP/NTP mapping consistent
// with the forwarded timestamps and monotonic across reports, the CNAME; legs that cannot report.
#include <netinet/in.h>

#include <array>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "native/forward/forward_engine.hpp"
#include "native/forward/forward_sender_report.hpp"
#include "native/srtp/srtp_session.hpp"
#include "test/native/check.hpp"
#include "test/native/packet_builders.hpp"
#include "test/native/recv_batch.hpp"

using namespace pwt;
using pwt_test::Protect;

namespace {

struct Keyed : pwt_test::SrtpPair {  // tx protects at one end, rx unprotects at the other
  explicit Keyed(int seed) : SrtpPair(SrtpProfile::kAeadAes128Gcm, seed, {5, 17, 9, 19}) {}
};

struct Sent {
  std::vector<uint8_t> bytes;
  uint16_t port;
};

struct CaptureSink : ForwardSink {
  std::vector<Sent> sent;
  void send(const UdpSendItem* items, size_t count) override {
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

constexpr uint32_t kPubSsrc = 0x5151;
constexpr uint32_t kClock = 90000;

std::vector<uint8_t> Rtp(uint16_t seq, uint32_t ts, size_t payload) {
  std::vector<uint8_t> p = pwt_test::RtpPacket(96, seq, ts, kPubSsrc, payload);
  for (size_t i = 0; i < payload; ++i) p[12 + i] = static_cast<uint8_t>(i);
  return p;
}

/** What the subscriber reads from one SR + SDES compound packet (parsed here, not by the engine's code). */
struct ParsedReport {
  bool ok = false;
  uint32_t ssrc = 0, ntp_seconds = 0, ntp_fraction = 0, rtp_timestamp = 0, packets = 0, octets = 0;
  std::string cname;
};

ParsedReport Parse(const uint8_t* p, size_t len) {
  ParsedReport r;
  // SR: V=2, RC=0, PT=200, length 6 (RFC 3550 §6.4.1).
  if (len < 28 || p[0] != 0x80 || p[1] != 200 || ReadU16(p + 2) != 6) return r;
  r.ssrc = ReadU32(p + 4);
  r.ntp_seconds = ReadU32(p + 8);
  r.ntp_fraction = ReadU32(p + 12);
  r.rtp_timestamp = ReadU32(p + 16);
  r.packets = ReadU32(p + 20);
  r.octets = ReadU32(p + 24);
  // SDES: V=2, SC=1, PT=202; one chunk with this SSRC, item CNAME, then nulls to a 32-bit boundary (§6.5).
  const uint8_t* s = p + 28;
  const size_t rest = len - 28;
  if (rest < 12 || s[0] != 0x81 || s[1] != 202) return r;
  const size_t sdes_len = (static_cast<size_t>(ReadU16(s + 2)) + 1) * 4;
  if (sdes_len != rest || ReadU32(s + 4) != r.ssrc || s[8] != 1) return r;
  const size_t n = s[9];
  if (10 + n + 1 > sdes_len) return r;
  r.cname.assign(reinterpret_cast<const char*>(s + 10), n);
  for (size_t i = 10 + n; i < sdes_len; ++i) {
    if (s[i] != 0) return r;
  }
  r.ok = true;
  return r;
}

double NtpToUnixMs(uint32_t seconds, uint32_t fraction) {
  return (static_cast<double>(seconds) - 2208988800.0 + fraction / 4294967296.0) * 1000.0;
}

// Two legs of one producer: packets forwarded at known times with known timestamps; each leg's SR
// says what its subscriber received, and its RTP/NTP mapping extrapolates the forwarded timestamps.
void TestLegReports() {
  Keyed publisher(1), leg1(2), leg2(3);
  UdpSessionTable table;
  ForwardEngine engine;
  table.add(udp_remote_key(std::array<uint8_t, 16>{127, 0, 0, 1}.data(), 5000, 4), &publisher.rx);
  const uint32_t producer = engine.add_producer(&publisher.rx, kPubSsrc, false, 0);
  const sockaddr_in a1 = Address(7201), a2 = Address(7202);
  const uint32_t t1 = engine.add_transport(&leg1.tx, reinterpret_cast<const sockaddr*>(&a1), sizeof a1);
  const uint32_t t2 = engine.add_transport(&leg2.tx, reinterpret_cast<const sockaddr*>(&a2), sizeof a2);
  ForwardConsumerParams p1;
  p1.ssrc = 0xC1;
  p1.payload_types[96] = 96;
  p1.clock_rate = kClock;
  ForwardConsumerParams p2 = p1;
  p2.ssrc = 0xC2;
  const uint32_t c1 = engine.add_consumer(producer, t1, p1);
  const uint32_t c2 = engine.add_consumer(producer, t2, p2);
  const std::string cname1 = "leg-one-cname", cname2(255, 'x');
  CHECK(engine.set_consumer_cname(c1, reinterpret_cast<const uint8_t*>(cname1.data()), cname1.size()));
  CHECK(engine.set_consumer_cname(c2, reinterpret_cast<const uint8_t*>(cname2.data()), cname2.size()));
  const std::string too_long(256, 'y');
  CHECK(!engine.set_consumer_cname(c1, reinterpret_cast<const uint8_t*>(too_long.data()), too_long.size()));
  CHECK(!engine.set_consumer_cname(999, reinterpret_cast<const uint8_t*>(cname1.data()), cname1.size()));

  // Nothing sent yet: no report (there is no mapping to give).
  const uint32_t both[] = {c1, c2};
  const double wall0[] = {1.7e12, 1.7e12};
  CaptureSink none;
  uint8_t sent_flags[2] = {9, 9};
  CHECK_EQ(engine.send_sender_reports(both, wall0, 2, 1'000'000, none, sent_flags), 0u);
  CHECK(none.sent.empty());
  CHECK_EQ(sent_flags[0], 0);
  CHECK_EQ(sent_flags[1], 0);

  // 3 batches of 4 packets, 33 ms apart (3000 ticks per frame at 90 kHz), payloads 100..103 bytes.
  std::vector<uint32_t> received_ts1;
  uint64_t received_payload1 = 0;
  size_t received1 = 0, received2 = 0;
  uint64_t now_us = 2'000'000;
  uint32_t pub_ts = 123456;
  uint16_t seq = 40;
  for (int frame = 0; frame < 3; ++frame) {
    TestRecvBatch b;
    for (int k = 0; k < 4; ++k) b.add(Protect(publisher.tx, Rtp(seq++, pub_ts, 100 + static_cast<size_t>(k))), 1, 5000);
    const UdpRecvTarget tg = b.target();
    double counters[kCounterCount] = {};
    table.unprotect_batch(tg, b.n, b.status, counters);
    CaptureSink sink;
    CHECK_EQ(engine.process_batch(tg, b.n, b.status, table, now_us, sink), 4);
    for (Sent& s : sink.sent) {
      size_t out = 0;
      if (s.port == 7201) {
        CHECK(leg1.rx.unprotect(s.bytes.data(), s.bytes.size(), &out) == SrtpStatus::kOk);
        received_ts1.push_back(ReadU32(s.bytes.data() + 4));
        received_payload1 += out - 12;
        ++received1;
      } else {
        CHECK(leg2.rx.unprotect(s.bytes.data(), s.bytes.size(), &out) == SrtpStatus::kOk);
        ++received2;
      }
    }
    now_us += 33'333;
    pub_ts += 3000;
  }
  CHECK_EQ(received1, 12u);
  CHECK_EQ(received2, 12u);
  const uint64_t last_sent_us = now_us - 33'333;

  // Reports 250 ms after the last packet, the leg's wall clock at 1.7e12 ms (+ 1/3 ms: a fraction).
  const uint64_t report_us = last_sent_us + 250'000;
  const double wall1[] = {1.7e12 + 1000.0 / 3, 1.7e12 + 1000.0 / 3};
  CaptureSink reports;
  CHECK_EQ(engine.send_sender_reports(both, wall1, 2, report_us, reports, sent_flags), 2u);
  CHECK_EQ(sent_flags[0], 1);
  CHECK_EQ(sent_flags[1], 1);
  CHECK_EQ(reports.sent.size(), 2u);
  CHECK_EQ(engine.counters()[kFwdSenderReports], 2.0);
  ParsedReport first{};
  for (Sent& s : reports.sent) {
    size_t out = 0;
    SrtpSession& rx = s.port == 7201 ? leg1.rx : leg2.rx;
    CHECK(rx.unprotect(s.bytes.data(), s.bytes.size(), &out) == SrtpStatus::kOk);
    const ParsedReport r = Parse(s.bytes.data(), out);
    CHECK(r.ok);
    CHECK_EQ(r.ssrc, s.port == 7201 ? 0xC1u : 0xC2u);
    CHECK(r.cname == (s.port == 7201 ? cname1 : cname2));
    CHECK_EQ(r.packets, 12u);
    CHECK_EQ(r.octets, static_cast<uint32_t>(received_payload1));
    CHECK(std::fabs(NtpToUnixMs(r.ntp_seconds, r.ntp_fraction) - wall1[0]) < 0.001);
    if (s.port == 7201) {
      // The last forwarded timestamp + 250 ms at 90 kHz (22500 ticks): the leg's own mapping.
      CHECK_EQ(r.rtp_timestamp, received_ts1.back() + 22500u);
      first = r;
    }
  }
  CHECK(first.ok);

  // A later report on leg 1 alone: NTP and RTP timestamps move on together (1 s apart: 90000 ticks).
  const uint32_t one[] = {c1};
  const double wall2[] = {wall1[0] + 1000.0};
  CaptureSink later;
  CHECK_EQ(engine.send_sender_reports(one, wall2, 1, report_us + 1'000'000, later), 1u);
  CHECK_EQ(later.sent.size(), 1u);
  size_t out = 0;
  CHECK(leg1.rx.unprotect(later.sent[0].bytes.data(), later.sent[0].bytes.size(), &out) == SrtpStatus::kOk);
  const ParsedReport second = Parse(later.sent[0].bytes.data(), out);
  CHECK(second.ok);
  CHECK_EQ(second.rtp_timestamp - first.rtp_timestamp, 90000u);
  const double ntp_delta = NtpToUnixMs(second.ntp_seconds, second.ntp_fraction) - NtpToUnixMs(first.ntp_seconds, first.ntp_fraction);
  CHECK(std::fabs(ntp_delta - 1000.0) < 0.001);

  // Unknown consumers and removed legs are skipped, the others still sent.
  CHECK(engine.remove_transport(t2));
  const uint32_t mixed[] = {c2, 777, c1};
  const double wall3[] = {wall2[0], wall2[0], wall2[0]};
  uint8_t flags3[3] = {9, 9, 9};
  CaptureSink partial;
  CHECK_EQ(engine.send_sender_reports(mixed, wall3, 3, report_us + 2'000'000, partial, flags3), 1u);
  CHECK_EQ(flags3[0], 0);
  CHECK_EQ(flags3[1], 0);
  CHECK_EQ(flags3[2], 1);
  CHECK_EQ(partial.sent.size(), 1u);
  CHECK_EQ(partial.sent[0].port, 7201);
  CHECK_EQ(engine.send_sender_reports(nullptr, wall3, 3, report_us, partial), 0u);

  // The removed leg's id is reused by the next transport: the old consumer must not follow it there,
  // neither with a report nor with media (the new leg's SRTP context and remote are not its own).
  Keyed leg3(4);
  const sockaddr_in a3 = Address(7203);
  const uint32_t t3 = engine.add_transport(&leg3.tx, reinterpret_cast<const sockaddr*>(&a3), sizeof a3);
  CHECK_EQ(t3, t2);
  const uint32_t stale[] = {c2};
  CaptureSink reused;
  CHECK_EQ(engine.send_sender_reports(stale, wall3, 1, report_us + 3'000'000, reused), 0u);
  CHECK(reused.sent.empty());
  ForwardConsumerParams p3 = p1;
  p3.ssrc = 0xC3;
  const uint32_t c3 = engine.add_consumer(producer, t3, p3);
  CHECK(c3 != 0);
  {
    TestRecvBatch b;
    b.add(Protect(publisher.tx, Rtp(seq++, pub_ts, 100)), 1, 5000);
    const UdpRecvTarget tg = b.target();
    double counters[kCounterCount] = {};
    table.unprotect_batch(tg, b.n, b.status, counters);
    CaptureSink sink;
    engine.process_batch(tg, b.n, b.status, table, now_us + 3'000'000, sink);
    size_t to_leg3 = 0;
    for (Sent& s : sink.sent) {
      if (s.port != 7203) continue;
      ++to_leg3;
      size_t len = 0;
      CHECK(leg3.rx.unprotect(s.bytes.data(), s.bytes.size(), &len) == SrtpStatus::kOk);
      CHECK_EQ(ReadU32(s.bytes.data() + 8), 0xC3u);  // its own consumer's SSRC, never the old leg's 0xC2
    }
    CHECK_EQ(to_leg3, 1u);
  }
  // Removing the old consumer leaves the new transport's consumers alone: c3 still reports.
  CHECK(engine.remove_consumer(c2));
  const uint32_t fresh[] = {c3};
  CaptureSink after;
  CHECK_EQ(engine.send_sender_reports(fresh, wall3, 1, now_us + 3'500'000, after), 1u);
  CHECK_EQ(after.sent.size(), 1u);
  CHECK_EQ(after.sent[0].port, 7203);
}

// A consumer that continues another's numbering on the SSRC (a new publisher on the subscriber's
// transceiver, lib/sfu router.ts) continues its sender reports' counts too: the subscriber's counts
// of the SSRC do not fall back to 0 (RFC 3550 §6.4.1 resets them only with a new SSRC).
void TestContinuedCounts() {
  Keyed first_pub(1), second_pub(2), leg(3);
  UdpSessionTable table;
  table.add(udp_remote_key(std::array<uint8_t, 16>{127, 0, 0, 1}.data(), 5000, 4), &first_pub.rx);
  table.add(udp_remote_key(std::array<uint8_t, 16>{127, 0, 0, 2}.data(), 5000, 4), &second_pub.rx);
  ForwardEngine engine;
  const uint32_t pa = engine.add_producer(&first_pub.rx, kPubSsrc, false, 0);
  const uint32_t pb = engine.add_producer(&second_pub.rx, kPubSsrc + 1, false, 0);
  const sockaddr_in addr = Address(7301);
  const uint32_t t = engine.add_transport(&leg.tx, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  ForwardConsumerParams params;
  params.ssrc = 0xD1;
  params.payload_types[96] = 96;
  params.clock_rate = kClock;
  uint64_t now_us = 1'000'000;
  uint16_t seq = 10;
  uint64_t received_payload = 0;
  // `n` packets of `payload` bytes from `pub` (host 127.0.0.`host`), each forwarded to the leg.
  auto forward = [&](Keyed& pub, uint8_t host, uint32_t ssrc, int n, size_t payload) {
    for (int k = 0; k < n; ++k) {
      TestRecvBatch b;
      std::vector<uint8_t> rtp = pwt_test::RtpPacket(96, seq, 1000u * seq, ssrc, payload);
      ++seq;
      b.add(Protect(pub.tx, rtp), host, 5000);
      const UdpRecvTarget tg = b.target();
      double counters[kCounterCount] = {};
      table.unprotect_batch(tg, b.n, b.status, counters);
      CaptureSink sink;
      CHECK_EQ(engine.process_batch(tg, b.n, b.status, table, now_us, sink), 1);
      CHECK_EQ(sink.sent.size(), 1u);
      for (Sent& s : sink.sent) {
        size_t out = 0;
        CHECK(leg.rx.unprotect(s.bytes.data(), s.bytes.size(), &out) == SrtpStatus::kOk);
        received_payload += out - 12;
      }
      now_us += 20'000;
    }
  };
  // The report the leg's subscriber reads for consumer `id` now.
  auto report = [&](uint32_t id) {
    const uint32_t ids[] = {id};
    const double wall[] = {1.7e12};
    CaptureSink out;
    CHECK_EQ(engine.send_sender_reports(ids, wall, 1, now_us, out), 1u);
    ParsedReport r;
    if (out.sent.size() != 1) return r;
    size_t len = 0;
    CHECK(leg.rx.unprotect(out.sent[0].bytes.data(), out.sent[0].bytes.size(), &len) == SrtpStatus::kOk);
    return Parse(out.sent[0].bytes.data(), len);
  };
  const uint32_t old_c = engine.add_consumer(pa, t, params);
  forward(first_pub, 1, kPubSsrc, 3, 100);
  const ParsedReport before = report(old_c);
  CHECK(before.ok);
  CHECK_EQ(before.packets, 3u);
  CHECK_EQ(before.octets, 300u);
  const uint32_t c = engine.add_consumer(pb, t, params);
  CHECK(engine.continue_consumer_numbering(c, old_c));
  CHECK(engine.remove_consumer(old_c));
  forward(second_pub, 2, kPubSsrc + 1, 2, 50);
  const ParsedReport after = report(c);
  CHECK(after.ok);
  CHECK_EQ(after.ssrc, 0xD1u);
  CHECK_EQ(after.packets, 5u);
  CHECK_EQ(after.octets, 400u);
  CHECK_EQ(static_cast<uint64_t>(after.octets), received_payload);
  // Continued twice: the third consumer counts both before it.
  const uint32_t third = engine.add_consumer(pa, t, params);
  CHECK(engine.continue_consumer_numbering(third, c));
  CHECK(engine.remove_consumer(c));
  forward(first_pub, 1, kPubSsrc, 1, 10);
  const ParsedReport last = report(third);
  CHECK_EQ(last.packets, 6u);
  CHECK_EQ(last.octets, 410u);
  // A consumer that continues nobody counts its own packets only.
  ForwardConsumerParams other = params;
  other.ssrc = 0xD2;
  const uint32_t fresh = engine.add_consumer(pb, t, other);
  forward(second_pub, 2, kPubSsrc + 1, 1, 7);
  const ParsedReport own = report(fresh);
  CHECK_EQ(own.packets, 1u);
  CHECK_EQ(own.octets, 7u);
}

// The writer alone: lengths for every CNAME size, refusals, NTP conversion against the JavaScript rule.
void TestWriter() {
  std::vector<uint8_t> buf(600);
  ForwardSenderReportFields f;
  f.ssrc = 0xDEADBEEF;
  for (size_t n = 0; n <= kForwardCnameMax; ++n) {
    const std::string cname(n, 'c');
    const size_t len = forward_sender_report_write(buf.data(), buf.size(), f, reinterpret_cast<const uint8_t*>(cname.data()), n);
    CHECK_EQ(len, forward_sender_report_length(n));
    CHECK_EQ(len % 4, 0u);
    const ParsedReport r = Parse(buf.data(), len);
    CHECK(r.ok);
    CHECK(r.cname == cname);
    // Too small a buffer by one byte: nothing written.
    CHECK_EQ(forward_sender_report_write(buf.data(), len - 1, f, reinterpret_cast<const uint8_t*>(cname.data()), n), 0u);
  }
  const std::string long_name(kForwardCnameMax + 1, 'z');
  CHECK_EQ(forward_sender_report_write(buf.data(), buf.size(), f, reinterpret_cast<const uint8_t*>(long_name.data()), long_name.size()), 0u);
  uint32_t sec = 1, frac = 1;
  forward_ntp_from_unix_ms(0, &sec, &frac);
  CHECK_EQ(sec, 2208988800u);
  CHECK_EQ(frac, 0u);
  forward_ntp_from_unix_ms(1500.5, &sec, &frac);
  CHECK_EQ(sec, 2208988801u);
  CHECK_EQ(frac, static_cast<uint32_t>(std::round(0.5005 * 4294967296.0)));
  forward_ntp_from_unix_ms(std::nan(""), &sec, &frac);
  CHECK_EQ(sec, 0u);
  // 2036: NTP era 0 wraps (seconds modulo 2^32), as ntpFromUnixMs does.
  forward_ntp_from_unix_ms((4294967296.0 - 2208988800.0 + 5) * 1000.0, &sec, &frac);
  CHECK_EQ(sec, 5u);
  CHECK_EQ(forward_rtp_timestamp_at(0xFFFFFF00u, 1'000'000, 1'010'000, 90000), 0xFFFFFF00u + 900u);
  CHECK_EQ(forward_rtp_timestamp_at(77, 2'000'000, 1'000'000, 90000), 77u);  // an older now: no negative time
}

}  // namespace

// RFC 3611 §4.4/§4.5 on a leg: the subscriber's RR + XR RRTR is consumed in the receive batch, and
// the leg's next SR carries an XR DLRR (from the consumer's SSRC, about the RRTR's sender: its NTP
// middle 32 bits and the delay since it arrived); the one after carries none. An XR without a
// report block before it, or from an SSRC the connection publishes, goes to JavaScript. An idle
// leg's reporter takes a pending RRTR instead (take_consumer_receiver_reference_time).
void TestRrtrAnswered() {
  Keyed publisher(1), leg(2);
  UdpSessionTable table;
  ForwardEngine engine;
  table.add(udp_remote_key(std::array<uint8_t, 16>{127, 0, 0, 1}.data(), 5000, 4), &publisher.rx);
  const uint32_t producer = engine.add_producer(&publisher.rx, kPubSsrc, false, 0);
  const sockaddr_in a = Address(7401);
  const uint32_t t = engine.add_transport(&leg.tx, reinterpret_cast<const sockaddr*>(&a), sizeof a);
  ForwardConsumerParams p;
  p.ssrc = 0xC1;
  p.payload_types[96] = 96;
  p.clock_rate = kClock;
  const uint32_t c = engine.add_consumer(producer, t, p);
  CHECK(c != 0);
  {
    TestRecvBatch b;
    b.add(Protect(publisher.tx, Rtp(1, 1000, 100)), 1, 5000);
    const UdpRecvTarget tg = b.target();
    double counters[kCounterCount] = {};
    table.unprotect_batch(tg, b.n, b.status, counters);
    CaptureSink sink;
    CHECK_EQ(engine.process_batch(tg, b.n, b.status, table, 1'000'000, sink), 1);
  }
  CHECK(engine.set_transport_rtcp_kinds(t, kRtcpKindReceiverReport | kRtcpKindReceiverReferenceTime));
  // One clear slot from the leg's session (as unprotect_batch leaves it); returns what was consumed.
  const auto deliver = [&](const std::vector<uint8_t>& rtcp, uint64_t at_us) {
    TestRecvBatch b;
    b.add(rtcp, 2, 7401);
    b.status[0] = kRecvClear;
    SrtpSession* sessions[1] = {&leg.tx};
    CaptureSink sink;
    return engine.process_batch(b.target(), b.n, b.status, table, at_us, sink, nullptr, sessions);
  };
  // RR (reporter 0x99, one block about 0xC1, no LSR) + XR (0x99, RRTR).
  const auto compound = [](bool with_rr, uint32_t xr_ssrc) {
    std::vector<uint8_t> v;
    if (with_rr) {
      v = {0x81, 201, 0, 7};
      for (uint32_t w : {0x99u, 0xC1u, 0u, 0u, 0u, 0u, 0u}) {
        v.resize(v.size() + 4);
        WriteU32(v.data() + v.size() - 4, w);
      }
    }
    const std::vector<uint8_t> xr = {0x80, 207, 0, 4};
    v.insert(v.end(), xr.begin(), xr.end());
    for (uint32_t w : {xr_ssrc, 0x04000002u, 0xAABBCCDDu, 0x11223344u}) {
      v.resize(v.size() + 4);
      WriteU32(v.data() + v.size() - 4, w);
    }
    return v;
  };
  CHECK_EQ(deliver(compound(true, 0x99), 2'000'000), 1);
  CHECK_EQ(engine.counters()[kFwdReceiverReferenceTimes], 1.0);
  CHECK_EQ(engine.counters()[kFwdRtcpConsumed], 1.0);

  const uint32_t ids[] = {c};
  const double wall[] = {1.7e12};
  CaptureSink first;
  CHECK_EQ(engine.send_sender_reports(ids, wall, 1, 2'050'000, first), 1u);
  CHECK_EQ(first.sent.size(), 1u);
  size_t out = 0;
  CHECK(leg.rx.unprotect(first.sent[0].bytes.data(), first.sent[0].bytes.size(), &out) == SrtpStatus::kOk);
  CHECK(out > kForwardDlrrLength);
  const uint8_t* sr = first.sent[0].bytes.data();
  CHECK(Parse(sr, out - kForwardDlrrLength).ok);
  const uint8_t* x = sr + out - kForwardDlrrLength;
  CHECK_EQ(x[0], 0x80);
  CHECK_EQ(x[1], 207);
  CHECK_EQ(ReadU16(x + 2), 5);
  CHECK_EQ(ReadU32(x + 4), 0xC1u);         // from the leg's stream
  CHECK_EQ(x[8], 5);                       // DLRR
  CHECK_EQ(ReadU16(x + 10), 3);            // one sub-block
  CHECK_EQ(ReadU32(x + 12), 0x99u);        // about the RRTR's sender
  CHECK_EQ(ReadU32(x + 16), 0xCCDD1122u);  // LRR: the NTP timestamp's middle 32 bits
  CHECK_EQ(ReadU32(x + 20), 3277u);        // 50 ms in 1/65536 s (3276.8)
  CHECK_EQ(engine.counters()[kFwdDlrrSent], 1.0);
  // Answered once.
  CaptureSink second;
  CHECK_EQ(engine.send_sender_reports(ids, wall, 1, 3'000'000, second), 1u);
  CHECK(leg.rx.unprotect(second.sent[0].bytes.data(), second.sent[0].bytes.size(), &out) == SrtpStatus::kOk);
  CHECK(Parse(second.sent[0].bytes.data(), out).ok);
  CHECK_EQ(engine.counters()[kFwdDlrrSent], 1.0);
  const size_t plain_sr = out;

  // An idle leg sends no native SR: its reporter takes the pending RRTR for the report it builds in
  // JavaScript (one call), answered once; the next native SR then carries no DLRR.
  ForwardDlrrItem taken;
  CHECK(!engine.take_consumer_receiver_reference_time(c, 3'010'000, &taken));  // none pending
  CHECK_EQ(deliver(compound(true, 0x99), 3'020'000), 1);
  CHECK(!engine.take_consumer_receiver_reference_time(c + 100, 3'040'000, &taken));  // unknown consumer
  CHECK(!engine.take_consumer_receiver_reference_time(c, 3'040'000, nullptr));
  CHECK(engine.take_consumer_receiver_reference_time(c, 3'045'000, &taken));
  CHECK_EQ(taken.ssrc, 0x99u);
  CHECK_EQ(taken.last_rr, 0xCCDD1122u);
  CHECK_EQ(taken.delay_since_last_rr, 1638u);  // 25 ms in 1/65536 s (1638.4)
  CHECK_EQ(engine.counters()[kFwdDlrrSent], 2.0);
  CHECK(!engine.take_consumer_receiver_reference_time(c, 3'050'000, &taken));
  CaptureSink third;
  CHECK_EQ(engine.send_sender_reports(ids, wall, 1, 3'060'000, third), 1u);
  CHECK(leg.rx.unprotect(third.sent[0].bytes.data(), third.sent[0].bytes.size(), &out) == SrtpStatus::kOk);
  CHECK_EQ(out, plain_sr);  // SR + SDES only
  CHECK_EQ(engine.counters()[kFwdDlrrSent], 2.0);

  // No report block names the consumer the XR belongs to: JavaScript's.
  CHECK_EQ(deliver(compound(false, 0x99), 3'100'000), 0);
  // The XR's SSRC is a stream this connection publishes (JavaScript routes it to that receiver).
  CHECK(engine.add_producer(&leg.tx, 0x77, false, 0) != 0);
  CHECK_EQ(deliver(compound(true, 0x77), 3'200'000), 0);
  CHECK_EQ(engine.counters()[kFwdRtcpToJs], 2.0);
  CHECK_EQ(engine.counters()[kFwdReceiverReferenceTimes], 2.0);
  // Without the kind, an RRTR compound goes to JavaScript whole.
  CHECK(engine.set_transport_rtcp_kinds(t, kRtcpKindReceiverReport));
  CHECK_EQ(deliver(compound(true, 0x99), 3'300'000), 0);
  CHECK_EQ(engine.counters()[kFwdRtcpToJs], 3.0);
}

int main() {
  TestWriter();
  TestLegReports();
  TestContinuedCounts();
  TestRrtrAnswered();
  TEST_MAIN_END();
}
