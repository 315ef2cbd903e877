// The DTLS library context and its filter provider (docs/dtls.md, "Library context"): the trimmed
// decoder and key-manager tables, every key type a WebRTC peer's certificate may carry decoded in
// it (P-256, P-384, RSA, RSA-PSS, Ed25519, Ed448), keys made in the default context usable with it,
// and the cost it exists for: d2i_X509 of a peer certificate, default context vs ours, printed in
// microseconds per decode (a figure, not an assert; PWT_LIBCTX_BENCH_N sets the count). A
// differential run of its P-256 decoder against the default one over 3,000 mutated certificates.
#include <openssl/core_dispatch.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "native/dtls/dtls_context.hpp"
#include "native/dtls/dtls_library_context.hpp"
#include "native/memory/native_heap_stats.hpp"
#include "test/native/check.hpp"
#include "test/native/key_pool_idle_work.hpp"

using namespace pwt;

namespace {

EVP_PKEY* MakeKey(const char* type, const char* param) {
  if (std::string(type) == "EC") return EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", param);
  if (std::string(type) == "RSA") return EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
  if (std::string(type) == "RSA-PSS") {
    EVP_PKEY* key = nullptr;
    EVP_PKEY_CTX* c = EVP_PKEY_CTX_new_from_name(nullptr, "RSA-PSS", nullptr);
    if (c != nullptr && EVP_PKEY_keygen_init(c) == 1 && EVP_PKEY_CTX_set_rsa_keygen_bits(c, 2048) == 1) {
      EVP_PKEY_keygen(c, &key);
    }
    EVP_PKEY_CTX_free(c);
    return key;
  }
  return EVP_PKEY_Q_keygen(nullptr, nullptr, type);
}

// A self-signed certificate of the key, DER, as a peer's Certificate message carries it.
std::vector<unsigned char> SelfSigned(EVP_PKEY* key, bool digestless) {
  X509* x = X509_new();
  X509_set_version(x, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("peer"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_set_pubkey(x, key);
  CHECK(X509_sign(x, key, digestless ? nullptr : EVP_sha256()) > 0);
  std::vector<unsigned char> der(static_cast<size_t>(i2d_X509(x, nullptr)));
  unsigned char* p = der.data();
  i2d_X509(x, &p);
  X509_free(x);
  return der;
}

// What libssl does with a peer's certificate: an X509 of the SSL_CTX's context, then d2i_X509.
X509* Decode(OSSL_LIB_CTX* ctx, const std::vector<unsigned char>& der) {
  X509* x = X509_new_ex(ctx, nullptr);
  const unsigned char* p = der.data();
  if (x == nullptr || d2i_X509(&x, &p, static_cast<long>(der.size())) == nullptr) {
    X509_free(x);
    return nullptr;
  }
  return x;
}

void TestTrimmedTables() {
  CHECK(DtlsLibraryContext() != nullptr);
  CHECK(DtlsLibraryContext() == DtlsLibraryContext());  // one per process
  // Seven key types' SubjectPublicKeyInfo decoders (the default provider has forty); eight key
  // managers (of eighteen).
  CHECK_EQ(DtlsLibraryContextAlgorithmCount(OSSL_OP_DECODER), 7u);
  CHECK_EQ(DtlsLibraryContextAlgorithmCount(OSSL_OP_KEYMGMT), 8u);
  // The record ciphers of our suites plus the session tickets' one, and the SHA-1/SHA-2 hashes (of
  // 124 and 22).
  CHECK_EQ(DtlsLibraryContextAlgorithmCount(OSSL_OP_CIPHER), 4u);
  CHECK_EQ(DtlsLibraryContextAlgorithmCount(OSSL_OP_DIGEST), 5u);
  // Signatures ECDSA, RSA, Ed25519, Ed448; key exchanges ECDH, X25519, X448; HMAC; RSA
  // decryption; the (D)TLS KDFs. Operations not trimmed pass through (RNGs, encoders, KEM).
  CHECK_EQ(DtlsLibraryContextAlgorithmCount(OSSL_OP_SIGNATURE), 4u);
  CHECK_EQ(DtlsLibraryContextAlgorithmCount(OSSL_OP_KEYEXCH), 3u);
  CHECK_EQ(DtlsLibraryContextAlgorithmCount(OSSL_OP_MAC), 1u);
  CHECK_EQ(DtlsLibraryContextAlgorithmCount(OSSL_OP_ASYM_CIPHER), 1u);
  CHECK_EQ(DtlsLibraryContextAlgorithmCount(OSSL_OP_KDF), 3u);
  CHECK_EQ(DtlsLibraryContextAlgorithmCount(OSSL_OP_RAND), 0u);
  for (const char* name : {"DSA", "SM2", "CMAC"}) {
    EVP_SIGNATURE* sig = EVP_SIGNATURE_fetch(DtlsLibraryContext(), name, nullptr);
    CHECK(sig == nullptr);
    EVP_SIGNATURE_free(sig);
  }
  ERR_clear_error();
  for (const char* md : {"SHA1", "SHA224", "SHA256", "SHA384", "SHA512"}) {
    EVP_MD* m = EVP_MD_fetch(DtlsLibraryContext(), md, nullptr);
    CHECK(m != nullptr);
    EVP_MD_free(m);
  }
  EVP_MD* md5 = EVP_MD_fetch(DtlsLibraryContext(), "MD5", nullptr);
  CHECK(md5 == nullptr);
  ERR_clear_error();
  // An SSL_CTX made in it still offers every suite of kDtlsCipherList (both key types, three AEADs).
  SSL_CTX* ctx = SSL_CTX_new_ex(DtlsLibraryContext(), nullptr, DTLS_method());
  CHECK(ctx != nullptr && SSL_CTX_set_cipher_list(ctx, kDtlsCipherList) == 1);
  size_t dtls12 = 0;
  STACK_OF(SSL_CIPHER)* suites = ctx != nullptr ? SSL_CTX_get_ciphers(ctx) : nullptr;
  for (int i = 0; i < sk_SSL_CIPHER_num(suites); ++i) {
    const char* name = SSL_CIPHER_get_name(sk_SSL_CIPHER_value(suites, i));
    if (std::string(kDtlsCipherList).find(name) != std::string::npos) ++dtls12;
  }
  CHECK_EQ(dtls12, 6u);
  SSL_CTX_free(ctx);
  EVP_KDF* prf = EVP_KDF_fetch(DtlsLibraryContext(), "TLS1-PRF", nullptr);
  CHECK(prf != nullptr);
  EVP_KDF_free(prf);
}

// Every key type a WebRTC peer's certificate may carry decodes in our context to the same key as
// in the default one, and the certificate's signature verifies with it.
void TestPeerKeyTypesDecode() {
  struct Case {
    const char* type;
    const char* param;
    int base_id;
    bool digestless;
  } cases[] = {{"EC", "P-256", EVP_PKEY_EC, false},          {"EC", "P-384", EVP_PKEY_EC, false},
               {"RSA", nullptr, EVP_PKEY_RSA, false},        {"RSA-PSS", nullptr, EVP_PKEY_RSA_PSS, false},
               {"ED25519", nullptr, EVP_PKEY_ED25519, true}, {"ED448", nullptr, EVP_PKEY_ED448, true}};
  for (const Case& c : cases) {
    EVP_PKEY* key = MakeKey(c.type, c.param);
    CHECK(key != nullptr);
    if (key == nullptr) continue;
    std::vector<unsigned char> der = SelfSigned(key, c.digestless);
    X509* ours = Decode(DtlsLibraryContext(), der);
    CHECK(ours != nullptr);
    if (ours != nullptr) {
      EVP_PKEY* pub = X509_get0_pubkey(ours);
      CHECK(pub != nullptr);
      if (pub == nullptr) std::fprintf(stderr, "no public key decoded for %s\n", c.type);
      CHECK(pub != nullptr && EVP_PKEY_get_base_id(pub) == c.base_id);
      CHECK(pub != nullptr && EVP_PKEY_eq(pub, key) == 1);
      CHECK(X509_verify(ours, pub) == 1);
      X509_free(ours);
    }
    EVP_PKEY_free(key);
  }
}

// Garbage in the key's bit string: no key, no crash, in both contexts alike.
void TestBadPeerKey() {
  EVP_PKEY* key = MakeKey("EC", "P-256");
  std::vector<unsigned char> der = SelfSigned(key, false);
  // The uncompressed point's first byte (0x04) after the SPKI's BIT STRING header: make it 0x05, no point format.
  bool flipped = false;
  for (size_t i = 0; i + 2 < der.size(); ++i) {
    if (der[i] == 0x03 && der[i + 1] == 0x42 && der[i + 2] == 0x00 && der[i + 3] == 0x04) {
      der[i + 3] = 0x05;
      flipped = true;
      break;
    }
  }
  CHECK(flipped);
  for (OSSL_LIB_CTX* ctx : {static_cast<OSSL_LIB_CTX*>(nullptr), DtlsLibraryContext()}) {
    X509* x = Decode(ctx, der);
    // d2i_X509 decodes the key opportunistically: the certificate parses, its key does not.
    CHECK(x == nullptr || X509_get0_pubkey(x) == nullptr);
    X509_free(x);
  }
  ERR_clear_error();
  EVP_PKEY_free(key);
}

// P-256 peer keys in the RFC 5480 encoding with an uncompressed point are decoded by the filter's
// own decoder (around one shared group): the same key as the default decoder's, verifying the
// certificate's signature; a compressed point and P-384 go to the default decoder and decode too;
// a point off the curve gives no key in either context.
void TestP256DecoderAgrees() {
  EVP_PKEY* key = MakeKey("EC", "P-256");
  std::vector<unsigned char> der = SelfSigned(key, false);
  for (int i = 0; i < 3; ++i) {
    const uint64_t before = DtlsLibraryContextP256Decodes();
    X509* ours = Decode(DtlsLibraryContext(), der);
    X509* theirs = Decode(nullptr, der);
    CHECK_EQ(DtlsLibraryContextP256Decodes(), before + 1);
    CHECK(ours != nullptr && theirs != nullptr);
    EVP_PKEY* a = ours != nullptr ? X509_get0_pubkey(ours) : nullptr;
    EVP_PKEY* b = theirs != nullptr ? X509_get0_pubkey(theirs) : nullptr;
    CHECK(a != nullptr && b != nullptr && EVP_PKEY_eq(a, b) == 1 && EVP_PKEY_eq(a, key) == 1);
    CHECK(a != nullptr && EVP_PKEY_get_bits(a) == 256 && X509_verify(ours, a) == 1);
    char group[32] = "";
    CHECK(a != nullptr && EVP_PKEY_get_utf8_string_param(a, "group", group, sizeof group, nullptr) == 1);
    CHECK(std::string(group) == "prime256v1");
    X509_free(ours);
    X509_free(theirs);
  }
  {
    // Compressed point: the default decoder's.
    EVP_PKEY* compressed = MakeKey("EC", "P-256");
    CHECK(EVP_PKEY_set_utf8_string_param(compressed, "point-format", const_cast<char*>("compressed")) == 1);
    std::vector<unsigned char> cder = SelfSigned(compressed, false);
    const uint64_t before = DtlsLibraryContextP256Decodes();
    X509* ours = Decode(DtlsLibraryContext(), cder);
    CHECK_EQ(DtlsLibraryContextP256Decodes(), before);
    CHECK(ours != nullptr && X509_get0_pubkey(ours) != nullptr && EVP_PKEY_eq(X509_get0_pubkey(ours), compressed) == 1);
    X509_free(ours);
    EVP_PKEY_free(compressed);
  }
  {
    // The prefix right, the point off the curve (its last byte changed): no key, as in the default.
    std::vector<unsigned char> bad = der;
    bool changed = false;
    for (size_t i = 0; i + 3 + 64 < bad.size(); ++i) {
      if (bad[i] == 0x03 && bad[i + 1] == 0x42 && bad[i + 2] == 0x00 && bad[i + 3] == 0x04) {
        bad[i + 3 + 64] ^= 0x01;
        changed = true;
        break;
      }
    }
    CHECK(changed);
    for (OSSL_LIB_CTX* ctx : {static_cast<OSSL_LIB_CTX*>(nullptr), DtlsLibraryContext()}) {
      X509* x = Decode(ctx, bad);
      CHECK(x == nullptr || X509_get0_pubkey(x) == nullptr);
      X509_free(x);
    }
    ERR_clear_error();
  }
  EVP_PKEY_free(key);
}

// A key made in the default context (as DtlsCertificate makes ours) signs in our context (OpenSSL
// exports it to our provider once and caches it) and the signature verifies with the key decoded in
// our context.
void TestDefaultContextKeySignsInOurs() {
  for (const char* type : {"EC", "RSA"}) {
    EVP_PKEY* key = MakeKey(type, "P-256");
    std::vector<unsigned char> der = SelfSigned(key, false);
    X509* peer = Decode(DtlsLibraryContext(), der);
    CHECK(peer != nullptr);
    const unsigned char msg[] = "server key exchange params";
    unsigned char sig[512];
    size_t sig_len = sizeof sig;
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    CHECK(EVP_DigestSignInit_ex(md, nullptr, "SHA256", DtlsLibraryContext(), nullptr, key, nullptr) == 1);
    CHECK(EVP_DigestSign(md, sig, &sig_len, msg, sizeof msg) == 1);
    EVP_MD_CTX_free(md);
    md = EVP_MD_CTX_new();
    CHECK(EVP_DigestVerifyInit_ex(md, nullptr, "SHA256", DtlsLibraryContext(), nullptr, X509_get0_pubkey(peer),
                                  nullptr) == 1);
    CHECK(EVP_DigestVerify(md, sig, sig_len, msg, sizeof msg) == 1);
    EVP_MD_CTX_free(md);
    X509_free(peer);
    EVP_PKEY_free(key);
  }
}

// libssl's TLS1-PRF in our context is ours (TlsPHash): the same bytes as OpenSSL's own in the
// default context, for both DTLS 1.2 PRF hashes, seeds in several pieces (some empty, as libssl
// passes them) and lengths across the hash's block; other digests refused.
bool Derive(OSSL_LIB_CTX* libctx, const char* digest, const std::vector<unsigned char>& secret,
            const std::vector<std::vector<unsigned char>>& seeds, unsigned char* out, size_t len) {
  EVP_KDF* kdf = EVP_KDF_fetch(libctx, "TLS1-PRF", nullptr);
  EVP_KDF_CTX* ctx = kdf != nullptr ? EVP_KDF_CTX_new(kdf) : nullptr;
  EVP_KDF_free(kdf);
  std::vector<OSSL_PARAM> params;
  params.push_back(OSSL_PARAM_construct_utf8_string("digest", const_cast<char*>(digest), 0));
  params.push_back(OSSL_PARAM_construct_octet_string("secret", const_cast<unsigned char*>(secret.data()), secret.size()));
  for (const auto& seed : seeds) {
    params.push_back(OSSL_PARAM_construct_octet_string("seed", const_cast<unsigned char*>(seed.data()), seed.size()));
  }
  params.push_back(OSSL_PARAM_construct_end());
  const bool ok = ctx != nullptr && EVP_KDF_derive(ctx, out, len, params.data()) == 1;
  EVP_KDF_CTX_free(ctx);
  ERR_clear_error();
  return ok;
}

void TestTls1PrfIsOursAndAgrees() {
  EVP_KDF* kdf = EVP_KDF_fetch(DtlsLibraryContext(), "TLS1-PRF", nullptr);
  CHECK(kdf != nullptr && std::string(OSSL_PROVIDER_get0_name(EVP_KDF_get0_provider(kdf))) == "pwt-dtls");
  EVP_KDF_free(kdf);
  std::vector<unsigned char> secret(48);
  std::vector<std::vector<unsigned char>> seeds = {std::vector<unsigned char>(13), std::vector<unsigned char>(32),
                                                   std::vector<unsigned char>(32), {}, {}};
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<unsigned char>(i * 7 + 1);
  for (auto& seed : seeds) {
    for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<unsigned char>(i * 13 + seed.size());
  }
  for (const char* digest : {"SHA256", "SHA2-256", "SHA384", "sha-384"}) {
    for (size_t len : {1, 12, 32, 33, 48, 56, 104, 200}) {
      unsigned char theirs[256];
      unsigned char ours[256];
      CHECK(Derive(nullptr, digest, secret, seeds, theirs, len));
      CHECK(Derive(DtlsLibraryContext(), digest, secret, seeds, ours, len));
      CHECK_MEM(ours, theirs, len);
    }
  }
  unsigned char out[32];
  CHECK(!Derive(DtlsLibraryContext(), "SHA1", secret, seeds, out, sizeof out));
  CHECK(!Derive(DtlsLibraryContext(), "SHA256", secret, {}, out, sizeof out));  // no seed
  // A digest we do not serve set after one we do is refused, not derived with the earlier one.
  EVP_KDF* ours = EVP_KDF_fetch(DtlsLibraryContext(), "TLS1-PRF", nullptr);
  EVP_KDF_CTX* ctx = ours != nullptr ? EVP_KDF_CTX_new(ours) : nullptr;
  EVP_KDF_free(ours);
  CHECK(ctx != nullptr);
  if (ctx != nullptr) {
    OSSL_PARAM first[] = {OSSL_PARAM_construct_utf8_string("digest", const_cast<char*>("SHA256"), 0),
                          OSSL_PARAM_construct_octet_string("secret", secret.data(), secret.size()),
                          OSSL_PARAM_construct_octet_string("seed", seeds[1].data(), seeds[1].size()),
                          OSSL_PARAM_construct_end()};
    CHECK_EQ(EVP_KDF_CTX_set_params(ctx, first), 1);
    OSSL_PARAM second[] = {OSSL_PARAM_construct_utf8_string("digest", const_cast<char*>("MD5"), 0),
                           OSSL_PARAM_construct_end()};
    CHECK_EQ(EVP_KDF_CTX_set_params(ctx, second), 0);
    CHECK_EQ(EVP_KDF_derive(ctx, out, sizeof out, nullptr), 0);
    EVP_KDF_CTX_free(ctx);
    ERR_clear_error();
  }
}

double MicrosPerDecode(OSSL_LIB_CTX* ctx, const std::vector<unsigned char>& der, int n) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    X509* x = Decode(ctx, der);
    CHECK(x != nullptr && X509_get0_pubkey(x) != nullptr);
    X509_free(x);
  }
  const auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::micro>(t1 - t0).count() / n;
}

void BenchDecode() {
  const char* env = std::getenv("PWT_LIBCTX_BENCH_N");
  const int n = env != nullptr ? std::atoi(env) : 500;
  if (n <= 0) return;
  // As in a process that runs handshakes: libssl has fetched its ciphers and digests in both
  // contexts (OpenSSL 3.0 walks every method fetched so far in a context for each decode).
  SSL_CTX* in_default = SSL_CTX_new(DTLS_method());
  SSL_CTX* in_ours = SSL_CTX_new_ex(DtlsLibraryContext(), nullptr, DTLS_method());
  CHECK(in_default != nullptr && in_ours != nullptr);
  EVP_PKEY* ec = MakeKey("EC", "P-256");
  EVP_PKEY* rsa = MakeKey("RSA", nullptr);
  for (auto [label, key] : {std::pair<const char*, EVP_PKEY*>{"P-256", ec}, {"RSA-2048", rsa}}) {
    std::vector<unsigned char> der = SelfSigned(key, false);
    MicrosPerDecode(nullptr, der, 20);
    MicrosPerDecode(DtlsLibraryContext(), der, 20);
    // Alternating rounds, best of three each (the machine is shared).
    double base = 1e9;
    double ours = 1e9;
    for (int round = 0; round < 3; ++round) {
      double b = MicrosPerDecode(nullptr, der, n);
      double o = MicrosPerDecode(DtlsLibraryContext(), der, n);
      base = b < base ? b : base;
      ours = o < ours ? o : ours;
    }
    std::fprintf(stderr, "d2i_X509 %s: default context %.1f us, ours %.1f us (%.2fx), %d decodes x 3\n", label, base,
                 ours, ours / base, n);
  }
  // What a new certificate costs (once per certificate, on the JavaScript thread): generating it,
  // then its SSL_CTX, whose key and certificate are re-made in our context.
  const int m = n / 10 > 0 ? n / 10 : 1;
  double gen_us = 0;
  double ctx_us = 0;
  double plain_default_us = 0;
  double plain_ours_us = 0;
  for (int i = 0; i < m; ++i) {
    CertificateStatus st;
    const auto t0 = std::chrono::steady_clock::now();
    auto cert = DtlsCertificate::Generate(DtlsKeyType::kEcdsaP256, 86400, &st);
    const auto t1 = std::chrono::steady_clock::now();
    auto ctx = DtlsContext::Create(cert);
    const auto t2 = std::chrono::steady_clock::now();
    CHECK(ctx != nullptr);
    SSL_CTX* plain_default = SSL_CTX_new(DTLS_method());
    const auto t3 = std::chrono::steady_clock::now();
    SSL_CTX* plain_ours = SSL_CTX_new_ex(DtlsLibraryContext(), nullptr, DTLS_method());
    const auto t4 = std::chrono::steady_clock::now();
    SSL_CTX_free(plain_default);
    SSL_CTX_free(plain_ours);
    gen_us += std::chrono::duration<double, std::micro>(t1 - t0).count();
    ctx_us += std::chrono::duration<double, std::micro>(t2 - t1).count();
    plain_default_us += std::chrono::duration<double, std::micro>(t3 - t2).count();
    plain_ours_us += std::chrono::duration<double, std::micro>(t4 - t3).count();
  }
  std::fprintf(stderr,
               "P-256 certificate: generate %.1f us, DtlsContext::Create %.1f us; a bare SSL_CTX_new: default "
               "context %.1f us, ours %.1f us (%d each)\n",
               gen_us / m, ctx_us / m, plain_default_us / m, plain_ours_us / m, m);
  EVP_PKEY_free(ec);
  EVP_PKEY_free(rsa);
  SSL_CTX_free(in_default);
  SSL_CTX_free(in_ours);
}

}  // namespace


