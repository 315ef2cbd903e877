// The receive filter of a plain/pipe RTP transport (see forward_plain_source.hpp; docs/scaling.md).
#include "native/forward/forward_plain_source.hpp"

#include <netinet/in.h>

#include <cstring>

namespace pwt {

bool ForwardPlainSource::set_remote(const sockaddr* address, socklen_t length) {
  if (!address || length == 0 || length > sizeof(sockaddr_storage)) return false;
  if (address->sa_family != AF_INET && address->sa_family != AF_INET6) return false;
  std::memset(&remote_, 0, sizeof remote_);
  std::memcpy(&remote_, address, length);
  remote_length_ = length;
  remote_key_ = udp_remote_key(remote_);
  comedia_ = false;
  return true;
}

void ForwardPlainSource::Learn(const UdpRecvTarget& target, int i) {
  const uint8_t* addr = target.addresses + static_cast<size_t>(i) * 16;
  std::memset(&remote_, 0, sizeof remote_);
  if (target.families[i] == 6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&remote_);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(target.ports[i]);
    std::memcpy(&a->sin6_addr, addr, 16);
    remote_length_ = sizeof(sockaddr_in6);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&remote_);
    a->sin_family = AF_INET;
    a->sin_port = htons(target.ports[i]);
    std::memcpy(&a->sin_addr, addr, 4);
    remote_length_ = sizeof(sockaddr_in);
  }
  remote_key_ = udp_remote_key(addr, target.ports[i], target.families[i]);
  comedia_ = false;  // the first sender owns the stream (docs/scaling.md: the risk of comedia)
  counters_[kPlainLearned] += 1;
}

void ForwardPlainSource::filter_batch(const UdpRecvTarget& target, int n, uint8_t* status) {
  for (int i = 0; i < n; ++i) {
    if (status[i] != kRecvNotRouted) {
      // The SRTP route (the remote's) handled it: clear or refused and counted there.
      if (status[i] == kRecvClear) counters_[kPlainAccepted] += 1;
      continue;
    }
    const uint8_t* data = target.buffer + static_cast<size_t>(i) * target.slot_size;
    const uint32_t len = target.lengths[i];
    // RFC 7983 §7: 128..191 is RTP/RTCP; a plain transport carries nothing else.
    if (len < 8 || data[0] < 128 || data[0] > 191) {
      status[i] = kRecvRejected;
      counters_[kPlainNotRtp] += 1;
      continue;
    }
    if (remote_length_ == 0 && comedia_ && !srtp_) Learn(target, i);
    const bool from_remote =
        remote_length_ != 0 &&
        udp_remote_key(target.addresses + static_cast<size_t>(i) * 16, target.ports[i], target.families[i]) == remote_key_;
    // With SRTP the remote's datagrams all have a route; an unrouted one is a stranger's.
    if (!from_remote || srtp_) {
      status[i] = kRecvRejected;
      counters_[kPlainSpoofed] += 1;
      continue;
    }
    status[i] = kRecvClear;
    counters_[kPlainAccepted] += 1;
  }
}

}  // namespace pwt
