// DTLS 1.2 engine (see dtls_engine.hpp): OpenSSL's state machine over a datagram BIO,
// fingerprint verification (RFC 8122 section 5), use_srtp and the RFC 5764 section 4.2 exporter;
// then the handover to DtlsRecordLayer (RFC 6347 section 4.1, docs/dtls.md "Handover").
#include "native/dtls/dtls_engine.hpp"

#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/srtp.h>
#include <openssl/x509.h>

#include <array>
#include <cstring>

#include "native/dtls/dtls_record_check.hpp"

namespace pwt {
namespace {

const char* SrtpProfileName(SrtpProfile p) {
  switch (p) {
    case SrtpProfile::kAes128CmHmacSha1_80: return "SRTP_AES128_CM_SHA1_80";
    case SrtpProfile::kAes128CmHmacSha1_32: return "SRTP_AES128_CM_SHA1_32";
    case SrtpProfile::kAeadAes128Gcm: return "SRTP_AEAD_AES_128_GCM";
    case SrtpProfile::kAeadAes256Gcm: return "SRTP_AEAD_AES_256_GCM";
  }
  return nullptr;
}

// One plaintext record at a time; per thread so engines in worker threads never share it.
thread_local std::array<uint8_t, kDtlsMaxRecordPayload> tls_read_buffer;
// One protected record at a time (header + 2^14 + explicit nonce + tag).
thread_local std::array<uint8_t, kDtlsRecordHeaderLength + kDtlsMaxRecordPayload + 8 + kDtlsAeadTagLength>
    tls_write_buffer;

// Content types (RFC 5246 section 6.2.1) and alerts (section 7.2).
constexpr uint8_t kChangeCipherSpec = 20;
constexpr uint8_t kAlert = 21;
constexpr uint8_t kHandshake = 22;
constexpr uint8_t kApplicationData = 23;
constexpr uint8_t kFinished = 20;  // handshake msg_type (RFC 5246 section 7.4)
constexpr uint8_t kAlertWarning = 1;
constexpr uint8_t kAlertFatal = 2;
constexpr uint8_t kCloseNotify = 0;

constexpr char kSrtpExporterLabel[] = "EXTRACTOR-dtls_srtp";

// Read epoch once the handshake is done: renegotiation is off, so it never moves past 1.
constexpr uint16_t kConnectedEpoch = 1;
// Smallest protected record body per AEAD (RFC 5288 section 3: 8-byte explicit nonce + 16-byte
// tag; RFC 7905 section 2: ChaCha20-Poly1305 has an implicit nonce, 16-byte tag). Before the
// cipher is known, the larger one: nothing genuine that short can arrive that early.
constexpr size_t kAesGcmOverhead = 8 + 16;
constexpr size_t kChaChaOverhead = 16;

}  // namespace

void DtlsCounters::ToArray(double* out) const {
  const uint64_t values[kCount] = {datagrams_in,           dropped_not_started,   dropped_after_close,
                                   dropped_too_large,      dropped_malformed,     dropped_out_queue_full,
                                   dropped_data_queue_full, data_records_in,      data_records_out,
                                   retransmit_timeouts,    client_hellos,         dropped_wrong_epoch,
                                   dropped_replayed,       dropped_unauthenticated, flight_resends,
                                   dropped_late_handshake, dropped_backlog, retransmits_on_read};
  for (size_t i = 0; i < kCount; ++i) out[i] = static_cast<double>(values[i]);
}

bool SrtpProfileLengths(uint16_t profile, size_t* key_len, size_t* salt_len) {
  switch (static_cast<SrtpProfile>(profile)) {
    case SrtpProfile::kAes128CmHmacSha1_80:
    case SrtpProfile::kAes128CmHmacSha1_32: *key_len = 16; *salt_len = 14; return true;
    case SrtpProfile::kAeadAes128Gcm: *key_len = 16; *salt_len = 12; return true;
    case SrtpProfile::kAeadAes256Gcm: *key_len = 32; *salt_len = 12; return true;
  }
  return false;
}

int DtlsVerifyPeerCallback(X509_STORE_CTX* store, void*) {
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* engine = ssl ? static_cast<DtlsEngine*>(SSL_get_app_data(ssl)) : nullptr;
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  if (engine == nullptr || leaf == nullptr) return 0;
  if (engine->OnPeerCertificate(leaf)) return 1;
  X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
  return 0;
}

DtlsEngine::DtlsEngine(std::shared_ptr<DtlsContext> context, const DtlsEngineConfig& config)
    : context_(std::move(context)),
      config_(config),
      out_(config.max_out_bytes, config.max_out_count),
      data_(config.max_data_bytes, config.max_data_count) {
  bio_state_.out = &out_;
}

DtlsEngine::~DtlsEngine() {
  SSL_free(ssl_);
  OPENSSL_cleanse(master_, sizeof master_);
}

std::unique_ptr<DtlsEngine> DtlsEngine::Create(std::shared_ptr<DtlsContext> context, const DtlsEngineConfig& config,
                                               DtlsStatus* status) {
  if (!context || config.mtu < kDtlsMinMtu || config.mtu > kDtlsMaxMtu || config.initial_timeout_ms == 0 ||
      config.max_timeout_ms < config.initial_timeout_ms || config.srtp_profiles.size() > 4) {
    *status = DtlsStatus::kInvalidArgument;
    return nullptr;
  }
  for (size_t i = 0; i < config.srtp_profiles.size(); ++i) {
    // Unknown or listed twice: OpenSSL would refuse the list when the SSL is made (later, maybe on
    // the handshake thread), so it is refused here, where the caller gets a typed error at once.
    if (SrtpProfileName(config.srtp_profiles[i]) == nullptr) {
      *status = DtlsStatus::kInvalidArgument;
      return nullptr;
    }
    for (size_t j = 0; j < i; ++j) {
      if (config.srtp_profiles[j] == config.srtp_profiles[i]) {
        *status = DtlsStatus::kInvalidArgument;
        return nullptr;
      }
    }
  }
  // No SSL yet (MakeSsl): making it is OpenSSL's allocation of tens of KiB, done where the
  // handshake runs (the handshake thread when offloaded), and a handshake waiting for an admission
  // slot holds none.
  *status = DtlsStatus::kOk;
  return std::unique_ptr<DtlsEngine>(new DtlsEngine(std::move(context), config));
}

bool DtlsEngine::MakeSsl() {
  if (fail_make_ssl_for_test_) return false;
  ssl_ = SSL_new(context_->ssl_ctx());
  if (ssl_ == nullptr) return false;
  SSL_set_app_data(ssl_, this);
  BIO* bio = NewDtlsBio(&bio_state_);
  if (bio == nullptr) return false;
  SSL_set_bio(ssl_, bio, bio);  // one BIO for both directions; SSL owns one reference
  if (!config_.keep_ssl) bio_state_.capture = &capture_;
  if (SSL_set_mtu(ssl_, config_.mtu) <= 0) return false;  // returns the MTU on success
  DTLS_set_timer_cb(ssl_, TimerCallback);
  if (!config_.srtp_profiles.empty()) {
    std::string list;
    for (SrtpProfile p : config_.srtp_profiles) {
      if (!list.empty()) list += ':';
      list += SrtpProfileName(p);
    }
    if (SSL_set_tlsext_use_srtp(ssl_, list.c_str()) != 0) return false;  // 0 means success here
  }
  if (config_.role == DtlsRole::kClient) {
    SSL_set_connect_state(ssl_);
  } else {
    SSL_set_accept_state(ssl_);
  }
  return true;
}

bool DtlsEngine::EnsureSsl() {
  if (ssl_ != nullptr) return true;
  if (MakeSsl()) return true;
  // A half-made SSL goes at once; the engine is failed and never drives OpenSSL again.
  SSL_free(ssl_);
  ssl_ = nullptr;
  Fail(TakeOpenSslError("DTLS setup failed (OpenSSL could not make the session)"));
  return false;
}

unsigned int DtlsEngine::TimerCallback(SSL* ssl, unsigned int previous_us) {
  auto* self = static_cast<DtlsEngine*>(SSL_get_app_data(ssl));
  uint64_t initial = static_cast<uint64_t>(self->config_.initial_timeout_ms) * 1000;
  uint64_t cap = static_cast<uint64_t>(self->config_.max_timeout_ms) * 1000;
  // OpenSSL passes the running duration only when the timer expired and it retransmits
  // (dtls1_handle_timeout); 0 when it starts a timer.
  if (previous_us != 0 && self->in_datagram_) ++self->counters_.retransmits_on_read;
  // RFC 6347 section 4.2.4.1: start at the initial value, double on each expiry, bounded.
  uint64_t next = previous_us == 0 ? initial : static_cast<uint64_t>(previous_us) * 2;
  if (next > cap) next = cap;
  return static_cast<unsigned int>(next);
}

DtlsStatus DtlsEngine::Start() {
  if (state_ != DtlsState::kNew) return DtlsStatus::kInvalidState;
  SetState(DtlsState::kConnecting);
  // The server's SSL is made with the first datagram (HandleDatagram): a server start is free.
  if (config_.role == DtlsRole::kClient && EnsureSsl()) Drive();
  return DtlsStatus::kOk;
}

void DtlsEngine::HandleDatagram(const uint8_t* data, size_t len) {
  ++counters_.datagrams_in;
  if (state_ == DtlsState::kNew) {
    ++counters_.dropped_not_started;
    return;
  }
  if (state_ == DtlsState::kClosed || state_ == DtlsState::kFailed) {
    ++counters_.dropped_after_close;
    return;
  }
  if (len > kDtlsMaxDatagram) {
    ++counters_.dropped_too_large;
    return;
  }
  if (CheckDtlsRecords(data, len, MinProtectedBody()) != RecordCheck::kOk) {
    ++counters_.dropped_malformed;
    return;
  }
  if (config_.role == DtlsRole::kServer && IsClientHello(data, len)) ++counters_.client_hellos;
  if (record_layer_) {
    ReceiveAfterHandover(data, len);
    return;
  }
  if (!EnsureSsl()) {
    ++counters_.dropped_after_close;  // failed now: this datagram is not looked at
    return;
  }
  const bool after_handshake = handshake_done_;
  if (!after_handshake && !config_.keep_ssl) KeepPeerEpoch1Records(data, len);
  const DtlsState state_before = state_;
  const size_t out_before = out_.count() + bio_state_.out_dropped;
  const uint64_t data_before = counters_.data_records_in;
  bio_state_.in = data;
  bio_state_.in_len = len;
  in_datagram_ = true;
  Drive();
  in_datagram_ = false;
  // Whatever OpenSSL did not read belongs to this datagram only; never let it leak into the next.
  bio_state_.in = nullptr;
  bio_state_.in_len = 0;
  if (after_handshake) {
    bool had_effect = state_ != state_before || out_.count() + bio_state_.out_dropped != out_before;
    CountDiscarded(data, len, had_effect, counters_.data_records_in - data_before);
  }
  ReleaseIdleBuffers();
}

size_t DtlsEngine::MinProtectedBody() const {
  if (record_layer_) return record_layer_->min_body();
  const SSL_CIPHER* cipher = ssl_ != nullptr ? SSL_get_current_cipher(ssl_) : nullptr;
  if (cipher == nullptr) return kAesGcmOverhead;
  return SSL_CIPHER_get_cipher_nid(cipher) == NID_chacha20_poly1305 ? kChaChaOverhead : kAesGcmOverhead;
}

void DtlsEngine::CountDiscarded(const uint8_t* data, size_t len, bool had_effect, uint64_t delivered) {
  size_t current = 0;
  for (size_t off = 0; off < len; off = NextRecord(data, off)) {
    if (RecordEpoch(data, off) == kConnectedEpoch) ++current;
  }
  if (delivered != 0) {
    // Only when every current-epoch record delivered do we know which sequence numbers are genuine.
    if (delivered == current) {
      for (size_t off = 0; off < len; off = NextRecord(data, off)) {
        if (RecordEpoch(data, off) == kConnectedEpoch) MarkDelivered(RecordSequence(data, off));
      }
    }
    return;
  }
  if (had_effect) return;
  if (current == 0) {
    ++counters_.dropped_wrong_epoch;
    return;
  }
  for (size_t off = 0; off < len; off = NextRecord(data, off)) {
    if (RecordEpoch(data, off) == kConnectedEpoch && !WasDelivered(RecordSequence(data, off))) {
      ++counters_.dropped_unauthenticated;
      return;
    }
  }
  ++counters_.dropped_replayed;
}

void DtlsEngine::MarkDelivered(uint64_t seq) {
  if (!delivered_any_ || seq > delivered_top_) {
    uint64_t shift = delivered_any_ ? seq - delivered_top_ : 64;
    delivered_bits_ = shift >= 64 ? 0 : delivered_bits_ << shift;
    delivered_bits_ |= 1;
    delivered_top_ = seq;
    delivered_any_ = true;
  } else if (delivered_top_ - seq < 64) {
    delivered_bits_ |= uint64_t{1} << (delivered_top_ - seq);
  }
}

bool DtlsEngine::WasDelivered(uint64_t seq) const {
  return delivered_any_ && seq <= delivered_top_ && delivered_top_ - seq < 64 &&
         ((delivered_bits_ >> (delivered_top_ - seq)) & 1) != 0;
}

void DtlsEngine::Drive() {
  if (!handshake_done_) {
    // Only what this call writes can be the last flight (see capture_).
    capture_.clear();
    ERR_clear_error();
    int r = SSL_do_handshake(ssl_);
    if (r == 1) {
      OnHandshakeDone();
      if (state_ == DtlsState::kConnecting || state_ == DtlsState::kConnected) ReadData();
      counters_.dropped_out_queue_full = bio_state_.out_dropped;
      if (!config_.keep_ssl && (state_ == DtlsState::kConnecting || state_ == DtlsState::kConnected)) Handover();
      std::vector<std::vector<uint8_t>>().swap(peer_epoch1_);
      peer_epoch1_bytes_ = 0;
      return;
    } else {
      int err = SSL_get_error(ssl_, r);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        if (fingerprint_rejected_) {
          ERR_clear_error();
          Fail("the remote certificate does not match the remote a=fingerprint");
        } else {
          Fail(TakeOpenSslError("handshake failed"));
        }
      }
      counters_.dropped_out_queue_full = bio_state_.out_dropped;
      return;
    }
  }
  if (state_ == DtlsState::kConnecting || state_ == DtlsState::kConnected) ReadData();
  counters_.dropped_out_queue_full = bio_state_.out_dropped;
}

