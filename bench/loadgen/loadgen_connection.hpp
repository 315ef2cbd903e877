// One connection of the fanout load generator: a UDP socket on loopback, ICE with one host candidate
// (RFC 8445 §7.2-7.3: checks sent and answered; RFC 7675 consent checks sent every 5 s and answered), DTLS-SRTP
// over the core's DtlsEngine (RFC 5764), SRTP/SRTCP over its SrtpSession (RFC 3711), and what a real
// endpoint sends: a subscriber's receiver reports (RFC 3550 §6.4.2) and generic NACKs (RFC 4585
// §6.2.1), a publisher's sender reports (RFC 3550 §6.4.1) (docs/bench/README.md "fanout load generator").
#pragma once
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/loadgen/loadgen_delivery.hpp"
#include "native/dtls/dtls_engine.hpp"
#include "native/srtp/srtp_session.hpp"

namespace pwt::loadgen {

/** What the signaling (the TypeScript driver, from the SDP) tells a connection about its peer. */
struct RemoteParameters {
  std::string ufrag;
  std::string password;
  /** The peer's host candidate (IPv4, host order), checked by us; checks from elsewhere are answered too. */
  uint32_t ip = 0;
  uint16_t port = 0;
  std::vector<uint8_t> fingerprint_sha256;
  bool dtls_client = false;
  /** True when the peer is the controlling ICE agent (it offered), false when we are (we offered). */
  bool remote_controlling = false;
  /** Payload types as negotiated: the media's, and its RTX (RFC 4588) or -1. */
  int payload_type = 111;
  int rtx_payload_type = -1;
  uint32_t clock_rate = 48000;
  /** The media is VP8 (the publisher's payloads start with a VP8 descriptor), else Opus-shaped audio. */
  bool vp8 = false;
  /** A subscriber that drops every `nack_every`-th packet on arrival (before SRTP) and NACKs it; 0: none. */
  uint32_t nack_every = 0;
};

/** Counters of one connection (subscriber receive side and publisher side). */
struct ConnectionCounters {
  /** SRTP-authenticated RTP packets received (all SSRCs, RTX included). */
  uint64_t rtp_received = 0;
  /** Authenticated RTP packets whose payload was not the publisher's (counted nowhere else). */
  uint64_t foreign_payload = 0;
  /** Datagrams dropped: SRTP/SRTCP authentication or replay failures, unexpected STUN, unknown first byte. */
  uint64_t unauthenticated = 0;
  uint64_t stun_dropped = 0;
  uint64_t other_dropped = 0;
  uint64_t rtcp_received = 0;
  /** Subscriber: packets dropped on purpose (then NACKed), NACKs sent, retransmissions that arrived. */
  uint64_t dropped_on_purpose = 0;
  uint64_t nacks_sent = 0;
  uint64_t retransmissions_received = 0;
  /** Publisher: generic NACK feedback received and the sequence numbers it asked for. */
  uint64_t nacks_received = 0;
  uint64_t nacked_sequences = 0;
  uint64_t rtp_sent = 0;
  uint64_t reports_sent = 0;
  /** Our checks the peer answered (the first connectivity check, then consent checks every 5 s). */
  uint64_t checks_answered = 0;
};

/** One connection. Not thread-safe; the load generator's single loop drives it. */
class LoadConnection {
 public:
  /** Binds a UDP socket on 127.0.0.1 and makes the ICE credentials; null (with `error`) on failure. */
  static std::unique_ptr<LoadConnection> Open(uint32_t id, bool publisher, std::shared_ptr<DtlsContext> dtls,
                                              std::string* error);
  ~LoadConnection();
  LoadConnection(const LoadConnection&) = delete;
  LoadConnection& operator=(const LoadConnection&) = delete;

  /** Starts ICE and DTLS towards the peer; false (with `error`) when the parameters are unusable. */
  bool Start(const RemoteParameters& remote, uint32_t local_ssrc, uint64_t now_us, std::string* error);
  /** Reads everything the socket holds (recvmmsg batches) and handles it. */
  void Receive(uint64_t now_us);
  /** Retransmits checks, runs the DTLS timer, sends reports when due. */
  void Tick(uint64_t now_us);
  /** The next time Tick has work (µs, same clock as now_us). */
  uint64_t NextTickUs() const { return next_tick_us_; }

