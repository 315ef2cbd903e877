// UDP socket core (see udp_socket.hpp). Linux: recvmmsg/sendmmsg and UDP_SEGMENT; elsewhere
// recvfrom/sendto loops behind the same interface.
#include "native/udp/udp_socket.hpp"

#include "native/udp/udp_gro_receiver.hpp"
#include "native/udp/udp_receive_timestamp.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/udp.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <vector>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

namespace pwt {

namespace {

constexpr size_t kMaxGsoSegments = 64;
constexpr size_t kMaxGsoBytes = 65000;
// iovecs one sendmmsg may use: 64 full GSO messages, or kMaxSendBatch single datagrams.
constexpr size_t kSendIovecs = 64 * kMaxGsoSegments;
static_assert(kSendIovecs >= UdpSocket::kMaxSendBatch, "a plain send uses one iovec per message");

UdpStatus status_from_errno(int err) {
  switch (err) {
    case EADDRINUSE:
      return UdpStatus::kAddressInUse;
    case EADDRNOTAVAIL:
      return UdpStatus::kAddressNotAvailable;
    case EACCES:
    case EPERM:
      return UdpStatus::kPermissionDenied;
    case EINVAL:
    case EAFNOSUPPORT:
      return UdpStatus::kInvalidAddress;
    case EMSGSIZE:
      return UdpStatus::kTooBig;
    default:
      return UdpStatus::kSystemError;
  }
}

}  // namespace

void udp_store_source(const sockaddr_storage& ss, uint8_t* addr16, uint16_t* port, uint8_t* family) {
  if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    const uint8_t* b = a->sin6_addr.s6_addr;
    // IPv4-mapped addresses on a dual-stack socket are reported as IPv4.
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(b, kMapped, 12) == 0) {
      std::memcpy(addr16, b + 12, 4);
      *family = 4;
    } else {
      std::memcpy(addr16, b, 16);
      *family = 6;
    }
    *port = ntohs(a->sin6_port);
  } else {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    std::memcpy(addr16, &a->sin_addr, 4);
    *port = ntohs(a->sin_port);
    *family = 4;
  }
}

struct UdpSocket::Scratch {
#ifdef __linux__
  mmsghdr recv_msgs[kMaxBatch];
  iovec recv_iov[kMaxBatch];
  sockaddr_storage recv_addrs[kMaxBatch];
  // One receive timestamp per message while the socket asked for them.
  alignas(cmsghdr) uint8_t recv_control[kMaxBatch][kUdpTimestampControlBytes > 0 ? kUdpTimestampControlBytes : 1];
  // Send side: up to kMaxSendBatch messages per sendmmsg; with GSO each message may carry up to
  // kMaxGsoSegments iovecs, kSendIovecs in all per call.
  mmsghdr send_msgs[kMaxSendBatch];
  std::vector<iovec> send_iov = std::vector<iovec>(kSendIovecs);
  alignas(cmsghdr) uint8_t send_cmsg[kMaxSendBatch][CMSG_SPACE(sizeof(uint16_t))];
  size_t send_group_size[kMaxSendBatch];
#endif
  // The receive target the recv arrays point into (see prepare_recv).
  const uint8_t* prepared_buffer = nullptr;
  size_t prepared_slot_size = 0;
};

UdpSocket::Scratch& UdpSocket::thread_scratch() {
  thread_local std::unique_ptr<Scratch> scratch;
  if (!scratch) scratch = std::make_unique<Scratch>();
  return *scratch;
}

bool udp_make_address(int family, const char* ip, uint16_t port, UdpAddress* out) {
  std::memset(&out->storage, 0, sizeof(out->storage));
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&out->storage);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    if (inet_pton(AF_INET, ip, &a->sin_addr) != 1) return false;
    out->length = sizeof(sockaddr_in);
    return true;
  }
  if (family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&out->storage);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    if (inet_pton(AF_INET6, ip, &a->sin6_addr) != 1) {
      // An IPv4 destination from a dual-stack IPv6 socket goes out as ::ffff:a.b.c.d.
      in_addr v4;
      if (inet_pton(AF_INET, ip, &v4) != 1) return false;
      uint8_t* b = a->sin6_addr.s6_addr;
      std::memset(b, 0, 10);
      b[10] = 0xff;
      b[11] = 0xff;
      std::memcpy(b + 12, &v4, 4);
    }
    out->length = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