void DtlsEngine::ReadData() {
  // SSL_read (dtls1_read_bytes) first sets up both record buffers when they were freed.
  buffers_released_ = false;
  for (;;) {
    ERR_clear_error();
    int n = SSL_read(ssl_, tls_read_buffer.data(), static_cast<int>(tls_read_buffer.size()));
    if (n > 0) {
      ++counters_.data_records_in;
      if (!data_.Push(tls_read_buffer.data(), static_cast<size_t>(n))) ++counters_.dropped_data_queue_full;
      continue;
    }
    int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return;
    if (err == SSL_ERROR_ZERO_RETURN) {
      // close_notify from the peer (RFC 5246 section 7.2.1): answer with ours, then closed. The
      // records read before it stay queued for DrainData (docs/dtls.md, "close_notify").
      ERR_clear_error();
      SSL_shutdown(ssl_);
      ERR_clear_error();
      SetState(DtlsState::kClosed);
      return;
    }
    Fail(TakeOpenSslError("DTLS read failed"));
    return;
  }
}

// Once connected, an idle connection (media only: SRTP does not pass through OpenSSL) needs
// neither of OpenSSL's record buffers, about 17 KiB each for reading and writing
// (docs/architecture.md, "What a connection costs"); SSL_MODE_RELEASE_BUFFERS does not free them
// for DTLS. Freed whenever a datagram or timeout leaves a connection that has never carried
// application data: a retransmitted or replayed handshake flight after the handshake makes
// SSL_read set them up again, and without this they stayed for good (under load about half of
// the connections got one). Once a data record is read or written (SCTP) they come back and
// stay, so a data channel does not pay a malloc and free per record. SSL_free_buffers refuses
// (returns 0) while a record is pending.
void DtlsEngine::ReleaseIdleBuffers() {
  if (ssl_ == nullptr || buffers_released_ || state_ != DtlsState::kConnected) return;
  if (counters_.data_records_in != 0 || counters_.data_records_out != 0) return;
  if (SSL_free_buffers(ssl_) == 1) buffers_released_ = true;
}

