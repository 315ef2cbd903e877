// The SFU forwarding engine (see forward_engine.hpp; docs/sfu.md).
#include "native/forward/forward_engine.hpp"

#include <algorithm>
#include <cstring>

#include "native/forward/rtcp_wire.hpp"
#include "native/srtp/srtp_packet.hpp"
#include "native/srtp/srtp_session.hpp"

namespace pwt {
namespace {

/** Payload octets of an RTP packet (RFC 3550 §6.4.1 sender's octet count): no header, no padding. */
size_t RtpPayloadLength(const uint8_t* p, size_t len) {
  const size_t header = RtpHeaderLength(p, len);
  if (header == 0) return 0;
  const size_t padding = (p[0] & 0x20) ? p[len - 1] : 0;
  return header + padding <= len ? len - header - padding : 0;
}

}  // namespace

size_t ForwardEngine::ProducerKeyHash::operator()(const ProducerKey& k) const {
  uint64_t h = reinterpret_cast<uintptr_t>(k.source) * 0x9e3779b97f4a7c15ull;
  h ^= static_cast<uint64_t>(k.ssrc) * 0xbf58476d1ce4e5b9ull;
  return static_cast<size_t>(h ^ (h >> 31));
}

ForwardEngine::ForwardEngine(size_t slots, size_t slot_bytes)
    : slot_bytes_(slot_bytes < 64 + kSrtpRoom ? 64 + kSrtpRoom : slot_bytes), slots_(slots ? slots : 1) {
  out_.resize(slots_ * slot_bytes_);
  items_.reserve(slots_);
  item_sinks_.reserve(slots_);
}

template <typename T>
uint32_t ForwardEngine::Allocate(std::vector<T>& table, std::vector<uint32_t>& free_ids) {
  uint32_t id;
  if (!free_ids.empty()) {
    id = free_ids.back();
    free_ids.pop_back();
    table[id - 1] = T();
  } else {
    if (table.size() >= kMaxIds) return 0;
    table.emplace_back();
    id = static_cast<uint32_t>(table.size());
  }
  table[id - 1].used = true;
  return id;
}

template <typename T>
T* ForwardEngine::Find(std::vector<T>& table, uint32_t id) {
  return id >= 1 && id <= table.size() && table[id - 1].used ? &table[id - 1] : nullptr;
}

template <typename T>
const T* ForwardEngine::Find(const std::vector<T>& table, uint32_t id) {
  return id >= 1 && id <= table.size() && table[id - 1].used ? &table[id - 1] : nullptr;
}

uint32_t ForwardEngine::add_transport(SrtpSession* session, const sockaddr* address, socklen_t length, ForwardSink* sink) {
  if (!session || !address || length == 0 || length > sizeof(sockaddr_storage)) return 0;
  const uint32_t id = Allocate(transports_, free_transports_);
  if (id == 0) return 0;
  Transport& t = transports_[id - 1];
  t.session = session;
  t.sink = sink;
  std::memcpy(&t.address, address, length);
  t.length = length;
  return id;
}

uint32_t ForwardEngine::add_plain_transport(const ForwardPlainSource* remote, SrtpSession* session, ForwardSink* sink) {
  if (!remote || !sink) return 0;
  const uint32_t id = Allocate(transports_, free_transports_);
  if (id == 0) return 0;
  Transport& t = transports_[id - 1];
  t.session = session;
  t.plain = remote;
  t.sink = sink;
  return id;
}

bool ForwardEngine::set_transport_address(uint32_t id, const sockaddr* address, socklen_t length) {
  Transport* t = Find(transports_, id);
  if (!t || !address || length == 0 || length > sizeof(sockaddr_storage)) return false;
  std::memcpy(&t->address, address, length);
  t->length = length;
  return true;
}

bool ForwardEngine::set_transport_route(uint32_t id, SrtpSession* session, const sockaddr* address, socklen_t length,
                                        ForwardSink* sink) {
  Transport* t = Find(transports_, id);
  if (!t || t->plain || !session || !address || length == 0 || length > sizeof(sockaddr_storage)) return false;
  IndexRtcpTransport(id, *t, false);
  t->session = session;
  IndexRtcpTransport(id, *t, true);
  t->sink = sink;
  std::memcpy(&t->address, address, length);
  t->length = length;
  return true;
}

bool ForwardEngine::remove_transport(uint32_t id) {
  Transport* t = Find(transports_, id);
  if (!t) return false;
  // Its consumers point at no transport from now on: the id is reused, and an old leg must never send
  // (media or a sender report) through the next transport's SRTP context to the next remote.
  for (uint32_t c : t->consumers) {
    if (Consumer* consumer = Find(consumers_, c)) consumer->transport = 0;
  }
  IndexRtcpTransport(id, *t, false);
  *t = Transport();
  free_transports_.push_back(id);
  return true;
}

void ForwardEngine::IndexRtcpTransport(uint32_t id, const Transport& t, bool add) {
  if (!t.session || t.plain) return;
  if (!add) {
    const auto it = rtcp_transports_.find(t.session);
    if (it != rtcp_transports_.end() && it->second == id) rtcp_transports_.erase(it);
    return;
  }
  if (t.rtcp_kinds != 0) rtcp_transports_[t.session] = id;
}

bool ForwardEngine::set_transport_rtcp_kinds(uint32_t id, uint32_t kinds) {
  Transport* t = Find(transports_, id);
  if (!t || t->plain) return false;
  IndexRtcpTransport(id, *t, false);
  t->rtcp_kinds = kinds & ~static_cast<uint32_t>(kRtcpKindOther);
  IndexRtcpTransport(id, *t, true);
  return true;
}

size_t ForwardEngine::take_keyframe_requests(uint32_t* out, size_t pairs) {
  if (!out) return 0;
  size_t n = 0;
  size_t kept = 0;
  for (size_t i = 0; i < keyframe_requests_.size(); ++i) {
    const uint32_t id = keyframe_requests_[i];
    Consumer* c = Find(consumers_, id);
    if (!c || c->keyframe_pending == 0) continue;  // removed since (a reused id is not pending)
    if (n < pairs) {
      out[2 * n] = id;
      out[2 * n + 1] = c->keyframe_pending;
      ++n;
      c->keyframe_pending = 0;
    } else {
      keyframe_requests_[kept++] = id;
    }
  }
  keyframe_requests_.resize(kept);
  return n;
}

bool ForwardEngine::ConsumeRtcp(uint32_t id, Transport& t, const uint8_t* data, size_t len, uint64_t arrived_us,
                                ForwardSink& sink) {
  ForwardRtcpCompound& cp = rtcp_compound_;
  forward_rtcp_compound_read(data, len, &cp);
  // A kind JavaScript keeps (or anything unsure, malformed included: JavaScript counts it as before).
  if ((cp.kinds & ~t.rtcp_kinds) != 0 || t.consumers.empty()) {
    counters_[kFwdRtcpToJs] += 1;
    return false;
  }
  const auto consumer_of = [&](uint32_t ssrc) -> Consumer* {
    const auto named = t.consumer_by_ssrc.find(ssrc);
    Consumer* c = named == t.consumer_by_ssrc.end() ? nullptr : Find(consumers_, named->second);
    return c && c->transport == id ? c : nullptr;
  };
  // Every report block, NACK, PLI and FIR must be about one of this leg's consumers: one about a
  // stream the connection sends from JavaScript is that stream's policy modules' to read.
  // An XR of RRTRs belongs, as lib/peer/media-router.ts routes it, to the consumer the first report
  // block before it names (`owner`); without one, or when its SSRC is a stream this connection
  // publishes (JavaScript routes that XR to the stream's receiver), it goes to JavaScript.
  Consumer* owner = nullptr;
  for (size_t k = 0; k < cp.count; ++k) {
    const ForwardRtcpPacket& pk = cp.packets[k];
    bool ours = true;
    if (pk.type == kRtcpXr) {
      ours = owner != nullptr && producer_index_.count(ProducerKey{t.session, ReadU32(pk.body)}) == 0;
    } else if (pk.type == kRtcpRr) {
      if (!owner && pk.count > 0) owner = consumer_of(ReadU32(pk.body + 4));
      for (size_t b = 0; b < pk.count && ours; ++b) {
        // A block whose LSR names no SR the engine sent (the leg's reporter built that SR in
        // JavaScript) measures its RTT there, by the wall clock: the compound goes to JavaScript.
        const Consumer* c = consumer_of(ReadU32(pk.body + 4 + b * kRtcpReportBlockLength));
        const uint32_t lsr = ReadU32(pk.body + 4 + b * kRtcpReportBlockLength + 16);
        ours = c != nullptr && (lsr == 0 || c->report.knows_sr(lsr));
      }
    } else if (pk.type == kRtcpRtpfb && pk.count == kRtpfbGenericNack) {
      ours = consumer_of(ReadU32(pk.body + 4)) != nullptr;
    } else if (pk.type == kRtcpPsfb && pk.count == kPsfbPli) {
      ours = consumer_of(ReadU32(pk.body + 4)) != nullptr;
    } else if (pk.type == kRtcpPsfb && pk.count == kPsfbFir) {
      for (size_t e = 8; e + 8 <= pk.body_length && ours; e += 8) ours = consumer_of(ReadU32(pk.body + e)) != nullptr;
    }
    if (!ours) {
      counters_[kFwdRtcpToJs] += 1;
      return false;
    }
  }
  counters_[kFwdRtcpConsumed] += 1;
  if (cp.kinds & kRtcpKindReceiverReport) read_receiver_reports(id, data, len, arrived_us);
  const auto request = [&](Consumer* c, uint64_t ForwardConsumerCounters::*count) {
    ++(c->counters.*count);
    counters_[kFwdKeyFrameRequests] += 1;
    // A paused consumer sends nothing to decode (its resume asks upstream itself, lib/sfu).
    if (c->paused) return;
    if (c->keyframe_pending++ == 0) keyframe_requests_.push_back(static_cast<uint32_t>(c - consumers_.data()) + 1);
  };
  for (size_t k = 0; k < cp.count; ++k) {
    const ForwardRtcpPacket& pk = cp.packets[k];
    if (pk.type == kRtcpXr) {
      // RFC 3611 §4.4: the last RRTR of the XR; its DLRR goes out with the owner's next native SR, or
      // in the report the leg's reporter builds while the leg is idle (take_consumer_receiver_reference_time).
      const uint8_t* ntp = pk.body + pk.body_length - 8;
      owner->rrtr_pending = true;
      owner->rrtr_ssrc = ReadU32(pk.body);
      owner->rrtr_last_rr = (ReadU32(ntp) << 16) | (ReadU32(ntp + 4) >> 16);
      owner->rrtr_arrived_us = arrived_us;
      counters_[kFwdReceiverReferenceTimes] += 1;
    } else if (pk.type == kRtcpRtpfb && pk.count == kRtpfbGenericNack) {
      ++consumer_of(ReadU32(pk.body + 4))->counters.nack_packets;
    } else if (pk.type == kRtcpPsfb && pk.count == kPsfbPli) {
      request(consumer_of(ReadU32(pk.body + 4)), &ForwardConsumerCounters::plis);
    } else if (pk.type == kRtcpPsfb && pk.count == kPsfbFir) {
      for (size_t e = 8; e + 8 <= pk.body_length; e += 8) request(consumer_of(ReadU32(pk.body + e)), &ForwardConsumerCounters::firs);
    } else if ((pk.type == kRtcpRtpfb && pk.count == kRtpfbTransportCc) || (pk.type == kRtcpPsfb && pk.count == kPsfbAfb)) {
      counters_[kFwdTransportFeedback] += 1;
    }
  }
  if (cp.kinds & kRtcpKindNack) retransmit_compound(id, data, len, arrived_us, sink);
  return true;
}

uint32_t ForwardEngine::NewProducer(const void* source, uint8_t layers, bool tap, size_t cache_packets) {
  const uint32_t id = Allocate(producers_, free_producers_);
  if (id == 0) return 0;
  Producer& p = producers_[id - 1];
  p.source = source;
  p.tap = tap;
  p.layer_count = layers;
  p.cache_packets = cache_packets;
  p.layers.resize(layers);
  return id;
}

uint32_t ForwardEngine::add_producer(const void* source, uint32_t ssrc, bool tap, size_t cache_packets) {
  if (!source) return 0;
  const ProducerKey key{source, ssrc};
  if (producer_index_.count(key)) return 0;
  const uint32_t id = NewProducer(source, 1, tap, cache_packets);
  if (id == 0) return 0;
  Producer& p = producers_[id - 1];
  p.ssrc = ssrc;
  p.layers[0].bound = true;
  p.layers[0].ssrc = ssrc;
  if (cache_packets) p.layers[0].cache = ForwardPacketCache(cache_packets);
  producer_index_[key] = ProducerRoute{id, 0, false};
  return id;
}

uint32_t ForwardEngine::add_simulcast_producer(SrtpSession* source, uint8_t layers, bool tap, size_t cache_packets) {
  if (!source || layers < 2 || layers > kMaxLayers) return 0;
  const uint32_t id = NewProducer(source, layers, tap, cache_packets);
  if (id == 0) return 0;
  producers_[id - 1].simulcast = true;
  producers_[id - 1].layer_aware = true;
  return id;
}

bool ForwardEngine::set_producer_layer(uint32_t id, uint8_t layer, uint32_t ssrc) {
  Producer* p = Find(producers_, id);
  if (!p || layer >= p->layer_count || p->layers[layer].bound) return false;
  const ProducerKey key{p->source, ssrc};
  if (producer_index_.count(key)) return false;
  Layer& l = p->layers[layer];
  l.bound = true;
  l.ssrc = ssrc;
  if (p->cache_packets) l.cache = ForwardPacketCache(p->cache_packets);
  if (layer == 0) p->ssrc = ssrc;
  producer_index_[key] = ProducerRoute{id, layer, false};
  return true;
}

bool ForwardEngine::add_producer_repair_ssrc(uint32_t id, uint32_t ssrc) {
  Producer* p = Find(producers_, id);
  if (!p) return false;
  const ProducerKey key{p->source, ssrc};
  if (producer_index_.count(key)) return false;
  p->repair_ssrcs.push_back(ssrc);
  producer_index_[key] = ProducerRoute{id, 0, true};
  return true;
}

bool ForwardEngine::add_producer_rtx(uint32_t id, uint32_t rtx_ssrc, uint8_t rtx_payload_type, uint8_t original_payload_type) {
  Producer* p = Find(producers_, id);
  if (!p || p->simulcast || rtx_ssrc == 0 || rtx_payload_type > 127 || original_payload_type > 127) return false;
  const ProducerKey key{p->source, rtx_ssrc};
  if (producer_index_.count(key)) return false;
  p->repair_ssrcs.push_back(rtx_ssrc);
  p->rtx_payload_type = rtx_payload_type;
  p->rtx_original_payload_type = original_payload_type;
  producer_index_[key] = ProducerRoute{id, 0, false, true};
  return true;
}

bool ForwardEngine::set_producer_codecs(uint32_t id, const uint8_t* codecs) {
  Producer* p = Find(producers_, id);
  if (!p || !codecs) return false;
  for (size_t i = 0; i < 128; ++i) {
    p->codecs[i] = codecs[i] <= static_cast<uint8_t>(ForwardLayerCodec::kH264) ? codecs[i] : 0;
  }
  return true;
}

bool ForwardEngine::set_producer_tap(uint32_t id, bool tap) {
  Producer* p = Find(producers_, id);
  if (!p) return false;
  p->tap = tap;
  return true;
}

bool ForwardEngine::set_producer_clock_rate(uint32_t id, uint32_t clock_rate) {
  Producer* p = Find(producers_, id);
  if (!p) return false;
  if (p->counters.receive.clock_rate != clock_rate) p->counters.receive.has_transit = false;
  p->counters.receive.clock_rate = clock_rate;
  for (Layer& l : p->layers) {
    if (l.receive.clock_rate != clock_rate) l.receive.has_transit = false;
    l.receive.clock_rate = clock_rate;
  }
  return true;
}

bool ForwardEngine::set_producer_transport_cc(uint32_t id, uint8_t ext_id) {
  Producer* p = Find(producers_, id);
  if (!p) return false;
  p->transport_cc_id = ext_id;
  // 4096 arrivals: 2 s of a 2000-packet/s publisher between two drains.
  if (ext_id != 0 && !p->arrivals.enabled()) p->arrivals.enable(4096);
  return true;
}

bool ForwardEngine::set_producer_abs_send_time(uint32_t id, uint8_t ext_id) {
  Producer* p = Find(producers_, id);
  if (!p) return false;
  p->abs_send_time_id = ext_id;
  // As the arrival log: 2 s of a 2000-packet/s publisher between two drains.
  if (ext_id != 0 && !p->send_times.enabled()) p->send_times.enable(4096);
  return true;
}

ForwardLegSendLog* ForwardEngine::transport_send_log(uint32_t id) {
  Transport* t = Find(transports_, id);
  return t ? &t->send_log : nullptr;
}

ForwardSendTimeLog* ForwardEngine::producer_send_times(uint32_t id) {
  Producer* p = Find(producers_, id);
  return p ? &p->send_times : nullptr;
}

ForwardArrivalLog* ForwardEngine::producer_arrivals(uint32_t id) {
  Producer* p = Find(producers_, id);
  return p ? &p->arrivals : nullptr;
}

bool ForwardEngine::remove_producer(uint32_t id) {
  Producer* p = Find(producers_, id);
  if (!p) return false;
  for (uint32_t c : p->consumers) {
    if (Consumer* consumer = Find(consumers_, c)) consumer->producer = 0;
  }
  for (const Layer& l : p->layers) {
    if (l.bound) producer_index_.erase(ProducerKey{p->source, l.ssrc});
  }
  for (uint32_t ssrc : p->repair_ssrcs) producer_index_.erase(ProducerKey{p->source, ssrc});
  *p = Producer();
  free_producers_.push_back(id);
  return true;
}

uint32_t ForwardEngine::add_consumer(uint32_t producer, uint32_t transport, const ForwardConsumerParams& params) {
  if (!Find(producers_, producer) || !Find(transports_, transport) || params.ssrc == 0) return 0;
  const uint32_t id = Allocate(consumers_, free_consumers_);
  if (id == 0) return 0;
  Consumer& c = consumers_[id - 1];
  c.producer = producer;
  c.transport = transport;
  c.rewrite = params;
  c.rewrite.rebase = true;
  c.rewrite.started = false;
  Producer& p = producers_[producer - 1];
  if (p.simulcast) {
    // Nothing until a key frame of a layer: the subscriber could not decode it anyway.
    c.layers.active = true;
    c.layers.target_spatial = static_cast<uint8_t>(p.layer_count - 1);
    c.layers.current_spatial = ForwardLayerState::kNone;
  } else {
    c.layers.current_spatial = 0;
  }
  KeepSentMap(c, p);
  p.consumers.push_back(id);
  Transport& t = transports_[transport - 1];
  t.consumers.push_back(id);
  t.consumer_by_ssrc.emplace(c.rewrite.ssrc, id);  // keeps an earlier consumer with this SSRC
  return id;
}

void ForwardEngine::KeepSentMap(Consumer& c, const Producer& p) {
  // The configured size, not layer 0's cache: a simulcast layer's cache exists only once it is bound.
  const size_t packets = c.layers.active ? p.cache_packets : 0;
  c.sent.reset(packets);  // keeps the allocation and entries when the size is unchanged
}

void ForwardEngine::Detach(uint32_t consumer_id, uint32_t producer_id) {
  Producer* p = Find(producers_, producer_id);
  if (!p) return;
  auto& v = p->consumers;
  v.erase(std::remove(v.begin(), v.end(), consumer_id), v.end());
}

bool ForwardEngine::remove_consumer(uint32_t id) {
  Consumer* c = Find(consumers_, id);
  if (!c) return false;
  Detach(id, c->producer);
  if (Transport* t = Find(transports_, c->transport)) {
    auto& v = t->consumers;
    v.erase(std::remove(v.begin(), v.end(), id), v.end());
    const uint32_t ssrc = c->rewrite.ssrc;
    auto named = t->consumer_by_ssrc.find(ssrc);
    if (named != t->consumer_by_ssrc.end() && named->second == id) {
      // The next consumer of the transport with that SSRC, if any, is named instead (first in order).
      t->consumer_by_ssrc.erase(named);
      for (const uint32_t k : v) {
        const Consumer* other = Find(consumers_, k);
        if (other && other->rewrite.ssrc == ssrc) {
          t->consumer_by_ssrc.emplace(ssrc, k);
          break;
        }
      }
    }
  }
  *c = Consumer();
  free_consumers_.push_back(id);
  return true;
}

bool ForwardEngine::set_consumer_paused(uint32_t id, bool paused) {
  Consumer* c = Find(consumers_, id);
  if (!c) return false;
  if (c->paused && !paused) {
    c->rewrite.rebase = true;  // no sequence gap for the receiver to NACK
    c->layers.reset_stream();  // PictureID/TL0PICIDX continue too
  }
  c->paused = paused;
  return true;
}

bool ForwardEngine::set_consumer_round_trip_time(uint32_t id, uint32_t rtt_us) {
  Consumer* c = Find(consumers_, id);
  if (!c) return false;
  c->rtt_us = rtt_us;
  return true;
}

bool ForwardEngine::set_consumer_cname(uint32_t id, const uint8_t* cname, size_t length) {
  Consumer* c = Find(consumers_, id);
  if (!c || length > kForwardCnameMax || (length > 0 && !cname)) return false;
  c->cname.assign(reinterpret_cast<const char*>(cname), length);
  return true;
}

bool ForwardEngine::take_consumer_receiver_reference_time(uint32_t id, uint64_t now_us, ForwardDlrrItem* item) {
  Consumer* c = Find(consumers_, id);
  if (!c || !item || !c->rrtr_pending) return false;
  *item = c->dlrr_at(now_us);
  c->rrtr_pending = false;
  counters_[kFwdDlrrSent] += 1;
  return true;
}

size_t ForwardEngine::send_sender_reports(const uint32_t* ids, const double* unix_ms, size_t n, uint64_t now_us,
                                          ForwardSink& sink, uint8_t* sent) {
  if (!ids || !unix_ms) return 0;
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    if (sent) sent[i] = 0;
    Consumer* c = Find(consumers_, ids[i]);
    if (!c || c->counters.packets == 0 || c->counters.last_sent_us == 0) continue;
    Transport* t = Find(transports_, c->transport);
    const sockaddr* address = nullptr;
    socklen_t address_length = 0;
    // Only an SRTP leg: a plain transport's reports are lib/sfu/plain-leg-reports.ts's.
    if (!t || !t->session || t->plain || !Destination(*t, &address, &address_length)) continue;
    if (t->sink && t->sink->closed()) continue;
    if (used_ == slots_) Flush(sink);
    uint8_t* out = out_.data() + used_ * slot_bytes_;
    ForwardSenderReportFields f;
    f.ssrc = c->rewrite.ssrc;
    forward_ntp_from_unix_ms(unix_ms[i], &f.ntp_seconds, &f.ntp_fraction);
    // The rewritten stream's own mapping (RFC 3550 §6.4.1): the last timestamp it carried, moved on
    // by the time since then on the consumer's clock, not the publisher's mapping.
    f.rtp_timestamp = forward_rtp_timestamp_at(c->counters.last_timestamp, c->counters.last_sent_us, now_us,
                                               c->rewrite.clock_rate);
    f.packet_count = static_cast<uint32_t>(c->reported_packets_before + c->counters.packets);
    f.octet_count = static_cast<uint32_t>(c->reported_octets_before + c->counters.payload_bytes);
    size_t len = forward_sender_report_write(out, slot_bytes_ - kSrtpRoom, f,
                                             reinterpret_cast<const uint8_t*>(c->cname.data()), c->cname.size());
    // The subscriber's last RRTR, answered once (RFC 3611 §4.5), as the JavaScript reporter does.
    size_t dlrr = 0;
    if (len != 0 && c->rrtr_pending) {
      dlrr = forward_dlrr_write(out + len, slot_bytes_ - kSrtpRoom - len, f.ssrc, c->dlrr_at(now_us));
      len += dlrr;
    }
    size_t out_len = 0;
    if (len == 0 || t->session->protect_rtcp(out, len, len + kSrtpRoom, &out_len) != SrtpStatus::kOk) continue;
    if (dlrr != 0) {
      c->rrtr_pending = false;
      counters_[kFwdDlrrSent] += 1;
    }
    ++used_;
    items_.push_back(UdpSendItem{out, static_cast<uint32_t>(out_len), address, address_length});
    item_sinks_.push_back(t->sink ? t->sink : &sink);
    counters_[kFwdSenderReports] += 1;
    c->report.sr_sent(forward_ntp_middle32(f.ntp_seconds, f.ntp_fraction), now_us);
    if (sent) sent[i] = 1;
    ++count;
  }
  Flush(sink);
  return count;
}

