// The SFU forwarding engine (see forward_engine.hpp; docs/sfu.md).
#include "native/forward/forward_engine.hpp"

#include <algorithm>
#include <cstring>

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

uint32_t ForwardEngine::add_transport(SrtpSession* session, const sockaddr* address, socklen_t length) {
  if (!session || !address || length == 0 || length > sizeof(sockaddr_storage)) return 0;
  const uint32_t id = Allocate(transports_, free_transports_);
  if (id == 0) return 0;
  Transport& t = transports_[id - 1];
  t.session = session;
  std::memcpy(&t.address, address, length);
  t.length = length;
  return id;
}

bool ForwardEngine::set_transport_address(uint32_t id, const sockaddr* address, socklen_t length) {
  Transport* t = Find(transports_, id);
  if (!t || !address || length == 0 || length > sizeof(sockaddr_storage)) return false;
  std::memcpy(&t->address, address, length);
  t->length = length;
  return true;
}

bool ForwardEngine::remove_transport(uint32_t id) {
  Transport* t = Find(transports_, id);
  if (!t) return false;
  *t = Transport();
  free_transports_.push_back(id);
  return true;
}

uint32_t ForwardEngine::add_producer(SrtpSession* source, uint32_t ssrc, bool tap, size_t cache_packets) {
  if (!source) return 0;
  const ProducerKey key{source, ssrc};
  if (producer_index_.count(key)) return 0;
  const uint32_t id = Allocate(producers_, free_producers_);
  if (id == 0) return 0;
  Producer& p = producers_[id - 1];
  p.source = source;
  p.ssrc = ssrc;
  p.tap = tap;
  if (cache_packets) p.cache = ForwardPacketCache(cache_packets);
  producer_index_[key] = id;
  return id;
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
  producer_index_.erase(ProducerKey{p->source, p->ssrc});
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
  producers_[producer - 1].consumers.push_back(id);
  return id;
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
  *c = Consumer();
  free_consumers_.push_back(id);
  return true;
}

bool ForwardEngine::set_consumer_paused(uint32_t id, bool paused) {
  Consumer* c = Find(consumers_, id);
  if (!c) return false;
  if (c->paused && !paused) c->rewrite.rebase = true;  // no sequence gap for the receiver to NACK
  c->paused = paused;
  return true;
}