// OpenSSL sets the record buffers up again on the read path only (dtls1_read_bytes); its DTLS
// write path (SSL_write, SSL_shutdown's close_notify, a retransmitted flight) writes into the
// write buffer without checking it exists, which is why SSL_free_buffers crashed when a write
// came first. A read with nothing to read sets both up and returns WANT_READ.
void DtlsEngine::RestoreBuffers() {
  if (ssl_ != nullptr && buffers_released_) ReadData();
}

void DtlsEngine::OnHandshakeDone() {
  handshake_done_ = true;
  X509* peer = SSL_get0_peer_certificate(ssl_);
  int der_len = peer ? i2d_X509(peer, nullptr) : 0;
  if (der_len <= 0) {
    ERR_clear_error();
    Fail("the peer presented no certificate");
    return;
  }
  peer_der_.resize(static_cast<size_t>(der_len));
  unsigned char* p = peer_der_.data();
  i2d_X509(peer, &p);
  const SRTP_PROTECTION_PROFILE* profile = SSL_get_selected_srtp_profile(ssl_);
  srtp_profile_ = profile ? static_cast<uint16_t>(profile->id) : 0;
  // Without the remote description yet, stay connecting until SetRemoteFingerprints.
  if (matched_in_callback_) {
    verified_ = true;
    SetState(DtlsState::kConnected);
  } else if (!remote_fingerprints_.empty()) {
    Verify();
  }
}