UdpSocket::UdpSocket() = default;

UdpSocket::~UdpSocket() { close(); }

double* UdpSocket::own_counters() {
  if (!own_counters_) own_counters_.reset(new double[kCounterCount]());
  counters_ = own_counters_.get();
  return counters_;
}

bool UdpSocket::set_gro(bool enabled) {
  if (!enabled) {
    // Datagrams still waiting in the GRO buffers are dropped with it, counted as receive errors.
    if (gro_) counters()[kDropRecvError] += static_cast<double>(gro_->pending_datagrams());
    if (gro_ && fd_ >= 0) UdpGroReceiver::set_option(fd_, false);
    gro_.reset();
    return false;
  }
  if (gro_) return true;
  if (fd_ < 0 || !UdpGroReceiver::set_option(fd_, true)) return false;
  gro_ = std::make_unique<UdpGroReceiver>();
  return true;
}

bool UdpSocket::set_receive_timestamps(bool enabled) {
  if (fd_ < 0) return false;
  if (!udp_set_receive_timestamps(fd_, enabled)) return timestamps_ = false;
  return timestamps_ = enabled;
}

bool UdpSocket::has_pending_receive() const { return gro_ && gro_->has_pending(); }

void UdpSocket::close() {
  gro_.reset();
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

UdpStatus UdpSocket::bind(const UdpBindOptions& options, int* sys_errno) {
  *sys_errno = 0;
  if (fd_ >= 0) return UdpStatus::kSystemError;
  if (options.family != AF_INET && options.family != AF_INET6) return UdpStatus::kInvalidAddress;
  UdpAddress local;
  const char* ip = options.address.empty() ? (options.family == AF_INET ? "0.0.0.0" : "::") : options.address.c_str();
  if (!udp_make_address(options.family, ip, options.port, &local)) return UdpStatus::kInvalidAddress;

#ifdef __linux__
  int fd = ::socket(options.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
  int fd = ::socket(options.family, SOCK_DGRAM, 0);
  if (fd >= 0) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
#endif
  if (fd < 0) {
    *sys_errno = errno;
    return status_from_errno(errno);
  }
  int one = 1;
  if (options.reuse_port) {
#ifdef SO_REUSEPORT
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
      *sys_errno = errno;
      ::close(fd);
      return status_from_errno(*sys_errno);
    }
#endif
  }
  if (options.family == AF_INET6) {
    int v6only = options.ipv6_only ? 1 : 0;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
  }
  // Buffer sizes are requests: the kernel caps them at net.core.{r,w}mem_max. A receive buffer it
  // capped is asked again with SO_RCVBUFFORCE, which passes the cap only with CAP_NET_ADMIN (the
  // caller reads what was granted with buffer_sizes; docs/udp.md "Socket buffers").
  if (options.recv_buffer > 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &options.recv_buffer, sizeof(int));
#ifdef SO_RCVBUFFORCE
    int granted = 0;
    socklen_t len = sizeof(granted);
    if (::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &len) == 0 && granted / 2 < options.recv_buffer) {
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &options.recv_buffer, sizeof(int));
    }
#endif
  }
  if (options.send_buffer > 0) ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &options.send_buffer, sizeof(int));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&local.storage), local.length) != 0) {
    *sys_errno = errno;
    ::close(fd);
    return status_from_errno(*sys_errno);
  }
  fd_ = fd;
  family_ = options.family;
  scratch_ = &thread_scratch();