bool ForwardEngine::continue_consumer_numbering(uint32_t id, uint32_t from) {
  Consumer* c = Find(consumers_, id);
  const Consumer* f = Find(consumers_, from);
  if (!c || !f || c == f || c->rewrite.started || c->transport != f->transport || c->rewrite.ssrc != f->rewrite.ssrc) return false;
  c->rewrite.rtx_seq = f->rewrite.rtx_seq;
  c->reported_packets_before = f->reported_packets_before + f->counters.packets;
  c->reported_octets_before = f->reported_octets_before + f->counters.payload_bytes;
  if (f->rewrite.started) {
    c->rewrite.started = true;
    c->rewrite.rebase = true;
    c->rewrite.last_seq = f->rewrite.last_seq;
    c->rewrite.last_ts = f->rewrite.last_ts;
    c->rewrite.last_sent_us = f->rewrite.last_sent_us;
  }
  if (f->layers.vp8_started) {
    c->layers.vp8_started = true;
    c->layers.vp8_rebase = true;
    c->layers.last_picture_id = f->layers.last_picture_id;
    c->layers.last_tl0 = f->layers.last_tl0;
  }
  return true;
}

bool ForwardEngine::set_consumer_producer(uint32_t id, uint32_t producer) {
  Consumer* c = Find(consumers_, id);
  if (!c || (producer != 0 && !Find(producers_, producer))) return false;
  if (c->producer == producer) return true;
  Detach(id, c->producer);
  c->producer = producer;
  c->rewrite.rebase = true;
  c->layers.reset_stream();
  // What it got so far came from the other producer's caches.
  c->sent.clear();
  c->resends.clear();
  if (producer) {
    Producer& p = producers_[producer - 1];
    p.consumers.push_back(id);
    if (p.simulcast) {
      c->layers.active = true;
      c->layers.current_spatial = ForwardLayerState::kNone;
      if (c->layers.target_spatial >= p.layer_count) c->layers.target_spatial = static_cast<uint8_t>(p.layer_count - 1);
    } else {
      c->layers.current_spatial = 0;
      c->layers.target_spatial = 0;
    }
    if (c->layers.active) p.layer_aware = true;
    KeepSentMap(*c, p);
  }
  return true;
}

