// pwt::ForwardPlainSource and the engine's plain/pipe transports (docs/scaling.md): the filter admits
// only the connected remote's RTP/RTCP (strangers and non-RTP are rejected and counted), comedia
// learns the first sender once, and the engine forwards clear packets from the filter to a WebRTC
// transport (SRTP, its own sink) and to a plain transport (clear, the filter's remote, its own sink);
// a plain retransmission reports what its cache missed; a pipe producer's RTX stream (RFC 4588 §4) is
// unwrapped into the stream before its cache and consumers, and bad RTX is dropped and counted.
#include <netinet/in.h>

#include <array>
#include <cstring>
#include <vector>

#include "native/forward/forward_engine.hpp"
#include "native/forward/forward_plain_source.hpp"
#include "native/srtp/srtp_packet.hpp"
#include "native/srtp/srtp_session.hpp"
#include "test/native/check.hpp"
#include "test/native/packet_builders.hpp"
#include "test/native/recv_batch.hpp"

using namespace pwt;

namespace {

std::vector<uint8_t> Rtp(uint16_t seq, uint32_t ssrc, size_t payload, uint8_t pt = 96) {
  std::vector<uint8_t> p = pwt_test::RtpPacket(pt, seq, 3000u * seq, ssrc, payload);
  for (size_t i = 0; i < payload; ++i) p[12 + i] = static_cast<uint8_t>(seq * 17 + i);
  return p;
}

using Batch = TestRecvBatch;

struct CaptureSink : ForwardSink {
  std::vector<std::vector<uint8_t>> sent;
  std::vector<uint16_t> ports;
  int calls = 0;
  void send(const UdpSendItem* items, size_t count) override {
    ++calls;
    for (size_t i = 0; i < count; ++i) {
      sent.emplace_back(items[i].data, items[i].data + items[i].length);
      ports.push_back(ntohs(reinterpret_cast<const sockaddr_in*>(items[i].address)->sin_port));
    }
  }
};

sockaddr_in Address(uint8_t host, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(0x7f000000u | host);
  return a;
}

ForwardConsumerParams Params(uint32_t ssrc, uint8_t pt) {
  ForwardConsumerParams p;
  p.ssrc = ssrc;
  p.payload_types[96] = pt;
  p.clock_rate = 90000;
  return p;
}

void TestFilter() {
  ForwardPlainSource source;
  Batch b;
  b.add(Rtp(1, 5, 20), 1, 4000);  // before connect: nobody is the remote
  const sockaddr_in remote = Address(1, 4000);
  UdpRecvTarget t = b.target();
  source.filter_batch(t, b.n, b.status);
  CHECK_EQ(b.status[0], kRecvRejected);
  CHECK_EQ(source.counters()[kPlainSpoofed], 1.0);
  CHECK(source.set_remote(reinterpret_cast<const sockaddr*>(&remote), sizeof remote));

  Batch c;
  c.add(Rtp(2, 5, 20), 1, 4000);                         // the remote's RTP
  c.add(Rtp(3, 5, 20), 1, 4001);                         // same host, other port: a stranger
  c.add(Rtp(4, 5, 20), 2, 4000);                         // other host
  c.add({0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42}, 1, 4000);  // STUN-looking from the remote
  c.add({0x80, 0x60}, 1, 4000);                          // too short
  c.add({0x81, 201, 0, 1, 0, 0, 0, 9}, 1, 4000);          // RTCP RR from the remote
  c.status[6] = kRecvClear;                               // (as if an SRTP route had unprotected it)
  c.lengths[6] = 8;
  c.n = 7;
  t = c.target();
  source.filter_batch(t, c.n, c.status);
  CHECK_EQ(c.status[0], kRecvClear);
  CHECK_EQ(c.status[1], kRecvRejected);
  CHECK_EQ(c.status[2], kRecvRejected);
  CHECK_EQ(c.status[3], kRecvRejected);
  CHECK_EQ(c.status[4], kRecvRejected);
  CHECK_EQ(c.status[5], kRecvClear);
  CHECK_EQ(c.status[6], kRecvClear);
  CHECK_EQ(source.counters()[kPlainSpoofed], 3.0);
  CHECK_EQ(source.counters()[kPlainNotRtp], 2.0);
  CHECK_EQ(source.counters()[kPlainAccepted], 3.0);

  // SRTP mode: unrouted datagrams are strangers even from the remote's address.
  ForwardPlainSource srtp;
  srtp.set_srtp(true);
  CHECK(srtp.set_remote(reinterpret_cast<const sockaddr*>(&remote), sizeof remote));
  Batch d;
  d.add(Rtp(5, 5, 20), 1, 4000);
  t = d.target();
  srtp.filter_batch(t, d.n, d.status);
  CHECK_EQ(d.status[0], kRecvRejected);

  // Comedia: the first RTP sender becomes the remote, once.
  ForwardPlainSource comedia;
  comedia.set_comedia(true);
  Batch e;
  e.add({0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0}, 3, 7000);  // DTLS-looking: never learned from
  e.add(Rtp(6, 5, 20), 2, 6000);
  e.add(Rtp(7, 5, 20), 3, 7000);
  t = e.target();
  comedia.filter_batch(t, e.n, e.status);
  CHECK_EQ(e.status[0], kRecvRejected);
  CHECK_EQ(e.status[1], kRecvClear);
  CHECK_EQ(e.status[2], kRecvRejected);
  CHECK_EQ(comedia.counters()[kPlainLearned], 1.0);
  CHECK_EQ(comedia.remote_length(), static_cast<socklen_t>(sizeof(sockaddr_in)));
  CHECK_EQ(ntohs(reinterpret_cast<const sockaddr_in*>(comedia.remote())->sin_port), 6000);
  CHECK(!source.set_remote(nullptr, 0));
}

void TestPlainForwarding() {
  ForwardPlainSource source;
  const sockaddr_in remote = Address(1, 4000);
  CHECK(source.set_remote(reinterpret_cast<const sockaddr*>(&remote), sizeof remote));
  ForwardEngine engine(16);
  const uint32_t producer = engine.add_producer(&source, 0x55, false, 64);
  CHECK(producer != 0);

  // A WebRTC subscriber (SRTP, the mux socket) and a plain sink (clear, the plain socket).
  SrtpSession tx, rx;
  SrtpProfileParams p{};
  CHECK(GetSrtpProfileParams(SrtpProfile::kAeadAes128Gcm, &p));
  uint8_t ka[32] = {1}, sa[14] = {2}, kb[32] = {3}, sb[14] = {4};
  CHECK(tx.Key(SrtpProfile::kAeadAes128Gcm, ka, p.key_len, sa, p.salt_len, kb, p.key_len, sb, p.salt_len) == SrtpStatus::kOk);
  CHECK(rx.Key(SrtpProfile::kAeadAes128Gcm, kb, p.key_len, sb, p.salt_len, ka, p.key_len, sa, p.salt_len) == SrtpStatus::kOk);
  CaptureSink mux_sink, plain_sink, batch_sink;
  const sockaddr_in sub = Address(9, 9000);
  const uint32_t webrtc = engine.add_transport(&tx, reinterpret_cast<const sockaddr*>(&sub), sizeof sub, &mux_sink);
  ForwardPlainSource sink_remote;
  const sockaddr_in sink_addr = Address(8, 8000);
  CHECK(sink_remote.set_remote(reinterpret_cast<const sockaddr*>(&sink_addr), sizeof sink_addr));
  const uint32_t plain = engine.add_plain_transport(&sink_remote, nullptr, &plain_sink);
  ForwardPlainSource unknown_remote;  // comedia not yet learned: nothing to send to
  const uint32_t nowhere = engine.add_plain_transport(&unknown_remote, nullptr, &plain_sink);
  CHECK(webrtc != 0 && plain != 0 && nowhere != 0);
  CHECK_EQ(engine.add_plain_transport(nullptr, nullptr, &plain_sink), 0u);
  CHECK_EQ(engine.add_plain_transport(&sink_remote, nullptr, nullptr), 0u);
  const uint32_t c_webrtc = engine.add_consumer(producer, webrtc, Params(0xA1, 100));
  const uint32_t c_plain = engine.add_consumer(producer, plain, Params(0xB1, 97));
  const uint32_t c_nowhere = engine.add_consumer(producer, nowhere, Params(0xC1, 97));
  CHECK(c_webrtc != 0 && c_plain != 0 && c_nowhere != 0);

  Batch b;
  std::vector<std::vector<uint8_t>> clear;
  for (int i = 0; i < 10; ++i) {
    clear.push_back(Rtp(static_cast<uint16_t>(500 + i), 0x55, 100));
    b.add(clear.back(), 1, 4000);
  }
  b.add(Rtp(1, 0x55, 100), 2, 4000);  // a stranger: rejected by the filter, never forwarded
  UdpSessionTable table;  // a plain socket has no routes
  UdpRecvTarget t = b.target();
  source.filter_batch(t, b.n, b.status);
  const int consumed = engine.process_batch(t, b.n, b.status, table, 1'000'000, batch_sink, &source);
  CHECK_EQ(consumed, 10);
  CHECK_EQ(b.status[10], kRecvRejected);
  CHECK(batch_sink.sent.empty());  // every transport named its own sink
  CHECK_EQ(mux_sink.sent.size(), 10u);
  CHECK_EQ(plain_sink.sent.size(), 10u);
  CHECK_EQ(engine.consumer_counters(c_nowhere)->dropped[static_cast<size_t>(ForwardDrop::kNoTransport)], 10u);
  for (int i = 0; i < 10; ++i) {
    // Plain: clear, rewritten, to the sink's remote.
    const auto& s = plain_sink.sent[static_cast<size_t>(i)];
    CHECK_EQ(s.size(), clear[i].size());
    CHECK_EQ(plain_sink.ports[static_cast<size_t>(i)], 8000);
    CHECK_EQ(ReadU32(s.data() + 8), 0xB1u);
    CHECK_EQ(s[1], 97);
    CHECK_MEM(s.data() + 12, clear[i].data() + 12, clear[i].size() - 12);
    // WebRTC: SRTP that the subscriber's session opens.
    std::vector<uint8_t> m = mux_sink.sent[static_cast<size_t>(i)];
    size_t out = 0;
    CHECK(rx.unprotect(m.data(), m.size(), &out) == SrtpStatus::kOk);
    CHECK_EQ(ReadU32(m.data() + 8), 0xA1u);
    CHECK_MEM(m.data() + 12, clear[i].data() + 12, clear[i].size() - 12);
  }

  // Retransmission to the plain consumer: a cached number is resent in the clear; an uncached one is
  // reported as missed in producer space.
  const uint16_t seqs[2] = {504, 9};
  uint16_t missed[2] = {};
  size_t missed_count = 0;
  CaptureSink other;
  CHECK_EQ(engine.retransmit(c_plain, seqs, 2, 2'000'000, other, missed, &missed_count), 1u);
  CHECK_EQ(missed_count, 1u);
  CHECK_EQ(missed[0], 9);
  CHECK_EQ(plain_sink.sent.size(), 11u);
  CHECK_EQ(ReadU16(plain_sink.sent.back().data() + 2), 504);
  CHECK(other.sent.empty());

  // The same stream seen on another source (an SRTP session) is a different producer.
  CHECK(engine.add_producer(&rx, 0x55, false) != 0);
  CHECK_EQ(engine.add_producer(&source, 0x55, false), 0u);
}

void TestPipeRtxUnwrap() {
  ForwardPlainSource source;
  const sockaddr_in remote = Address(1, 4000);
  CHECK(source.set_remote(reinterpret_cast<const sockaddr*>(&remote), sizeof remote));
  ForwardEngine engine(16);
  const uint32_t producer = engine.add_producer(&source, 0x55, false, 64);
  CHECK(producer != 0);
  CHECK(engine.add_producer_rtx(producer, 0x66, 97, 96));
  CHECK(!engine.add_producer_rtx(producer, 0x66, 97, 96));   // taken
  CHECK(!engine.add_producer_rtx(producer, 0x55, 97, 96));   // the stream's own SSRC
  CHECK(!engine.add_producer_rtx(producer, 0x77, 128, 96));  // not a payload type
  CHECK(!engine.add_producer_rtx(999, 0x77, 97, 96));        // unknown producer
  CaptureSink plain_sink, batch_sink;
  ForwardPlainSource sink_remote;
  const sockaddr_in sink_addr = Address(8, 8000);
  CHECK(sink_remote.set_remote(reinterpret_cast<const sockaddr*>(&sink_addr), sizeof sink_addr));
  const uint32_t plain = engine.add_plain_transport(&sink_remote, nullptr, &plain_sink);
  const uint32_t consumer = engine.add_consumer(producer, plain, Params(0xB1, 96));
  CHECK(plain != 0 && consumer != 0);

  // 700 and 702 arrive; 701 comes as RTX (OSN 701, RTX sequence number 5, marker set).
  const std::vector<uint8_t> lost = Rtp(701, 0x55, 50);
  std::vector<uint8_t> rtx = Rtp(5, 0x66, 52, 0x80 | 97);
  rtx[12] = static_cast<uint8_t>(701 >> 8);
  rtx[13] = static_cast<uint8_t>(701 & 0xff);
  WriteU32(rtx.data() + 4, ReadU32(lost.data() + 4));
  std::memcpy(rtx.data() + 14, lost.data() + 12, 50);
  Batch b;
  b.add(Rtp(700, 0x55, 50), 1, 4000);
  b.add(Rtp(702, 0x55, 50), 1, 4000);
  b.add(rtx, 1, 4000);
  b.add(Rtp(6, 0x66, 1, 97), 1, 4000);    // one payload byte: no OSN
  b.add(Rtp(7, 0x66, 20, 96), 1, 4000);   // the RTX SSRC with the media payload type
  std::vector<uint8_t> padded = Rtp(8, 0x66, 4, 97);
  padded[0] |= 0x20;
  padded.back() = 3;                      // padding leaves one payload byte
  b.add(padded, 1, 4000);
  b.add(Rtp(9, 0x67, 20, 97), 1, 4000);   // an SSRC that is no stream: left to JavaScript
  UdpSessionTable table;
  UdpRecvTarget t = b.target();
  source.filter_batch(t, b.n, b.status);
  CHECK_EQ(engine.process_batch(t, b.n, b.status, table, 1'000'000, batch_sink, &source), 6);
  CHECK_EQ(b.status[6], kRecvClear);
  const ForwardProducerCounters* pc = engine.producer_counters(producer);
  CHECK_EQ(pc->rtx_received, 1u);
  CHECK_EQ(pc->rtx_dropped, 3u);
  CHECK_EQ(pc->packets, 3u);
  CHECK_EQ(pc->cached, 3u);
  CHECK_EQ(b.lengths[2], static_cast<uint32_t>(lost.size()));
  CHECK_EQ(plain_sink.sent.size(), 3u);
  const auto& repaired = plain_sink.sent[2];
  CHECK_EQ(repaired.size(), lost.size());
  CHECK_EQ(ReadU32(repaired.data() + 8), 0xB1u);
  CHECK_EQ(repaired[1], 0x80 | 96);  // the stream's payload type, marker kept
  CHECK_EQ(ReadU16(repaired.data() + 2), 701);
  CHECK_MEM(repaired.data() + 12, lost.data() + 12, 50);

  // The restored packet is in the cache: a NACK for 701 is answered from it.
  const uint16_t seqs[1] = {701};
  CaptureSink other;
  CHECK_EQ(engine.retransmit(consumer, seqs, 1, 2'000'000, other), 1u);
  CHECK_MEM(plain_sink.sent.back().data() + 12, lost.data() + 12, 50);

  // Removing the producer frees its RTX SSRC.
  CHECK(engine.remove_producer(producer));
  const uint32_t again = engine.add_producer(&source, 0x55, false, 64);
  CHECK(engine.add_producer_rtx(again, 0x66, 97, 96));
}

}  // namespace

int main() {
  TestFilter();
  TestPlainForwarding();
  TestPipeRtxUnwrap();
  TEST_MAIN_END();
}