// ECDHE key pools (docs/dtls.md, "Library context"): keys asked for the way libssl asks (the group
// by name; a template key, as the client side passes the server's) come from the pool once it was
// filled in idle time, each once (every public key differs), and each agrees with a peer's key;
// other requests (P-384, a cofactor flag, an explicit-curve template) are made on the spot.
// dtls_engine_test checks DTLS handshakes taking pooled keys on both sides.
EVP_PKEY* KeygenLikeLibssl(const char* type, const char* group) {
  EVP_PKEY* key = nullptr;
  EVP_PKEY_CTX* c = EVP_PKEY_CTX_new_from_name(DtlsLibraryContext(), type, nullptr);
  if (c != nullptr && EVP_PKEY_keygen_init(c) == 1 && EVP_PKEY_CTX_set_group_name(c, group) == 1) {
    EVP_PKEY_keygen(c, &key);
  }
  EVP_PKEY_CTX_free(c);
  return key;
}

EVP_PKEY* KeygenFromTemplate(EVP_PKEY* templ) {
  EVP_PKEY* key = nullptr;
  EVP_PKEY_CTX* c = EVP_PKEY_CTX_new_from_pkey(DtlsLibraryContext(), templ, nullptr);
  if (c != nullptr && EVP_PKEY_keygen_init(c) == 1) EVP_PKEY_keygen(c, &key);
  EVP_PKEY_CTX_free(c);
  return key;
}