bool ForwardEngine::set_consumer_layers(uint32_t id, uint8_t spatial, uint8_t temporal) {
  Consumer* c = Find(consumers_, id);
  if (!c || temporal > ForwardLayerState::kMaxTemporal) return false;
  Producer* p = Find(producers_, c->producer);
  if (!p || spatial >= p->layer_count) return false;
  c->layers.target_spatial = spatial;
  c->layers.target_temporal = temporal;
  if (!c->layers.active && temporal < ForwardLayerState::kMaxTemporal) {
    // From now on the consumer's VP8 numbering may differ from the producer's: it stays selecting.
    c->layers.active = true;
    c->layers.current_temporal = ForwardLayerState::kMaxTemporal;
  }
  if (c->layers.active) p->layer_aware = true;
  KeepSentMap(*c, *p);
  return true;
}

const ForwardLayerState* ForwardEngine::consumer_layers(uint32_t id) const {
  const Consumer* c = Find(consumers_, id);
  return c ? &c->layers : nullptr;
}

uint32_t ForwardEngine::consumer_producer(uint32_t id) const {
  const Consumer* c = Find(consumers_, id);
  return c ? c->producer : 0;
}

uint8_t ForwardEngine::producer_max_temporal(uint32_t id, uint8_t layer) const {
  const Producer* p = Find(producers_, id);
  return p && layer < p->layers.size() ? p->layers[layer].max_tid : 0;
}