void DtlsEngine::Verify() {
  if (!FingerprintMatchesDer()) {
    // Tell the peer the session is over so that it never believes it is connected.
    SendCloseNotify();
    Fail("the remote certificate does not match the remote a=fingerprint");
    return;
  }
  verified_ = true;
  SetState(DtlsState::kConnected);
}

bool DtlsEngine::OnPeerCertificate(X509* leaf) {
  // Fingerprints not known yet (remote description pending): judged after the handshake.
  if (remote_fingerprints_.empty()) return true;
  if (FingerprintMatches(leaf)) {
    matched_in_callback_ = true;
    return true;
  }
  fingerprint_rejected_ = true;
  return false;
}

bool DtlsEngine::FingerprintMatches(X509* cert) const {
  uint8_t digest[64];
  for (const RemoteFingerprint& fp : remote_fingerprints_) {
    size_t n = CertificateFingerprint(cert, fp.algorithm, digest, sizeof digest);
    if (n != 0 && n == fp.digest.size() && std::memcmp(digest, fp.digest.data(), n) == 0) return true;
  }
  return false;
}

bool DtlsEngine::FingerprintMatchesDer() const {
  uint8_t digest[64];
  for (const RemoteFingerprint& fp : remote_fingerprints_) {
    size_t n = DerFingerprint(peer_der_.data(), peer_der_.size(), fp.algorithm, digest, sizeof digest);
    if (n != 0 && n == fp.digest.size() && std::memcmp(digest, fp.digest.data(), n) == 0) return true;
  }
  return false;
}

DtlsStatus DtlsEngine::SetRemoteFingerprints(std::vector<RemoteFingerprint> fingerprints) {
  if (state_ == DtlsState::kClosed || state_ == DtlsState::kFailed) return DtlsStatus::kInvalidState;
  if (fingerprints.empty()) return DtlsStatus::kInvalidArgument;
  for (const RemoteFingerprint& fp : fingerprints) {
    size_t want = FingerprintLength(fp.algorithm);
    if (want == 0 || fp.digest.size() != want) return DtlsStatus::kInvalidArgument;
  }
  remote_fingerprints_ = std::move(fingerprints);
  matched_in_callback_ = false;  // a new list must be matched again
  if (handshake_done_ && !verified_ && state_ == DtlsState::kConnecting) {
    Verify();
    // Data that arrived while unverified is released now, or discarded on failure.
    if (state_ == DtlsState::kConnected && ssl_ != nullptr) ReadData();
    ReleaseIdleBuffers();
  } else if (verified_ && state_ == DtlsState::kConnected && !FingerprintMatchesDer()) {
    // A new remote description whose fingerprints no longer name this peer (RFC 8842 section 5.1
    // would need a new association): the session cannot be trusted any more.
    SendCloseNotify();
    Fail("the remote certificate does not match the remote a=fingerprint");
  }
  return DtlsStatus::kOk;
}

