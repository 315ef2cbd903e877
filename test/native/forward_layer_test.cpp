// Layer selection of the SFU engine: the VP8 payload descriptor parser/rewriter (RFC 7741 §4.2/§4.3),
// H.264 key-frame detection (RFC 6184 §5.6-§5.8), and pwt::ForwardEngine with a simulcast producer
// and a temporally layered one over real SRTP: a consumer gets only its layer, switches spatially at a
// key frame of the target layer, drops temporal layers above its target, and sees continuous sequence
// numbers, PictureIDs and TL0PICIDX across switches and drops; a NACK the cache misses is reported
// with the layer it belongs to; short descriptors drop and count.
#include <netinet/in.h>

#include <array>
#include <cstring>
#include <memory>
#include <vector>

#include "native/forward/forward_engine.hpp"
#include "native/forward/h264_keyframe.hpp"
#include "native/forward/vp8_descriptor.hpp"
#include "native/srtp/srtp_session.hpp"
#include "test/native/check.hpp"
#include "test/native/packet_builders.hpp"
#include "test/native/recv_batch.hpp"

using namespace pwt;
using pwt_test::Protect;

namespace {

constexpr uint8_t kVp8Pt = 96;
constexpr uint8_t kOutPt = 100;

struct Keyed : pwt_test::SrtpPair {  // tx protects at one end, rx unprotects at the other
  explicit Keyed(int seed) : SrtpPair(SrtpProfile::kAeadAes128Gcm, seed, {5, 17, 3, 7}) {}
};

struct Vp8Frame {
  uint16_t seq;
  uint32_t ssrc;
  uint32_t ts;
  uint16_t pid;
  uint8_t tl0;
  uint8_t tid;
  bool sync;
  bool key;
  bool start;
  uint8_t mark;  // identifies the packet in the payload
};

// An RTP packet carrying a full VP8 descriptor (X, I with a 15-bit PictureID, L, T/Y) and, at a frame
// start, the VP8 payload header whose P bit is 0 for a key frame.
std::vector<uint8_t> Vp8(const Vp8Frame& f) {
  std::vector<uint8_t> p(12);
  p[0] = 0x80;
  p[1] = kVp8Pt;
  p[2] = static_cast<uint8_t>(f.seq >> 8);
  p[3] = static_cast<uint8_t>(f.seq);
  WriteU32(p.data() + 4, f.ts);
  WriteU32(p.data() + 8, f.ssrc);
  p.push_back(static_cast<uint8_t>(0x80 | (f.start ? 0x10 : 0)));
  p.push_back(0xE0);  // I L T
  p.push_back(static_cast<uint8_t>(0x80 | (f.pid >> 8)));
  p.push_back(static_cast<uint8_t>(f.pid));
  p.push_back(f.tl0);
  p.push_back(static_cast<uint8_t>((f.tid << 6) | (f.sync ? 0x20 : 0)));
  p.push_back(f.start ? (f.key ? 0x10 : 0x11) : 0x42);
  p.push_back(f.mark);
  p.push_back(0xAA);
  return p;
}

using Batch = TestRecvBatch;

struct CaptureSink : ForwardSink {
  std::vector<std::vector<uint8_t>> sent;
  void send(const UdpSendItem* items, size_t count) override {
    for (size_t i = 0; i < count; ++i) sent.emplace_back(items[i].data, items[i].data + items[i].length);
  }
};

// One publisher and one subscriber around an engine; run() pushes a batch and returns the clear
// packets the subscriber got.
struct Rig {
  Keyed publisher{1};
  Keyed subscriber{2};
  UdpSessionTable table;
  ForwardEngine engine;
  uint32_t transport = 0;
  Rig() {
    CHECK(table.add(udp_remote_key(std::array<uint8_t, 16>{127, 0, 0, 1}.data(), 5000, 4), &publisher.rx) != 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(6000);
    a.sin_addr.s_addr = htonl(0x7f000001);
    transport = engine.add_transport(&subscriber.tx, reinterpret_cast<const sockaddr*>(&a), sizeof a);
    CHECK(transport != 0);
  }
  uint32_t consumer(uint32_t producer) {
    ForwardConsumerParams p;
    p.ssrc = 0xC0FFEE;
    p.payload_types[kVp8Pt] = kOutPt;
    p.clock_rate = 90000;
    const uint32_t id = engine.add_consumer(producer, transport, p);
    CHECK(id != 0);
    return id;
  }
  void codecs(uint32_t producer) {
    uint8_t table_[128] = {};
    table_[kVp8Pt] = static_cast<uint8_t>(ForwardLayerCodec::kVp8);
    CHECK(engine.set_producer_codecs(producer, table_));
  }
  std::vector<std::vector<uint8_t>> run(const std::vector<std::vector<uint8_t>>& clear, uint64_t now_us) {
    Batch b;
    for (const auto& c : clear) b.add(Protect(publisher.tx, c));
    double udp_counters[kCounterCount] = {};
    const UdpRecvTarget t = b.target();
    table.unprotect_batch(t, b.n, b.status, udp_counters);
    CaptureSink sink;
    CHECK_EQ(engine.process_batch(t, b.n, b.status, table, now_us, sink), b.n);
    std::vector<std::vector<uint8_t>> out;
    for (auto& s : sink.sent) {
      size_t len = 0;
      CHECK(subscriber.rx.unprotect(s.data(), s.size(), &len) == SrtpStatus::kOk);
      s.resize(len);
      out.push_back(s);
    }
    return out;
  }
};

Vp8Descriptor Descriptor(const std::vector<uint8_t>& clear) {
  Vp8Descriptor d;
  CHECK(vp8_descriptor_parse(clear.data() + 12, clear.size() - 12, &d));
  return d;
}

uint8_t Mark(const std::vector<uint8_t>& clear) { return clear[12 + Descriptor(clear).size + 1]; }

void TestVp8Descriptor() {
  const auto full = Vp8({1, 1, 0, 0x1234, 7, 2, true, true, true, 9});
  Vp8Descriptor d;
  CHECK(vp8_descriptor_parse(full.data() + 12, full.size() - 12, &d));
  CHECK(d.frame_start());
  CHECK(d.keyframe);
  CHECK(d.has_picture_id && d.picture_id_15);
  CHECK_EQ(d.picture_id, 0x1234);
  CHECK(d.has_tl0);
  CHECK_EQ(d.tl0_pic_idx, 7);
  CHECK(d.has_tid);
  CHECK_EQ(d.tid, 2);
  CHECK(d.layer_sync);
  CHECK_EQ(d.size, 6u);
  // A delta frame (P = 1) and a continuation packet are no key frames.
  CHECK(vp8_descriptor_parse(Vp8({1, 1, 0, 1, 0, 0, false, false, true, 0}).data() + 12, 9, &d) && !d.keyframe);
  CHECK(vp8_descriptor_parse(Vp8({1, 1, 0, 1, 0, 0, false, true, false, 0}).data() + 12, 9, &d) && !d.keyframe);
  // 7-bit PictureID, no extension at all.
  const uint8_t short_pid[] = {0x90, 0x80, 0x45, 0x00};
  CHECK(vp8_descriptor_parse(short_pid, sizeof short_pid, &d));
  CHECK(d.has_picture_id && !d.picture_id_15);
  CHECK_EQ(d.picture_id, 0x45);
  CHECK(d.keyframe);
  const uint8_t plain[] = {0x10, 0x00};
  CHECK(vp8_descriptor_parse(plain, sizeof plain, &d) && !d.has_picture_id && !d.has_tid && d.keyframe);
  // Rewrite keeps the width: 15 bits stay 15 bits, 7 bits wrap at 128.
  std::vector<uint8_t> payload(full.begin() + 12, full.end());
  CHECK(vp8_descriptor_parse(payload.data(), payload.size(), &d));
  vp8_descriptor_write(payload.data(), payload.size(), d, 0x7ffe, 200);
  Vp8Descriptor e;
  CHECK(vp8_descriptor_parse(payload.data(), payload.size(), &e));
  CHECK_EQ(e.picture_id, 0x7ffe);
  CHECK_EQ(e.tl0_pic_idx, 200);
  CHECK_EQ(e.tid, 2);
  uint8_t seven[] = {0x90, 0x80, 0x45, 0x00};
  CHECK(vp8_descriptor_parse(seven, sizeof seven, &d));
  vp8_descriptor_write(seven, sizeof seven, d, 0x1ff, 0);
  CHECK_EQ(seven[2], 0x7f);
  // Every truncation of a full descriptor fails cleanly (exact-size copies: ASan sees any overread).
  for (size_t n = 0; n < 7; ++n) {  // 6 descriptor bytes + the first payload byte
    std::vector<uint8_t> cut(full.begin() + 12, full.begin() + 12 + static_cast<long>(n));
    CHECK(!vp8_descriptor_parse(cut.empty() ? nullptr : cut.data(), cut.size(), &d));
  }
  const uint8_t m_cut[] = {0x80, 0x80, 0x80};  // M set, second PictureID byte missing
  CHECK(!vp8_descriptor_parse(m_cut, sizeof m_cut, &d));
}

void TestH264Keyframe() {
  const uint8_t idr[] = {0x65, 0x88};
  const uint8_t sps[] = {0x67, 0x42};
  const uint8_t slice[] = {0x41, 0x9a};
  CHECK(h264_is_keyframe(idr, sizeof idr));
  CHECK(h264_is_keyframe(sps, sizeof sps));
  CHECK(!h264_is_keyframe(slice, sizeof slice));
  const uint8_t stap[] = {0x78, 0x00, 0x02, 0x09, 0xf0, 0x00, 0x02, 0x67, 0x42};  // AUD, SPS
  CHECK(h264_is_keyframe(stap, sizeof stap));
  const uint8_t stap_short[] = {0x78, 0x00, 0x02, 0x09, 0xf0, 0x00, 0x09, 0x67};  // size past the end
  CHECK(!h264_is_keyframe(stap_short, sizeof stap_short));
  const uint8_t fu_start[] = {0x7c, 0x85, 0x00};
  const uint8_t fu_middle[] = {0x7c, 0x05, 0x00};
  const uint8_t fu_slice[] = {0x7c, 0x81, 0x00};
  CHECK(h264_is_keyframe(fu_start, sizeof fu_start));
  CHECK(!h264_is_keyframe(fu_middle, sizeof fu_middle));
  CHECK(!h264_is_keyframe(fu_slice, sizeof fu_slice));
  const uint8_t fu_cut[] = {0x7c};
  CHECK(!h264_is_keyframe(fu_cut, sizeof fu_cut));
  CHECK(!h264_is_keyframe(nullptr, 0));
}

// Simulcast: three layers, a consumer on layer 0 then 2; only the selected SSRC's packets reach it,
// the switch waits for a key frame of layer 2, and seq / PictureID / TL0PICIDX continue across it.
void TestSimulcastSwitch() {
  Rig rig;
  const uint32_t producer = rig.engine.add_simulcast_producer(&rig.publisher.rx, 3, false, 64);
  CHECK(producer != 0);
  rig.codecs(producer);
  const uint32_t ssrcs[3] = {0x100, 0x200, 0x300};
  for (uint8_t l = 0; l < 3; ++l) CHECK(rig.engine.set_producer_layer(producer, l, ssrcs[l]));
  CHECK(!rig.engine.set_producer_layer(producer, 1, 0x999));  // bound already
  CHECK(!rig.engine.set_producer_layer(producer, 3, 0x999));  // no such layer
  CHECK(rig.engine.add_producer_repair_ssrc(producer, 0x101));
  const uint32_t c = rig.consumer(producer);
  CHECK_EQ(rig.engine.consumer_layers(c)->current_spatial, ForwardLayerState::kNone);
  CHECK(rig.engine.set_consumer_layers(c, 0, ForwardLayerState::kMaxTemporal));
  CHECK(!rig.engine.set_consumer_layers(c, 3, 0));

  // Each layer numbers its own stream: seq base 1000*l, PictureID base 300*l, TL0PICIDX base 50*l.
  auto frame = [&](int f, uint8_t l, bool key) {
    std::vector<std::vector<uint8_t>> v;
    for (int k = 0; k < 2; ++k) {
      v.push_back(Vp8({static_cast<uint16_t>(1000 * l + 2 * f + k), ssrcs[l], 3000u * f + 77u * l,
                       static_cast<uint16_t>(300 * l + f), static_cast<uint8_t>(50 * l + f), 0, false, key, k == 0,
                       static_cast<uint8_t>(l * 64 + f)}));
    }
    return v;
  };
  std::vector<std::vector<uint8_t>> in;
  // Layer 0 starts with a delta frame: nothing can be forwarded before its key frame.
  for (uint8_t l = 0; l < 3; ++l) for (auto& p : frame(0, l, false)) in.push_back(p);
  for (int f = 1; f < 4; ++f) {
    for (uint8_t l = 0; l < 3; ++l) for (auto& p : frame(f, l, f == 1)) in.push_back(p);
  }
  auto got = rig.run(in, 1'000'000);
  CHECK_EQ(got.size(), 6u);  // layer 0, frames 1..3, two packets each
  // Every layer's packets are counted on their layer, forwarded or not (frames 0..3, two each).
  uint64_t layer_packets[ForwardEngine::kMaxLayers] = {};
  CHECK_EQ(rig.engine.producer_layer_packets(producer, layer_packets, ForwardEngine::kMaxLayers), 3u);
  for (uint8_t l = 0; l < 3; ++l) CHECK_EQ(layer_packets[l], 8u);
  CHECK_EQ(rig.engine.producer_layer_packets(producer + 100, layer_packets, ForwardEngine::kMaxLayers), 0u);
  // Each layer's SSRC has its own RFC 3550 §A.1 state (its RR block): sequence numbers 1000*l ..
  // 1000*l + 7, all 8 received, although the three streams' numbers interleave in one producer.
  for (uint8_t l = 0; l < 3; ++l) {
    uint64_t bytes = 0;
    const ForwardReceiveStats* r = rig.engine.producer_layer_receive(producer, l, &bytes);
    CHECK(r != nullptr);
    if (!r) continue;
    CHECK_EQ(r->base_seq, 1000u * l);
    CHECK_EQ(r->extended_highest(), 1000u * l + 7u);
    CHECK_EQ(r->received, 8u);
    CHECK(bytes > 8u * 12u);
  }
  CHECK(rig.engine.producer_layer_receive(producer, 3, nullptr) == nullptr);
  CHECK(rig.engine.producer_layer_receive(producer + 100, 0, nullptr) == nullptr);
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK_EQ(ReadU32(got[i].data() + 8), 0xC0FFEEu);
    CHECK_EQ(got[i][1] & 0x7f, kOutPt);
    CHECK_EQ(Mark(got[i]), static_cast<uint8_t>(1 + i / 2));
    CHECK_EQ(ReadU16(got[i].data() + 2), static_cast<uint16_t>(2 + i));
  }
  CHECK_EQ(rig.engine.consumer_layers(c)->current_spatial, 0);
  CHECK_EQ(rig.engine.consumer_layers(c)->switches, 1u);
    // Frame 0 of every layer (no key frame yet), and layers 1 and 2 of frames 1..3.
  CHECK_EQ(rig.engine.consumer_counters(c)->dropped[static_cast<size_t>(ForwardDrop::kLayer)], 6u + 12u);

