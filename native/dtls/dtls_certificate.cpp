// Self-signed certificate generation, PEM import/export and fingerprints (RFC 8122 section 5).
#include "native/dtls/dtls_certificate.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <ctime>

#include "native/dtls/dtls_library_context.hpp"

namespace pwt {
namespace {

// Fetched once, from the handshakes' library context (docs/dtls.md, "Library context"): with the
// legacy EVP_sha256() and friends, X509_digest and EVP_Digest fetch the implementation again on
// every call (the peer's fingerprint is checked in every handshake). Falls back to the legacy
// object if the fetch fails.
const EVP_MD* FetchDigest(const char* name, const EVP_MD* legacy) {
  EVP_MD* md = EVP_MD_fetch(DtlsLibraryContext(), name, nullptr);
  if (md == nullptr) ERR_clear_error();
  return md != nullptr ? md : legacy;
}

const EVP_MD* DigestFor(FingerprintAlgorithm algo) {
  static const EVP_MD* const kSha1 = FetchDigest("SHA1", EVP_sha1());
  static const EVP_MD* const kSha224 = FetchDigest("SHA2-224", EVP_sha224());
  static const EVP_MD* const kSha256 = FetchDigest("SHA2-256", EVP_sha256());
  static const EVP_MD* const kSha384 = FetchDigest("SHA2-384", EVP_sha384());
  static const EVP_MD* const kSha512 = FetchDigest("SHA2-512", EVP_sha512());
  switch (algo) {
    case FingerprintAlgorithm::kSha1: return kSha1;
    case FingerprintAlgorithm::kSha224: return kSha224;
    case FingerprintAlgorithm::kSha256: return kSha256;
    case FingerprintAlgorithm::kSha384: return kSha384;
    case FingerprintAlgorithm::kSha512: return kSha512;
  }
  return nullptr;
}

// PEM reading must never prompt on a terminal for a passphrase: encrypted keys are refused.
int NoPassphrase(char*, int, int, void*) { return -1; }

int64_t NotAfterMs(const X509* x509) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(x509), &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 && data ? std::string(data, static_cast<size_t>(len)) : std::string();
}

}  // namespace

size_t FingerprintLength(FingerprintAlgorithm algo) {
  switch (algo) {
    case FingerprintAlgorithm::kSha1: return 20;
    case FingerprintAlgorithm::kSha224: return 28;
    case FingerprintAlgorithm::kSha256: return 32;
    case FingerprintAlgorithm::kSha384: return 48;
    case FingerprintAlgorithm::kSha512: return 64;
  }
  return 0;
}

const char* CertificateStatusText(CertificateStatus status) {
  switch (status) {
    case CertificateStatus::kOk: return "ok";
    case CertificateStatus::kKeyGenerationFailed: return "key generation failed";
    case CertificateStatus::kSigningFailed: return "certificate signing failed";
    case CertificateStatus::kPemCertificateInvalid: return "the PEM certificate cannot be parsed";
    case CertificateStatus::kPemKeyInvalid: return "the PEM private key cannot be parsed (encrypted keys are not supported)";
    case CertificateStatus::kKeyMismatch: return "the private key does not belong to the certificate";
    case CertificateStatus::kInternal: return "internal OpenSSL failure";
  }
  return "unknown";
}

DtlsCertificate::DtlsCertificate(X509* x509, EVP_PKEY* key) : x509_(x509), key_(key) {
  expires_ms_ = NotAfterMs(x509_);
}

DtlsCertificate::~DtlsCertificate() {
  X509_free(x509_);
  EVP_PKEY_free(key_);
}