void DtlsEngine::HandleTimeout() {
  // After the handover no timer runs: the peer's retransmission drives ours (ReceiveAfterHandover).
  if (ssl_ == nullptr) return;
  if (state_ != DtlsState::kConnecting && state_ != DtlsState::kConnected) return;
  // Only a running retransmission timer can make DTLSv1_handle_timeout write.
  struct timeval running {};
  if (DTLSv1_get_timeout(ssl_, &running) == 1) RestoreBuffers();
  ERR_clear_error();
  int r = DTLSv1_handle_timeout(ssl_);
  if (r > 0) {
    ++counters_.retransmit_timeouts;
  } else if (r < 0) {
    Fail(TakeOpenSslError("handshake timed out"));
  }
  counters_.dropped_out_queue_full = bio_state_.out_dropped;
  ReleaseIdleBuffers();
}

int64_t DtlsEngine::TimeoutUs() const {
  if (ssl_ == nullptr) return -1;
  if (state_ != DtlsState::kConnecting && state_ != DtlsState::kConnected) return -1;
  struct timeval tv {};
  if (DTLSv1_get_timeout(ssl_, &tv) != 1) return -1;
  return static_cast<int64_t>(tv.tv_sec) * 1000000 + tv.tv_usec;
}

DtlsStatus DtlsEngine::Send(const uint8_t* data, size_t len) {
  if (state_ != DtlsState::kConnected) return DtlsStatus::kInvalidState;
  if (len == 0) return DtlsStatus::kInvalidArgument;
  if (len > kDtlsMaxRecordPayload) return DtlsStatus::kTooLarge;
  if (record_layer_) {
    if (!SendRecord(kApplicationData, data, len)) {
      // RFC 6347 section 4.1: a sequence number is never reused, so past 2^48 - 1 the session ends.
      if (record_layer_->next_write_seq() > kDtlsMaxSequence) {
        Fail("sequence numbers exhausted");
        return DtlsStatus::kInvalidState;
      }
      return DtlsStatus::kInternal;
    }
    ++counters_.data_records_out;
    return DtlsStatus::kOk;
  }
  RestoreBuffers();
  if (state_ != DtlsState::kConnected) return DtlsStatus::kInvalidState;
  ERR_clear_error();
  int n = SSL_write(ssl_, data, static_cast<int>(len));
  counters_.dropped_out_queue_full = bio_state_.out_dropped;
  if (n != static_cast<int>(len)) {
    ERR_clear_error();
    return DtlsStatus::kInternal;
  }
  ++counters_.data_records_out;
  return DtlsStatus::kOk;
}

void DtlsEngine::Close() {
  if (state_ == DtlsState::kClosed || state_ == DtlsState::kFailed) {
    // The peer's close_notify closed it first: what it sent before is kept until our own Close.
    data_.Clear();
    return;
  }
  if (handshake_done_) SendCloseNotify();
  data_.Clear();
  SetState(DtlsState::kClosed);
  ReleaseSessionSecrets();
}

// Once closed or failed nothing is sealed, opened, resent or exported again: the keys, the
// master secret and our kept Finished go now, not when the user drops the transport.
void DtlsEngine::ReleaseSessionSecrets() {
  OPENSSL_cleanse(master_, sizeof master_);
  record_layer_.reset();  // its ciphers free their EVP contexts and cleanse their IVs
  DropLastFlight();
  std::vector<std::vector<uint8_t>>().swap(peer_epoch1_);
  peer_epoch1_bytes_ = 0;
}

size_t DtlsEngine::DrainData(uint8_t* out, size_t cap, uint32_t* lens, size_t max_count) {
  if (!DataDeliverable()) return 0;
  return data_.DrainInto(out, cap, lens, max_count);
}

bool DtlsEngine::ExportSrtpKeyingMaterial(SrtpKeyingMaterial* km) const {
  size_t key_len = 0;
  size_t salt_len = 0;
  if (state_ != DtlsState::kConnected || !SrtpProfileLengths(srtp_profile_, &key_len, &salt_len)) return false;
  uint8_t buf[2 * (32 + 14)];
  size_t total = 2 * (key_len + salt_len);
  if (!Export(kSrtpExporterLabel, sizeof kSrtpExporterLabel - 1, buf, total)) {
    OPENSSL_cleanse(buf, sizeof buf);
    return false;
  }
  // RFC 5764 section 4.2: client key | server key | client salt | server salt.
  km->profile = static_cast<SrtpProfile>(srtp_profile_);
  km->client.key_len = km->server.key_len = key_len;
  km->client.salt_len = km->server.salt_len = salt_len;
  std::memcpy(km->client.key.data(), buf, key_len);
  std::memcpy(km->server.key.data(), buf + key_len, key_len);
  std::memcpy(km->client.salt.data(), buf + 2 * key_len, salt_len);
  std::memcpy(km->server.salt.data(), buf + 2 * key_len + salt_len, salt_len);
  OPENSSL_cleanse(buf, sizeof buf);
  return true;
}

bool DtlsEngine::ExportKeyingMaterialForTest(const std::string& label, uint8_t* out, size_t len) const {
  if (state_ != DtlsState::kConnected || len == 0) return false;
  return Export(label.data(), label.size(), out, len);
}