uint8_t ForwardEngine::producer_layer_packets(uint32_t id, uint64_t* out, uint8_t max) const {
  const Producer* p = Find(producers_, id);
  if (!p) return 0;
  uint8_t n = 0;
  for (; n < max && n < p->layers.size(); ++n) out[n] = p->layers[n].packets;
  return n;
}

const ForwardReceiveStats* ForwardEngine::producer_layer_receive(uint32_t id, uint8_t layer, uint64_t* bytes) const {
  const Producer* p = Find(producers_, id);
  if (!p || layer >= p->layers.size()) return nullptr;
  if (bytes) *bytes = p->layers[layer].bytes;
  return &p->layers[layer].receive;
}

bool ForwardEngine::producer_layer_temporal_bytes(uint32_t id, uint8_t layer, uint64_t out[4]) const {
  const Producer* p = Find(producers_, id);
  if (!p || layer >= p->layers.size()) return false;
  for (int t = 0; t < 4; ++t) out[t] = p->layers[layer].temporal_bytes[t];
  return true;
}

const ForwardProducerCounters* ForwardEngine::producer_counters(uint32_t id) const {
  const Producer* p = Find(producers_, id);
  return p ? &p->counters : nullptr;
}

const ForwardConsumerCounters* ForwardEngine::consumer_counters(uint32_t id) const {
  const Consumer* c = Find(consumers_, id);
  return c ? &c->counters : nullptr;
}

