// Sans-I/O DTLS 1.2 engine over OpenSSL (RFC 6347) with DTLS-SRTP keying (RFC 5764); after the
// handshake OpenSSL's SSL is freed and DtlsRecordLayer carries the records (docs/dtls.md, "Handover").
// Contract: datagrams in (HandleDatagram), timer ticks in (HandleTimeout, when TimeoutUs()
// says so); records to send out (outgoing()), application data out (DrainData), state out.
// No socket, thread or clock of its own, except that OpenSSL's retransmission timer reads the
// real monotonic clock (TimeoutUs() reports what is left of it).
#pragma once
#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "native/dtls/dtls_bio.hpp"
#include "native/dtls/dtls_certificate.hpp"
#include "native/dtls/dtls_context.hpp"
#include "native/dtls/dtls_datagram_queue.hpp"
#include "native/dtls/dtls_record_layer.hpp"
#include "native/srtp/srtp_keying.hpp"

namespace pwt {

/** DTLS role; SDP a=setup decides (RFC 5763 section 5: active is the client). */
enum class DtlsRole : uint8_t { kClient = 0, kServer = 1 };

/** W3C RTCDtlsTransportState. */
enum class DtlsState : uint8_t { kNew = 0, kConnecting = 1, kConnected = 2, kClosed = 3, kFailed = 4 };

/** Result of an API call (misuse), never of network input. */
enum class DtlsStatus : uint8_t {
  kOk = 0,
  kInvalidState,
  kInvalidArgument,
  kTooLarge,
  kInternal,
};

/** Largest datagram accepted (one maximal record plus header); larger ones are dropped. */
constexpr size_t kDtlsMaxDatagram = 13 + 16384 + 2048;
/** Largest application-data record payload (RFC 6347 section 4.1: 2^14). */
constexpr size_t kDtlsMaxRecordPayload = 16384;
/** Bounds accepted for the MTU (OpenSSL's DTLS minimum; BIO_f_buffer holds one flight datagram). */
constexpr uint32_t kDtlsMinMtu = 256;
constexpr uint32_t kDtlsMaxMtu = 4096;

/** Per-engine configuration. */
struct DtlsEngineConfig {
  DtlsRole role = DtlsRole::kClient;
  /** Largest datagram the engine emits during the handshake (IP/UDP headers excluded). */
  uint32_t mtu = 1200;
  /** use_srtp profiles, most preferred first; empty disables the extension. */
  std::vector<SrtpProfile> srtp_profiles = {SrtpProfile::kAeadAes128Gcm, SrtpProfile::kAeadAes256Gcm,
                                            SrtpProfile::kAes128CmHmacSha1_80, SrtpProfile::kAes128CmHmacSha1_32};
  /** First retransmission timeout (RFC 6347 section 4.2.4.1 recommends 1 s); doubles up to the max. */
  uint32_t initial_timeout_ms = 1000;
  uint32_t max_timeout_ms = 60000;
  /** Caps of the outgoing-record and incoming-data queues (excess is dropped and counted). */
  size_t max_out_bytes = 256 * 1024;
  size_t max_out_count = 1024;
  size_t max_data_bytes = 1024 * 1024;
  size_t max_data_count = 4096;
  /** Keep OpenSSL's SSL for the whole connection instead of handing over (diagnosis only). */
  bool keep_ssl = false;
};

/** Resends of our last flight after the handover, at most (OpenSSL's peers give up after 12 timeouts). */
constexpr uint64_t kDtlsMaxFlightResends = 12;
/** The peer's epoch-1 records kept while the handshake runs, to mark in the window at the handover. */
constexpr size_t kDtlsMaxKeptPeerRecords = 64;
constexpr size_t kDtlsMaxKeptPeerBytes = 64 * 1024;

/** One remote a=fingerprint (RFC 8122 section 5). */
struct RemoteFingerprint {
  FingerprintAlgorithm algorithm = FingerprintAlgorithm::kSha256;
  std::vector<uint8_t> digest;
};

/** Counters (drops by reason and traffic); exported in this order by CountersToArray. */
struct DtlsCounters {
  uint64_t datagrams_in = 0;
  uint64_t dropped_not_started = 0;
  uint64_t dropped_after_close = 0;
  uint64_t dropped_too_large = 0;
  uint64_t dropped_malformed = 0;
  uint64_t dropped_out_queue_full = 0;
  uint64_t dropped_data_queue_full = 0;
  uint64_t data_records_in = 0;
  uint64_t data_records_out = 0;
  uint64_t retransmit_timeouts = 0;
  uint64_t client_hellos = 0;
  // After the handshake, well-formed datagrams OpenSSL discarded without any effect (RFC 6347
  // section 4.1.2.7), one reason per datagram: no record at the current epoch; a current-epoch
  // record whose sequence number already delivered data (section 4.1.2.6); any other
  // current-epoch record (bad MAC, or a replay older than our window).
  uint64_t dropped_wrong_epoch = 0;
  uint64_t dropped_replayed = 0;
  uint64_t dropped_unauthenticated = 0;
  // After the handover: our last flight sent again because the peer's retransmitted Finished
  // arrived; authenticated handshake or change_cipher_spec records not answered (the client, or
  // past kDtlsMaxFlightResends).
  uint64_t flight_resends = 0;
  uint64_t dropped_late_handshake = 0;
  // With the handshake thread: received datagrams dropped because too many already waited for it
  // (dtls_offloaded_engine.hpp, kDtlsMaxBacklogDatagrams); always 0 on the in-thread path.
  uint64_t dropped_backlog = 0;
  // Our flight sent again by OpenSSL while it read a received datagram (not from HandleTimeout):
  // whenever the timer had expired and the read found no complete message to go on with (part of
  // the peer's answer, a late duplicate, any datagram read after a late timer call), OpenSSL
  // retransmits (dtls1_read_failed). Counted from the timer callback. Not a drop.
  uint64_t retransmits_on_read = 0;
  static constexpr size_t kCount = 18;
  void ToArray(double* out) const;
};

/** One DTLS association with one peer. Not thread-safe; use from one thread. */
class DtlsEngine {
 public:
  /**
   * Checks the configuration (a bad one fails here, synchronously: kInvalidArgument) but makes no
   * OpenSSL object: the SSL is made by the first call that needs it (the client's Start, the
   * server's first datagram), on whichever thread runs that call (docs/dtls.md "Handshake thread").
   */
  static std::unique_ptr<DtlsEngine> Create(std::shared_ptr<DtlsContext> context, const DtlsEngineConfig& config,
                                            DtlsStatus* status);
  ~DtlsEngine();
  DtlsEngine(const DtlsEngine&) = delete;
  DtlsEngine& operator=(const DtlsEngine&) = delete;