bool DtlsEngine::Export(const char* label, size_t label_len, uint8_t* out, size_t len) const {
  if (ssl_ == nullptr) {
    // After the handover: RFC 5705 from the master secret and the randoms we kept.
    return suite_ != nullptr && TlsExport(suite_->prf, master_, client_random_, server_random_, label, label_len, out, len);
  }
  if (SSL_export_keying_material(ssl_, out, len, label, label_len, nullptr, 0, 0) != 1) {
    ERR_clear_error();
    return false;
  }
  return true;
}

std::string DtlsEngine::cipher_name() const {
  if (ssl_ == nullptr) return suite_ ? suite_->openssl_name : std::string();
  const SSL_CIPHER* c = handshake_done_ ? SSL_get_current_cipher(ssl_) : nullptr;
  return c ? SSL_CIPHER_get_name(c) : std::string();
}

std::string DtlsEngine::cipher_standard_name() const {
  if (ssl_ == nullptr) return suite_ ? suite_->iana_name : std::string();
  const SSL_CIPHER* c = handshake_done_ ? SSL_get_current_cipher(ssl_) : nullptr;
  const char* name = c ? SSL_CIPHER_standard_name(c) : nullptr;
  return name ? std::string(name) : std::string();
}

uint16_t DtlsEngine::tls_version() const {
  if (!handshake_done_) return 0;
  if (ssl_ == nullptr) return kDtls12Version;
  int v = SSL_version(ssl_);
  return v > 0 && v <= 0xffff ? static_cast<uint16_t>(v) : 0;
}

// Handover (docs/dtls.md): once the handshake is done, everything the SSL still does is
// protecting epoch-1 records, answering the peer's retransmitted last flight and close_notify.
// Our record layer does those with what we copy now; freeing the SSL returns its ~45 KiB (the
// DTLS init_buf no public call frees, the session, the peer certificate, the record contexts).
void DtlsEngine::Handover() {
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_);
  const DtlsSuite* suite = cipher ? FindDtlsSuite(SSL_CIPHER_get_protocol_id(cipher)) : nullptr;
  SSL_SESSION* session = SSL_get_session(ssl_);
  // Our cipher list allows nothing else and OpenSSL always writes its Finished at epoch 1; if either
  // ever failed, keeping OpenSSL is the safe answer.
  if (suite == nullptr || session == nullptr || !bio_state_.wrote_epoch1) return;
  if (SSL_SESSION_get_master_key(session, master_, sizeof master_) != sizeof master_ ||
      SSL_get_client_random(ssl_, client_random_, sizeof client_random_) != sizeof client_random_ ||
      SSL_get_server_random(ssl_, server_random_, sizeof server_random_) != sizeof server_random_) {
    OPENSSL_cleanse(master_, sizeof master_);
    return;
  }
  const bool is_client = config_.role == DtlsRole::kClient;
  auto layer = DtlsRecordLayer::Create(*suite, master_, client_random_, server_random_, is_client,
                                       bio_state_.next_write_seq[1]);
  if (!layer) {
    OPENSSL_cleanse(master_, sizeof master_);
    return;
  }
  // The peer's epoch-1 records OpenSSL read (its Finished, data packed with it) stay replays
  // (RFC 6347 section 4.1.2.6): opening them puts exactly the genuine ones into the window; a
  // forged one fails its tag and leaves no mark. The plaintext is not used.
  for (const std::vector<uint8_t>& rec : peer_epoch1_) {
    size_t n = 0;
    layer->Unprotect(rec.data(), rec.size(), tls_read_buffer.data(), tls_read_buffer.size(), &n);
    OPENSSL_cleanse(tls_read_buffer.data(), n);
  }
  // That made the read context; the next record makes it again. An idle (media-only) connection
  // carries no record after the handshake and keeps no EVP context (about 1.2 KiB with AES-GCM).
  layer->ReleaseCiphers();
  suite_ = suite;
  record_layer_ = std::move(layer);
  handed_over_ = true;
  next_epoch0_seq_ = bio_state_.next_write_seq[0];
  if (!capture_.empty()) {
    auto opener = record_layer_->OwnWriteOpener();
    if (opener) KeepLastFlight(*opener);
  }
  std::vector<std::vector<uint8_t>>().swap(capture_);
  bio_state_.capture = nullptr;
  SSL_free(ssl_);  // frees the BIO too (SSL_set_bio gave it the only reference)
  ssl_ = nullptr;
  // The queues grew for handshake flights; an idle connection needs none of that capacity.
  out_.ReleaseWhenEmpty();
  data_.ReleaseWhenEmpty();
  buffers_released_ = false;
  ERR_clear_error();
}

void DtlsEngine::DropLastFlight() {
  OPENSSL_cleanse(flight_.data(), flight_.size());
  std::vector<uint8_t>().swap(flight_);
  std::vector<uint32_t>().swap(flight_ends_);
}

void DtlsEngine::RelocateKeptState() {
  if (record_layer_) record_layer_ = record_layer_->Relocated();  // the old one cleanses its keys
  if (!peer_der_.empty()) std::vector<uint8_t>(peer_der_.begin(), peer_der_.end()).swap(peer_der_);
  if (!flight_.empty()) {
    std::vector<uint8_t> flight(flight_.begin(), flight_.end());
    OPENSSL_cleanse(flight_.data(), flight_.size());
    flight_.swap(flight);
  }
  if (!flight_ends_.empty()) std::vector<uint32_t>(flight_ends_.begin(), flight_ends_.end()).swap(flight_ends_);
}