#ifdef __linux__
  // Probe GSO support once per process and family: the option exists on Linux >= 4.18, and the
  // kernel does not change under a running process (one setsockopt per socket was 1 of its 4
  // set-up syscalls; docs/peer.md "Setup cost"). A send the kernel refuses still turns GSO off
  // for that socket (send_gso).
  static std::atomic<int> probed[2] = {-1, -1};
  std::atomic<int>& known = probed[options.family == AF_INET6 ? 1 : 0];
  int supported = known.load(std::memory_order_relaxed);
  if (supported < 0) {
    int seg = 0;
    supported = ::setsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg)) == 0 ? 1 : 0;
    known.store(supported, std::memory_order_relaxed);
  }
  gso_supported_ = supported == 1;
#endif
  return UdpStatus::kOk;
}

UdpStatus UdpSocket::connect(const UdpAddress& remote, int* sys_errno) {
  *sys_errno = 0;
  if (fd_ < 0) return UdpStatus::kClosed;
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&remote.storage), remote.length) != 0) {
    *sys_errno = errno;
    return status_from_errno(*sys_errno);
  }
  return UdpStatus::kOk;
}

bool UdpSocket::local_address(std::string* ip, uint16_t* port, int* family) const {
  if (fd_ < 0) return false;
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return false;
  char text[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof(text));
    *port = ntohs(a->sin6_port);
    *family = 6;
  } else {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof(text));
    *port = ntohs(a->sin_port);
    *family = 4;
  }
  *ip = text;
  return true;
}

bool UdpSocket::buffer_sizes(int* recv_bytes, int* send_bytes) const {
  if (fd_ < 0) return false;
  socklen_t len = sizeof(int);
  if (::getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, recv_bytes, &len) != 0) return false;
  len = sizeof(int);
  return ::getsockopt(fd_, SOL_SOCKET, SO_SNDBUF, send_bytes, &len) == 0;
}

void UdpSocket::prepare_recv(const UdpRecvTarget& target) {
#ifdef __linux__
  Scratch& s = *scratch_;
  if (s.prepared_buffer == target.buffer && s.prepared_slot_size == target.slot_size) return;
  for (size_t i = 0; i < kMaxBatch; ++i) {
    s.recv_iov[i].iov_base = target.buffer + i * target.slot_size;
    s.recv_iov[i].iov_len = target.slot_size;
    std::memset(&s.recv_msgs[i], 0, sizeof(mmsghdr));
    s.recv_msgs[i].msg_hdr.msg_iov = &s.recv_iov[i];
    s.recv_msgs[i].msg_hdr.msg_iovlen = 1;
    s.recv_msgs[i].msg_hdr.msg_name = &s.recv_addrs[i];
  }
  s.prepared_buffer = target.buffer;
  s.prepared_slot_size = target.slot_size;
#else
  (void)target;
#endif
}

int UdpSocket::recv_batch(const UdpRecvTarget& target) {
  if (fd_ < 0 || !scratch_) return -1;
  const size_t capacity = target.capacity < kMaxBatch ? target.capacity : kMaxBatch;
  double* c = counters();
  if (gro_) return gro_->recv(fd_, target, capacity, c);
#ifdef __linux__
  prepare_recv(target);
  Scratch& s = *scratch_;
  const bool stamps = timestamps_ && target.arrival_us != nullptr && kUdpTimestampControlBytes > 0;
  for (size_t i = 0; i < capacity; ++i) {
    s.recv_msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    s.recv_msgs[i].msg_hdr.msg_flags = 0;
    s.recv_msgs[i].msg_hdr.msg_control = stamps ? s.recv_control[i] : nullptr;
    s.recv_msgs[i].msg_hdr.msg_controllen = stamps ? sizeof s.recv_control[i] : 0;
  }
  int n;
  do {
    n = ::recvmmsg(fd_, s.recv_msgs, static_cast<unsigned>(capacity), MSG_DONTWAIT, nullptr);
  } while (n < 0 && errno == EINTR);
  c[kRecvSyscalls] += 1;
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    // ICMP errors queued on the socket (ECONNREFUSED and friends) are not the reader's concern.
    c[kDropRecvError] += 1;
    return errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH ? 0 : -1;
  }
  int out = 0;
  const UdpClockPair clocks = stamps ? UdpClockPair::now() : UdpClockPair{};
  for (int i = 0; i < n; ++i) {
    const msghdr& h = s.recv_msgs[i].msg_hdr;
    if (h.msg_flags & MSG_TRUNC) {
      c[kDropTruncated] += 1;
      continue;
    }
    const uint32_t len = s.recv_msgs[i].msg_len;
    if (out != i) {
      std::memmove(target.buffer + out * target.slot_size, target.buffer + i * target.slot_size, len);
    }
    target.lengths[out] = len;
    udp_store_source(s.recv_addrs[i], target.addresses + out * 16, &target.ports[out], &target.families[out]);
    if (target.arrival_us) target.arrival_us[out] = stamps ? udp_receive_time_us(h, clocks) : 0;
    c[kPacketsIn] += 1;
    c[kBytesIn] += len;
    ++out;
  }
  if (out > 0) c[kBatches] += 1;
  return out;