void ForwardEngine::Drop(Consumer& consumer, ForwardDrop reason) {
  ++consumer.counters.dropped[static_cast<size_t>(reason)];
  counters_[kFwdDropBase + static_cast<int>(reason)] += 1;
}

void ForwardEngine::Flush(ForwardSink& /*sink*/) {
  // Each item names its sink; consecutive items of one sink (consumer-major order) go in one call.
  size_t start = 0;
  while (start < items_.size()) {
    size_t end = start + 1;
    while (end < items_.size() && item_sinks_[end] == item_sinks_[start]) ++end;
    item_sinks_[start]->send(items_.data() + start, end - start);
    counters_[kFwdFlushes] += 1;
    start = end;
  }
  items_.clear();
  item_sinks_.clear();
  used_ = 0;
}

bool ForwardEngine::Destination(const Transport& t, const sockaddr** address, socklen_t* length) {
  if (t.plain) {
    *address = t.plain->remote();
    *length = t.plain->remote_length();
    return *length != 0;
  }
  *address = reinterpret_cast<const sockaddr*>(&t.address);
  *length = t.length;
  return t.session != nullptr;
}

void ForwardEngine::ForwardTo(Consumer& c, const uint8_t* data, size_t len, uint64_t now_us, ForwardSink& sink,
                              const ForwardLayerPacket* info, uint8_t layer) {
  if (c.paused) return Drop(c, ForwardDrop::kPaused);
  if (c.layers.active) {
    if (!info) return Drop(c, ForwardDrop::kMalformed);
    const uint64_t before = c.layers.switches;
    const ForwardLayerDecision d = forward_layer_select(*info, layer, c.layers);
    counters_[kFwdLayerSwitches] += static_cast<double>(c.layers.switches - before);
    if (d.spatial_switch) c.rewrite.rebase = true;
    if (d.verdict != ForwardLayerDecision::kForward) {
      if (d.absorb_sequence && c.rewrite.started && !c.rewrite.rebase) {
        c.rewrite.seq_offset = static_cast<uint16_t>(c.rewrite.seq_offset - 1);
        c.rewrite.reset_window = true;
      }
      return Drop(c, d.verdict == ForwardLayerDecision::kDropMalformed ? ForwardDrop::kMalformed : ForwardDrop::kLayer);
    }
  }
  Transport* t = Find(transports_, c.transport);
  const sockaddr* address = nullptr;
  socklen_t address_length = 0;
  if (!t || !Destination(*t, &address, &address_length)) return Drop(c, ForwardDrop::kNoTransport);
  // Before the rewrite, as for a missing transport: nothing is numbered for a connection that is gone.
  if (t->sink && t->sink->closed()) return Drop(c, ForwardDrop::kSinkClosed);
  if (len + kSrtpRoom > slot_bytes_) return Drop(c, ForwardDrop::kTooBig);
  if (used_ == slots_) Flush(sink);
  uint8_t* out = out_.data() + used_ * slot_bytes_;
  // An SRTP leg whose payload is not rewritten (no VP8 descriptor numbering) gets only the header
  // copied: protect reads the clear payload from the received packet and writes the ciphertext
  // straight into the send slot, one pass over the payload instead of two (docs/sfu.md "Per-leg cost").
  const size_t header = t->session && !c.layers.active ? RtpHeaderLength(data, len) : 0;
  std::memcpy(out, data, header != 0 ? header : len);
  const uint16_t seq_before = t->transport_seq;
  const ForwardDrop drop = forward_rtp_rewrite(out, len, c.rewrite, now_us, &t->transport_seq);
  if (drop != ForwardDrop::kNone) return Drop(c, drop);
  if (c.layers.active && info->has_vp8) forward_layer_rewrite_vp8(out + info->payload_at, info->payload_len, info->vp8, c.layers);
  if (c.sent.enabled()) {
    // Read after the rewrites: the offsets this packet went out under (a rebase sets them).
    ForwardSentEntry e;
    e.out_seq = ReadU16(out + 2);
    e.in_seq = ReadU16(data + 2);
    e.ts_offset = c.rewrite.ts_offset;
    e.picture_id_offset = c.layers.picture_id_offset;
    e.tl0_offset = c.layers.tl0_offset;
    e.layer = layer;
    c.sent.record(e);
  }
  size_t out_len = len;  // a clear (plain) transport sends the rewritten packet as it is
  if (t->session && t->session->protect_rtp(out, len, len + kSrtpRoom, &out_len, header != 0 ? data : out) !=
                         SrtpStatus::kOk) {
    return Drop(c, ForwardDrop::kProtect);
  }
  ++used_;
  items_.push_back(UdpSendItem{out, static_cast<uint32_t>(out_len), address, address_length});
  item_sinks_.push_back(t->sink ? t->sink : &sink);
  if (t->transport_seq != seq_before) t->send_log.record(seq_before, now_us, static_cast<uint32_t>(out_len));
  ++c.counters.packets;
  c.counters.bytes += out_len;
  // From the clear packet: the padding count is the payload's last octet, ciphertext in `out` now.
  c.counters.payload_bytes += RtpPayloadLength(data, len);
  c.counters.last_timestamp = c.rewrite.last_ts;
  c.counters.last_sent_us = now_us;
  counters_[kFwdForwarded] += 1;
  counters_[kFwdBytesOut] += static_cast<double>(out_len);
}