std::string PublicOf(EVP_PKEY* key) {
  unsigned char* pub = nullptr;
  const size_t n = EVP_PKEY_get1_encoded_public_key(key, &pub);
  std::string out(reinterpret_cast<char*>(pub), n);
  OPENSSL_free(pub);
  return out;
}

// ECDH between `a` (ours) and `b`, both ways, must agree.
bool Agree(EVP_PKEY* a, EVP_PKEY* b) {
  unsigned char s1[80];
  unsigned char s2[80];
  size_t n1 = sizeof s1;
  size_t n2 = sizeof s2;
  EVP_PKEY_CTX* c1 = EVP_PKEY_CTX_new_from_pkey(DtlsLibraryContext(), a, nullptr);
  EVP_PKEY_CTX* c2 = EVP_PKEY_CTX_new_from_pkey(nullptr, b, nullptr);
  const bool ok = c1 != nullptr && c2 != nullptr && EVP_PKEY_derive_init(c1) == 1 &&
                  EVP_PKEY_derive_set_peer(c1, b) == 1 && EVP_PKEY_derive(c1, s1, &n1) == 1 &&
                  EVP_PKEY_derive_init(c2) == 1 && EVP_PKEY_derive_set_peer(c2, a) == 1 &&
                  EVP_PKEY_derive(c2, s2, &n2) == 1 && n1 == n2 && std::memcmp(s1, s2, n1) == 0;
  EVP_PKEY_CTX_free(c1);
  EVP_PKEY_CTX_free(c2);
  return ok;
}