#else
  int out = 0;
  for (size_t i = 0; i < capacity; ++i) {
    sockaddr_storage ss{};
    uint8_t* slot = target.buffer + out * target.slot_size;
    iovec iov{slot, target.slot_size};
    msghdr h{};
    h.msg_name = &ss;
    h.msg_namelen = sizeof(ss);
    h.msg_iov = &iov;
    h.msg_iovlen = 1;
    ssize_t r = ::recvmsg(fd_, &h, MSG_DONTWAIT);
    c[kRecvSyscalls] += 1;
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      c[kDropRecvError] += 1;
      continue;
    }
    if (h.msg_flags & MSG_TRUNC) {
      c[kDropTruncated] += 1;
      continue;
    }
    target.lengths[out] = static_cast<uint32_t>(r);
    udp_store_source(ss, target.addresses + out * 16, &target.ports[out], &target.families[out]);
    if (target.arrival_us) target.arrival_us[out] = 0;
    c[kPacketsIn] += 1;
    c[kBytesIn] += r;
    ++out;
  }
  if (out > 0) c[kBatches] += 1;
  return out;
#endif
}

void UdpSocket::count_send_error(int err) {
  double* c = counters();
  switch (err) {
    case EMSGSIZE:
      c[kDropSendTooBig] += 1;
      break;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case EADDRNOTAVAIL:
      c[kDropSendUnreachable] += 1;
      break;
    case ECONNREFUSED:
      c[kDropSendRefused] += 1;
      break;
    default:
      c[kDropSendOther] += 1;
  }
}

size_t UdpSocket::send_batch(const UdpSendItem* items, size_t count) {
  if (fd_ < 0 || !scratch_) return count;
#ifdef __linux__
  return gso_ ? send_gso(items, count) : send_plain(items, count);
#else
  return send_plain(items, count);
#endif
}

size_t UdpSocket::send_plain(const UdpSendItem* items, size_t count) {
  double* c = counters();
  size_t done = 0;
#ifdef __linux__
  Scratch& s = *scratch_;
  while (done < count) {
    const size_t n = count - done < kMaxSendBatch ? count - done : kMaxSendBatch;
    for (size_t i = 0; i < n; ++i) {
      const UdpSendItem& it = items[done + i];
      s.send_iov[i].iov_base = const_cast<uint8_t*>(it.data);
      s.send_iov[i].iov_len = it.length;
      msghdr& h = s.send_msgs[i].msg_hdr;
      std::memset(&h, 0, sizeof(h));
      h.msg_name = const_cast<sockaddr*>(it.address);
      h.msg_namelen = it.address_length;
      h.msg_iov = &s.send_iov[i];
      h.msg_iovlen = 1;
    }
    int r;
    do {
      r = ::sendmmsg(fd_, s.send_msgs, static_cast<unsigned>(n), 0);
    } while (r < 0 && errno == EINTR);
    c[kSendSyscalls] += 1;
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
        c[kSendBlocked] += 1;
        return done;
      }
      count_send_error(errno);  // the first datagram failed: drop it, go on with the rest
      ++done;
      continue;
    }
    for (int i = 0; i < r; ++i) {
      c[kPacketsOut] += 1;
      c[kBytesOut] += items[done + i].length;
    }
    done += static_cast<size_t>(r);
  }