  /**
   * new → connecting; the client makes its SSL and writes its ClientHello (the server makes its SSL
   * with the first datagram). If OpenSSL cannot make the SSL the engine fails (state failed, with
   * the reason), like any handshake failure.
   */
  DtlsStatus Start();
  /** Feeds one received datagram. Never fails: bad input is dropped and counted. */
  void HandleDatagram(const uint8_t* data, size_t len);
  /** Lets OpenSSL retransmit if its timer expired (no-op otherwise). */
  void HandleTimeout();
  /** Microseconds until HandleTimeout has work, or -1 when no timer runs. */
  int64_t TimeoutUs() const;
  /** Sets the fingerprints from the remote description; verifies at once if the handshake is done. */
  DtlsStatus SetRemoteFingerprints(std::vector<RemoteFingerprint> fingerprints);
  /** Sends one application-data record (connected only). */
  DtlsStatus Send(const uint8_t* data, size_t len);
  /** Sends close_notify if a session exists; state → closed. Idempotent. */
  void Close();

  /** Records waiting to be sent; the caller drains them. */
  DatagramQueue& outgoing() { return out_; }
  /**
   * Received application data is handed out once connected (i.e. verified), and after the peer's
   * close_notify ended a verified session: the records it sent before the close (an SCTP ABORT)
   * still count. Our own Close() and Fail() empty the queue.
   */
  bool DataDeliverable() const {
    return state_ == DtlsState::kConnected || (state_ == DtlsState::kClosed && verified_);
  }
  /** Moves received application data out (see DataDeliverable). */
  size_t DrainData(uint8_t* out, size_t cap, uint32_t* lens, size_t max_count);
  bool HasData() const { return DataDeliverable() && !data_.empty(); }
  /** Moves received application data into `dst` (see DataDeliverable); returns how many `dst` refused. */
  size_t MoveDataInto(DatagramQueue* dst) { return DataDeliverable() ? data_.MoveInto(dst) : 0; }