bool ForwardEngine::Retransmit(Consumer& c, const Producer& p, const uint8_t* data, size_t len, uint64_t now_us,
                               ForwardSink& sink, const ForwardSentEntry* as_sent) {
  Transport* t = Find(transports_, c.transport);
  const sockaddr* address = nullptr;
  socklen_t address_length = 0;
  if (c.paused || !t || !Destination(*t, &address, &address_length) || (t->sink && t->sink->closed()) ||
      len + 2 + kSrtpRoom > slot_bytes_) {
    return false;
  }
  const bool rtx = c.rewrite.rtx_payload_type != kForwardUnmapped && c.rewrite.rtx_ssrc != 0;
  if (!rtx && t->session && SrtpProfileIsAead(t->session->profile()) &&
      (c.rewrite.abs_send_time_id != 0 || c.rewrite.transport_cc_id != 0)) {
    // In the original stream a retransmission reuses the packet's SRTP index (its nonce). Per leg
    // abs-send-time/transport-cc make its header differ from the first send, and AES-GCM must
    // never authenticate two different messages under one nonce (RFC 7714 §8.1, §16): only RTX
    // may carry it (docs/sfu.md "Retransmission"). Counted as a miss.
    return false;
  }
  ForwardLayerPacket info;
  if (c.layers.active) {
    if (len < 2 || !forward_layer_inspect(data, len, static_cast<ForwardLayerCodec>(p.codecs[data[1] & 0x7f]), &info)) return false;
    // Without the sent map's entry: only what the consumer's current layers would forward now.
    if (!as_sent && info.has_vp8 && info.vp8.has_tid && info.vp8.tid > c.layers.current_temporal) return false;
  }
  if (used_ == slots_) Flush(sink);
  uint8_t* out = out_.data() + used_ * slot_bytes_;
  std::memcpy(out, data, len);
  const uint16_t seq_before = t->transport_seq;
  if (as_sent) {
    // Numbered exactly as it was first sent (forward_sent_map.hpp), whatever was dropped or switched since.
    if (forward_rtp_rewrite_as_sent(out, len, c.rewrite, now_us, &t->transport_seq, as_sent->out_seq, as_sent->ts_offset) !=
        ForwardDrop::kNone) {
      return false;
    }
    if (info.has_vp8 && (info.vp8.has_picture_id || info.vp8.has_tl0)) {
      const uint16_t mask = info.vp8.picture_id_15 ? 0x7fff : 0x7f;
      vp8_descriptor_write(out + info.payload_at, info.payload_len, info.vp8,
                           static_cast<uint16_t>((info.vp8.picture_id + as_sent->picture_id_offset) & mask),
                           static_cast<uint8_t>(info.vp8.tl0_pic_idx + as_sent->tl0_offset));
    }
  } else {
    if (forward_rtp_rewrite_retransmission(out, len, c.rewrite, now_us, &t->transport_seq) != ForwardDrop::kNone) return false;
    if (c.layers.active && info.has_vp8 &&
        !forward_layer_rewrite_vp8_retransmission(out + info.payload_at, info.payload_len, info.vp8, c.layers)) {
      return false;
    }
  }
  size_t n = len;
  if (rtx) {
    n = forward_rtx_wrap(out, len, slot_bytes_ - kSrtpRoom, c.rewrite.rtx_payload_type, c.rewrite.rtx_ssrc, c.rewrite.rtx_seq);
    if (n == 0) return false;
    c.rewrite.rtx_seq = static_cast<uint16_t>(c.rewrite.rtx_seq + 1);
  }
  size_t out_len = n;
  if (t->session && t->session->protect_rtp(out, n, n + kSrtpRoom, &out_len) != SrtpStatus::kOk) return false;
  ++used_;
  items_.push_back(UdpSendItem{out, static_cast<uint32_t>(out_len), address, address_length});
  item_sinks_.push_back(t->sink ? t->sink : &sink);
  if (t->transport_seq != seq_before) t->send_log.record(seq_before, now_us, static_cast<uint32_t>(out_len));
  return true;
}