#else
  for (; done < count; ++done) {
    const UdpSendItem& it = items[done];
    ssize_t r = ::sendto(fd_, it.data, it.length, 0, it.address, it.address_length);
    c[kSendSyscalls] += 1;
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
        c[kSendBlocked] += 1;
        return done;
      }
      count_send_error(errno);
      continue;
    }
    c[kPacketsOut] += 1;
    c[kBytesOut] += it.length;
  }
#endif
  return done;
}

size_t UdpSocket::send_gso(const UdpSendItem* items, size_t count) {
#ifdef __linux__
  double* c = counters();
  Scratch& s = *scratch_;
  size_t done = 0;
  while (done < count) {
    // Group consecutive datagrams with one destination and one size (the last of a group may
    // be shorter) into one message carrying a UDP_SEGMENT control message.
    size_t msgs = 0;
    size_t iov_used = 0;
    size_t pos = done;
    while (pos < count && msgs < kMaxSendBatch && iov_used + kMaxGsoSegments <= kSendIovecs) {
      const UdpSendItem& first = items[pos];
      size_t group = 1;
      size_t bytes = first.length;
      while (pos + group < count && group < kMaxGsoSegments) {
        const UdpSendItem& next = items[pos + group];
        if (next.address_length != first.address_length ||
            std::memcmp(next.address, first.address, first.address_length) != 0 || next.length > first.length ||
            bytes + next.length > kMaxGsoBytes || items[pos + group - 1].length != first.length)
          break;
        bytes += next.length;
        ++group;
      }
      msghdr& h = s.send_msgs[msgs].msg_hdr;
      std::memset(&h, 0, sizeof(h));
      h.msg_name = const_cast<sockaddr*>(first.address);
      h.msg_namelen = first.address_length;
      h.msg_iov = &s.send_iov[iov_used];
      h.msg_iovlen = group;
      for (size_t g = 0; g < group; ++g) {
        s.send_iov[iov_used + g].iov_base = const_cast<uint8_t*>(items[pos + g].data);
        s.send_iov[iov_used + g].iov_len = items[pos + g].length;
      }
      if (group > 1) {
        h.msg_control = s.send_cmsg[msgs];
        h.msg_controllen = sizeof(s.send_cmsg[msgs]);
        cmsghdr* cm = CMSG_FIRSTHDR(&h);
        cm->cmsg_level = SOL_UDP;
        cm->cmsg_type = UDP_SEGMENT;
        cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        const uint16_t seg = static_cast<uint16_t>(first.length);
        std::memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
      }
      s.send_group_size[msgs] = group;
      iov_used += group;
      pos += group;
      ++msgs;
    }
    int r;
    do {
      r = ::sendmmsg(fd_, s.send_msgs, static_cast<unsigned>(msgs), 0);
    } while (r < 0 && errno == EINTR);
    c[kSendSyscalls] += 1;
    if (r < 0) {
      const int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
        c[kSendBlocked] += 1;
        return done;
      }
      if ((err == EIO || err == EINVAL || err == EMSGSIZE) && s.send_group_size[0] > 1) {
        // The kernel refused segmentation offload (no checksum offload: EIO; a segment above the
        // path MTU: EINVAL or EMSGSIZE, where a plain send would be fragmented by IP and arrive):
        // count it, stop using GSO and resend plainly, so that no datagram of the group is lost.
        c[kGsoFallbacks] += 1;
        gso_ = false;
        gso_supported_ = false;
        return done + send_plain(items + done, count - done);
      }
      count_send_error(err);
      done += s.send_group_size[0];
      continue;
    }
    for (int m = 0; m < r; ++m) {
      const size_t group = s.send_group_size[m];
      if (group > 1) c[kGsoSends] += 1;
      for (size_t g = 0; g < group; ++g) {
        c[kPacketsOut] += 1;
        c[kBytesOut] += items[done + g].length;
      }
      done += group;
    }
  }
  return done;
#else
  return send_plain(items, count);
#endif
}

}  // namespace pwt