  /** RFC 5764 section 4.2 keying material; false unless connected with a negotiated profile. */
  bool ExportSrtpKeyingMaterial(SrtpKeyingMaterial* km) const;
  /** Raw RFC 5705 exporter output, for tests that compare with other implementations only. */
  bool ExportKeyingMaterialForTest(const std::string& label, uint8_t* out, size_t len) const;

  DtlsState state() const { return state_; }
  DtlsRole role() const { return config_.role; }
  /** True once the peer was verified (connected), even if the state moved on since. */
  bool was_connected() const { return verified_; }
  /** True once after each state change (then reset). */
  bool TakeStateChanged();
  const std::string& failure_reason() const { return failure_reason_; }
  /** Negotiated SRTP profile id (RFC 5764 section 4.1.2), 0 when none. */
  uint16_t srtp_profile() const { return srtp_profile_; }
  /** The peer's certificate (DER) once the handshake completed, else empty. */
  const std::vector<uint8_t>& peer_certificate_der() const { return peer_der_; }
  /** Negotiated cipher suite name (OpenSSL's), empty before the handshake. */
  std::string cipher_name() const;
  /** Negotiated cipher suite, IANA name (RFC 5246 appendix A.5 style, as W3C dtlsCipher wants), empty before the handshake. */
  std::string cipher_standard_name() const;
  /** Negotiated protocol version as on the wire (0xFEFD for DTLS 1.2, RFC 6347 section 4.1), 0 before the handshake. */
  uint16_t tls_version() const;
  const DtlsCounters& counters() const { return counters_; }
  /** True while OpenSSL's record buffers are freed (idle since connected; see ReleaseIdleBuffers). */
  bool record_buffers_released() const { return buffers_released_; }
  /** True while OpenSSL's SSL exists: made at the handshake's first step, freed at the handover. */
  bool holds_ssl() const { return ssl_ != nullptr; }
  /** True once OpenSSL's SSL is freed and our record layer carries the records. */
  bool handed_over() const { return handed_over_; }
  /** True while the session keys exist (handed over, neither closed nor failed). */
  bool holds_record_keys() const { return record_layer_ != nullptr; }
  /** True while a copy of our last handshake flight is kept to answer the peer's retransmission. */
  bool keeps_last_flight() const { return !flight_ends_.empty(); }
  /**
   * Makes what the connection keeps after the handover (the record layer, the peer certificate's
   * DER, the kept last flight) again in allocations of the calling thread and frees the old ones.
   * The offloaded engine's owner calls it when the engine comes home: the handover may have run on
   * the handshake thread, whose malloc arena then kept these few hundred bytes per connection
   * among the freed state of its handshakes, and no trim could give those pages back
   * (docs/dtls.md "Handover"). Nothing observable changes.
   */
  void RelocateKeptState();

  /** Called from the SSL_CTX certificate callback; false rejects the peer. */
  bool OnPeerCertificate(X509* leaf);

 private:
  // Native tests only (test/native/dtls_record_layer_test.cpp): moves the write sequence number
  // to the end of the epoch, which no test could reach by sending.
  friend struct DtlsEngineTestAccess;
  DtlsEngine(std::shared_ptr<DtlsContext> context, const DtlsEngineConfig& config);
  /** Makes the SSL (and its BIO) in the engine's role; false when OpenSSL refuses. */
  bool MakeSsl();
  /** MakeSsl unless the SSL exists; on failure the engine fails (typed: state failed + reason). */
  bool EnsureSsl();
  void Drive();
  void ReadData();
  void ReleaseIdleBuffers();
  void RestoreBuffers();
  void OnHandshakeDone();
  void Handover();
  void KeepLastFlight(DtlsAeadCipher& own_opener);
  void KeepPeerEpoch1Records(const uint8_t* data, size_t len);
  void ReceiveAfterHandover(const uint8_t* data, size_t len);
  void ReleaseSessionSecrets();
  void OnAlert(const uint8_t* alert, size_t len);
  void ResendLastFlight();
  // Frees (and cleanses) the kept last flight: at close or failure, and at the peer's first
  // authenticated application data, which proves it has our Finished (docs/dtls.md "Handover").
  void DropLastFlight();
  bool SendRecord(uint8_t type, const uint8_t* data, size_t len);
  void SendCloseNotify();
  bool Export(const char* label, size_t label_len, uint8_t* out, size_t len) const;
  void Verify();
  bool FingerprintMatches(X509* cert) const;
  bool FingerprintMatchesDer() const;
  void SetState(DtlsState s);
  void Fail(const std::string& reason);
  size_t MinProtectedBody() const;
  void CountDiscarded(const uint8_t* data, size_t len, bool had_effect, uint64_t delivered);
  void MarkDelivered(uint64_t seq);
  bool WasDelivered(uint64_t seq) const;
  std::string TakeOpenSslError(const char* what);
  static unsigned int TimerCallback(SSL* ssl, unsigned int previous_us);
  // True while HandleDatagram drives OpenSSL (the timer callback tells a read's retransmission apart).
  bool in_datagram_ = false;
  // Native tests only (DtlsEngineTestAccess): the next MakeSsl fails as if OpenSSL refused.
  bool fail_make_ssl_for_test_ = false;