bool ForwardEngine::AnswerNack(uint32_t id, Consumer& c, uint16_t consumer_seq, uint64_t now_us, ForwardSink& sink,
                               ForwardNackMisses* misses) {
  Producer* p = Find(producers_, c.producer);
  ++c.counters.nacks;
  counters_[kFwdNackRequested] += 1;
  if (!p) {
    // Its producer closed (or it was switched to none): no cache could hold it, and nothing upstream
    // is asked, so it is no cache miss (docs/sfu.md "Retransmission").
    counters_[kFwdNackUnknownProducer] += 1;
    return false;
  }
  size_t len = 0;
  // A layer-selecting consumer's sent map knows what went out under this number (its layer and
  // producer sequence number), across temporal drops and switches; otherwise consumer space ->
  // producer space with the offsets in force since the last rebase, in the cache of the layer
  // the consumer receives now (the window check in the rewrite rejects older ones).
  const ForwardSentEntry* as_sent = c.sent.find(consumer_seq);
  const uint16_t seq = as_sent ? as_sent->in_seq : static_cast<uint16_t>(consumer_seq - c.rewrite.seq_offset);
  const uint8_t layer = as_sent ? as_sent->layer : c.layers.current_spatial;
  const ForwardPacketCache* cache = p && layer < p->layers.size() ? &p->layers[layer].cache : nullptr;
  const uint8_t* data = cache ? cache->find(seq, &len) : nullptr;
  // RFC 4585 §6.2.1: the receiver repeats a NACK until the packet arrives; answering every copy
  // within one round trip only floods a constrained link (docs/policy.md "Resend interval").
  if (data && c.resends.recently_resent(consumer_seq, now_us, ForwardResendGuard::interval_us(c.rtt_us))) {
    Drop(c, ForwardDrop::kResendWithinRtt);
    return false;
  }
  if (data && Retransmit(c, *p, data, len, now_us, sink, as_sent)) {
    c.resends.mark_resent(consumer_seq, now_us);
    ++c.counters.retransmitted;
    counters_[kFwdRetransmitted] += 1;
    return true;
  }
  counters_[kFwdNackMissed] += 1;
  if (!data && misses) {
    if (misses->count < misses->capacity) {
      if (misses->consumers) misses->consumers[misses->count] = id;
      if (misses->layers) misses->layers[misses->count] = layer;
      misses->seqs[misses->count++] = seq;
    } else {
      ++misses->overflow;
    }
  }
  return false;
}

size_t ForwardEngine::retransmit(uint32_t id, const uint16_t* seqs, size_t n, uint64_t now_us, ForwardSink& sink,
                                 uint16_t* missed, size_t* missed_count, uint8_t* missed_layers) {
  if (missed_count) *missed_count = 0;
  Consumer* c = Find(consumers_, id);
  if (!c || !seqs) return 0;
  ForwardNackMisses misses;
  misses.seqs = missed;
  misses.layers = missed_layers;
  misses.capacity = missed && missed_count ? n : 0;
  size_t sent = 0;
  for (size_t i = 0; i < n; ++i) {
    if (AnswerNack(id, *c, seqs[i], now_us, sink, missed && missed_count ? &misses : nullptr)) ++sent;
  }
  if (missed_count) *missed_count = misses.count;
  Flush(sink);
  return sent;
}

size_t ForwardEngine::retransmit_compound(uint32_t transport, const uint8_t* rtcp, size_t length, uint64_t now_us,
                                          ForwardSink& sink, ForwardNackMisses* misses) {
  if (misses) {
    misses->count = 0;
    misses->overflow = 0;
    if (!misses->seqs) misses->capacity = 0;
  }
  const Transport* t = Find(transports_, transport);
  if (!t || t->consumers.empty()) return 0;
  ForwardNackReader reader(rtcp, length);
  ForwardNack nack;
  size_t sent = 0;
  while (reader.next(&nack)) {
    // One lookup by media SSRC (the transport's SSRC map, as for report blocks).
    const auto named = t->consumer_by_ssrc.find(nack.media_ssrc);
    const uint32_t id = named == t->consumer_by_ssrc.end() ? 0 : named->second;
    Consumer* c = id ? Find(consumers_, id) : nullptr;
    if (c && c->transport != transport) c = nullptr;
    // A paused consumer sent nothing the receiver could miss since the pause (resume rebases).
    if (!c || c->paused) continue;
    uint16_t numbers[ForwardNackReader::kNumbersPerEntry];
    for (size_t e = 0; e < nack.entries; ++e) {
      const size_t count = ForwardNackReader::entry_numbers(nack.fci + e * 4, numbers);
      for (size_t i = 0; i < count; ++i) {
        if (AnswerNack(id, *c, numbers[i], now_us, sink, misses)) ++sent;
      }
    }
  }
  Flush(sink);
  return sent;
}

size_t ForwardEngine::read_receiver_reports(uint32_t transport, const uint8_t* rtcp, size_t length, uint64_t now_us) {
  Transport* t = Find(transports_, transport);
  if (!t) return 0;
  ForwardReportReader reader(rtcp, length);
  ForwardReportBlock b;
  size_t applied = 0;
  size_t read = 0;
  while (reader.next(&b)) {
    if (read == kMaxReportBlocksPerCompound) {
      // A compound longer than any legal one in an MTU: the rest is counted, not looked up.
      size_t rest = 1;
      while (reader.next(&b)) ++rest;
      counters_[kFwdReportBlocksSkipped] += static_cast<double>(rest);
      break;
    }
    ++read;
    const auto named = t->consumer_by_ssrc.find(b.ssrc);
    Consumer* c = named == t->consumer_by_ssrc.end() ? nullptr : Find(consumers_, named->second);
    if (!c || c->transport != transport) {
      counters_[kFwdReportBlocksUnknownSsrc] += 1;
      continue;
    }
    ++applied;
    counters_[kFwdReportBlocks] += 1;
    if (c->report.apply(b, now_us)) {
      c->rtt_us = c->report.srtt_us;  // smoothed: one late sample cannot stretch the resend interval
      counters_[kFwdRoundTrips] += 1;
    }
  }
  if (reader.malformed()) counters_[kFwdRtcpMalformed] += 1;
  return applied;
}

const ForwardLegReceiverReport* ForwardEngine::consumer_receiver_report(uint32_t id) const {
  const Consumer* c = Find(consumers_, id);
  return c ? &c->report : nullptr;
}

bool ForwardEngine::consumer_resend_interval(uint32_t id, uint64_t* interval_us, uint32_t* rtt_us) const {
  const Consumer* c = Find(consumers_, id);
  if (!c) return false;
  if (interval_us) *interval_us = ForwardResendGuard::interval_us(c->rtt_us);
  if (rtt_us) *rtt_us = c->rtt_us;
  return true;
}