  // Ask for layer 2: layer 0 goes on until layer 2 sends a key frame (frame 6), then only layer 2.
  CHECK(rig.engine.set_consumer_layers(c, 2, ForwardLayerState::kMaxTemporal));
  in.clear();
  for (int f = 4; f < 8; ++f) {
    for (int l = 2; l >= 0; --l) for (auto& p : frame(f, static_cast<uint8_t>(l), f == 6 && l == 2)) in.push_back(p);
  }
  auto more = rig.run(in, 1'100'000);
  const uint8_t expect[] = {4, 4, 5, 5, 128 + 6, 128 + 6, 128 + 7, 128 + 7};
  CHECK_EQ(more.size(), sizeof expect);
  Vp8Descriptor last = Descriptor(got.back());
  uint16_t last_seq = ReadU16(got.back().data() + 2);
  uint32_t last_ts = ReadU32(got.back().data() + 4);
  for (size_t i = 0; i < more.size() && i < sizeof expect; ++i) {
    CHECK_EQ(Mark(more[i]), expect[i]);
    CHECK_EQ(ReadU16(more[i].data() + 2), static_cast<uint16_t>(last_seq + 1));
    const Vp8Descriptor d = Descriptor(more[i]);
    const bool new_picture = d.frame_start();
    CHECK_EQ(d.picture_id, static_cast<uint16_t>(last.picture_id + (new_picture ? 1 : 0)));
    CHECK_EQ(d.tl0_pic_idx, static_cast<uint8_t>(last.tl0_pic_idx + (new_picture ? 1 : 0)));
    CHECK(static_cast<int32_t>(ReadU32(more[i].data() + 4) - last_ts) >= 0);
    last = d;
    last_seq = ReadU16(more[i].data() + 2);
    last_ts = ReadU32(more[i].data() + 4);
  }
  const ForwardLayerState* s = rig.engine.consumer_layers(c);
  CHECK_EQ(s->current_spatial, 2);
  CHECK_EQ(s->switches, 2u);
  CHECK_EQ(rig.engine.counters()[kFwdLayerSwitches], 2.0);

