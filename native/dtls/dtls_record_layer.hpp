// DTLS 1.2 record protection for epoch 1 with the AEAD suites we negotiate (RFC 6347 section 4.1):
// AES-GCM with a 4-byte implicit salt ‖ 8-byte explicit nonce (RFC 5288 section 3, RFC 5289),
// ChaCha20-Poly1305 with IV XOR padded epoch‖seq (RFC 7905 section 2), additional data
// epoch‖seq ‖ type ‖ version ‖ plaintext length (RFC 5246 section 6.2.3.3), keys from the key
// block (RFC 5246 section 6.3), a 64-record anti-replay window (RFC 6347 section 4.1.2.6).
// Sans-I/O: records in, records out; replaces OpenSSL's SSL after the handshake (docs/dtls.md).
#pragma once
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "native/dtls/dtls_prf.hpp"

namespace pwt {

/** The AEAD of a suite we negotiate (native/dtls/dtls_context.cpp allows no other). */
enum class DtlsAead : uint8_t { kAes128Gcm = 0, kAes256Gcm = 1, kChaCha20Poly1305 = 2 };

/** One cipher suite we can carry on after the handshake (RFC 5289, RFC 7905 IANA ids). */
struct DtlsSuite {
  uint16_t id;               // IANA cipher suite id, e.g. 0xC02B
  const char* openssl_name;  // OpenSSL's name (what SSL_CIPHER_get_name gives)
  const char* iana_name;     // RFC name (what SSL_CIPHER_standard_name gives)
  DtlsAead aead;
  DtlsPrfHash prf;
};

/** The suite with this IANA id among those of kDtlsCipherList, or null. */
const DtlsSuite* FindDtlsSuite(uint16_t id);

/** Key lengths of an AEAD: key, fixed IV (key block), explicit nonce on the wire, tag. */
size_t DtlsAeadKeyLength(DtlsAead aead);
size_t DtlsAeadFixedIvLength(DtlsAead aead);
size_t DtlsAeadExplicitNonceLength(DtlsAead aead);
constexpr size_t kDtlsAeadTagLength = 16;
constexpr size_t kDtlsRecordHeaderLength = 13;
constexpr uint16_t kDtls12Version = 0xfefd;
/** Largest sequence number of an epoch (48 bits, RFC 6347 section 4.1). */
constexpr uint64_t kDtlsMaxSequence = (uint64_t{1} << 48) - 1;

/** Write keys of both sides, cut from the key block (RFC 5246 section 6.3; AEAD: no MAC keys). */
struct DtlsKeyBlock {
  uint8_t client_key[32];
  uint8_t server_key[32];
  uint8_t client_iv[12];
  uint8_t server_iv[12];
  ~DtlsKeyBlock();
};

/** key_block = PRF(master, "key expansion", server_random ‖ client_random), partitioned. */
bool DeriveDtlsKeyBlock(const DtlsSuite& suite, const uint8_t* master, const uint8_t* client_random,
                        const uint8_t* server_random, DtlsKeyBlock* out);

/** One direction of AEAD record protection, keyed once (EVP context reused per record). */
class DtlsAeadCipher {
 public:
  static std::unique_ptr<DtlsAeadCipher> Create(DtlsAead aead, const uint8_t* key, const uint8_t* fixed_iv,
                                                bool encrypt);
  ~DtlsAeadCipher();
  DtlsAeadCipher(const DtlsAeadCipher&) = delete;
  DtlsAeadCipher& operator=(const DtlsAeadCipher&) = delete;

  /** Body overhead: explicit nonce + tag. */
  size_t overhead() const;
  /**
   * Writes header + protected body of one record into `out` (cap bytes); returns its length, 0
   * when it does not fit or the cipher refused.
   */
  size_t Seal(uint8_t type, uint16_t epoch, uint64_t seq, const uint8_t* plain, size_t len, uint8_t* out, size_t cap);
  /**
   * Opens the body of the record whose 13-byte header is `header` into `out` (cap bytes);
   * returns false on a bad length or a failed tag. `*out_len` is the plaintext length.
   */
  bool Open(const uint8_t* header, const uint8_t* body, size_t body_len, uint8_t* out, size_t cap, size_t* out_len);