// Copies of the peer's epoch-1 records while the handshake runs, for Handover to mark in the
// window. Bounded: the newest kDtlsMaxKeptPeerRecords records and kDtlsMaxKeptPeerBytes bytes;
// the datagram that completes the handshake is the newest, so it is always there.
void DtlsEngine::KeepPeerEpoch1Records(const uint8_t* data, size_t len) {
  for (size_t off = 0; off < len; off = NextRecord(data, off)) {
    if (RecordEpoch(data, off) != DtlsRecordLayer::kEpoch) continue;
    const size_t end = NextRecord(data, off);
    peer_epoch1_.emplace_back(data + off, data + end);
    peer_epoch1_bytes_ += end - off;
    while (peer_epoch1_.size() > kDtlsMaxKeptPeerRecords || peer_epoch1_bytes_ > kDtlsMaxKeptPeerBytes) {
      peer_epoch1_bytes_ -= peer_epoch1_.front().size();
      peer_epoch1_.erase(peer_epoch1_.begin());  // at most kDtlsMaxKeptPeerRecords + 1 entries
    }
  }
}

// The datagrams OpenSSL wrote in the Drive that completed the handshake end with our last flight
// (change_cipher_spec at epoch 0, Finished at epoch 1). Only that is kept, from the last epoch-0
// change_cipher_spec on (whatever OpenSSL wrote before it in the same call is not part of it), as
// records to send again with new sequence numbers (RFC 6347 section 4.2.4: a retransmission is a
// new record), the Finished as plaintext reread with our own write key. No such record: nothing
// is kept and nothing will be resent.
void DtlsEngine::KeepLastFlight(DtlsAeadCipher& opener) {
  size_t first_datagram = capture_.size();
  size_t first_offset = 0;
  for (size_t i = 0; i < capture_.size(); ++i) {
    const std::vector<uint8_t>& d = capture_[i];
    if (CheckDtlsRecords(d.data(), d.size()) != RecordCheck::kOk) return;
    for (size_t off = 0; off < d.size(); off = NextRecord(d.data(), off)) {
      if (d[off] == kChangeCipherSpec && RecordEpoch(d.data(), off) == 0) {
        first_datagram = i;
        first_offset = off;
      }
    }
  }
  std::vector<uint8_t> flight;
  std::vector<uint32_t> ends;
  uint8_t plain[512];
  bool opened_all = true;
  for (size_t i = first_datagram; i < capture_.size() && opened_all; ++i) {
    const std::vector<uint8_t>& d = capture_[i];
    for (size_t off = i == first_datagram ? first_offset : 0; off < d.size(); off = NextRecord(d.data(), off)) {
      const size_t body = NextRecord(d.data(), off) - off - kDtlsRecordHeaderLength;
      const uint8_t* rec = d.data() + off;
      if (RecordEpoch(d.data(), off) == 0) {
        flight.insert(flight.end(), rec, rec + kDtlsRecordHeaderLength + body);
        continue;
      }
      size_t n = 0;
      if (!opener.Open(rec, rec + kDtlsRecordHeaderLength, body, plain, sizeof plain, &n)) {
        opened_all = false;
        break;
      }
      flight.insert(flight.end(), rec, rec + 11);
      flight.push_back(static_cast<uint8_t>(n >> 8));
      flight.push_back(static_cast<uint8_t>(n));
      flight.insert(flight.end(), plain, plain + n);
    }
    ends.push_back(static_cast<uint32_t>(flight.size()));
  }
  OPENSSL_cleanse(plain, sizeof plain);
  if (!opened_all || ends.empty()) {
    OPENSSL_cleanse(flight.data(), flight.size());
    return;
  }
  flight.shrink_to_fit();
  flight_ = std::move(flight);
  flight_ends_ = std::move(ends);
}

// Records after the handover, each by its epoch and content type (RFC 6347 section 4.1.2.7:
// discard what fails; RFC 5246 section 7.2 alerts). Counted once per datagram as before the
// handover (docs/dtls.md, "Discards are counted").
void DtlsEngine::ReceiveAfterHandover(const uint8_t* data, size_t len) {
  bool had_effect = false;
  bool resent = false;
  bool unauthenticated = false;
  size_t current = 0;
  for (size_t off = 0; off < len; off = NextRecord(data, off)) {
    if (state_ != DtlsState::kConnecting && state_ != DtlsState::kConnected) break;
    if (RecordEpoch(data, off) != DtlsRecordLayer::kEpoch) continue;
    ++current;
    size_t n = 0;
    RecordOpenResult r = record_layer_->Unprotect(data + off, NextRecord(data, off) - off, tls_read_buffer.data(),
                                                   tls_read_buffer.size(), &n);
    if (r == RecordOpenResult::kReplayed) continue;
    if (r != RecordOpenResult::kOk) {
      unauthenticated = true;
      continue;
    }
    if (data[off] == kApplicationData && n == 0) {
      // An empty record carries no message (OpenSSL never delivers one either); counted with
      // the records that deliver nothing (docs/dtls.md, "Discards are counted").
      unauthenticated = true;
      continue;
    }
    had_effect = true;
    switch (data[off]) {
      case kApplicationData:
        ++counters_.data_records_in;
        if (!data_.Push(tls_read_buffer.data(), n)) ++counters_.dropped_data_queue_full;
        // The peer sends application data only once it has our Finished (RFC 5246 section 7.4.9,
        // RFC 6347 section 4.2.4): its last flight will not come again, so ours is not needed.
        if (!flight_ends_.empty()) DropLastFlight();
        break;
      case kAlert:
        OnAlert(tls_read_buffer.data(), n);
        break;
      case kHandshake:
        // The peer's Finished again (msg_type 20; a renegotiating ClientHello is not answered): our
        // last flight was lost (RFC 6347 section 4.2.4). Authenticated
        // and new to the window, so only the peer's own timer paces this; once per datagram, bounded.
        if (n > 0 && tls_read_buffer[0] == kFinished && !flight_ends_.empty() && !resent &&
            counters_.flight_resends < kDtlsMaxFlightResends) {
          ResendLastFlight();
          resent = true;
        } else {
          ++counters_.dropped_late_handshake;
        }
        break;
      default:  // change_cipher_spec cannot be at epoch 1 once the handshake is over
        ++counters_.dropped_late_handshake;
        break;
    }
  }
  if (had_effect) return;
  if (current == 0) {
    ++counters_.dropped_wrong_epoch;
  } else if (unauthenticated) {
    ++counters_.dropped_unauthenticated;
  } else {
    ++counters_.dropped_replayed;
  }
}