  // The RTX SSRC of a layer is consumed and counted, never forwarded.
  auto rtx = rig.run({Vp8({5, 0x101, 0, 0, 0, 0, false, false, true, 0})}, 1'200'000);
  CHECK(rtx.empty());
  CHECK_EQ(rig.engine.counters()[kFwdRepairDropped], 1.0);
  // Frames 4..7 added two packets per layer each; the RTX packet counts on no layer.
  CHECK_EQ(rig.engine.producer_layer_packets(producer, layer_packets, 2), 2u);  // at most `max` written
  CHECK_EQ(layer_packets[0], 16u);
  CHECK_EQ(layer_packets[1], 16u);
  CHECK_EQ(rig.engine.producer_layer_packets(producer, layer_packets, ForwardEngine::kMaxLayers), 3u);
  CHECK_EQ(layer_packets[2], 16u);

  // A NACK for a layer-2 packet is answered from layer 2's cache with the same numbering; one for
  // the last packet before the switch from the old layer's cache, numbered as it was sent then
  // (the consumer's sent map, forward_sent_map.hpp).
  CaptureSink resend;
  const uint16_t nacks[2] = {static_cast<uint16_t>(last_seq - 1), static_cast<uint16_t>(got.back()[2] << 8 | got.back()[3])};
  CHECK_EQ(rig.engine.retransmit(c, nacks, 2, 1'300'000, resend), 2u);
  CHECK_EQ(resend.sent.size(), 2u);
  const std::vector<uint8_t>* first_sent[2] = {&more[more.size() - 2], &got.back()};
  for (size_t k = 0; k < resend.sent.size() && k < 2; ++k) {
    size_t len = 0;
    Keyed fresh(2);  // same keys, its own replay window: the resent number was received before
    CHECK(fresh.rx.unprotect(resend.sent[k].data(), resend.sent[k].size(), &len) == SrtpStatus::kOk);
    resend.sent[k].resize(len);
    CHECK_EQ(ReadU16(resend.sent[k].data() + 2), nacks[k]);
    CHECK_EQ(ReadU32(resend.sent[k].data() + 4), ReadU32(first_sent[k]->data() + 4));
    CHECK_EQ(len, first_sent[k]->size());
    CHECK_MEM(resend.sent[k].data() + 12, first_sent[k]->data() + 12, len - 12);
  }