 private:
  DtlsAeadCipher(DtlsAead aead, bool encrypt) : aead_(aead), encrypt_(encrypt) {}
  void Nonce(const uint8_t* seq_num8, uint8_t* nonce12) const;
  DtlsAead aead_;
  bool encrypt_;
  uint8_t fixed_iv_[12] = {};
  EVP_CIPHER_CTX* ctx_ = nullptr;
};

/** Why a received record was not accepted. */
enum class RecordOpenResult : uint8_t {
  kOk = 0,
  kWrongEpoch,  // not epoch 1
  kReplayed,    // sequence number already accepted (inside the window)
  kTooOld,      // left of the window (RFC 6347 section 4.1.2.6: discard)
  kBadRecord,   // wrong version, length, or failed tag
};

/** Epoch-1 record protection of one association after the handshake. */
class DtlsRecordLayer {
 public:
  /** The epoch both directions use once the handshake is done (no renegotiation). */
  static constexpr uint16_t kEpoch = 1;

  /**
   * Keys from the master secret; `next_write_seq` continues after the last epoch-1 record
   * OpenSSL wrote. Null when the suite is unknown or OpenSSL refuses.
   */
  static std::unique_ptr<DtlsRecordLayer> Create(const DtlsSuite& suite, const uint8_t* master,
                                                 const uint8_t* client_random, const uint8_t* server_random,
                                                 bool is_client, uint64_t next_write_seq);

  /**
   * Protects one record of `type` at the next write sequence number into `out`; returns the
   * record length, 0 when it does not fit, the plaintext is over 2^14 or the epoch is exhausted.
   */
  size_t Protect(uint8_t type, const uint8_t* plain, size_t len, uint8_t* out, size_t cap);
  /**
   * Checks and opens one whole record (header + body, `len` bytes): epoch, window, version,
   * length, tag. On kOk the sequence number enters the window, the plaintext is in `out`.
   */
  RecordOpenResult Unprotect(const uint8_t* record, size_t len, uint8_t* out, size_t cap, size_t* out_len);
  bool WasReceived(uint64_t seq) const;

  const DtlsSuite& suite() const { return *suite_; }
  uint64_t next_write_seq() const { return write_seq_; }
  /** Smallest non-empty body a genuine record can have (explicit nonce + tag). */
  size_t min_body() const { return DtlsAeadExplicitNonceLength(suite_->aead) + kDtlsAeadTagLength; }
  /** True once a direction's EVP context exists (they are made on first use). */
  bool keyed() const { return write_ != nullptr || read_ != nullptr; }
  /** A cipher that opens records sealed with our own write key (to reread our captured last flight). */
  std::unique_ptr<DtlsAeadCipher> OwnWriteOpener() const;
  /**
   * Frees both directions' EVP contexts (keys, sequence numbers and window stay); the next record
   * makes them again. The handover opens the peer's handshake records once to mark the window; an
   * idle connection (media only) then keeps neither context.
   */
  void ReleaseCiphers();
  /**
   * The same layer (keys, sequence numbers, window) in a new allocation made by the calling thread,
   * without EVP contexts (made on first use, by whoever uses it). The engine's owner calls it when
   * the engine comes home from the handshake thread, so that nothing the connection keeps sits in
   * that thread's malloc arena among the handshakes' transient state (docs/dtls.md "Handover").
   */
  std::unique_ptr<DtlsRecordLayer> Relocated() const;

 private:
  /** Enters a sequence number into the read window (Unprotect, after the tag passed). */
  void MarkReceived(uint64_t seq);
  DtlsRecordLayer(const DtlsSuite& suite, bool is_client) : suite_(&suite), is_client_(is_client) {}
  DtlsAeadCipher* Writer();
  DtlsAeadCipher* Reader();
  const DtlsSuite* suite_;
  bool is_client_;
  // The keys; each direction's EVP context (about 1.3 KiB with AES-GCM) is made on first use, so
  // a connection that never carries a record after the handshake (media only) holds neither.
  DtlsKeyBlock keys_;
  std::unique_ptr<DtlsAeadCipher> write_;
  std::unique_ptr<DtlsAeadCipher> read_;
  uint64_t write_seq_ = 0;
  bool received_any_ = false;
  uint64_t window_top_ = 0;   // highest accepted sequence number
  uint64_t window_bits_ = 0;  // bit i: window_top_ - i was accepted
};

}  // namespace pwt
