// The receive filter of a plain or pipe RTP transport (docs/scaling.md "Plain transport"): RTP/RTCP
// in the clear (or SRTP with application-exchanged keys) on a socket of its own, with no ICE/DTLS.
// It admits only datagrams from the connected remote (RFC 7983 first byte 128..191, RTCP muxed per
// RFC 5761); with comedia it learns the remote from the first such datagram. Everything else is
// marked rejected and counted.
#pragma once
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

#include "native/udp/udp_session_table.hpp"
#include "native/udp/udp_socket.hpp"

namespace pwt {

/** Counters of one plain source; indexes into a shared array read by JavaScript. */
enum ForwardPlainCounter : int {
  kPlainAccepted = 0,  // datagrams from the remote admitted (clear, or left to SRTP)
  kPlainSpoofed,       // RTP/RTCP-looking datagrams from anyone but the remote (or before connect)
  kPlainNotRtp,        // datagrams whose first byte is not RTP/RTCP (RFC 7983), from anyone
  kPlainLearned,       // times comedia took the remote from a received datagram
  kPlainCounterCount,
};

/** Per-slot status of a datagram this filter refused (beside UdpRecvStatus values, none of them 253). */
constexpr uint8_t kRecvRejected = 253;
static_assert(kRecvRejected != kRecvForwarded && kRecvRejected != kRecvHandedOff && kRecvRejected > kRecvDropBase + 32,
              "a distinct receive-slot status");

class ForwardPlainSource {
 public:
  ForwardPlainSource() = default;
  ForwardPlainSource(const ForwardPlainSource&) = delete;
  ForwardPlainSource& operator=(const ForwardPlainSource&) = delete;

  /** Fixes the remote (connect); comedia learning stops. False for a bad address. */
  bool set_remote(const sockaddr* address, socklen_t length);
  /** Learn the remote from the first RTP/RTCP datagram while none is set (off by default). */
  void set_comedia(bool on) { comedia_ = on; }
  /** With `srtp`, datagrams from the remote are left to the socket's SRTP route (not marked clear). */
  void set_srtp(bool on) { srtp_ = on; }
  bool srtp() const { return srtp_; }

  /** The remote to send to; length 0 while none is known. */
  const sockaddr* remote() const { return reinterpret_cast<const sockaddr*>(&remote_); }
  socklen_t remote_length() const { return remote_length_; }

  /**
   * Classifies slots [0, n) of a receive batch. Slots the session table already handled (clear or
   * SRTP-refused) keep their status. Of the rest: from the remote and RTP/RTCP -> kRecvClear (plain
   * mode); anything else -> kRecvRejected and counted.
   */
  void filter_batch(const UdpRecvTarget& target, int n, uint8_t* status);

  /** Counters, kPlainCounterCount doubles; the binding points it at memory JavaScript reads. */
  void set_counters(double* counters) { counters_ = counters ? counters : own_counters_; }
  const double* counters() const { return counters_; }

 private:
  void Learn(const UdpRecvTarget& target, int slot);

  sockaddr_storage remote_{};
  socklen_t remote_length_ = 0;
  UdpRemoteKey remote_key_;
  bool comedia_ = false;
  bool srtp_ = false;
  double own_counters_[kPlainCounterCount] = {};
  double* counters_ = own_counters_;
};

}  // namespace pwt
