// The 5-tuple → SRTP session table of one UDP socket (docs/udp.md, "Session table"): the local
// half of the 5-tuple is the socket, so a route maps a remote transport address to the SrtpSession
// of the connection using it. Received RTP/RTCP (RFC 7983 first byte 128..191) is unprotected in
// place inside the receive batch (RFC 3711 §3.3, §3.4); sends naming a route are protected at flush.
#pragma once
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "native/udp/udp_socket.hpp"

namespace pwt {

class SrtpSession;

/** A remote transport address normalised for lookup (IPv4-mapped IPv6 counts as IPv4). */
struct UdpRemoteKey {
  uint8_t family = 0;  // 4 or 6
  uint16_t port = 0;
  uint8_t addr[16] = {};
  bool operator==(const UdpRemoteKey& o) const;
};

struct UdpRemoteKeyHash {
  size_t operator()(const UdpRemoteKey& k) const;
};

/** The key of a sockaddr (AF_INET, or AF_INET6 with IPv4-mapped addresses folded to IPv4). */
UdpRemoteKey udp_remote_key(const sockaddr_storage& ss);
/** The key of receive-slot metadata as UdpSocket::recv_batch writes it (16-byte address, port, 4|6). */
UdpRemoteKey udp_remote_key(const uint8_t* addr16, uint16_t port, uint8_t family);

/** Per-slot outcome written by UdpSessionTable::unprotect_batch. */
enum UdpRecvStatus : uint8_t {
  kRecvNotRouted = 0,  // STUN, DTLS, or a source without a route: bytes as received
  kRecvClear = 1,      // unprotected in place, length updated
  kRecvDropBase = 2,   // 2 + SrtpStatus: SRTP refused it (counted by the session too)
  kRecvHandedOff = 254,  // passed to the worker that owns its flow (docs/scaling.md "One port across workers")
  kRecvForwarded = 255,  // clear RTP a ForwardEngine consumed (native/forward, docs/sfu.md): skip it
};

/**
 * Routes of one socket. Route ids are 1..kMaxRoutes and reused after removal; per route the table
 * holds a key and a pointer (no buffers), so thousands of connections cost little. The sessions are
 * owned elsewhere and must outlive their routes.
 */
class UdpSessionTable {
 public:
  static constexpr uint32_t kMaxRoutes = 65535;

  /**
   * Adds a route; returns its id, or 0 when the table is full or `session` is null. A newer route for
   * the same remote replaces the older one for receiving (the older id still protects sends).
   */
  uint32_t add(const UdpRemoteKey& remote, SrtpSession* session);
  /** Removes a route; false when `id` names none. */
  bool remove(uint32_t id);
  /** The session of route `id`, or null. */
  SrtpSession* session(uint32_t id) const;
  /** The session receiving from `remote`, or null. */
  SrtpSession* find(const UdpRemoteKey& remote);
  /** Routes in use. */
  size_t size() const { return by_remote_.size(); }
  bool empty() const { return by_remote_.empty(); }
  /** Drops every route. */
  void clear();

  /**
   * Unprotects, in place, slots [0, n) of a receive batch whose source has a route and whose first
   * byte is RTP/RTCP; writes one UdpRecvStatus per slot into `status` and counts kSrtpUnprotected /
   * kSrtpRecvDropped in `counters` (UdpCounter indexes).
   */
  void unprotect_batch(const UdpRecvTarget& target, int n, uint8_t* status, double* counters);

 private:
  struct Route {
    UdpRemoteKey remote;
    SrtpSession* session = nullptr;
  };
  std::vector<Route> routes_;    // index id - 1; session == nullptr marks a free entry
  std::vector<uint32_t> free_;   // ids to reuse
  std::unordered_map<UdpRemoteKey, uint32_t, UdpRemoteKeyHash> by_remote_;
  // One-entry cache: a batch usually holds runs from one source.
  UdpRemoteKey last_key_;
  SrtpSession* last_session_ = nullptr;
  bool last_valid_ = false;
};

}  // namespace pwt
