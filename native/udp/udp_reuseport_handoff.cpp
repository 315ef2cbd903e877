// Hand-off channels between the workers of a SO_REUSEPORT port (docs/scaling.md "One port across
// workers"): AF_UNIX datagram socketpairs, header + payload per datagram, sendmmsg/recvmmsg batches.
#include "native/udp/udp_reuseport_handoff.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace pwt {

int handoff_channel_create(int fds[2], int buffer_bytes) {
  int pair[2];
#ifdef __linux__
  if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0) return errno;
#else
  if (socketpair(AF_UNIX, SOCK_DGRAM, 0, pair) != 0) return errno;
  for (int fd : pair) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
#endif
  if (buffer_bytes > 0) {
    // Unix datagrams are charged to the sender's buffer: it bounds the queue (capped by wmem_max).
    setsockopt(pair[1], SOL_SOCKET, SO_SNDBUF, &buffer_bytes, sizeof(buffer_bytes));
    setsockopt(pair[0], SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof(buffer_bytes));
  }
  fds[0] = pair[0];
  fds[1] = pair[1];
  return 0;
}

void HandoffOutbox::add(int fd, uint32_t self, const UdpRecvTarget& target, int i) {
  Item item{};
  item.fd = fd;
  item.header.family = target.families[i];
  item.header.port = target.ports[i];
  item.header.from = self;
  std::memcpy(item.header.addr, target.addresses + static_cast<size_t>(i) * 16, 16);
  item.data = target.buffer + static_cast<size_t>(i) * target.slot_size;
  item.length = target.lengths[i];
  items_.push_back(item);
}

void HandoffOutbox::flush(double* counters) {
  if (items_.empty()) return;
  // One owner's datagrams together (stable: their order is kept), one sendmmsg per owner.
  std::stable_sort(items_.begin(), items_.end(), [](const Item& a, const Item& b) { return a.fd < b.fd; });
  size_t at = 0;
  while (at < items_.size()) {
    const int fd = items_[at].fd;
    size_t end = at;
    while (end < items_.size() && items_[end].fd == fd) ++end;
    const size_t n = end - at;
    msgs_.assign(n, mmsghdr{});
    iovs_.resize(n * 2);
    for (size_t k = 0; k < n; ++k) {
      Item& it = items_[at + k];
      iovs_[k * 2] = iovec{&it.header, sizeof(HandoffHeader)};
      iovs_[k * 2 + 1] = iovec{const_cast<uint8_t*>(it.data), it.length};
      msgs_[k].msg_hdr.msg_iov = &iovs_[k * 2];
      msgs_[k].msg_hdr.msg_iovlen = 2;
    }
    size_t sent = 0;
#ifdef __linux__
    while (sent < n) {
      const int r = sendmmsg(fd, msgs_.data() + sent, static_cast<unsigned>(n - sent), MSG_DONTWAIT);
      if (r <= 0) {
        if (r < 0 && errno == EINTR) continue;
        break;  // full (EAGAIN) or gone: the rest of this owner's group is dropped
      }
      sent += static_cast<size_t>(r);
    }
#else
    for (; sent < n; ++sent) {
      if (sendmsg(fd, &msgs_[sent].msg_hdr, MSG_DONTWAIT) < 0) break;
    }
#endif
    if (counters) {
      counters[kHandoffSent] += static_cast<double>(sent);
      counters[kHandoffDropped] += static_cast<double>(n - sent);
    }
    at = end;
  }
  items_.clear();
}

int handoff_recv_batch(int fd, const UdpRecvTarget& target, double* counters) {
  const size_t cap = std::min(target.capacity, UdpSocket::kMaxBatch);
  HandoffHeader headers[UdpSocket::kMaxBatch];
  iovec iovs[UdpSocket::kMaxBatch * 2];
  mmsghdr msgs[UdpSocket::kMaxBatch];
  std::memset(msgs, 0, sizeof(msgs));
  for (size_t i = 0; i < cap; ++i) {
    iovs[i * 2] = iovec{&headers[i], sizeof(HandoffHeader)};
    iovs[i * 2 + 1] = iovec{target.buffer + i * target.slot_size, target.slot_size};
    msgs[i].msg_hdr.msg_iov = &iovs[i * 2];
    msgs[i].msg_hdr.msg_iovlen = 2;
  }
  int got = 0;
#ifdef __linux__
  do {
    got = recvmmsg(fd, msgs, static_cast<unsigned>(cap), MSG_DONTWAIT, nullptr);
  } while (got < 0 && errno == EINTR);
#else
  for (; got < static_cast<int>(cap); ++got) {
    const ssize_t r = recvmsg(fd, &msgs[got].msg_hdr, MSG_DONTWAIT);
    if (r < 0) break;
    msgs[got].msg_len = static_cast<unsigned>(r);
  }
#endif
  if (got <= 0) return 0;
  // Compact to the front: a datagram shorter than its header or truncated is dropped (only this
  // process writes these channels, so neither should happen).
  int out = 0;
  for (int i = 0; i < got; ++i) {
    const size_t len = msgs[i].msg_len;
    if (len < sizeof(HandoffHeader) || (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ||
        (headers[i].family != 4 && headers[i].family != 6)) {
      if (counters) counters[kHandoffDropped] += 1;
      continue;
    }
    if (out != i) std::memmove(target.buffer + static_cast<size_t>(out) * target.slot_size,
                               target.buffer + static_cast<size_t>(i) * target.slot_size, len - sizeof(HandoffHeader));
    target.lengths[out] = static_cast<uint32_t>(len - sizeof(HandoffHeader));
    std::memcpy(target.addresses + static_cast<size_t>(out) * 16, headers[i].addr, 16);
    target.ports[out] = headers[i].port;
    target.families[out] = headers[i].family;
    // The kernel's receive time stayed with the socket that received it (docs/udp.md).
    if (target.arrival_us) target.arrival_us[out] = 0;
    ++out;
  }
  if (counters) counters[kHandoffReceived] += out;
  return out;
}

}  // namespace pwt