std::shared_ptr<DtlsCertificate> DtlsCertificate::Generate(DtlsKeyType type, int64_t validity_seconds,
                                                           CertificateStatus* status) {
  EVP_PKEY* key = type == DtlsKeyType::kRsa2048 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048))
                                                : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (key == nullptr) {
    *status = CertificateStatus::kKeyGenerationFailed;
    return nullptr;
  }
  X509* x509 = X509_new();
  if (x509 == nullptr) {
    EVP_PKEY_free(key);
    *status = CertificateStatus::kInternal;
    return nullptr;
  }
  // Ownership moves into the object now so every early return below frees both.
  std::shared_ptr<DtlsCertificate> cert(new DtlsCertificate(x509, key));
  uint8_t serial[8];
  uint8_t cn_bytes[8];
  if (RAND_bytes(serial, sizeof serial) != 1 || RAND_bytes(cn_bytes, sizeof cn_bytes) != 1) {
    *status = CertificateStatus::kInternal;
    return nullptr;
  }
  serial[0] &= 0x7f;  // a positive serial number (RFC 5280 section 4.1.2.2)
  char cn[2 * sizeof cn_bytes + 1];
  static const char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < sizeof cn_bytes; ++i) {
    cn[2 * i] = kHex[cn_bytes[i] >> 4];
    cn[2 * i + 1] = kHex[cn_bytes[i] & 15];
  }
  cn[2 * sizeof cn_bytes] = '\0';
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  bool ok = bn != nullptr && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x509)) != nullptr;
  BN_free(bn);
  X509_NAME* name = X509_get_subject_name(x509);
  ok = ok && X509_set_version(x509, X509_VERSION_3) == 1 &&
       X509_gmtime_adj(X509_getm_notBefore(x509), -86400L) != nullptr &&
       X509_gmtime_adj(X509_getm_notAfter(x509), static_cast<long>(validity_seconds)) != nullptr &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1,
                                  0) == 1 &&
       X509_set_issuer_name(x509, name) == 1 && X509_set_pubkey(x509, key) == 1;
  if (!ok) {
    *status = CertificateStatus::kInternal;
    return nullptr;
  }
  if (X509_sign(x509, key, EVP_sha256()) <= 0) {
    *status = CertificateStatus::kSigningFailed;
    return nullptr;
  }
  cert->expires_ms_ = NotAfterMs(x509);
  *status = CertificateStatus::kOk;
  return cert;
}

std::shared_ptr<DtlsCertificate> DtlsCertificate::FromPem(const std::string& cert_pem, const std::string& key_pem,
                                                          CertificateStatus* status) {
  BIO* cbio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* x509 = cbio ? PEM_read_bio_X509(cbio, nullptr, NoPassphrase, nullptr) : nullptr;
  BIO_free(cbio);
  if (x509 == nullptr) {
    ERR_clear_error();
    *status = CertificateStatus::kPemCertificateInvalid;
    return nullptr;
  }
  BIO* kbio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = kbio ? PEM_read_bio_PrivateKey(kbio, nullptr, NoPassphrase, nullptr) : nullptr;
  BIO_free(kbio);
  if (key == nullptr) {
    ERR_clear_error();
    X509_free(x509);
    *status = CertificateStatus::kPemKeyInvalid;
    return nullptr;
  }
  std::shared_ptr<DtlsCertificate> cert(new DtlsCertificate(x509, key));
  if (X509_check_private_key(x509, key) != 1) {
    ERR_clear_error();
    *status = CertificateStatus::kKeyMismatch;
    return nullptr;
  }
  *status = CertificateStatus::kOk;
  return cert;
}

size_t CertificateFingerprint(X509* cert, FingerprintAlgorithm algo, uint8_t* out, size_t cap) {
  const EVP_MD* md = DigestFor(algo);
  size_t need = FingerprintLength(algo);
  if (md == nullptr || cert == nullptr || cap < need) return 0;
  unsigned int len = 0;
  if (X509_digest(cert, md, out, &len) != 1 || len != need) return 0;
  return len;
}

size_t DerFingerprint(const uint8_t* der, size_t len, FingerprintAlgorithm algo, uint8_t* out, size_t cap) {
  const EVP_MD* md = DigestFor(algo);
  size_t need = FingerprintLength(algo);
  if (md == nullptr || der == nullptr || len == 0 || cap < need) return 0;
  unsigned int n = 0;
  if (EVP_Digest(der, len, out, &n, md, nullptr) != 1 || n != need) {
    ERR_clear_error();
    return 0;
  }
  return n;
}

size_t DtlsCertificate::Fingerprint(FingerprintAlgorithm algo, uint8_t* out, size_t cap) const {
  return CertificateFingerprint(x509_, algo, out, cap);
}

std::string DtlsCertificate::KeyTypeName() const {
  switch (EVP_PKEY_get_base_id(key_)) {
    case EVP_PKEY_EC: return "ECDSA";
    case EVP_PKEY_RSA: return "RSA";
    default: {
      const char* name = EVP_PKEY_get0_type_name(key_);
      return name ? name : "unknown";
    }
  }
}

std::string DtlsCertificate::CertificatePem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return std::string();
  std::string pem = PEM_write_bio_X509(bio, x509_) == 1 ? BioToString(bio) : std::string();
  BIO_free(bio);
  return pem;
}

std::string DtlsCertificate::PrivateKeyPem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return std::string();
  std::string pem =
      PEM_write_bio_PrivateKey(bio, key_, nullptr, nullptr, 0, nullptr, nullptr) == 1 ? BioToString(bio) : std::string();
  BIO_free(bio);
  return pem;
}

}  // namespace pwt
