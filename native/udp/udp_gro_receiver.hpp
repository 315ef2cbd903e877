// UDP GRO on receive (Linux UDP_GRO socket option, kernel >= 5.0; docs/udp.md "GRO"): the kernel
// hands a burst of same-size datagrams from one source as one coalesced buffer with the segment size
// in a UDP_GRO control message; this receiver takes up to kMessages such buffers with one recvmmsg
// and splits them into the caller's fixed-size slots, keeping what does not fit for the next call,
// so one syscall can deliver a whole burst and nothing is lost to a full batch.
#pragma once
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "native/udp/udp_socket.hpp"

namespace pwt {

class UdpGroReceiver {
 public:
  /** Coalesced buffers per recvmmsg, and the bytes of each (the largest GRO buffer is 64 KiB). */
  static constexpr size_t kMessages = 8;
  static constexpr size_t kMessageBytes = 65536;

  UdpGroReceiver();
  ~UdpGroReceiver();
  UdpGroReceiver(const UdpGroReceiver&) = delete;
  UdpGroReceiver& operator=(const UdpGroReceiver&) = delete;

  /** Sets (or clears) UDP_GRO on `fd`; false when the kernel refuses it (the caller keeps the plain path). */
  static bool set_option(int fd, bool on);

  /**
   * Fills up to `capacity` slots of `target` with datagrams: first those left from the previous
   * call, then from recvmmsg calls until the slots are full or the socket is empty. Counts as UdpSocket::recv_batch does, plus kGroReceives (buffers
   * that held more than one datagram) and kGroSegments (datagrams split out of them). Returns the
   * slots filled, 0 when nothing is pending, -1 on an unexpected error.
   */
  int recv(int fd, const UdpRecvTarget& target, size_t capacity, double* counters);

  /** True while datagrams of an earlier recvmmsg wait for slots. */
  bool has_pending() const { return next_ < received_; }
  /** How many datagrams wait. */
  size_t pending_datagrams() const;

 private:
  /** Splits pending buffers into target slots from `out`; returns the new slot count. */
  size_t drain(const UdpRecvTarget& target, size_t out, size_t capacity, double* counters);

  struct Buffers;
  std::unique_ptr<Buffers> b_;
  // Pending state: buffers [next_, received_) of the last recvmmsg, `offset_` bytes into next_.
  size_t received_ = 0;
  size_t next_ = 0;
  size_t offset_ = 0;
};

}  // namespace pwt