  /**
   * Publisher: writes one RTP packet (header, `payload_len` bytes with the load header for `round` and
   * `index`) into `buf` and protects it; returns its length, 0 when not connected.
   */
  size_t WriteRtp(uint8_t* buf, size_t capacity, size_t payload_len, uint32_t timestamp, bool marker, uint32_t round,
                  uint32_t index);

  int fd() const { return fd_; }
  uint32_t id() const { return id_; }
  uint16_t local_port() const { return local_port_; }
  const std::string& ufrag() const { return ufrag_; }
  const std::string& password() const { return password_; }
  /** The peer's address media goes to (valid once `selected()`). */
  const sockaddr_in& peer() const { return peer_; }
  bool selected() const { return selected_; }
  /** True once SRTP is keyed (DTLS connected and verified). */
  bool connected() const { return srtp_.keyed(); }
  /** True once, when the connection got connected or failed (then reset). */
  bool TakeStateChanged();
  bool failed() const { return failed_; }
  const std::string& failure() const { return failure_; }
  const ConnectionCounters& counters() const { return counters_; }
  /** One line about where the connection is (ICE, DTLS, drops), for diagnosing one that does not connect. */
  std::string Describe() const;
  const DeliveryCounter& delivery() const { return delivery_; }

 private:
  LoadConnection(uint32_t id, bool publisher, std::shared_ptr<DtlsContext> dtls);
  void HandleDatagram(uint8_t* data, size_t len, const sockaddr_in& from, uint64_t now_us);
  void HandleStun(const uint8_t* data, size_t len, const sockaddr_in& from);
  void HandleMedia(uint8_t* data, size_t len, uint64_t now_us);
  void HandleRtcp(const uint8_t* data, size_t len, uint64_t now_us);
  void CountRtp(const uint8_t* data, size_t len, uint64_t now_us);
  void Select(const sockaddr_in& to);
  void Validate(const sockaddr_in& from);
  bool Validated(const sockaddr_in& from) const;
  void SendCheck(uint64_t now_us);
  void FlushDtls();
  void CheckDtls();
  void SendReport(uint64_t now_us, int nack_sequence, uint32_t nack_ssrc);
  void SendRaw(const uint8_t* data, size_t len, const sockaddr_in& to);
  void Fail(const std::string& reason);

  uint32_t id_;
  bool publisher_;
  int fd_ = -1;
  uint16_t local_port_ = 0;
  std::string ufrag_;
  std::string password_;
  std::shared_ptr<DtlsContext> dtls_context_;
  std::unique_ptr<DtlsEngine> dtls_;
  SrtpSession srtp_;
  RemoteParameters remote_;
  bool started_ = false;
  sockaddr_in candidate_{};
  sockaddr_in peer_{};
  bool selected_ = false;
  bool nominated_ = false;
  /** Addresses that passed a check either way (RFC 8445 §7.2.5.3, §7.3.1.4): media and DTLS from them are taken. */
  std::vector<sockaddr_in> validated_;
  bool check_succeeded_ = false;
  uint8_t check_transaction_[12] = {};
  uint64_t tiebreaker_ = 0;
  uint32_t checks_sent_ = 0;
  uint64_t next_check_us_ = 0;
  uint64_t next_report_us_ = 0;
  uint64_t next_tick_us_ = 0;
  bool state_changed_ = false;
  bool failed_ = false;
  std::string failure_;
  // RTP state: ours (publisher) or the stream we receive (subscriber, RFC 3550 §A.1/§A.8).
  uint32_t local_ssrc_ = 0;
  uint16_t send_seq_ = 0;
  uint32_t last_timestamp_ = 0;
  uint64_t octets_sent_ = 0;
  uint32_t media_ssrc_ = 0;
  bool media_started_ = false;
  uint16_t max_seq_ = 0;
  uint32_t cycles_ = 0;
  uint32_t base_seq_ = 0;
  uint64_t media_received_ = 0;
  uint64_t expected_prior_ = 0;
  uint64_t received_prior_ = 0;
  double jitter_ = 0;
  int64_t last_transit_ = 0;
  bool has_transit_ = false;
  uint32_t last_sr_ntp_ = 0;
  uint64_t last_sr_at_us_ = 0;
  std::vector<uint8_t> dropped_;  // one bit per sequence number, nack_every > 0 only
  DeliveryCounter delivery_;
  ConnectionCounters counters_;
};

}  // namespace pwt::loadgen
