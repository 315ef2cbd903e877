// UDP GRO receive path (see udp_gro_receiver.hpp; docs/udp.md "GRO").
#include "native/udp/udp_gro_receiver.hpp"

#include "native/udp/udp_receive_timestamp.hpp"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/uio.h>

#include <cstring>

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace pwt {

struct UdpGroReceiver::Buffers {
  uint8_t data[kMessages][kMessageBytes];
#ifdef __linux__
  mmsghdr msgs[kMessages];
  iovec iov[kMessages];
  sockaddr_storage addrs[kMessages];
  // Per buffer: an int-sized control message (the segment size) and room for a receive timestamp
  // (udp_receive_timestamp.hpp), aligned for cmsghdr.
  alignas(cmsghdr) uint8_t control[kMessages][CMSG_SPACE(sizeof(int)) + kUdpTimestampControlBytes];
#endif
  // Segment size of each received buffer (its length when not coalesced).
  size_t segment[kMessages];
  // Kernel receive time of each buffer, monotonic µs (0: none); every segment of it shares it.
  uint64_t arrival_us[kMessages];
};

UdpGroReceiver::UdpGroReceiver() : b_(std::make_unique<Buffers>()) {}
UdpGroReceiver::~UdpGroReceiver() = default;

bool UdpGroReceiver::set_option(int fd, bool on) {
#ifdef __linux__
  int value = on ? 1 : 0;
  return ::setsockopt(fd, SOL_UDP, UDP_GRO, &value, sizeof(value)) == 0;
#else
  (void)fd;
  (void)on;
  return false;
#endif
}

size_t UdpGroReceiver::pending_datagrams() const {
#ifdef __linux__
  size_t n = 0;
  for (size_t i = next_; i < received_; ++i) {
    const size_t left = b_->msgs[i].msg_len - (i == next_ ? offset_ : 0);
    const size_t seg = b_->segment[i];
    n += seg == 0 ? 1 : (left + seg - 1) / seg;  // an empty datagram is one datagram
  }
  return n;
#else
  return 0;
#endif
}

size_t UdpGroReceiver::drain(const UdpRecvTarget& target, size_t out, size_t capacity, double* c) {
#ifdef __linux__
  while (next_ < received_ && out < capacity) {
    const size_t len = b_->msgs[next_].msg_len;
    const size_t seg = b_->segment[next_];
    const size_t n = len - offset_ < seg ? len - offset_ : seg;
    if (n > target.slot_size) {
      c[kDropTruncated] += 1;
    } else {
      std::memcpy(target.buffer + out * target.slot_size, b_->data[next_] + offset_, n);
      target.lengths[out] = static_cast<uint32_t>(n);
      udp_store_source(b_->addrs[next_], target.addresses + out * 16, &target.ports[out], &target.families[out]);
      if (target.arrival_us) target.arrival_us[out] = b_->arrival_us[next_];
      c[kPacketsIn] += 1;
      c[kBytesIn] += static_cast<double>(n);
      if (seg < len) c[kGroSegments] += 1;
      ++out;
    }
    offset_ += n;
    if (offset_ >= len) {
      ++next_;
      offset_ = 0;
    }
  }
#else
  (void)target;
  (void)capacity;
  (void)c;
#endif
  return out;
}

int UdpGroReceiver::recv(int fd, const UdpRecvTarget& target, size_t capacity, double* c) {
#ifdef __linux__
  size_t out = drain(target, 0, capacity, c);
  // One recvmmsg takes kMessages buffers: datagrams of many sources (a shared port during a burst
  // of joins) do not coalesce, so it brings at most kMessages of them. The batch is filled from
  // further calls until it is full or the socket is empty, as the plain recvmmsg path fills it
  // (docs/udp.md "GRO"); otherwise a wake-up would read kMessages x kMaxBatchesPerWake datagrams and
  // a busy port would fall behind. Each round reads at least one datagram: `capacity` rounds at most.
  for (size_t round = 0; out < capacity && round < capacity; ++round) {
    for (size_t i = 0; i < kMessages; ++i) {
      b_->iov[i].iov_base = b_->data[i];
      b_->iov[i].iov_len = kMessageBytes;
      msghdr& h = b_->msgs[i].msg_hdr;
      std::memset(&h, 0, sizeof h);
      h.msg_iov = &b_->iov[i];
      h.msg_iovlen = 1;
      h.msg_name = &b_->addrs[i];
      h.msg_namelen = sizeof(sockaddr_storage);
      h.msg_control = b_->control[i];
      h.msg_controllen = sizeof b_->control[i];
    }
    int n;
    do {
      n = ::recvmmsg(fd, b_->msgs, static_cast<unsigned>(kMessages), MSG_DONTWAIT, nullptr);
    } while (n < 0 && errno == EINTR);
    c[kRecvSyscalls] += 1;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      c[kDropRecvError] += 1;
      if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH) break;
      if (out > 0) break;
      return -1;
    }
    // The previous round's buffers were all split (out < capacity), so these replace them.
    received_ = 0;
    next_ = 0;
    offset_ = 0;
    const UdpClockPair clocks = UdpClockPair::now();
    for (int i = 0; i < n; ++i) {
      msghdr& h = b_->msgs[i].msg_hdr;
      const size_t len = b_->msgs[i].msg_len;
      if (h.msg_flags & MSG_TRUNC) {
        // Longer than a GRO buffer can be: not a datagram we can split.
        c[kDropTruncated] += 1;
        continue;
      }
      size_t seg = len;
      for (cmsghdr* cm = CMSG_FIRSTHDR(&h); cm; cm = CMSG_NXTHDR(&h, cm)) {
        if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO && cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
          int size = 0;
          std::memcpy(&size, CMSG_DATA(cm), sizeof size);
          if (size > 0 && static_cast<size_t>(size) < len) seg = static_cast<size_t>(size);
        }
      }
      if (seg < len) c[kGroReceives] += 1;
      // Compact the kept buffers to the front, so that [0, received_) are the ones to split.
      if (received_ != static_cast<size_t>(i)) {
        std::memcpy(b_->data[received_], b_->data[i], len);
        b_->msgs[received_].msg_len = static_cast<unsigned>(len);
        b_->addrs[received_] = b_->addrs[i];
      }
      b_->segment[received_] = seg;
      b_->arrival_us[received_] = udp_receive_time_us(h, clocks);
      ++received_;
    }
    out = drain(target, out, capacity, c);
    // Fewer buffers than asked for: the socket is empty now.
    if (static_cast<size_t>(n) < kMessages) break;
  }
  if (out > 0) c[kBatches] += 1;
  return static_cast<int>(out);
#else
  (void)fd;
  (void)target;
  (void)capacity;
  (void)c;
  return -1;
#endif
}

}  // namespace pwt
