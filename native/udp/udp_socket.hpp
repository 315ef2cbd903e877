// UDP socket core: bind, batched receive (recvmmsg) and batched send (sendmmsg, optional
// UDP_SEGMENT/GSO) with plain syscalls. No event loop here: binding/ polls the fd with libuv.
// Non-Linux platforms use recvfrom/sendto behind the same interface.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace pwt {

enum class UdpStatus {
  kOk = 0,
  kWouldBlock,
  kAddressInUse,
  kInvalidAddress,
  kAddressNotAvailable,
  kPermissionDenied,
  kTooBig,
  kClosed,
  kSystemError,
};

/** Counters kept by the socket; indexes into a shared array read by JavaScript. */
enum UdpCounter : int {
  kPacketsIn = 0,
  kBytesIn,
  kPacketsOut,
  kBytesOut,
  kRecvSyscalls,
  kSendSyscalls,
  kDropTruncated,
  kDropRecvError,
  kDropSendTooBig,
  kDropSendUnreachable,
  kDropSendRefused,
  kDropSendOther,
  kSendBlocked,
  kGsoSends,
  kBatches,
  kSrtpUnprotected,    // datagrams unprotected in place by a registered SRTP route
  kSrtpRecvDropped,    // routed datagrams SRTP refused (reasons are counted by the SrtpSession)
  kSrtpProtected,      // datagrams protected at flush
  kSrtpProtectFailed,  // datagrams dropped because protect failed (e.g. session not keyed)
  kGroReceives,        // received buffers that the kernel had coalesced (UDP_GRO), more than one datagram each
  kGroSegments,        // datagrams split out of those buffers
  kChannelDataReceived,   // TURN ChannelData of a routed channel: header stripped in the batch (RFC 8656 §12.4)
  kChannelDataSent,       // TURN ChannelData framed at flush for a channel route
  kChannelDataMalformed,  // ChannelData of a routed channel whose length runs past the datagram: dropped
  kGsoFallbacks,       // times the kernel refused a UDP_SEGMENT send (EIO/EINVAL): GSO is off from then on
  kJsCalls,            // receive batches handed to JavaScript (one call each; the binding counts them)
  kCounterCount,
};

/** Socket options applied at bind time. */
struct UdpBindOptions {
  int family = AF_INET;  // AF_INET or AF_INET6
  std::string address;   // empty = any
  uint16_t port = 0;
  bool reuse_port = false;
  bool ipv6_only = false;
  int recv_buffer = 0;  // 0 = system default
  int send_buffer = 0;
};

/** Storage for one socket address as passed to sendmsg. */
struct UdpAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

/** Writes a received datagram's source into slot metadata (16-byte address, port, family 4/6). */
void udp_store_source(const sockaddr_storage& ss, uint8_t* addr16, uint16_t* port, uint8_t* family);

class UdpGroReceiver;

/** Fills `out` from a textual IP (v4 or v6) and port; false when the text is not an IP. */
bool udp_make_address(int family, const char* ip, uint16_t port, UdpAddress* out);

/** Where recv_batch writes: `capacity` slots of `slot_size` bytes plus per-slot metadata. */
struct UdpRecvTarget {
  uint8_t* buffer = nullptr;
  size_t slot_size = 0;
  size_t capacity = 0;
  uint32_t* lengths = nullptr;   // per slot
  uint8_t* addresses = nullptr;  // 16 bytes per slot (IPv4 in the first 4)
  uint16_t* ports = nullptr;     // per slot, host order
  uint8_t* families = nullptr;   // 4 or 6 per slot
  // Optional, per slot: when the kernel received the datagram, monotonic µs (0: unknown). Filled
  // only while the socket has receive timestamps on (UdpSocket::set_receive_timestamps).
  uint64_t* arrival_us = nullptr;
  // Optional, per slot: where the slot's bytes start in `buffer` (a TCP read batch packs frames,
  // native/tcp); null: slot i starts at i * slot_size.
  const uint32_t* offsets = nullptr;
};

/** The bytes of slot `i` of a receive target. */
inline uint8_t* udp_slot_data(const UdpRecvTarget& target, int i) {
  return target.buffer + (target.offsets ? target.offsets[i] : static_cast<size_t>(i) * target.slot_size);
}

/** One datagram to send: bytes and a destination in sockaddr form. */
struct UdpSendItem {
  const uint8_t* data;
  uint32_t length;
  const sockaddr* address;
  socklen_t address_length;
};