  // Hostile: truncated descriptors on the current layer drop as malformed, nothing is sent.
  std::vector<uint8_t> bad = Vp8({1000 * 2 + 100, ssrcs[2], 0, 0, 0, 0, false, false, true, 0});
  bad.resize(14);  // X and the extension byte, the PictureID missing
  auto none = rig.run({bad}, 1'400'000);
  CHECK(none.empty());
  CHECK_EQ(rig.engine.consumer_counters(c)->dropped[static_cast<size_t>(ForwardDrop::kMalformed)], 1u);
}

// Temporal layers on one stream (TID pattern 0,2,1,2 as libwebrtc's three-layer VP8): a consumer
// that wants TL0 gets only TID 0 frames with gap-free sequence numbers and PictureIDs; raising the
// target switches up only at a layer-sync frame.
void TestTemporalLayers() {
  Rig rig;
  const uint32_t producer = rig.engine.add_producer(&rig.publisher.rx, 0x500, false, 64);
  CHECK(producer != 0);
  rig.codecs(producer);
  const uint32_t c = rig.consumer(producer);
  CHECK_EQ(rig.engine.consumer_layers(c)->current_spatial, 0);
  CHECK(!rig.engine.consumer_layers(c)->active);
  CHECK(rig.engine.set_consumer_layers(c, 0, 0));
  const uint8_t pattern[4] = {0, 2, 1, 2};
  auto stream = [&](int from, int to, bool sync_all) {
    std::vector<std::vector<uint8_t>> v;
    for (int f = from; f < to; ++f) {
      const uint8_t tid = pattern[f % 4];
      for (int k = 0; k < 2; ++k) {
        v.push_back(Vp8({static_cast<uint16_t>(65530 + 2 * f + k), 0x500, 3000u * f, static_cast<uint16_t>(32760 + f),
                         static_cast<uint8_t>(250 + f / 4), tid, sync_all && tid > 0, f == 0, k == 0,
                         static_cast<uint8_t>(f)}));
      }
    }
    return v;
  };
  auto got = rig.run(stream(0, 12, false), 1'000'000);
  CHECK_EQ(got.size(), 6u);  // frames 0, 4, 8
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK_EQ(Mark(got[i]), static_cast<uint8_t>(4 * (i / 2)));
    CHECK_EQ(ReadU16(got[i].data() + 2), static_cast<uint16_t>(65530 + i));
    const Vp8Descriptor d = Descriptor(got[i]);
    CHECK_EQ(d.picture_id, static_cast<uint16_t>((32760 + i / 2) & 0x7fff));
    CHECK_EQ(d.tl0_pic_idx, static_cast<uint8_t>(250 + i / 2));
    CHECK_EQ(d.tid, 0);
  }
  CHECK_EQ(rig.engine.consumer_counters(c)->dropped[static_cast<size_t>(ForwardDrop::kLayer)], 18u);
  // NACKs from before the last drops map back through the consumer's sent map (forward_sent_map.hpp):
  // each packet is resent numbered exactly as it was first sent (sequence number, timestamp,
  // PictureID, TL0PICIDX), not under the offsets the drops moved since.
  CaptureSink resend;
  const uint16_t old_seqs[3] = {ReadU16(got[0].data() + 2), ReadU16(got[3].data() + 2), ReadU16(got[5].data() + 2)};
  CHECK_EQ(rig.engine.retransmit(c, old_seqs, 3, 1'050'000, resend), 3u);
  CHECK_EQ(resend.sent.size(), 3u);
  const size_t first_sent[3] = {0, 3, 5};
  for (size_t k = 0; k < resend.sent.size() && k < 3; ++k) {
    size_t len = 0;
    Keyed fresh(2);  // same keys, its own replay window: the resent number was received before
    CHECK(fresh.rx.unprotect(resend.sent[k].data(), resend.sent[k].size(), &len) == SrtpStatus::kOk);
    resend.sent[k].resize(len);
    const std::vector<uint8_t>& was = got[first_sent[k]];
    CHECK_EQ(len, was.size());
    CHECK_EQ(ReadU16(resend.sent[k].data() + 2), old_seqs[k]);
    CHECK_EQ(ReadU32(resend.sent[k].data() + 4), ReadU32(was.data() + 4));
    CHECK_EQ(Descriptor(resend.sent[k]).picture_id, Descriptor(was).picture_id);
    CHECK_EQ(Descriptor(resend.sent[k]).tl0_pic_idx, Descriptor(was).tl0_pic_idx);
    CHECK_MEM(resend.sent[k].data() + 12, was.data() + 12, len - 12);
  }
  // A number never sent (one the drops gave away and nothing took yet) has no entry: a miss.
  const uint16_t unsent = static_cast<uint16_t>(ReadU16(got.back().data() + 2) + 1);
  CHECK_EQ(rig.engine.retransmit(c, &unsent, 1, 1'060'000, resend), 0u);

