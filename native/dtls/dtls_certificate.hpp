// A DTLS identity: a self-signed X.509 certificate and its private key (RFC 8827 section 6.5:
// WebRTC peers authenticate by certificate fingerprint, RFC 8122 section 5, not by a CA).
#pragma once
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace pwt {

/** Key algorithm of a generated certificate. */
enum class DtlsKeyType : uint8_t { kEcdsaP256 = 0, kRsa2048 = 1 };

/** Hash functions usable in an SDP a=fingerprint (RFC 8122 section 5, RFC 4572 hash names). */
enum class FingerprintAlgorithm : uint8_t { kSha1 = 0, kSha224 = 1, kSha256 = 2, kSha384 = 3, kSha512 = 4 };

/** Digest length in bytes of `algo`, or 0 for an unknown value. */
size_t FingerprintLength(FingerprintAlgorithm algo);

/** Outcome of creating or loading a certificate. */
enum class CertificateStatus : uint8_t {
  kOk = 0,
  kKeyGenerationFailed,
  kSigningFailed,
  kPemCertificateInvalid,
  kPemKeyInvalid,
  kKeyMismatch,
  kInternal,
};

/** Human-readable text for a status (stable, used in thrown errors). */
const char* CertificateStatusText(CertificateStatus status);

/** An immutable certificate + key pair, shared by every engine that presents it. */
class DtlsCertificate {
 public:
  /** Generates a self-signed certificate with a random CN, valid from one day ago for `validity_seconds`. */
  static std::shared_ptr<DtlsCertificate> Generate(DtlsKeyType type, int64_t validity_seconds,
                                                   CertificateStatus* status);
  /** Loads a PEM certificate and an unencrypted PEM private key that must belong to it. */
  static std::shared_ptr<DtlsCertificate> FromPem(const std::string& cert_pem, const std::string& key_pem,
                                                  CertificateStatus* status);

  ~DtlsCertificate();
  DtlsCertificate(const DtlsCertificate&) = delete;
  DtlsCertificate& operator=(const DtlsCertificate&) = delete;

  /** Writes the digest of the DER certificate into `out` (capacity `cap`); returns its length or 0. */
  size_t Fingerprint(FingerprintAlgorithm algo, uint8_t* out, size_t cap) const;
  /** notAfter as milliseconds since the Unix epoch. */
  int64_t expires_ms() const { return expires_ms_; }
  /** "ECDSA", "RSA" or the OpenSSL key type name. */
  std::string KeyTypeName() const;
  std::string CertificatePem() const;
  std::string PrivateKeyPem() const;

  X509* x509() const { return x509_; }
  EVP_PKEY* key() const { return key_; }

 private:
  DtlsCertificate(X509* x509, EVP_PKEY* key);
  X509* x509_;
  EVP_PKEY* key_;
  int64_t expires_ms_ = 0;
};

/** Digest of an arbitrary certificate (the peer's), as in DtlsCertificate::Fingerprint. */
size_t CertificateFingerprint(X509* cert, FingerprintAlgorithm algo, uint8_t* out, size_t cap);
/** The same digest over a certificate's DER bytes (what X509_digest hashes), for a copy kept after the handshake. */
size_t DerFingerprint(const uint8_t* der, size_t len, FingerprintAlgorithm algo, uint8_t* out, size_t cap);

}  // namespace pwt