  std::shared_ptr<DtlsContext> context_;
  DtlsEngineConfig config_;
  SSL* ssl_ = nullptr;
  DatagramQueue out_;
  DatagramQueue data_;
  DtlsBioState bio_state_;
  DtlsState state_ = DtlsState::kNew;
  bool state_changed_ = false;
  bool handshake_done_ = false;
  bool verified_ = false;
  bool fingerprint_rejected_ = false;
  // The callback already matched the peer against the current fingerprint list.
  bool matched_in_callback_ = false;
  // OpenSSL's record buffers are freed (ReleaseIdleBuffers: connected, no application data yet)
  // and no SSL_read has set them up again since: a write must restore them first.
  bool buffers_released_ = false;
  uint16_t srtp_profile_ = 0;
  std::vector<RemoteFingerprint> remote_fingerprints_;
  std::string failure_reason_;
  DtlsCounters counters_;
  // Sequence numbers of current-epoch records that delivered data (a 64-record window, as in
  // RFC 6347 section 4.1.2.6), only to tell a replay from a forgery in the counters.
  bool delivered_any_ = false;
  uint64_t delivered_top_ = 0;
  uint64_t delivered_bits_ = 0;
  // The peer's certificate, copied at the end of the handshake (fingerprints, getRemoteCertificates).
  std::vector<uint8_t> peer_der_;
  // Datagrams OpenSSL wrote in the current Drive while the handshake runs; the ones of the Drive
  // that completed it are our last flight (non-empty only where we sent it: the server).
  std::vector<std::vector<uint8_t>> capture_;
  // The peer's epoch-1 records (whole, header included) while the handshake runs; Handover opens
  // them to seed the anti-replay window, then they are freed (KeepPeerEpoch1Records). A vector, not
  // a deque: libstdc++'s empty deque already holds 576 B (its map and one node), which every
  // connection kept for good after the handover, allocated on the handshake thread.
  std::vector<std::vector<uint8_t>> peer_epoch1_;
  size_t peer_epoch1_bytes_ = 0;
  // After the handover (docs/dtls.md, "Handover"): the negotiated suite, the session secrets the
  // exporter needs (RFC 5705), the record layer, and our last flight as records to seal again:
  // epoch-0 records verbatim, epoch-1 records as header + plaintext; flight_ends_ holds the end
  // offset of each datagram in flight_.
  const DtlsSuite* suite_ = nullptr;
  uint8_t master_[kDtlsMasterSecretLength] = {};
  uint8_t client_random_[kDtlsRandomLength] = {};
  uint8_t server_random_[kDtlsRandomLength] = {};
  std::unique_ptr<DtlsRecordLayer> record_layer_;
  // Stays true after Close()/Fail() drop the record layer (stats report how the session ran).
  bool handed_over_ = false;
  uint64_t next_epoch0_seq_ = 0;
  std::vector<uint8_t> flight_;
  std::vector<uint32_t> flight_ends_;
};

/** SSL_CTX cert_verify_callback: forwards the leaf to the engine owning the SSL. */
int DtlsVerifyPeerCallback(X509_STORE_CTX* store, void* arg);

/** Master key and salt lengths of a profile (RFC 5764 4.1.2, RFC 7714 12); false if unknown. */
bool SrtpProfileLengths(uint16_t profile, size_t* key_len, size_t* salt_len);

}  // namespace pwt