void TestKeyPoolsByEvp() {
  using G = DtlsKeyPoolGroup;
  CHECK(DtlsLibraryContextKeyPoolStats(G::kX25519).enabled);
  // Nothing asked for yet: no idle work.
  CHECK_EQ(DtlsLibraryContextKeyPoolStats(G::kX25519).made, 0u);
  CHECK(!IdleWorkNow());
  // The first keys are made on the spot (pools empty) and make their groups wanted.
  EVP_PKEY* first_x = KeygenLikeLibssl("X25519", "x25519");
  EVP_PKEY* first_p = KeygenLikeLibssl("EC", "P-256");
  CHECK(first_x != nullptr && first_p != nullptr);
  CHECK_EQ(DtlsLibraryContextKeyPoolStats(G::kX25519).missed, 1u);
  CHECK_EQ(DtlsLibraryContextKeyPoolStats(G::kP256).missed, 1u);
  const NativeHeapStats h0 = ReadNativeHeapStats();
  const size_t made = FillPools();
  const NativeHeapStats h1 = ReadNativeHeapStats();
  const DtlsKeyPoolStats x = DtlsLibraryContextKeyPoolStats(G::kX25519);
  const DtlsKeyPoolStats p = DtlsLibraryContextKeyPoolStats(G::kP256);
  // Filled to the first target (64 each), not to the capacity: one request so far.
  CHECK_EQ(x.target, std::min<size_t>(64, x.capacity));
  CHECK_EQ(p.target, std::min<size_t>(64, p.capacity));
  CHECK_EQ(x.pooled, x.target);
  CHECK_EQ(p.pooled, p.target);
  CHECK_EQ(made, x.target + p.target);
  CHECK_EQ(x.made, x.target);
  CHECK(!IdleWorkNow());  // full
  if (h0.supported && made > 0) {
    std::fprintf(stderr, "key pools: %zu X25519 + %zu P-256 keys, %.0f KiB of C heap; made in %.1f + %.1f us CPU each\n",
                 x.pooled, p.pooled, (static_cast<double>(h1.in_use) - static_cast<double>(h0.in_use)) / 1024.0,
                 x.made_cpu_ns / 1000.0 / static_cast<double>(x.made), p.made_cpu_ns / 1000.0 / static_cast<double>(p.made));
  }
  // Pooled keys: by name and by template, each once, each a working key.
  std::set<std::string> seen{PublicOf(first_x), PublicOf(first_p)};
  EVP_PKEY* peer_x = EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519");
  EVP_PKEY* peer_p = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  for (int i = 0; i < 40; ++i) {
    EVP_PKEY* kx = i % 2 == 0 ? KeygenLikeLibssl("X25519", "x25519") : KeygenFromTemplate(first_x);
    EVP_PKEY* kp = i % 2 == 0 ? KeygenLikeLibssl("EC", "prime256v1") : KeygenFromTemplate(first_p);
    CHECK(kx != nullptr && kp != nullptr);
    if (kx == nullptr || kp == nullptr) break;
    CHECK(seen.insert(PublicOf(kx)).second);
    CHECK(seen.insert(PublicOf(kp)).second);
    CHECK(Agree(kx, peer_x));
    CHECK(Agree(kp, peer_p));
    EVP_PKEY_free(kx);
    EVP_PKEY_free(kp);
  }
  CHECK_EQ(DtlsLibraryContextKeyPoolStats(G::kX25519).taken, 40u);
  {
    // Keys were just taken and the pools are well above an eighth: the refill waits (a burst is
    // under way), and says for how long; then it runs. (A minute's window here, so that a slow,
    // loaded machine cannot let it pass before the check.)
    DtlsLibraryContextSetRefillQuietMsForTesting(60000);
    EVP_PKEY_free(KeygenLikeLibssl("X25519", "x25519"));
    uint32_t retry_ms = 0;
    CHECK(!DtlsLibraryContextIdleWork(&retry_ms));
    CHECK(retry_ms > 0 && retry_ms <= 60001);
    DtlsLibraryContextSetRefillQuietMsForTesting(0);
    CHECK(IdleWorkNow());
    DtlsLibraryContextSetRefillQuietMsForTesting(20);
  }
  CHECK_EQ(DtlsLibraryContextKeyPoolStats(G::kP256).taken, 40u);
  // 41 X25519 and 40 P-256 keys taken from pools of the same target: the one refill above went
  // to X25519, the emptier.
  CHECK_EQ(x.target, p.target);
  CHECK_EQ(DtlsLibraryContextKeyPoolStats(G::kX25519).pooled, x.target - 40);
  CHECK_EQ(DtlsLibraryContextKeyPoolStats(G::kP256).pooled, p.target - 40);
  {
    // Demand outruns the pool: take every X25519 key, then one more (made on the spot, missed):
    // the fill target doubles, and the idle work fills to it.
    std::vector<EVP_PKEY*> held;
    const size_t left = DtlsLibraryContextKeyPoolStats(G::kX25519).pooled;
    for (size_t i = 0; i < left + 1; ++i) held.push_back(KeygenLikeLibssl("X25519", "x25519"));
    const DtlsKeyPoolStats drained = DtlsLibraryContextKeyPoolStats(G::kX25519);
    CHECK_EQ(drained.pooled, 0u);
    CHECK_EQ(drained.missed, 2u);
    CHECK_EQ(drained.target, std::min<size_t>(2 * x.target, x.capacity));
    for (EVP_PKEY* k : held) EVP_PKEY_free(k);
    DtlsLibraryContextSetRefillQuietMsForTesting(0);
    FillPools();
    DtlsLibraryContextSetRefillQuietMsForTesting(20);
    CHECK_EQ(DtlsLibraryContextKeyPoolStats(G::kX25519).pooled, drained.target);
  }
  // The settable parameters of a key generation (asked with no gen context) are the default's.
  for (const char* type : {"X25519", "EC"}) {
    EVP_PKEY_CTX* c = EVP_PKEY_CTX_new_from_name(DtlsLibraryContext(), type, nullptr);
    CHECK(c != nullptr && EVP_PKEY_keygen_init(c) == 1);
    const OSSL_PARAM* settable = c != nullptr ? EVP_PKEY_CTX_settable_params(c) : nullptr;
    CHECK(settable != nullptr && OSSL_PARAM_locate_const(settable, "group") != nullptr);
    EVP_PKEY_CTX_free(c);
  }
  // Not what a pooled key is: made on the spot, counted as neither taken nor missed.
  EVP_PKEY* p384 = KeygenLikeLibssl("EC", "P-384");
  CHECK(p384 != nullptr);
  CHECK(p384 != nullptr && EVP_PKEY_get_bits(p384) == 384);
  EVP_PKEY* p384_templ = p384 != nullptr ? KeygenFromTemplate(p384) : nullptr;
  CHECK(p384_templ != nullptr && EVP_PKEY_get_bits(p384_templ) == 384);
  {
    EVP_PKEY* key = nullptr;
    EVP_PKEY_CTX* c = EVP_PKEY_CTX_new_from_name(DtlsLibraryContext(), "EC", nullptr);
    int cofactor = 1;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("group", const_cast<char*>("P-256"), 0),
                           OSSL_PARAM_construct_int("use-cofactor-flag", &cofactor), OSSL_PARAM_END};
    CHECK(c != nullptr && EVP_PKEY_keygen_init(c) == 1 && EVP_PKEY_CTX_set_params(c, params) == 1 &&
          EVP_PKEY_keygen(c, &key) == 1);
    CHECK(key != nullptr && seen.insert(PublicOf(key)).second);
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(c);
  }
  {
    // A P-256 template with explicit parameters: not a named group, so not pooled.
    EVP_PKEY* key = nullptr;
    EVP_PKEY_CTX* c = EVP_PKEY_CTX_new_from_name(DtlsLibraryContext(), "EC", nullptr);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("group", const_cast<char*>("P-256"), 0),
                           OSSL_PARAM_construct_utf8_string("encoding", const_cast<char*>("explicit"), 0),
                           OSSL_PARAM_END};
    CHECK(c != nullptr && EVP_PKEY_keygen_init(c) == 1 && EVP_PKEY_CTX_set_params(c, params) == 1 &&
          EVP_PKEY_keygen(c, &key) == 1);
    EVP_PKEY* from = key != nullptr ? KeygenFromTemplate(key) : nullptr;
    CHECK(from != nullptr);
    EVP_PKEY_free(from);
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(c);
  }
  CHECK_EQ(DtlsLibraryContextKeyPoolStats(G::kP256).taken, 40u);
  CHECK_EQ(DtlsLibraryContextKeyPoolStats(G::kP256).missed, 1u);
  EVP_PKEY_free(p384);
  EVP_PKEY_free(p384_templ);
  EVP_PKEY_free(peer_x);
  EVP_PKEY_free(peer_p);
  EVP_PKEY_free(first_x);
  EVP_PKEY_free(first_p);
}

