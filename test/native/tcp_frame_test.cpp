// TCP framing (native/tcp; RFC 4571 §2, RFC 8656 §12.5; docs/udp.md "TCP framing"): frames split at
// every possible chunk boundary, batches that fill, lying lengths, frames past the bound, garbage on a
// TURN stream, slow-loris halves that keep only what arrived; SRTP unprotected in the batch (forged and
// replayed frames refused) and protected + framed on send, read back by the reader.
#include <cstdint>
#include <cstring>
#include <vector>

#include "native/srtp/srtp_profile.hpp"
#include "native/srtp/srtp_session.hpp"
#include "native/tcp/tcp_frame_reader.hpp"
#include "native/tcp/tcp_forward_sink.hpp"
#include "native/tcp/tcp_frame_srtp.hpp"
#include "test/native/check.hpp"
#include "test/native/packet_builders.hpp"

namespace {

using pwt::TcpFrameError;
using pwt::TcpFrameReader;
using pwt::TcpFrameTarget;
using pwt::TcpFraming;

struct Batch {
  std::vector<uint8_t> buffer;
  std::vector<uint32_t> offsets, lengths;
  std::vector<uint8_t> status, relayed;
  TcpFrameTarget target;
  explicit Batch(size_t bytes = 128 * 1024, size_t frames = 64) : buffer(bytes), offsets(frames), lengths(frames), status(frames), relayed(frames) {
    target.buffer = buffer.data();
    target.capacity = bytes;
    target.max_frames = frames;
    target.offsets = offsets.data();
    target.lengths = lengths.data();
  }
  std::vector<uint8_t> frame(int i) const {
    return std::vector<uint8_t>(buffer.begin() + offsets[i], buffer.begin() + offsets[i] + lengths[i]);
  }
};

void Append4571(std::vector<uint8_t>& stream, const std::vector<uint8_t>& packet) {
  stream.push_back(static_cast<uint8_t>(packet.size() >> 8));
  stream.push_back(static_cast<uint8_t>(packet.size()));
  stream.insert(stream.end(), packet.begin(), packet.end());
}

std::vector<uint8_t> Packet(uint8_t first, size_t length, uint8_t fill) {
  std::vector<uint8_t> p(length, fill);
  if (length) p[0] = first;
  return p;
}

// Reads `stream` in chunks of `chunk` bytes (again while a batch fills) and collects every frame.
std::vector<std::vector<uint8_t>> ReadAll(TcpFrameReader& reader, const std::vector<uint8_t>& stream, size_t chunk, Batch& b,
                                          TcpFrameError* error = nullptr) {
  std::vector<std::vector<uint8_t>> out;
  for (size_t at = 0; at < stream.size();) {
    const size_t len = std::min(chunk, stream.size() - at);
    size_t off = 0;
    while (off < len) {
      const pwt::TcpReadResult r = reader.read(stream.data() + at + off, len - off, b.target, 1000 + at);
      for (int i = 0; i < r.frames; ++i) out.push_back(b.frame(i));
      if (error) *error = r.error;
      CHECK(r.consumed > 0 || r.frames > 0);
      if (r.consumed == 0 && r.frames == 0) return out;
      off += r.consumed;
    }
    at += len;
  }
  return out;
}

void TestRfc4571EveryChunkSize() {
  std::vector<std::vector<uint8_t>> packets = {Packet(0x00, 20, 1), Packet(0x80, 1200, 2), Packet(0x16, 1, 3),
                                               Packet(0x81, 300, 4), Packet(0x90, 65535, 5)};
  std::vector<uint8_t> stream;
  for (const auto& p : packets) Append4571(stream, p);
  Append4571(stream, {});  // an empty frame: skipped and counted
  Append4571(stream, Packet(0x80, 40, 6));
  packets.push_back(Packet(0x80, 40, 6));
  for (size_t chunk : {1, 2, 3, 7, 1000, 1202, 65537, 70000, 1 << 20}) {
    TcpFrameReader reader(TcpFraming::kRfc4571, 65535);
    Batch b;
    const auto frames = ReadAll(reader, stream, chunk, b);
    CHECK_EQ(frames.size(), packets.size());
    for (size_t i = 0; i < frames.size() && i < packets.size(); ++i) CHECK(frames[i] == packets[i]);
    CHECK_EQ(reader.pending_bytes(), 0u);
    CHECK_EQ(reader.counters().empty_frames, 1u);
    CHECK_EQ(reader.counters().bytes, stream.size());
    CHECK(reader.error() == TcpFrameError::kNone);
  }
}

void TestBatchFills() {
  // 200 frames through a batch of 16 frames: the reader stops at 16 and continues on the next call.
  std::vector<uint8_t> stream;
  for (int i = 0; i < 200; ++i) Append4571(stream, Packet(0x80, 100, static_cast<uint8_t>(i)));
  TcpFrameReader reader(TcpFraming::kRfc4571, 65535);
  Batch b(128 * 1024, 16);
  pwt::TcpReadResult r = reader.read(stream.data(), stream.size(), b.target, 1);
  CHECK_EQ(r.frames, 16);
  CHECK_EQ(r.consumed, 16u * 102u);
  const auto frames = ReadAll(reader, std::vector<uint8_t>(stream.begin() + r.consumed, stream.end()), stream.size(), b);
  CHECK_EQ(frames.size(), 184u);
  CHECK_EQ(frames.back()[1], 199);
  // A batch's byte area fills too: 3 frames of 1000 bytes through 2500 bytes.
  TcpFrameReader small(TcpFraming::kRfc4571, 1000);
  Batch tiny(2500, 64);
  std::vector<uint8_t> s2;
  for (int i = 0; i < 3; ++i) Append4571(s2, Packet(0x80, 1000, 9));
  r = small.read(s2.data(), s2.size(), tiny.target, 1);
  CHECK_EQ(r.frames, 2);
  CHECK_EQ(r.consumed, 2004u);
  r = small.read(s2.data() + 2004, s2.size() - 2004, tiny.target, 1);
  CHECK_EQ(r.frames, 1);
}

void TestBoundAndLyingLengths() {
  // A length above the bound breaks the stream at once, without waiting for its bytes.
  TcpFrameReader reader(TcpFraming::kRfc4571, 1500);
  Batch b;
  std::vector<uint8_t> stream;
  Append4571(stream, Packet(0x80, 100, 1));
  stream.push_back(0x05);
  stream.push_back(0xdd);  // 1501
  stream.push_back(0x80);
  pwt::TcpReadResult r = reader.read(stream.data(), stream.size(), b.target, 5);
  CHECK_EQ(r.frames, 1);
  CHECK(r.error == TcpFrameError::kFrameTooBig);
  CHECK_EQ(r.consumed, stream.size());
  CHECK_EQ(reader.pending_bytes(), 0u);
  // Once broken, nothing more is framed.
  std::vector<uint8_t> good;
  Append4571(good, Packet(0x80, 10, 1));
  r = reader.read(good.data(), good.size(), b.target, 6);
  CHECK_EQ(r.frames, 0);
  CHECK(r.error == TcpFrameError::kFrameTooBig);
  // The same split across reads: the header arrives a byte at a time.
  TcpFrameReader split(TcpFraming::kRfc4571, 1500);
  const uint8_t hi = 0x05, lo = 0xdd;
  r = split.read(&hi, 1, b.target, 7);
  CHECK(r.error == TcpFrameError::kNone);
  CHECK_EQ(split.pending_bytes(), 1u);
  r = split.read(&lo, 1, b.target, 8);
  CHECK(r.error == TcpFrameError::kFrameTooBig);
  // A frame no empty batch could hold is refused rather than spinning.
  TcpFrameReader wide(TcpFraming::kRfc4571, 65535);
  Batch narrow(1000, 8);
  std::vector<uint8_t> s3;
  Append4571(s3, Packet(0x80, 1001, 1));
  r = wide.read(s3.data(), s3.size(), narrow.target, 9);
  CHECK_EQ(r.frames, 0);
  CHECK(r.error == TcpFrameError::kFrameTooBig);
}

void TestSlowLoris() {
  // A lying length (65,535 announced, 10 bytes sent): only what arrived is held, with its start time.
  TcpFrameReader reader(TcpFraming::kRfc4571, 65535);
  Batch b;
  std::vector<uint8_t> stream = {0xff, 0xff};
  stream.insert(stream.end(), 10, 0x80);
  pwt::TcpReadResult r = reader.read(stream.data(), stream.size(), b.target, 42);
  CHECK_EQ(r.frames, 0);
  CHECK_EQ(r.consumed, stream.size());
  CHECK_EQ(reader.pending_bytes(), 12u);
  CHECK_EQ(reader.pending_since_ms(), 42u);
  CHECK_EQ(reader.pending_frame_length(), 65535u);
  // A byte at a time: still one frame's worth at most, the start time unchanged.
  for (int i = 0; i < 1000; ++i) {
    const uint8_t x = 0x11;
    r = reader.read(&x, 1, b.target, 43 + i);
    CHECK_EQ(r.frames, 0);
  }
  CHECK_EQ(reader.pending_bytes(), 1012u);
  CHECK_EQ(reader.pending_since_ms(), 42u);
}

void TestTurnStream() {
  // STUN (20 + length), ChannelData padded to 4 (RFC 8656 §12.5), back to back, every chunk size.
  std::vector<uint8_t> stun(20 + 8, 0);
  stun[0] = 0x01;
  stun[1] = 0x17;  // Data indication
  stun[3] = 8;
  std::vector<uint8_t> cd1 = {0x40, 0x01, 0x00, 0x05, 0x80, 1, 2, 3, 4};
  std::vector<uint8_t> cd2 = {0x40, 0x02, 0x00, 0x04, 0x80, 9, 9, 9};
  std::vector<uint8_t> stream = stun;
  stream.insert(stream.end(), cd1.begin(), cd1.end());
  stream.insert(stream.end(), 3, 0);  // padding to 12
  stream.insert(stream.end(), cd2.begin(), cd2.end());
  for (size_t chunk : {1, 3, 4, 5, 13, 100}) {
    TcpFrameReader reader(TcpFraming::kTurnStream, 65535 + 20);
    Batch b;
    const auto frames = ReadAll(reader, stream, chunk, b);
    CHECK_EQ(frames.size(), 3u);
    if (frames.size() == 3) {
      CHECK(frames[0] == stun);
      CHECK(frames[1] == cd1);
      CHECK(frames[2] == cd2);
    }
    CHECK_EQ(reader.pending_bytes(), 0u);
  }
  // Garbage (a first byte neither STUN nor ChannelData) breaks the stream.
  TcpFrameReader reader(TcpFraming::kTurnStream, 65535 + 20);
  Batch b;
  std::vector<uint8_t> bad = {0x80, 0, 0, 4, 1, 2, 3, 4};
  pwt::TcpReadResult r = reader.read(bad.data(), bad.size(), b.target, 1);
  CHECK(r.error == TcpFrameError::kGarbage);
  CHECK_EQ(r.frames, 0);
}

void Key(pwt::SrtpSession& s) {
  pwt::SrtpProfileParams p{};
  CHECK(pwt::GetSrtpProfileParams(pwt::SrtpProfile::kAes128CmHmacSha1_80, &p));
  uint8_t key[16], salt[14];
  for (size_t i = 0; i < sizeof key; ++i) key[i] = static_cast<uint8_t>(0x21 + i);
  for (size_t i = 0; i < sizeof salt; ++i) salt[i] = static_cast<uint8_t>(0xa1 + i);
  CHECK(s.Key(pwt::SrtpProfile::kAes128CmHmacSha1_80, key, p.key_len, salt, p.salt_len, key, p.key_len, salt, p.salt_len) ==
        pwt::SrtpStatus::kOk);
}

std::vector<uint8_t> Rtp(uint16_t seq, size_t payload, uint8_t fill) {
  // Timestamp bytes are `fill` here (the packets only need a valid header and distinct contents).
  std::vector<uint8_t> p = pwt_test::RtpPacket(96, seq, 0, 0x11223344, payload, fill);
  std::memset(p.data() + 4, fill, 4);
  return p;
}

void RoundTrip(uint16_t channel) {
  pwt::SrtpSession sender, receiver;
  Key(sender);
  Key(receiver);
  // Clear packets in a pool, as JavaScript queues them.
  std::vector<uint8_t> pool;
  std::vector<uint32_t> offsets, lengths;
  std::vector<std::vector<uint8_t>> sent;
  for (uint16_t i = 0; i < 40; ++i) {
    sent.push_back(Rtp(static_cast<uint16_t>(100 + i), 50 + i * 7, static_cast<uint8_t>(i)));
    offsets.push_back(static_cast<uint32_t>(pool.size()));
    lengths.push_back(static_cast<uint32_t>(sent.back().size()));
    pool.insert(pool.end(), sent.back().begin(), sent.back().end());
  }
  std::vector<uint8_t> out(64 * 1024);
  std::vector<uint8_t> results(40);
  double counters[pwt::kTcpCounterCount] = {};
  size_t framed = 0;
  const size_t bytes = pwt::tcp_protect_frames(sender, channel, pool.data(), offsets.data(), lengths.data(), 40, out.data(),
                                               out.size(), results.data(), &framed, counters);
  CHECK_EQ(framed, 40u);
  CHECK_EQ(counters[pwt::kTcpSrtpProtected], 40);
  CHECK_EQ(counters[pwt::kTcpBytesOut], static_cast<double>(bytes));
  if (channel) CHECK_EQ(bytes % 4, 0u);
  // Replay the first frame again after the rest: it must be refused as replayed.
  std::vector<uint8_t> stream(out.begin(), out.begin() + bytes);
  const size_t first = channel ? ((4 + ((stream[2] << 8) | stream[3]) + 3) & ~size_t{3}) : 2 + ((stream[0] << 8) | stream[1]);
  stream.insert(stream.end(), out.begin(), out.begin() + first);
  // And a forged one: a 41st packet, protected, with a payload bit flipped.
  const std::vector<uint8_t> extra = Rtp(200, 60, 0x5a);
  const uint32_t zero = 0, extra_len = static_cast<uint32_t>(extra.size());
  std::vector<uint8_t> forged(4096);
  uint8_t extra_result = 0;
  size_t extra_framed = 0;
  const size_t forged_bytes = pwt::tcp_protect_frames(sender, channel, extra.data(), &zero, &extra_len, 1, forged.data(),
                                                      forged.size(), &extra_result, &extra_framed, counters);
  CHECK_EQ(extra_framed, 1u);
  forged.resize(forged_bytes);
  forged[(channel ? 4 : 2) + 20] ^= 1;
  stream.insert(stream.end(), forged.begin(), forged.end());
  TcpFrameReader reader(channel ? TcpFraming::kTurnStream : TcpFraming::kRfc4571, 65535);
  Batch b;
  pwt::TcpReadResult r = reader.read(stream.data(), stream.size(), b.target, 1);
  CHECK_EQ(r.frames, 42);
  CHECK_EQ(r.consumed, stream.size());
  double rc[pwt::kTcpCounterCount] = {};
  pwt::tcp_unprotect_frames(b.target, r.frames, &receiver, channel, b.status.data(), b.relayed.data(), rc);
  for (int i = 0; i < 40; ++i) {
    CHECK_EQ(b.status[i], pwt::kRecvClear);
    CHECK_EQ(b.relayed[i], channel ? 1 : 0);
    CHECK(b.frame(i) == sent[i]);
  }
  CHECK_EQ(b.status[40], pwt::kRecvDropBase + static_cast<uint8_t>(pwt::SrtpStatus::kReplayed));
  CHECK_EQ(b.status[41], pwt::kRecvDropBase + static_cast<uint8_t>(pwt::SrtpStatus::kAuthFailed));
  CHECK_EQ(rc[pwt::kTcpSrtpUnprotected], 40);
  CHECK_EQ(rc[pwt::kTcpSrtpRecvDropped], 2);
  if (channel) CHECK_EQ(rc[pwt::kTcpChannelDataReceived], 42);
}

void TestSrtpRoundTrip() {
  RoundTrip(0);
  RoundTrip(0x4001);
}

void TestNoSessionAndOtherChannels() {
  pwt::SrtpSession receiver;
  Key(receiver);
  // Without a session nothing is touched; on a TURN stream a channel other than the route's and STUN stay.
  std::vector<uint8_t> stream;
  std::vector<uint8_t> other = {0x40, 0x07, 0x00, 0x04, 0x80, 1, 2, 3};
  std::vector<uint8_t> stun(20, 0);
  stun[1] = 0x01;
  stream.insert(stream.end(), other.begin(), other.end());
  stream.insert(stream.end(), stun.begin(), stun.end());
  TcpFrameReader reader(TcpFraming::kTurnStream, 65535);
  Batch b;
  pwt::TcpReadResult r = reader.read(stream.data(), stream.size(), b.target, 1);
  CHECK_EQ(r.frames, 2);
  double c[pwt::kTcpCounterCount] = {};
  pwt::tcp_unprotect_frames(b.target, r.frames, &receiver, 0x4001, b.status.data(), b.relayed.data(), c);
  CHECK_EQ(b.status[0], pwt::kRecvNotRouted);
  CHECK_EQ(b.status[1], pwt::kRecvNotRouted);
  CHECK(b.frame(0) == other);
  CHECK(b.frame(1) == stun);
  pwt::tcp_unprotect_frames(b.target, r.frames, nullptr, 0, b.status.data(), b.relayed.data(), c);
  CHECK_EQ(b.status[0], pwt::kRecvNotRouted);
}

// The engine's sink for a TCP leg frames each datagram (RFC 4571), signals once when bytes become
// pending, and drops (counts) what would pass its bound; the reader splits its output back.
void TestForwardSink() {
  struct Counting : pwt::TcpForwardSink {
    int signals = 0;
    explicit Counting(size_t max) : pwt::TcpForwardSink(max) {}
    void on_pending() override { ++signals; }
  } sink(3000);
  std::vector<std::vector<uint8_t>> packets = {Packet(0x80, 1200, 1), Packet(0x81, 600, 2), Packet(0x80, 1200, 3)};
  std::vector<pwt::UdpSendItem> items;
  for (const auto& p : packets) items.push_back(pwt::UdpSendItem{p.data(), static_cast<uint32_t>(p.size()), nullptr, 0});
  sink.send(items.data(), items.size());
  CHECK_EQ(sink.frames(), 2u);   // 1202 + 602 fit, the third would pass 3000
  CHECK_EQ(sink.dropped(), 1u);
  CHECK_EQ(sink.signals, 1);
  sink.send(items.data() + 1, 1);  // 602 more: 2406, no new signal while bytes are pending
  CHECK_EQ(sink.signals, 1);
  TcpFrameReader reader(TcpFraming::kRfc4571, 65535);
  Batch b;
  pwt::TcpReadResult r = reader.read(sink.pending().data(), sink.pending().size(), b.target, 1);
  CHECK_EQ(r.frames, 3);
  CHECK(b.frame(0) == packets[0]);
  CHECK(b.frame(1) == packets[1]);
  CHECK(b.frame(2) == packets[1]);
  sink.clear();
  CHECK_EQ(sink.pending().size(), 0u);
  sink.send(items.data(), 1);
  CHECK_EQ(sink.signals, 2);
  // Its connection closed: a flush that still reaches it is dropped and counted, nothing pends.
  sink.clear();
  sink.close();
  sink.send(items.data(), 2);
  CHECK_EQ(sink.pending().size(), 0u);
  CHECK_EQ(sink.dropped(), 3u);
  CHECK_EQ(sink.frames(), 4u);
  CHECK_EQ(sink.signals, 2);
}

}  // namespace

int main() {
  TestForwardSink();
  TestRfc4571EveryChunkSize();
  TestBatchFills();
  TestBoundAndLyingLengths();
  TestSlowLoris();
  TestTurnStream();
  TestSrtpRoundTrip();
  TestNoSessionAndOtherChannels();
  TEST_MAIN_END();
}
