// The 5-tuple → SRTP session table of one UDP socket (docs/udp.md, "Session table"): the local
// half of the 5-tuple is the socket, so a route maps a remote transport address to the SrtpSession
// of the connection using it. Received RTP/RTCP (RFC 7983 first byte 128..191) is unprotected in
// place inside the receive batch (RFC 3711 §3.3, §3.4); sends naming a route are protected at flush.
// A route may name a TURN channel (RFC 8656 §12): its remote is then the TURN server, and the table
// strips (receive) or writes (send) the 4-byte ChannelData header in the batch (docs/udp.md "TURN channels").
#pragma once
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "native/udp/udp_socket.hpp"

namespace pwt {

class SrtpSession;

/**
 * A remote transport address normalised for lookup (IPv4-mapped IPv6 counts as IPv4), plus the TURN
 * channel number when the address is a TURN server relaying for the peer (0: a direct route).
 */
struct UdpRemoteKey {
  uint8_t family = 0;  // 4 or 6
  uint16_t port = 0;
  uint16_t channel = 0;  // 0x4000..0x4FFF for a TURN channel route (RFC 8656 §12), else 0
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
  kRecvConsentAnswered = 251,  // a consent check answered natively (native/stun/stun_consent_responder.hpp): skip it
  kRecvChannelDataMalformed = 252,  // ChannelData of a routed channel with a length past the datagram: dropped
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
  /** The TURN channel of route `id` (0: a direct route, or no such route). */
  uint16_t channel(uint32_t id) const;
  /** The session receiving from `remote`, or null. */
  SrtpSession* find(const UdpRemoteKey& remote);
  /** The route id receiving from `remote`, or 0. */
  uint32_t find_id(const UdpRemoteKey& remote);
  /** Routes in use. */
  size_t size() const { return by_remote_.size(); }
  bool empty() const { return by_remote_.empty(); }
  /** Drops every route. */
  void clear();

  /**
   * Unprotects, in place, slots [0, n) of a receive batch whose source has a route and whose first
   * byte is RTP/RTCP; writes one UdpRecvStatus per slot into `status` and counts kSrtpUnprotected /
   * kSrtpRecvDropped in `counters` (UdpCounter indexes).
   * With `relays` (one entry per slot): a ChannelData message (first byte 0x40..0x4F, RFC 7983) from
   * a TURN server whose (address, channel) has a route loses its 4-byte header in place (RFC 8656
   * §12.4; trailing UDP padding is dropped, §12.5), `relays[i]` gets the route id and the inner
   * datagram is handled as above (RTP/RTCP unprotected; STUN/DTLS left clear with status 0). A
   * length past the datagram is dropped (kRecvChannelDataMalformed, counted); a channel without a
   * route is left untouched (relays[i] 0) for the TURN client above. Other slots get relays[i] 0.
   * With `sessions` (one entry per slot): the session that unprotected slot i (kRecvClear or a drop),
   * else null, so that a consumer of the batch (ForwardEngine::process_batch) needs no second lookup
   * of the 5-tuple, and finds the session of a TURN channel route too.
   */
  void unprotect_batch(const UdpRecvTarget& target, int n, uint8_t* status, double* counters, uint16_t* relays = nullptr,
                       SrtpSession** sessions = nullptr);

 private:
  struct Route {
    UdpRemoteKey remote;
    SrtpSession* session = nullptr;
  };
  std::vector<Route> routes_;    // index id - 1; session == nullptr marks a free entry
  std::vector<uint32_t> free_;   // ids to reuse
  std::unordered_map<UdpRemoteKey, uint32_t, UdpRemoteKeyHash> by_remote_;
  size_t channel_routes_ = 0;   // routes with a TURN channel: ChannelData is looked at only then
  // One-entry cache: a batch usually holds runs from one source.
  UdpRemoteKey last_key_;
  uint32_t last_id_ = 0;
  bool last_valid_ = false;
};

}  // namespace pwt