// A differential run of the P-256 decoder against OpenSSL's own (the default context) over
// mutated certificates: one to three bytes of the SubjectPublicKeyInfo changed, or its point
// replaced by another key's (on the curve) or by random bytes (off it). Both contexts must agree
// on every input: the same certificate parsed or refused, the same key or none.
void TestP256DecoderDifferential() {
  EVP_PKEY* key = MakeKey("EC", "P-256");
  EVP_PKEY* other = MakeKey("EC", "P-256");
  const std::vector<unsigned char> der = SelfSigned(key, false);
  const std::vector<unsigned char> other_der = SelfSigned(other, false);
  // The SubjectPublicKeyInfo: SEQUENCE (0x30 0x59), then the algorithm identifiers; its point is
  // the last 65 bytes (0x04 and the two coordinates).
  const unsigned char spki_head[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
  auto find_spki = [&](const std::vector<unsigned char>& d) -> size_t {
    for (size_t i = 0; i + 91 <= d.size(); ++i) {
      if (std::memcmp(d.data() + i, spki_head, sizeof spki_head) == 0) return i;
    }
    return d.size();
  };
  const size_t spki = find_spki(der);
  const size_t other_spki = find_spki(other_der);
  CHECK(spki < der.size() && other_spki < other_der.size());
  if (spki >= der.size() || other_spki >= other_der.size()) return;
  uint64_t state = 0x9e3779b97f4a7c15ull;
  auto next = [&state]() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const uint64_t decodes_before = DtlsLibraryContextP256Decodes();
  size_t disagreements = 0;
  size_t keys = 0;
  for (int i = 0; i < 3000; ++i) {
    std::vector<unsigned char> m = der;
    switch (next() % 4) {
      case 0:  // another key's point: a valid key, not the signer's
        std::memcpy(m.data() + spki + 26, other_der.data() + other_spki + 26, 65);
        break;
      case 1:  // random coordinates after an intact 0x04
        for (size_t j = spki + 27; j < spki + 91; ++j) m[j] = static_cast<unsigned char>(next());
        break;
      default: {  // one to three bytes anywhere in the SubjectPublicKeyInfo
        const int n = 1 + static_cast<int>(next() % 3);
        for (int k = 0; k < n; ++k) m[spki + next() % 91] = static_cast<unsigned char>(next());
        break;
      }
    }
    X509* ours = Decode(DtlsLibraryContext(), m);
    X509* theirs = Decode(nullptr, m);
    EVP_PKEY* a = ours != nullptr ? X509_get0_pubkey(ours) : nullptr;
    EVP_PKEY* b = theirs != nullptr ? X509_get0_pubkey(theirs) : nullptr;
    const bool agree = (ours == nullptr) == (theirs == nullptr) && (a == nullptr) == (b == nullptr) &&
                       (a == nullptr || EVP_PKEY_eq(a, b) == 1);
    if (!agree) {
      ++disagreements;
      std::fprintf(stderr, "P-256 decoders disagree on mutation %d: parsed %d/%d, key %d/%d\n", i, ours != nullptr,
                   theirs != nullptr, a != nullptr, b != nullptr);
    }
    if (a != nullptr) ++keys;
    X509_free(ours);
    X509_free(theirs);
    ERR_clear_error();
  }
  std::printf("P-256 decoder differential: 3000 mutated certificates, %zu with a key, %llu through the filter's decoder, %zu disagreements\n",
              keys, static_cast<unsigned long long>(DtlsLibraryContextP256Decodes() - decodes_before), disagreements);
  CHECK_EQ(disagreements, 0u);
  // The run went through the filter's own decoder, with keys both decodable and not.
  CHECK(DtlsLibraryContextP256Decodes() > decodes_before);
  CHECK(keys > 0 && keys < 3000);
  EVP_PKEY_free(other);
  EVP_PKEY_free(key);
}

int main() {
  TestKeyPoolsByEvp();
  TestTrimmedTables();
  TestPeerKeyTypesDecode();
  TestBadPeerKey();
  TestP256DecoderAgrees();
  TestP256DecoderDifferential();
  TestDefaultContextKeySignsInOurs();
  TestTls1PrfIsOursAndAgrees();
  BenchDecode();
  TEST_MAIN_END();
}