bool ForwardEngine::set_consumer_producer(uint32_t id, uint32_t producer) {
  Consumer* c = Find(consumers_, id);
  if (!c || (producer != 0 && !Find(producers_, producer))) return false;
  if (c->producer == producer) return true;
  Detach(id, c->producer);
  c->producer = producer;
  c->rewrite.rebase = true;
  if (producer) producers_[producer - 1].consumers.push_back(id);
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

void ForwardEngine::Flush(ForwardSink& sink) {
  if (!items_.empty()) {
    sink.send(items_.data(), items_.size());
    counters_[kFwdFlushes] += 1;
  }
  items_.clear();
  used_ = 0;
}

void ForwardEngine::ForwardTo(Consumer& c, const uint8_t* data, size_t len, uint64_t now_us, ForwardSink& sink) {
  if (c.paused) return Drop(c, ForwardDrop::kPaused);
  Transport* t = Find(transports_, c.transport);
  if (!t || !t->session) return Drop(c, ForwardDrop::kNoTransport);
  if (len + kSrtpRoom > slot_bytes_) return Drop(c, ForwardDrop::kTooBig);
  if (used_ == slots_) Flush(sink);
  uint8_t* out = out_.data() + used_ * slot_bytes_;
  std::memcpy(out, data, len);
  const ForwardDrop drop = forward_rtp_rewrite(out, len, c.rewrite, now_us, &t->transport_seq);
  if (drop != ForwardDrop::kNone) return Drop(c, drop);
  size_t out_len = 0;
  if (t->session->protect_rtp(out, len, len + kSrtpRoom, &out_len) != SrtpStatus::kOk) {
    return Drop(c, ForwardDrop::kProtect);
  }
  ++used_;
  items_.push_back(UdpSendItem{out, static_cast<uint32_t>(out_len), reinterpret_cast<const sockaddr*>(&t->address), t->length});
  ++c.counters.packets;
  c.counters.bytes += out_len;
  c.counters.payload_bytes += RtpPayloadLength(out, len);
  c.counters.last_timestamp = c.rewrite.last_ts;
  c.counters.last_sent_us = now_us;
  counters_[kFwdForwarded] += 1;
  counters_[kFwdBytesOut] += static_cast<double>(out_len);
}

bool ForwardEngine::Retransmit(Consumer& c, const uint8_t* data, size_t len, uint64_t now_us, ForwardSink& sink) {
  Transport* t = Find(transports_, c.transport);
  if (c.paused || !t || !t->session || len + 2 + kSrtpRoom > slot_bytes_) return false;
  if (used_ == slots_) Flush(sink);
  uint8_t* out = out_.data() + used_ * slot_bytes_;
  std::memcpy(out, data, len);
  if (forward_rtp_rewrite_retransmission(out, len, c.rewrite, now_us, &t->transport_seq) != ForwardDrop::kNone) return false;
  size_t n = len;
  if (c.rewrite.rtx_payload_type != kForwardUnmapped && c.rewrite.rtx_ssrc != 0) {
    n = forward_rtx_wrap(out, len, slot_bytes_ - kSrtpRoom, c.rewrite.rtx_payload_type, c.rewrite.rtx_ssrc, c.rewrite.rtx_seq);
    if (n == 0) return false;
    c.rewrite.rtx_seq = static_cast<uint16_t>(c.rewrite.rtx_seq + 1);
  }
  size_t out_len = 0;
  if (t->session->protect_rtp(out, n, n + kSrtpRoom, &out_len) != SrtpStatus::kOk) return false;
  ++used_;
  items_.push_back(UdpSendItem{out, static_cast<uint32_t>(out_len), reinterpret_cast<const sockaddr*>(&t->address), t->length});
  return true;
}

size_t ForwardEngine::retransmit(uint32_t id, const uint16_t* seqs, size_t n, uint64_t now_us, ForwardSink& sink) {
  Consumer* c = Find(consumers_, id);
  if (!c || !seqs) return 0;
  Producer* p = Find(producers_, c->producer);
  size_t sent = 0;
  for (size_t i = 0; i < n; ++i) {
    ++c->counters.nacks;
    counters_[kFwdNackRequested] += 1;
    size_t len = 0;
    // Consumer space -> producer space with the offsets in force since the last rebase.
    const uint16_t seq = static_cast<uint16_t>(seqs[i] - c->rewrite.seq_offset);
    const uint8_t* data = p ? p->cache.find(seq, &len) : nullptr;
    if (data && Retransmit(*c, data, len, now_us, sink)) {
      ++sent;
      ++c->counters.retransmitted;
      counters_[kFwdRetransmitted] += 1;
    } else {
      counters_[kFwdNackMissed] += 1;
    }
  }
  Flush(sink);
  return sent;
}

int ForwardEngine::process_batch(const UdpRecvTarget& target, int n, uint8_t* status, UdpSessionTable& table,
                                 uint64_t now_us, ForwardSink& sink) {
  if (n <= 0 || producer_index_.empty()) return 0;
  if (n > static_cast<int>(UdpSocket::kMaxBatch)) n = static_cast<int>(UdpSocket::kMaxBatch);
  int matched = 0;
  int consumed = 0;
  for (int i = 0; i < n; ++i) {
    slot_producer_[i] = 0;
    if (status[i] != kRecvClear) continue;
    const uint8_t* data = target.buffer + static_cast<size_t>(i) * target.slot_size;
    const uint32_t len = target.lengths[i];
    if (len < kRtpFixedHeaderLen || IsRtcpPacket(data, len)) continue;
    const SrtpSession* source =
        table.find(udp_remote_key(target.addresses + static_cast<size_t>(i) * 16, target.ports[i], target.families[i]));
    if (!source) continue;
    auto it = producer_index_.find(ProducerKey{source, ReadU32(data + 8)});
    if (it == producer_index_.end()) continue;
    Producer& p = producers_[it->second - 1];
    slot_producer_[i] = it->second;
    ++matched;
    ++p.counters.packets;
    p.counters.bytes += len;
    p.counters.last_sequence = ReadU16(data + 2);
    p.counters.last_timestamp = ReadU32(data + 4);
    p.counters.receive.on_packet(ReadU16(data + 2), ReadU32(data + 4), now_us);
    uint16_t transport_seq = 0;
    // A tapping producer's packets reach JavaScript, whose transport-cc module logs them itself.
    if (p.transport_cc_id != 0 && !p.tap && forward_read_transport_seq(data, len, p.transport_cc_id, &transport_seq)) {
      p.arrivals.record(transport_seq, now_us);
    }
    counters_[kFwdPacketsIn] += 1;
    counters_[kFwdBytesIn] += len;
    if (p.cache.enabled()) {
      p.cache.store(ReadU16(data + 2), data, len);
      ++p.counters.cached;
    }
    if (p.tap) {
      counters_[kFwdTapped] += 1;
    } else {
      status[i] = kRecvForwarded;
      ++consumed;
    }
  }
  if (matched == 0) return 0;
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
        const uint8_t* data = target.buffer + static_cast<size_t>(j) * target.slot_size;
        const uint64_t before = c.counters.packets;
        ForwardTo(c, data, target.lengths[j], now_us, sink);
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
