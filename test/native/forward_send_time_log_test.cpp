// pwt::ForwardSendTimeLog and forward_read_abs_send_time (native/forward/forward_send_time_log.hpp):
// the 24-bit abs-send-time is found in one-byte and two-byte extension blocks, not found when the
// element has another length, is absent, or its block runs past the packet; the ring drains oldest
// first and counts what it overwrote when full; the engine logs each consumed packet's SSRC, send
// time, size and arrival once the producer asks for it.
#include <array>
#include <cstdint>
#include <vector>

#include "native/forward/forward_engine.hpp"
#include "native/forward/forward_send_time_log.hpp"
#include "test/native/check.hpp"
#include "test/native/recv_batch.hpp"

using namespace pwt;

namespace {

std::vector<uint8_t> Packet(uint16_t profile, const std::vector<uint8_t>& ext, uint32_t ssrc = 9) {
  std::vector<uint8_t> p = {0x90, 111, 0, 1, 0, 0, 0, 1};
  for (int i = 3; i >= 0; --i) p.push_back(static_cast<uint8_t>(ssrc >> (8 * i)));
  p.push_back(static_cast<uint8_t>(profile >> 8));
  p.push_back(static_cast<uint8_t>(profile));
  const size_t words = (ext.size() + 3) / 4;
  p.push_back(static_cast<uint8_t>(words >> 8));
  p.push_back(static_cast<uint8_t>(words));
  p.insert(p.end(), ext.begin(), ext.end());
  p.resize(16 + words * 4, 0);
  p.push_back(0xAA);  // payload
  return p;
}

void TestRead() {
  // One-byte: transport-cc (id 5, 2 bytes), abs-send-time (id 3, 3 bytes).
  auto one = Packet(0xBEDE, {0x51, 0x12, 0x34, 0x32, 0xAB, 0xCD, 0xEF});
  CHECK_EQ(forward_read_abs_send_time(one.data(), one.size(), 3), 0xABCDEF);
  CHECK_EQ(forward_read_abs_send_time(one.data(), one.size(), 5), -1);  // 2 bytes: not a send time
  CHECK_EQ(forward_read_abs_send_time(one.data(), one.size(), 4), -1);
  // Two-byte form.
  auto two = Packet(0x1000, {0, 200, 3, 0x01, 0x02, 0x03});
  CHECK_EQ(forward_read_abs_send_time(two.data(), two.size(), 200), 0x010203);
  // The block claims more than the packet has; no extension; id 0.
  auto cut = one;
  cut[15] = 40;
  CHECK_EQ(forward_read_abs_send_time(cut.data(), cut.size(), 3), -1);
  auto plain = one;
  plain[0] = 0x80;
  CHECK_EQ(forward_read_abs_send_time(plain.data(), plain.size(), 3), -1);
  CHECK_EQ(forward_read_abs_send_time(one.data(), one.size(), 0), -1);
  for (size_t n = 0; n < one.size(); ++n) forward_read_abs_send_time(one.data(), n, 3);  // never reads past n
}

void TestRing() {
  ForwardSendTimeLog log;
  CHECK(!log.enabled());
  log.record(ForwardSendTime{1, 2, 3, 4});  // off: ignored
  CHECK_EQ(log.size(), 0u);
  log.enable(4);
  for (uint32_t i = 0; i < 6; ++i) log.record(ForwardSendTime{100 + i, static_cast<int32_t>(i), 50 + i, 1000u + i});
  CHECK_EQ(log.size(), 4u);
  CHECK_EQ(log.overwritten(), 2u);
  ForwardSendTime out[8];
  CHECK_EQ(log.drain(out, 3), 3u);
  CHECK_EQ(out[0].ssrc, 102u);  // the two oldest were overwritten
  CHECK_EQ(out[0].abs_send_time, 2);
  CHECK_EQ(out[0].length, 52u);
  CHECK_EQ(out[0].arrival_us, 1002u);
  CHECK_EQ(out[2].ssrc, 104u);
  CHECK_EQ(log.drain(out, 8), 1u);
  CHECK_EQ(out[0].ssrc, 105u);
  CHECK_EQ(log.drain(out, 8), 0u);
}

// The engine logs consumed packets with their send time (and -1 without one) at their arrival.
void TestEngine() {
  UdpSessionTable table;
  const int source = 1;  // a plain (clear) source: no SRTP needed to reach the engine
  ForwardEngine engine(16);
  const uint32_t producer = engine.add_producer(&source, 9, false);
  CHECK(producer != 0);
  CHECK(engine.set_producer_abs_send_time(producer, 3));
  CHECK(!engine.set_producer_abs_send_time(producer + 1, 3));
  TestRecvBatch b;
  b.add(Packet(0xBEDE, {0x32, 0x00, 0x10, 0x00}));
  b.add(Packet(0xBEDE, {0x51, 0x00, 0x01}));  // no abs-send-time
  b.add(Packet(0xBEDE, {0x32, 0x00, 0x10, 0x00}, 77));  // another SSRC: not this producer
  for (int i = 0; i < b.n; ++i) b.status[i] = kRecvClear;
  uint64_t arrivals[UdpSocket::kMaxBatch] = {7'000'000, 0, 7'000'000};
  UdpRecvTarget target = b.target();
  target.arrival_us = arrivals;
  struct NoSink : ForwardSink {
    void send(const UdpSendItem*, size_t) override {}
  } sink;
  CHECK_EQ(engine.process_batch(target, b.n, b.status, table, 8'000'000, sink, &source), 2);
  ForwardSendTimeLog* log = engine.producer_send_times(producer);
  CHECK(log != nullptr);
  ForwardSendTime out[4];
  CHECK_EQ(log->drain(out, 4), 2u);
  CHECK_EQ(out[0].ssrc, 9u);
  CHECK_EQ(out[0].abs_send_time, 0x001000);
  CHECK_EQ(out[0].length, static_cast<uint32_t>(b.lengths[0]));
  CHECK_EQ(out[0].arrival_us, 7'000'000u);
  CHECK_EQ(out[1].abs_send_time, -1);
  CHECK_EQ(out[1].arrival_us, 8'000'000u);
  // Logging stopped: nothing more is recorded.
  CHECK(engine.set_producer_abs_send_time(producer, 0));
  TestRecvBatch c;
  c.add(Packet(0xBEDE, {0x32, 0x00, 0x20, 0x00}));
  c.status[0] = kRecvClear;
  const UdpRecvTarget t2 = c.target();
  CHECK_EQ(engine.process_batch(t2, c.n, c.status, table, 9'000'000, sink, &source), 1);
  CHECK_EQ(log->size(), 0u);
}

}  // namespace

int main() {
  TestRead();
  TestRing();
  TestEngine();
  TEST_MAIN_END();
}