  // Raise the target to TL2: frames without the Y bit do not switch up; the stream goes on at TL0.
  CHECK(rig.engine.set_consumer_layers(c, 0, 2));
  auto still = rig.run(stream(12, 16, false), 1'100'000);
  CHECK_EQ(still.size(), 2u);
  CHECK_EQ(rig.engine.consumer_layers(c)->current_temporal, 0);
  // With layer-sync frames: TL2 at frame 17 (Y) switches up to 2; TL1 (frame 18) is below it.
  auto up = rig.run(stream(16, 20, true), 1'200'000);
  CHECK_EQ(up.size(), 8u);
  CHECK_EQ(rig.engine.consumer_layers(c)->current_temporal, 2);
  uint16_t seq = ReadU16(still.back().data() + 2);
  uint16_t pid = Descriptor(still.back()).picture_id;
  for (size_t i = 0; i < up.size(); ++i) {
    CHECK_EQ(ReadU16(up[i].data() + 2), static_cast<uint16_t>(seq + 1));
    seq = ReadU16(up[i].data() + 2);
    const Vp8Descriptor d = Descriptor(up[i]);
    if (d.frame_start()) CHECK_EQ(d.picture_id, static_cast<uint16_t>((pid + 1) & 0x7fff));
    pid = d.picture_id;
  }
  // The producer's bytes by TID (what the automatic layer choice measures, docs/sfu.md): of 20 equal
  // two-packet frames in the pattern 0, 2, 1, 2, five are TID 0, five TID 1, ten TID 2.
  uint64_t temporal[4] = {};
  uint64_t layer_bytes = 0;
  CHECK(rig.engine.producer_layer_temporal_bytes(producer, 0, temporal));
  CHECK(rig.engine.producer_layer_receive(producer, 0, &layer_bytes) != nullptr);
  CHECK(temporal[0] > 0);
  CHECK_EQ(temporal[1], temporal[0]);
  CHECK_EQ(temporal[2], 2 * temporal[0]);
  CHECK_EQ(temporal[3], 0u);
  CHECK_EQ(temporal[0] + temporal[1] + temporal[2], layer_bytes);
  CHECK(!rig.engine.producer_layer_temporal_bytes(producer, 1, temporal));
  CHECK(!rig.engine.producer_layer_temporal_bytes(producer + 100, 0, temporal));
}