int ForwardEngine::process_batch(const UdpRecvTarget& target, int n, uint8_t* status, UdpSessionTable& table,
                                 uint64_t now_us, ForwardSink& sink, const void* clear_source,
                                 SrtpSession* const* slot_sessions) {
  if (n <= 0 || !has_batch_work()) return 0;
  if (n > static_cast<int>(UdpSocket::kMaxBatch)) n = static_cast<int>(UdpSocket::kMaxBatch);
  int matched = 0;
  int consumed = 0;
  for (int i = 0; i < n; ++i) {
    slot_producer_[i] = 0;
    if (status[i] != kRecvClear) continue;
    uint8_t* data = udp_slot_data(target, i);
    uint32_t len = target.lengths[i];
    if (len < kRtpFixedHeaderLen) continue;
    if (IsRtcpPacket(data, len)) {
      // A subscriber's compound RTCP, consumed here when its transport lets the engine (docs/sfu.md).
      if (rtcp_transports_.empty() || clear_source || !slot_sessions) continue;
      const auto leg = rtcp_transports_.find(slot_sessions[i]);
      if (leg == rtcp_transports_.end()) continue;
      Transport* t = Find(transports_, leg->second);
      const uint64_t arrived = target.arrival_us && target.arrival_us[i] != 0 ? target.arrival_us[i] : now_us;
      if (t && ConsumeRtcp(leg->second, *t, data, len, arrived, sink)) {
        status[i] = kRecvForwarded;
        ++consumed;
      }
      continue;
    }
    // The session that unprotected the slot, when the caller kept it: one 5-tuple lookup per packet.
    const void* source = clear_source    ? clear_source
                         : slot_sessions ? static_cast<const void*>(slot_sessions[i])
                                         : table.find(udp_remote_key(target.addresses + static_cast<size_t>(i) * 16,
                                                                     target.ports[i], target.families[i]));
    if (!source) continue;
    auto it = producer_index_.find(ProducerKey{source, ReadU32(data + 8)});
    if (it == producer_index_.end()) continue;
    const ProducerRoute route = it->second;
    // When the kernel received it (docs/udp.md "Receive timestamps"), else when the batch was read.
    const uint64_t arrived_us = target.arrival_us && target.arrival_us[i] != 0 ? target.arrival_us[i] : now_us;
    Producer& p = producers_[route.id - 1];
    if (route.repair) {
      // RTX of a layer (RFC 4588): the engine answers NACKs from its own cache, so it is not needed.
      counters_[kFwdRepairDropped] += 1;
      if (!p.tap) {
        status[i] = kRecvForwarded;
        ++consumed;
        // Still an arrival the publisher's transport-cc feedback must acknowledge: Chromium sends its
        // bandwidth probes as RTX padding, which reported lost would count as loss (docs/sfu.md).
        uint16_t transport_seq = 0;
        if (p.transport_cc_id != 0 && forward_read_transport_seq(data, len, p.transport_cc_id, &transport_seq)) {
          p.arrivals.record(transport_seq, arrived_us);
        }
      }
      continue;
    }
    if (route.rtx) {
      // RFC 4588 §4: restore the original packet in place, then treat it as one (docs/scaling.md).
      const size_t restored = (data[1] & 0x7f) == p.rtx_payload_type
                                  ? forward_rtx_unwrap(data, len, p.rtx_original_payload_type, p.layers[0].ssrc)
                                  : 0;
      if (restored == 0) {
        ++p.counters.rtx_dropped;
        status[i] = kRecvForwarded;
        ++consumed;
        continue;
      }
      ++p.counters.rtx_received;
      len = static_cast<uint32_t>(restored);
      target.lengths[i] = len;
    }
    Layer& layer = p.layers[route.layer];
    slot_producer_[i] = route.id;
    slot_layer_[i] = route.layer;
    if (p.layer_aware) {
      ForwardLayerPacket& info = slot_info_[i];
      forward_layer_inspect(data, len, static_cast<ForwardLayerCodec>(p.codecs[data[1] & 0x7f]), &info);
      if (info.has_vp8 && info.vp8.has_tid && info.vp8.tid > layer.max_tid) layer.max_tid = info.vp8.tid;
    }
    ++matched;
    ++layer.packets;
    ++p.counters.packets;
    p.counters.bytes += len;
    layer.bytes += len;
    if (p.layer_aware) {
      const ForwardLayerPacket& info = slot_info_[i];
      layer.temporal_bytes[info.has_vp8 && info.vp8.has_tid ? (info.vp8.tid & 3) : 0] += len;
    }
    // A repair restored from RTX arrives a round trip late with an old sequence number: counted as
    // received it would hide the loss the report should carry, and its delay would read as jitter
    // (and as congestion to REMB). It is cached and forwarded, not measured.
    const bool repaired = route.rtx;
    if (!repaired) {
      p.counters.last_sequence = ReadU16(data + 2);
      p.counters.last_timestamp = ReadU32(data + 4);
      p.counters.receive.on_packet(ReadU16(data + 2), ReadU32(data + 4), arrived_us);
      layer.receive.on_packet(ReadU16(data + 2), ReadU32(data + 4), arrived_us);
    }
    uint16_t transport_seq = 0;
    // A tapping producer's packets reach JavaScript, whose transport-cc module logs them itself.
    if (p.transport_cc_id != 0 && !p.tap && forward_read_transport_seq(data, len, p.transport_cc_id, &transport_seq)) {
      p.arrivals.record(transport_seq, arrived_us);
    }
    if (p.abs_send_time_id != 0 && !p.tap && !repaired) {
      p.send_times.record(ForwardSendTime{ReadU32(data + 8), forward_read_abs_send_time(data, len, p.abs_send_time_id), len, arrived_us});
    }
    counters_[kFwdPacketsIn] += 1;
    counters_[kFwdBytesIn] += len;
    if (layer.cache.enabled()) {
      layer.cache.store(ReadU16(data + 2), data, len);
      ++p.counters.cached;
    }
    if (p.tap) {
      counters_[kFwdTapped] += 1;
    } else {
      status[i] = kRecvForwarded;
      ++consumed;
    }
  }
  if (matched == 0) return consumed;
  counters_[kFwdBatches] += 1;
  if (consumed == n) counters_[kFwdBatchesWithoutJs] += 1;
  // Consumer-major order: each consumer's packets of this batch leave back to back, so runs to one
  // destination can go out as one GSO send (docs/udp.md "Data path").
  for (int i = 0; i < n; ++i) {
    const uint32_t pid = slot_producer_[i];
    if (pid == 0) continue;
    Producer& p = producers_[pid - 1];
    for (uint32_t cid : p.consumers) {
      Consumer& c = consumers_[cid - 1];
      for (int j = i; j < n; ++j) {
        if (slot_producer_[j] != pid) continue;
        const uint8_t* data = udp_slot_data(target, j);
        const uint64_t before = c.counters.packets;
        ForwardTo(c, data, target.lengths[j], now_us, sink, p.layer_aware ? &slot_info_[j] : nullptr, slot_layer_[j]);
        p.counters.forwarded += c.counters.packets - before;
      }
    }
    for (int j = i; j < n; ++j) {
      if (slot_producer_[j] == pid) slot_producer_[j] = 0;
    }
  }
  Flush(sink);
  return consumed;
}

}  // namespace pwt
