// Epoch-1 AEAD record protection after the handshake (see dtls_record_layer.hpp).
#include "native/dtls/dtls_record_layer.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>

#include <cstring>

namespace pwt {
namespace {

// The suites of kDtlsCipherList (native/dtls/dtls_context.cpp): ids from the IANA registry
// (RFC 5289 section 3.2, RFC 7905 section 2), names as OpenSSL reports them.
constexpr DtlsSuite kSuites[] = {
    {0xC02B, "ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", DtlsAead::kAes128Gcm,
     DtlsPrfHash::kSha256},
    {0xC02F, "ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", DtlsAead::kAes128Gcm,
     DtlsPrfHash::kSha256},
    {0xC02C, "ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", DtlsAead::kAes256Gcm,
     DtlsPrfHash::kSha384},
    {0xC030, "ECDHE-RSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", DtlsAead::kAes256Gcm,
     DtlsPrfHash::kSha384},
    {0xCCA9, "ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
     DtlsAead::kChaCha20Poly1305, DtlsPrfHash::kSha256},
    {0xCCA8, "ECDHE-RSA-CHACHA20-POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
     DtlsAead::kChaCha20Poly1305, DtlsPrfHash::kSha256},
};

// Fetched once per process (immutable, shared by threads; docs/native-build.md on implicit fetches).
const EVP_CIPHER* CipherOf(DtlsAead aead) {
  static EVP_CIPHER* aes128 = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
  static EVP_CIPHER* aes256 = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  static EVP_CIPHER* chacha = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  switch (aead) {
    case DtlsAead::kAes128Gcm: return aes128;
    case DtlsAead::kAes256Gcm: return aes256;
    case DtlsAead::kChaCha20Poly1305: return chacha;
  }
  return nullptr;
}

void PutU16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

uint16_t GetU16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

// epoch(2) ‖ seq(6): the 64-bit seq_num of RFC 6347 section 4.1.
void PutSeqNum(uint8_t* p, uint16_t epoch, uint64_t seq) {
  PutU16(p, epoch);
  for (int i = 0; i < 6; ++i) p[2 + i] = static_cast<uint8_t>(seq >> (8 * (5 - i)));
}

uint64_t GetSeq48(const uint8_t* p) {
  uint64_t seq = 0;
  for (int i = 0; i < 6; ++i) seq = (seq << 8) | p[i];
  return seq;
}

}  // namespace

const DtlsSuite* FindDtlsSuite(uint16_t id) {
  for (const DtlsSuite& s : kSuites) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

size_t DtlsAeadKeyLength(DtlsAead aead) { return aead == DtlsAead::kAes128Gcm ? 16 : 32; }
size_t DtlsAeadFixedIvLength(DtlsAead aead) { return aead == DtlsAead::kChaCha20Poly1305 ? 12 : 4; }
size_t DtlsAeadExplicitNonceLength(DtlsAead aead) { return aead == DtlsAead::kChaCha20Poly1305 ? 0 : 8; }

DtlsKeyBlock::~DtlsKeyBlock() { OPENSSL_cleanse(this, sizeof *this); }

bool DeriveDtlsKeyBlock(const DtlsSuite& suite, const uint8_t* master, const uint8_t* client_random,
                        const uint8_t* server_random, DtlsKeyBlock* out) {
  const size_t key = DtlsAeadKeyLength(suite.aead);
  const size_t iv = DtlsAeadFixedIvLength(suite.aead);
  uint8_t block[2 * (32 + 12)];
  // RFC 5246 section 6.3: the seed is server_random ‖ client_random (the reverse of the exporter's).
  if (!TlsPrf(suite.prf, master, kDtlsMasterSecretLength, "key expansion", server_random, kDtlsRandomLength,
              client_random, kDtlsRandomLength, block, 2 * (key + iv))) {
    return false;
  }
  // client_write_key ‖ server_write_key ‖ client_write_IV ‖ server_write_IV (no MAC keys for AEAD).
  std::memcpy(out->client_key, block, key);
  std::memcpy(out->server_key, block + key, key);
  std::memcpy(out->client_iv, block + 2 * key, iv);
  std::memcpy(out->server_iv, block + 2 * key + iv, iv);
  OPENSSL_cleanse(block, sizeof block);
  return true;
}

std::unique_ptr<DtlsAeadCipher> DtlsAeadCipher::Create(DtlsAead aead, const uint8_t* key, const uint8_t* fixed_iv,
                                                       bool encrypt) {
  const EVP_CIPHER* cipher = CipherOf(aead);
  if (cipher == nullptr) return nullptr;
  std::unique_ptr<DtlsAeadCipher> c(new DtlsAeadCipher(aead, encrypt));
  std::memcpy(c->fixed_iv_, fixed_iv, DtlsAeadFixedIvLength(aead));
  c->ctx_ = EVP_CIPHER_CTX_new();
  // Keyed once here; each record only sets its nonce (docs/native-build.md, OpenSSL 3 speed).
  if (c->ctx_ == nullptr || EVP_CipherInit_ex2(c->ctx_, cipher, key, nullptr, encrypt ? 1 : 0, nullptr) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return c;
}

DtlsAeadCipher::~DtlsAeadCipher() {
  EVP_CIPHER_CTX_free(ctx_);
  OPENSSL_cleanse(fixed_iv_, sizeof fixed_iv_);
}

size_t DtlsAeadCipher::overhead() const { return DtlsAeadExplicitNonceLength(aead_) + kDtlsAeadTagLength; }

void DtlsAeadCipher::Nonce(const uint8_t* explicit8, uint8_t* nonce) const {
  if (aead_ == DtlsAead::kChaCha20Poly1305) {
    // RFC 7905 section 2: the 64-bit seq_num, left-padded to 12 bytes, XOR the 12-byte IV.
    std::memcpy(nonce, fixed_iv_, 12);
    for (int i = 0; i < 8; ++i) nonce[4 + i] ^= explicit8[i];
  } else {
    // RFC 5288 section 3: salt (the 4-byte IV of the key block) ‖ nonce_explicit.
    std::memcpy(nonce, fixed_iv_, 4);
    std::memcpy(nonce + 4, explicit8, 8);
  }
}

size_t DtlsAeadCipher::Seal(uint8_t type, uint16_t epoch, uint64_t seq, const uint8_t* plain, size_t len,
                            uint8_t* out, size_t cap) {
  const size_t explicit_len = DtlsAeadExplicitNonceLength(aead_);
  const size_t body = explicit_len + len + kDtlsAeadTagLength;
  if (!encrypt_ || body > 0xffff || cap < kDtlsRecordHeaderLength + body) return 0;
  uint8_t seq_num[8];
  PutSeqNum(seq_num, epoch, seq);
  out[0] = type;
  PutU16(out + 1, kDtls12Version);
  std::memcpy(out + 3, seq_num, 8);
  PutU16(out + 11, static_cast<uint16_t>(body));
  // The explicit nonce is the record's own seq_num: unique per key, as RFC 5288 section 3 requires.
  if (explicit_len != 0) std::memcpy(out + kDtlsRecordHeaderLength, seq_num, 8);
  uint8_t nonce[12];
  Nonce(seq_num, nonce);
  // RFC 5246 section 6.2.3.3: additional_data = seq_num ‖ type ‖ version ‖ length (of the plaintext).
  uint8_t aad[13];
  std::memcpy(aad, seq_num, 8);
  aad[8] = type;
  PutU16(aad + 9, kDtls12Version);
  PutU16(aad + 11, static_cast<uint16_t>(len));
  uint8_t* ct = out + kDtlsRecordHeaderLength + explicit_len;
  int n = 0;
  int fin = 0;
  bool ok = EVP_CipherInit_ex2(ctx_, nullptr, nullptr, nonce, 1, nullptr) == 1 &&
            EVP_CipherUpdate(ctx_, nullptr, &n, aad, sizeof aad) == 1 &&
            (len == 0 || EVP_CipherUpdate(ctx_, ct, &n, plain, static_cast<int>(len)) == 1) &&
            EVP_CipherFinal_ex(ctx_, ct + len, &fin) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_GET_TAG, kDtlsAeadTagLength, ct + len) == 1;
  if (!ok) {
    ERR_clear_error();
    return 0;
  }
  return kDtlsRecordHeaderLength + body;
}

bool DtlsAeadCipher::Open(const uint8_t* header, const uint8_t* body, size_t body_len, uint8_t* out, size_t cap,
                          size_t* out_len) {
  const size_t explicit_len = DtlsAeadExplicitNonceLength(aead_);
  if (encrypt_ || body_len < explicit_len + kDtlsAeadTagLength) return false;
  const size_t len = body_len - explicit_len - kDtlsAeadTagLength;
  if (len > cap) return false;
  uint8_t nonce[12];
  // GCM takes the explicit nonce from the record (the sender chooses it); ChaCha20 the seq_num.
  Nonce(explicit_len != 0 ? body : header + 3, nonce);
  uint8_t aad[13];
  std::memcpy(aad, header + 3, 8);
  aad[8] = header[0];
  aad[9] = header[1];
  aad[10] = header[2];
  PutU16(aad + 11, static_cast<uint16_t>(len));
  const uint8_t* ct = body + explicit_len;
  uint8_t tag[kDtlsAeadTagLength];
  std::memcpy(tag, ct + len, sizeof tag);
  int n = 0;
  int fin = 0;
  bool ok = EVP_CipherInit_ex2(ctx_, nullptr, nullptr, nonce, 0, nullptr) == 1 &&
            EVP_CipherUpdate(ctx_, nullptr, &n, aad, sizeof aad) == 1 &&
            (len == 0 || EVP_CipherUpdate(ctx_, out, &n, ct, static_cast<int>(len)) == 1) &&
            EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, sizeof tag, tag) == 1 &&
            EVP_CipherFinal_ex(ctx_, out + len, &fin) == 1;
  if (!ok) {
    ERR_clear_error();
    // Never leave unauthenticated plaintext behind.
    if (len != 0) OPENSSL_cleanse(out, len);
    return false;
  }
  *out_len = len;
  return true;
}

std::unique_ptr<DtlsRecordLayer> DtlsRecordLayer::Create(const DtlsSuite& suite, const uint8_t* master,
                                                         const uint8_t* client_random, const uint8_t* server_random,
                                                         bool is_client, uint64_t next_write_seq) {
  if (next_write_seq > kDtlsMaxSequence + 1 || CipherOf(suite.aead) == nullptr) return nullptr;
  std::unique_ptr<DtlsRecordLayer> layer(new DtlsRecordLayer(suite, is_client));
  if (!DeriveDtlsKeyBlock(suite, master, client_random, server_random, &layer->keys_)) return nullptr;
  layer->write_seq_ = next_write_seq;
  return layer;
}

DtlsAeadCipher* DtlsRecordLayer::Writer() {
  if (!write_) {
    write_ = DtlsAeadCipher::Create(suite_->aead, is_client_ ? keys_.client_key : keys_.server_key,
                                    is_client_ ? keys_.client_iv : keys_.server_iv, true);
  }
  return write_.get();
}

DtlsAeadCipher* DtlsRecordLayer::Reader() {
  if (!read_) {
    read_ = DtlsAeadCipher::Create(suite_->aead, is_client_ ? keys_.server_key : keys_.client_key,
                                   is_client_ ? keys_.server_iv : keys_.client_iv, false);
  }
  return read_.get();
}

std::unique_ptr<DtlsAeadCipher> DtlsRecordLayer::OwnWriteOpener() const {
  return DtlsAeadCipher::Create(suite_->aead, is_client_ ? keys_.client_key : keys_.server_key,
                                is_client_ ? keys_.client_iv : keys_.server_iv, false);
}

void DtlsRecordLayer::ReleaseCiphers() {
  write_.reset();
  read_.reset();
}

std::unique_ptr<DtlsRecordLayer> DtlsRecordLayer::Relocated() const {
  std::unique_ptr<DtlsRecordLayer> layer(new DtlsRecordLayer(*suite_, is_client_));
  layer->keys_ = keys_;
  layer->write_seq_ = write_seq_;
  layer->received_any_ = received_any_;
  layer->window_top_ = window_top_;
  layer->window_bits_ = window_bits_;
  return layer;
}

size_t DtlsRecordLayer::Protect(uint8_t type, const uint8_t* plain, size_t len, uint8_t* out, size_t cap) {
  // RFC 6347 section 4.1: a sequence number is never reused within an epoch; past 2^48 - 1 we stop.
  if (len > 16384 || write_seq_ > kDtlsMaxSequence) return 0;
  DtlsAeadCipher* writer = Writer();
  if (writer == nullptr) return 0;
  size_t n = writer->Seal(type, kEpoch, write_seq_, plain, len, out, cap);
  if (n != 0) ++write_seq_;
  return n;
}

RecordOpenResult DtlsRecordLayer::Unprotect(const uint8_t* record, size_t len, uint8_t* out, size_t cap,
                                            size_t* out_len) {
  if (len < kDtlsRecordHeaderLength) return RecordOpenResult::kBadRecord;
  if (GetU16(record + 3) != kEpoch) return RecordOpenResult::kWrongEpoch;
  const size_t body = GetU16(record + 11);
  if (body != len - kDtlsRecordHeaderLength || GetU16(record + 1) != kDtls12Version) {
    return RecordOpenResult::kBadRecord;
  }
  const uint64_t seq = GetSeq48(record + 5);
  // RFC 6347 section 4.1.2.6: check the window before spending a decryption, update it after.
  if (received_any_ && seq <= window_top_) {
    if (window_top_ - seq >= 64) return RecordOpenResult::kTooOld;
    if (WasReceived(seq)) return RecordOpenResult::kReplayed;
  }
  DtlsAeadCipher* reader = Reader();
  if (reader == nullptr || !reader->Open(record, record + kDtlsRecordHeaderLength, body, out, cap, out_len)) {
    return RecordOpenResult::kBadRecord;
  }
  MarkReceived(seq);
  return RecordOpenResult::kOk;
}

void DtlsRecordLayer::MarkReceived(uint64_t seq) {
  if (!received_any_ || seq > window_top_) {
    uint64_t shift = received_any_ ? seq - window_top_ : 64;
    window_bits_ = shift >= 64 ? 0 : window_bits_ << shift;
    window_bits_ |= 1;
    window_top_ = seq;
    received_any_ = true;
  } else if (window_top_ - seq < 64) {
    window_bits_ |= uint64_t{1} << (window_top_ - seq);
  }
}

bool DtlsRecordLayer::WasReceived(uint64_t seq) const {
  return received_any_ && seq <= window_top_ && window_top_ - seq < 64 &&
         ((window_bits_ >> (window_top_ - seq)) & 1) != 0;
}

}  // namespace pwt