// H.264 simulcast (RFC 6184): the switch to layer 1 waits for a STAP-A carrying an SPS (or an IDR
// start); FU-A fragments that are not IDR starts never switch.
void TestH264Simulcast() {
  Rig rig;
  const uint32_t producer = rig.engine.add_simulcast_producer(&rig.publisher.rx, 2, false, 0);
  CHECK(producer != 0);
  uint8_t codecs[128] = {};
  codecs[kVp8Pt] = static_cast<uint8_t>(ForwardLayerCodec::kH264);  // the rig's payload type, H.264 here
  CHECK(rig.engine.set_producer_codecs(producer, codecs));
  CHECK(rig.engine.set_producer_layer(producer, 0, 0x10));
  CHECK(rig.engine.set_producer_layer(producer, 1, 0x11));
  const uint32_t c = rig.consumer(producer);
  CHECK(rig.engine.set_consumer_layers(c, 0, ForwardLayerState::kMaxTemporal));
  auto h264 = [](uint16_t seq, uint32_t ssrc, const std::vector<uint8_t>& payload) {
    std::vector<uint8_t> p(12 + payload.size());
    p[0] = 0x80;
    p[1] = kVp8Pt;
    p[2] = static_cast<uint8_t>(seq >> 8);
    p[3] = static_cast<uint8_t>(seq);
    WriteU32(p.data() + 4, 9000u * seq);
    WriteU32(p.data() + 8, ssrc);
    for (size_t i = 0; i < payload.size(); ++i) p[12 + i] = payload[i];
    return p;
  };
  const std::vector<uint8_t> stap_sps = {0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce};
  const std::vector<uint8_t> fu_idr_start = {0x7c, 0x85, 0xaa};
  const std::vector<uint8_t> fu_idr_end = {0x7c, 0x45, 0xbb};
  const std::vector<uint8_t> slice = {0x41, 0x9a, 0xcc};
  auto got = rig.run({h264(1, 0x10, slice), h264(1, 0x11, stap_sps), h264(2, 0x10, stap_sps), h264(3, 0x10, fu_idr_start),
                      h264(4, 0x10, fu_idr_end), h264(5, 0x10, slice)},
                     1'000'000);
  CHECK_EQ(got.size(), 4u);  // layer 0 from its SPS on
  CHECK(rig.engine.set_consumer_layers(c, 1, ForwardLayerState::kMaxTemporal));
  auto more = rig.run({h264(2, 0x11, fu_idr_end), h264(3, 0x11, slice), h264(6, 0x10, slice), h264(4, 0x11, fu_idr_start),
                       h264(5, 0x11, fu_idr_end), h264(7, 0x10, slice)},
                      1'100'000);
  CHECK_EQ(more.size(), 3u);  // layer 0's slice, then layer 1 from its IDR start
  if (more.size() == 3) {
    CHECK_EQ(more[0][12], 0x41);
    CHECK_EQ(more[1][13], 0x85);
    CHECK_EQ(more[2][13], 0x45);
    for (size_t i = 0; i < more.size(); ++i) CHECK_EQ(ReadU16(more[i].data() + 2), static_cast<uint16_t>(ReadU16(got.back().data() + 2) + 1 + i));
  }
  CHECK_EQ(rig.engine.consumer_layers(c)->current_spatial, 1);
}

}  // namespace