class UdpSocket {
 public:
  static constexpr size_t kMaxBatch = 64;
  /**
   * Most messages one sendmmsg carries. An SFU flush holds one datagram per subscriber per received
   * packet: 256 lets a packet to 200 subscribers leave in one syscall instead of four (docs/udp.md).
   */
  static constexpr size_t kMaxSendBatch = 256;
  static constexpr size_t kMaxDatagram = 65507;

  UdpSocket();
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  /** Creates, configures and binds the socket (non-blocking). `*sys_errno` gets errno on failure. */
  UdpStatus bind(const UdpBindOptions& options, int* sys_errno);
  /**
   * Connects the bound socket to `remote` (connect(2) on a datagram socket): the kernel then delivers
   * only that remote's datagrams here, and prefers this socket over unconnected ones of a SO_REUSEPORT
   * group for that 4-tuple (docs/scaling.md "Connected flow sockets").
   */
  UdpStatus connect(const UdpAddress& remote, int* sys_errno);
  /** Local address after bind; fills ip text, port and family (4 or 6). */
  bool local_address(std::string* ip, uint16_t* port, int* family) const;
  /**
   * SO_RCVBUF / SO_SNDBUF as the kernel reports them (Linux reports twice the bytes it granted,
   * the doubling covering its bookkeeping; docs/udp.md "Socket buffers"). False when not bound.
   */
  bool buffer_sizes(int* recv_bytes, int* send_bytes) const;
  int fd() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }
  void close();

  /**
   * Receives up to target.capacity datagrams with one syscall (recvmmsg). Returns the number of
   * delivered slots (truncated datagrams are dropped and counted, the rest compacted to the
   * front), 0 when nothing is pending, or -1 on an unexpected error.
   */
  int recv_batch(const UdpRecvTarget& target);

  /**
   * Sends items in order with as few syscalls as possible. Returns how many were consumed (sent
   * or dropped for a per-datagram error, both counted); fewer than `count` means the socket would
   * block and the rest must wait for writability.
   */
  size_t send_batch(const UdpSendItem* items, size_t count);

  /** Allows same-destination equal-size runs to go out as one UDP_SEGMENT send (Linux). */
  void set_gso(bool enabled) { gso_ = enabled && gso_supported_; }
  bool gso_enabled() const { return gso_; }

  /**
   * Receives with UDP_GRO where the kernel offers it (udp_gro_receiver.hpp): coalesced bursts are
   * split into slots. Returns whether GRO is on (false: refused, the plain path stays).
   */
  bool set_gro(bool enabled);
  bool gro_enabled() const { return gro_ != nullptr; }
  /**
   * Kernel receive timestamps (SO_TIMESTAMPNS, udp_receive_timestamp.hpp): recv_batch then fills
   * target.arrival_us. Returns whether they are on (false: refused).
   */
  bool set_receive_timestamps(bool enabled);
  bool receive_timestamps() const { return timestamps_; }
  /** True while split datagrams of an earlier receive wait for slots (call recv_batch again). */
  bool has_pending_receive() const;

  /**
   * Counters, kCounterCount doubles; the binding points it at memory JavaScript reads. Without one
   * (nullptr) the socket counts into an array of its own, made when first counted into (a socket
   * of the binding never needs it: 208 bytes less per socket, docs/udp.md "Cost per connection").
   */
  void set_counters(double* counters) { counters_ = counters; }
  double* counters() { return counters_ ? counters_ : own_counters(); }

 private:
  size_t send_plain(const UdpSendItem* items, size_t count);
  size_t send_gso(const UdpSendItem* items, size_t count);
  void count_send_error(int err);
  void prepare_recv(const UdpRecvTarget& target);

  int fd_ = -1;
  int family_ = AF_INET;
  bool gso_ = false;
  bool gso_supported_ = false;
  bool timestamps_ = false;
  double* own_counters();
  std::unique_ptr<double[]> own_counters_;
  double* counters_ = nullptr;
  // Syscall scratch (mmsghdr/iovec/sockaddr arrays, about 100 KiB): one per thread, shared by
  // every socket of that thread (each call uses it synchronously and leaves nothing in it), so
  // a socket costs no buffers of its own (docs/udp.md "Cost per connection").
  struct Scratch;
  static Scratch& thread_scratch();
  Scratch* scratch_ = nullptr;
  std::unique_ptr<UdpGroReceiver> gro_;
};

}  // namespace pwt
