// The 5-tuple → SRTP session table (see udp_session_table.hpp; docs/udp.md "Session table"), with
// TURN channel routes whose ChannelData header is stripped in the batch (RFC 8656 §12.4-§12.6).
#include "native/udp/udp_session_table.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "native/srtp/srtp_session.hpp"

namespace pwt {

namespace {
const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
}  // namespace

bool UdpRemoteKey::operator==(const UdpRemoteKey& o) const {
  return family == o.family && port == o.port && channel == o.channel &&
         std::memcmp(addr, o.addr, family == 4 ? 4 : 16) == 0;
}

size_t UdpRemoteKeyHash::operator()(const UdpRemoteKey& k) const {
  uint64_t h = 1469598103934665603ull ^ (static_cast<uint64_t>(k.port) << 8) ^ k.family;
  const size_t n = k.family == 4 ? 4 : 16;
  for (size_t i = 0; i < n; ++i) h = (h ^ k.addr[i]) * 1099511628211ull;
  h ^= k.port | (static_cast<uint64_t>(k.channel) << 16);
  h *= 1099511628211ull;
  return static_cast<size_t>(h ^ (h >> 29));
}

UdpRemoteKey udp_remote_key(const sockaddr_storage& ss) {
  UdpRemoteKey k;
  if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    if (std::memcmp(a->sin6_addr.s6_addr, kMapped, 12) == 0) {
      k.family = 4;
      std::memcpy(k.addr, a->sin6_addr.s6_addr + 12, 4);
    } else {
      k.family = 6;
      std::memcpy(k.addr, a->sin6_addr.s6_addr, 16);
    }
    k.port = ntohs(a->sin6_port);
  } else {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    k.family = 4;
    std::memcpy(k.addr, &a->sin_addr, 4);
    k.port = ntohs(a->sin_port);
  }
  return k;
}

UdpRemoteKey udp_remote_key(const uint8_t* addr16, uint16_t port, uint8_t family) {
  UdpRemoteKey k;
  k.family = family == 6 ? 6 : 4;
  k.port = port;
  std::memcpy(k.addr, addr16, k.family == 4 ? 4 : 16);
  return k;
}

uint32_t UdpSessionTable::add(const UdpRemoteKey& remote, SrtpSession* session) {
  if (!session) return 0;
  uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    if (routes_.size() >= kMaxRoutes) return 0;
    routes_.emplace_back();
    id = static_cast<uint32_t>(routes_.size());
  }
  Route& r = routes_[id - 1];
  r.remote = remote;
  r.session = session;
  if (remote.channel != 0) ++channel_routes_;
  by_remote_[remote] = id;
  last_valid_ = false;
  return id;
}

bool UdpSessionTable::remove(uint32_t id) {
  if (id == 0 || id > routes_.size() || !routes_[id - 1].session) return false;
  Route& r = routes_[id - 1];
  auto it = by_remote_.find(r.remote);
  if (it != by_remote_.end() && it->second == id) by_remote_.erase(it);
  if (r.remote.channel != 0) --channel_routes_;
  r.session = nullptr;
  free_.push_back(id);
  last_valid_ = false;
  return true;
}

SrtpSession* UdpSessionTable::session(uint32_t id) const {
  return id >= 1 && id <= routes_.size() ? routes_[id - 1].session : nullptr;
}

uint16_t UdpSessionTable::channel(uint32_t id) const {
  return id >= 1 && id <= routes_.size() && routes_[id - 1].session ? routes_[id - 1].remote.channel : 0;
}

uint32_t UdpSessionTable::find_id(const UdpRemoteKey& remote) {
  if (last_valid_ && remote == last_key_) return last_id_;
  auto it = by_remote_.find(remote);
  const uint32_t id = it == by_remote_.end() ? 0 : it->second;
  last_key_ = remote;
  last_id_ = id;
  last_valid_ = true;
  return id;
}

SrtpSession* UdpSessionTable::find(const UdpRemoteKey& remote) {
  const uint32_t id = find_id(remote);
  return id ? routes_[id - 1].session : nullptr;
}

void UdpSessionTable::clear() {
  routes_.clear();
  free_.clear();
  by_remote_.clear();
  channel_routes_ = 0;
  last_valid_ = false;
}

namespace {

// Unprotects one routed RTP/RTCP datagram in place and records the outcome.
void unprotect_slot(SrtpSession* session, uint8_t* data, uint32_t* length, uint8_t* status, double* counters) {
  size_t out_len = 0;
  const SrtpStatus st = session->unprotect(data, *length, &out_len);
  if (st == SrtpStatus::kOk) {
    *length = static_cast<uint32_t>(out_len);
    *status = kRecvClear;
    counters[kSrtpUnprotected] += 1;
  } else {
    *status = static_cast<uint8_t>(kRecvDropBase + static_cast<uint8_t>(st));
    counters[kSrtpRecvDropped] += 1;
  }
}

bool is_rtp_or_rtcp(uint8_t first) { return first >= 128 && first <= 191; }  // RFC 7983 §7

}  // namespace

void UdpSessionTable::unprotect_batch(const UdpRecvTarget& target, int n, uint8_t* status, double* counters, uint16_t* relays,
                                      SrtpSession** sessions) {
  if (n <= 0) return;
  if (relays) std::memset(relays, 0, static_cast<size_t>(n) * sizeof(uint16_t));
  if (sessions) std::fill(sessions, sessions + n, nullptr);
  if (by_remote_.empty()) {
    std::memset(status, kRecvNotRouted, static_cast<size_t>(n));
    return;
  }
  const bool channels = relays != nullptr && channel_routes_ != 0;
  for (int i = 0; i < n; ++i) {
    status[i] = kRecvNotRouted;
    uint8_t* data = target.buffer + static_cast<size_t>(i) * target.slot_size;
    uint32_t len = target.lengths[i];
    if (len == 0) continue;
    UdpRemoteKey key = udp_remote_key(target.addresses + static_cast<size_t>(i) * 16, target.ports[i], target.families[i]);
    if (channels && data[0] >= 0x40 && data[0] <= 0x4f && len >= 4) {
      // RFC 8656 §12.4: channel number (16 bits), length (16 bits), application data.
      key.channel = static_cast<uint16_t>((data[0] << 8) | data[1]);
      const uint32_t id = find_id(key);
      if (id == 0) continue;  // not ours to strip: the TURN client counts unknown channels
      const uint32_t inner = (static_cast<uint32_t>(data[2]) << 8) | data[3];
      if (4 + inner > len) {
        // §12.6: a datagram too short for the length it claims is discarded.
        status[i] = kRecvChannelDataMalformed;
        counters[kChannelDataMalformed] += 1;
        continue;
      }
      // Over UDP the padding is optional (§12.5): bytes past the length are not application data.
      std::memmove(data, data + 4, inner);
      target.lengths[i] = len = inner;
      relays[i] = static_cast<uint16_t>(id);
      counters[kChannelDataReceived] += 1;
      if (len != 0 && is_rtp_or_rtcp(data[0])) {
        unprotect_slot(routes_[id - 1].session, data, &target.lengths[i], &status[i], counters);
        if (sessions) sessions[i] = routes_[id - 1].session;
      }
      continue;
    }
    if (!is_rtp_or_rtcp(data[0])) continue;
    SrtpSession* session = find(key);
    if (!session) continue;
    unprotect_slot(session, data, &target.lengths[i], &status[i], counters);
    if (sessions) sessions[i] = session;
  }
}

}  // namespace pwt