// A consumer added to a simulcast producer before its layers are bound (before media flows) keeps a
// sent map sized from the producer's configured cache: NACKs for packets sent before a temporal drop
// are answered numbered as first sent, not under the offsets the drops moved since.
void TestSentMapBeforeLayersBound() {
  Rig rig;
  const uint32_t producer = rig.engine.add_simulcast_producer(&rig.publisher.rx, 2, false, 64);
  CHECK(producer != 0);
  rig.codecs(producer);
  const uint32_t c = rig.consumer(producer);
  CHECK(rig.engine.set_consumer_layers(c, 0, 0));
  CHECK(rig.engine.set_producer_layer(producer, 0, 0x100));
  CHECK(rig.engine.set_producer_layer(producer, 1, 0x200));
  const uint8_t pattern[4] = {0, 2, 1, 2};
  std::vector<std::vector<uint8_t>> in;
  for (int f = 0; f < 12; ++f) {
    const uint8_t tid = pattern[f % 4];
    for (int k = 0; k < 2; ++k) {
      in.push_back(Vp8({static_cast<uint16_t>(100 + 2 * f + k), 0x100, 3000u * f, static_cast<uint16_t>(10 + f),
                        static_cast<uint8_t>(f / 4), tid, false, f == 0, k == 0, static_cast<uint8_t>(f)}));
    }
  }
  auto got = rig.run(in, 1'000'000);
  CHECK_EQ(got.size(), 6u);  // frames 0, 4, 8 (TID 0)
  if (got.size() != 6u) return;
  CaptureSink resend;
  const uint16_t old_seqs[2] = {ReadU16(got[0].data() + 2), ReadU16(got[3].data() + 2)};
  CHECK_EQ(rig.engine.retransmit(c, old_seqs, 2, 1'050'000, resend), 2u);
  CHECK_EQ(resend.sent.size(), 2u);
  const size_t first_sent[2] = {0, 3};
  for (size_t k = 0; k < resend.sent.size() && k < 2; ++k) {
    size_t len = 0;
    Keyed fresh(2);  // same keys, its own replay window
    CHECK(fresh.rx.unprotect(resend.sent[k].data(), resend.sent[k].size(), &len) == SrtpStatus::kOk);
    resend.sent[k].resize(len);
    const std::vector<uint8_t>& was = got[first_sent[k]];
    CHECK_EQ(len, was.size());
    CHECK_EQ(ReadU16(resend.sent[k].data() + 2), old_seqs[k]);
    CHECK_MEM(resend.sent[k].data() + 12, was.data() + 12, len - 12);
  }
  // Raising the target again keeps what the map holds (same size: not reallocated, not cleared).
  // Asked again after the resend guard's default interval (100 ms with no RTT known), so the
  // answer comes from the map, not from the guard's hold.
  CHECK(rig.engine.set_consumer_layers(c, 0, 1));
  CaptureSink again;
  CHECK_EQ(rig.engine.retransmit(c, old_seqs, 2, 1'200'000, again), 2u);
}

