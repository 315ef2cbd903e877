// The 5-tuple → SRTP session table (see udp_session_table.hpp; docs/udp.md "Session table").
#include "native/udp/udp_session_table.hpp"

#include <netinet/in.h>

#include <cstring>

#include "native/srtp/srtp_session.hpp"

namespace pwt {

namespace {
const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
}  // namespace

bool UdpRemoteKey::operator==(const UdpRemoteKey& o) const {
  return family == o.family && port == o.port && std::memcmp(addr, o.addr, family == 4 ? 4 : 16) == 0;
}

size_t UdpRemoteKeyHash::operator()(const UdpRemoteKey& k) const {
  uint64_t h = 1469598103934665603ull ^ (static_cast<uint64_t>(k.port) << 8) ^ k.family;
  const size_t n = k.family == 4 ? 4 : 16;
  for (size_t i = 0; i < n; ++i) h = (h ^ k.addr[i]) * 1099511628211ull;
  h ^= k.port;
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
  by_remote_[remote] = id;
  last_valid_ = false;
  return id;
}

bool UdpSessionTable::remove(uint32_t id) {
  if (id == 0 || id > routes_.size() || !routes_[id - 1].session) return false;
  Route& r = routes_[id - 1];
  auto it = by_remote_.find(r.remote);
  if (it != by_remote_.end() && it->second == id) by_remote_.erase(it);
  r.session = nullptr;
  free_.push_back(id);
  last_valid_ = false;
  return true;
}

SrtpSession* UdpSessionTable::session(uint32_t id) const {
  return id >= 1 && id <= routes_.size() ? routes_[id - 1].session : nullptr;
}

SrtpSession* UdpSessionTable::find(const UdpRemoteKey& remote) {
  if (last_valid_ && remote == last_key_) return last_session_;
  auto it = by_remote_.find(remote);
  SrtpSession* s = it == by_remote_.end() ? nullptr : routes_[it->second - 1].session;
  last_key_ = remote;
  last_session_ = s;
  last_valid_ = true;
  return s;
}

void UdpSessionTable::clear() {
  routes_.clear();
  free_.clear();
  by_remote_.clear();
  last_valid_ = false;
}

void UdpSessionTable::unprotect_batch(const UdpRecvTarget& target, int n, uint8_t* status, double* counters) {
  if (n <= 0) return;
  if (by_remote_.empty()) {
    std::memset(status, kRecvNotRouted, static_cast<size_t>(n));
    return;
  }
  for (int i = 0; i < n; ++i) {
    status[i] = kRecvNotRouted;
    uint8_t* data = target.buffer + static_cast<size_t>(i) * target.slot_size;
    const uint32_t len = target.lengths[i];
    if (len == 0 || data[0] < 128 || data[0] > 191) continue;
    SrtpSession* session = find(udp_remote_key(target.addresses + static_cast<size_t>(i) * 16, target.ports[i], target.families[i]));
    if (!session) continue;
    size_t out_len = 0;
    const SrtpStatus st = session->unprotect(data, len, &out_len);
    if (st == SrtpStatus::kOk) {
      target.lengths[i] = static_cast<uint32_t>(out_len);
      status[i] = kRecvClear;
      counters[kSrtpUnprotected] += 1;
    } else {
      status[i] = static_cast<uint8_t>(kRecvDropBase + static_cast<uint8_t>(st));
      counters[kSrtpRecvDropped] += 1;
    }
  }
}

}  // namespace pwt