void DtlsEngine::OnAlert(const uint8_t* alert, size_t len) {
  // RFC 5246 section 7.2: level(1) description(1); anything else from the peer is its own bug.
  if (len != 2) {
    ++counters_.dropped_malformed;
    return;
  }
  if (alert[1] == kCloseNotify) {
    // close_notify (section 7.2.1): answer with ours, then closed. Records that came before it
    // (an SCTP ABORT sent just before the peer's close) stay queued for DrainData.
    SendCloseNotify();
    SetState(DtlsState::kClosed);
    ReleaseSessionSecrets();
    return;
  }
  if (alert[0] == kAlertFatal) {
    Fail("DTLS read failed: the peer sent fatal alert " + std::to_string(alert[1]));
    return;
  }
  // Other warnings (e.g. user_canceled before close_notify) change nothing.
}

void DtlsEngine::ResendLastFlight() {
  ++counters_.flight_resends;
  uint8_t* buf = tls_write_buffer.data();
  size_t start = 0;
  for (uint32_t end : flight_ends_) {
    size_t used = 0;
    for (size_t off = start; off < end;) {
      const uint8_t* rec = flight_.data() + off;
      const size_t body = static_cast<size_t>((rec[11] << 8) | rec[12]);
      if (rec[3] == 0 && rec[4] == 0) {
        // Epoch 0 (change_cipher_spec) as it was, with the next epoch-0 sequence number.
        if (used + kDtlsRecordHeaderLength + body > tls_write_buffer.size()) return;
        std::memcpy(buf + used, rec, kDtlsRecordHeaderLength + body);
        for (int i = 0; i < 6; ++i) buf[used + 5 + i] = static_cast<uint8_t>(next_epoch0_seq_ >> (8 * (5 - i)));
        ++next_epoch0_seq_;
        used += kDtlsRecordHeaderLength + body;
      } else {
        size_t n = record_layer_->Protect(rec[0], rec + kDtlsRecordHeaderLength, body, buf + used,
                                          tls_write_buffer.size() - used);
        if (n == 0) return;
        used += n;
      }
      off += kDtlsRecordHeaderLength + body;
    }
    if (!out_.Push(buf, used)) counters_.dropped_out_queue_full = ++bio_state_.out_dropped;
    start = end;
  }
}

bool DtlsEngine::SendRecord(uint8_t type, const uint8_t* data, size_t len) {
  size_t n = record_layer_->Protect(type, data, len, tls_write_buffer.data(), tls_write_buffer.size());
  if (n == 0) return false;
  // A full queue drops the record as the network would, counted (as the BIO does before the handover).
  if (!out_.Push(tls_write_buffer.data(), n)) counters_.dropped_out_queue_full = ++bio_state_.out_dropped;
  return true;
}

void DtlsEngine::SendCloseNotify() {
  if (record_layer_) {
    const uint8_t alert[2] = {kAlertWarning, kCloseNotify};
    SendRecord(kAlert, alert, sizeof alert);
    return;
  }
  if (ssl_ == nullptr) return;
  RestoreBuffers();
  ERR_clear_error();
  SSL_shutdown(ssl_);  // writes close_notify (RFC 5246 section 7.2.1)
  ERR_clear_error();
  counters_.dropped_out_queue_full = bio_state_.out_dropped;
}

bool DtlsEngine::TakeStateChanged() {
  bool changed = state_changed_;
  state_changed_ = false;
  return changed;
}

void DtlsEngine::SetState(DtlsState s) {
  if (state_ == s) return;
  state_ = s;
  state_changed_ = true;
}

void DtlsEngine::Fail(const std::string& reason) {
  if (state_ == DtlsState::kFailed || state_ == DtlsState::kClosed) return;
  failure_reason_ = reason;
  data_.Clear();
  SetState(DtlsState::kFailed);
  ReleaseSessionSecrets();
}

std::string DtlsEngine::TakeOpenSslError(const char* what) {
  unsigned long code = ERR_peek_last_error();
  std::string reason = what;
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    reason += ": ";
    reason += buf;
  }
  ERR_clear_error();
  return reason;
}

}  // namespace pwt