// A simulcast producer's stream lost a packet upstream (a pipe): the consumer that receives layer 1
// NACKs it, the cache misses, and the engine reports the producer-space number with layer 1, so the
// router's NACK upstream names layer 1's SSRC, not layer 0's (docs/sfu.md "Retransmission").
void TestMissReportsItsLayer() {
  Rig rig;
  const uint32_t producer = rig.engine.add_simulcast_producer(&rig.publisher.rx, 2, false, 64);
  CHECK(producer != 0);
  rig.codecs(producer);
  CHECK(rig.engine.set_producer_layer(producer, 0, 0x100));
  CHECK(rig.engine.set_producer_layer(producer, 1, 0x200));
  const uint32_t c = rig.consumer(producer);
  CHECK(rig.engine.set_consumer_layers(c, 1, ForwardLayerState::kMaxTemporal));
  // Layer 1 numbers 500.. with 502 lost before the engine; layer 0 numbers 100.. arrive whole, delta
  // frames only (the consumer starts on layer 1's key frame).
  std::vector<std::vector<uint8_t>> in;
  for (int f = 0; f < 3; ++f) {
    for (int k = 0; k < 2; ++k) {
      const uint16_t n = static_cast<uint16_t>(2 * f + k);
      in.push_back(Vp8({static_cast<uint16_t>(100 + n), 0x100, 3000u * f, static_cast<uint16_t>(10 + f), 0, 0, false,
                        false, k == 0, static_cast<uint8_t>(n)}));
      if (n == 2) continue;
      in.push_back(Vp8({static_cast<uint16_t>(500 + n), 0x200, 3000u * f, static_cast<uint16_t>(40 + f), 0, 0, false,
                        f == 0, k == 0, static_cast<uint8_t>(64 + n)}));
    }
  }
  auto got = rig.run(in, 1'000'000);
  CHECK_EQ(got.size(), 5u);  // layer 1's six packets but the lost one
  if (got.size() != 5u) return;
  CHECK_EQ(rig.engine.consumer_layers(c)->current_spatial, 1);
  // The gap the consumer sees is the one upstream: it NACKs the number between its 2nd and 3rd.
  const uint16_t lost = static_cast<uint16_t>(ReadU16(got[1].data() + 2) + 1);
  CHECK_EQ(ReadU16(got[2].data() + 2), static_cast<uint16_t>(lost + 1));
  CaptureSink resend;
  uint16_t missed[1] = {};
  uint8_t missed_layers[1] = {0xEE};
  size_t missed_count = 0;
  CHECK_EQ(rig.engine.retransmit(c, &lost, 1, 1'050'000, resend, missed, &missed_count, missed_layers), 0u);
  CHECK(resend.sent.empty());
  CHECK_EQ(missed_count, 1u);
  CHECK_EQ(missed[0], 502);
  CHECK_EQ(missed_layers[0], 1);
}

int main() {
  TestVp8Descriptor();
  TestH264Keyframe();
  TestSimulcastSwitch();
  TestTemporalLayers();
  TestH264Simulcast();
  TestSentMapBeforeLayersBound();
  TestMissReportsItsLayer();
  TEST_MAIN_END();
}
