// The hand-off between the workers of a SO_REUSEPORT port (docs/scaling.md "One port across
// workers"): a datagram the kernel gave to a worker that does not own its flow goes, with its source
// address, through the owner's channel (a non-blocking AF_UNIX datagram socketpair) to the owner,
// which then treats it exactly as if its own socket had received it.
#pragma once
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "native/udp/udp_socket.hpp"

namespace pwt {

/** What precedes each handed-off datagram on a channel (the source as recv_batch reports it). */
struct HandoffHeader {
  uint8_t family;  // 4 or 6
  uint8_t reserved;
  uint16_t port;   // host order
  uint32_t from;   // the worker that received it from the network
  uint8_t addr[16];
};
static_assert(sizeof(HandoffHeader) == 24, "fixed wire layout between threads of one process");

/**
 * Creates one channel: fds[0] is read by the owner, fds[1] written by every other worker (a datagram
 * socketpair: each send is atomic, the queue is bounded by the send buffer, not by
 * net.unix.max_dgram_qlen). Returns 0, or errno.
 */
int handoff_channel_create(int fds[2], int buffer_bytes);

/** Counters of a worker's hand-off; indexes into a shared array read by JavaScript. */
enum HandoffCounter : int {
  kHandoffSent = 0,     // datagrams passed to another worker
  kHandoffReceived,     // datagrams received from other workers
  kHandoffDropped,      // could not be passed (the owner's channel full or gone)
  kHandoffSteeringFull, // claims the steering table refused
  kHandoffFlowSockets,  // connected flow sockets open now (docs/scaling.md "Connected flow sockets")
  kHandoffFlowReceived, // datagrams the kernel delivered on those sockets (no hand-off needed)
  kHandoffFlowRefused,  // flows left on the hand-off: the limit reached, or bind/connect failed
  kHandoffCounterCount,
};

/** Collects one receive batch's hand-offs by owner and sends each owner's group with one sendmmsg. */
class HandoffOutbox {
 public:
  /** Queues slot `i` of `target` for the channel `fd`. */
  void add(int fd, uint32_t self, const UdpRecvTarget& target, int i);
  /** Sends everything queued; counts sent and dropped datagrams. */
  void flush(double* counters);
  bool empty() const { return items_.empty(); }

 private:
  struct Item {
    int fd;
    HandoffHeader header;
    const uint8_t* data;
    uint32_t length;
  };
  std::vector<Item> items_;
  std::vector<mmsghdr> msgs_;
  std::vector<iovec> iovs_;
};

/**
 * Reads up to target.capacity handed-off datagrams from channel `fd` into `target` (payload into the
 * slots, the header's source into the slot metadata), like UdpSocket::recv_batch. Returns the number
 * of slots filled, 0 when nothing is pending.
 */
int handoff_recv_batch(int fd, const UdpRecvTarget& target, double* counters);

}  // namespace pwt
