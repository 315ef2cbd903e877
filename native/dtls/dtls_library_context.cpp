// The DTLS library context and its filter provider (see dtls_library_context.hpp; docs/dtls.md,
// "Library context").
#include "native/dtls/dtls_library_context.hpp"

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include <cstdio>
#include <cstdint>
#include <cstring>
#include <new>
#include <vector>

#include "native/dtls/dtls_prf.hpp"

namespace pwt {
namespace {

// The key types a WebRTC peer's certificate may carry: ECDSA (P-256/P-384: Chromium, Firefox,
// libwebrtc, pion, aiortc), RSA and RSA-PSS (older stacks, and ours on request), EdDSA; X25519 and
// X448 for completeness (ECDHE keys are made by key management, never decoded). Left out with the
// rest: "DER" (SubjectPublicKeyInfo to type-specific), which reads the key's algorithm to pick the
// key type's decoder; d2i_X509 names the key type already (from the same algorithm identifier), and
// that decoder parsed every SubjectPublicKeyInfo a second time.
constexpr const char* kDecoders[] = {"EC", "RSA", "RSA-PSS", "X25519", "X448", "ED25519", "ED448"};

// Key managers a DTLS 1.2 handshake uses: the peer's and our certificate keys, the ECDHE groups
// (X25519, P-256, P-384; X448 kept, it costs one entry) and HMAC (the MAC key of CBC suites, should
// a context allow one). Left out: DH/DHX (no FFDHE suites), DSA (not a TLS 1.2 WebRTC certificate),
// SM2, the EVP_PKEY faces of TLS1-PRF/HKDF/SCRYPT (libssl derives through EVP_KDF), SIPHASH,
// POLY1305, CMAC. Every one of them is walked for each peer key decoded.
constexpr const char* kKeyManagers[] = {"EC", "RSA", "RSA-PSS", "X25519", "X448", "ED25519", "ED448", "HMAC"};

// The record ciphers of kDtlsCipherList (AEAD only), and AES-256-CBC, which seals session tickets
// (off in our contexts, SSL_OP_NO_TICKET, but a context that turns them on must still work).
// libssl fetches every cipher it knows when an SSL_CTX is made, and OpenSSL 3.0 walks (and copies)
// every method fetched in a context for each peer key it decodes (EVP_KEYMGMT_do_all_provided):
// the fewer there are, the cheaper each decode.
constexpr const char* kCiphers[] = {"AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305", "AES-256-CBC"};

// The handshake's PRF and signature hashes (SHA-256/384; SHA-1, SHA-224 and SHA-512 in the peer's
// signature_algorithms) and the certificate fingerprint hashes of RFC 8122 we accept (the peer's
// certificate is an X509 of this context, so its fingerprint is computed here). No MD5/MD5-SHA1:
// they serve (D)TLS before 1.2 only.
constexpr const char* kDigests[] = {"SHA1", "SHA2-224", "SHA2-256", "SHA2-384", "SHA2-512"};

// The first of an algorithm's colon-separated names equals `name`.
bool FirstNameIs(const char* names, const char* name) {
  const size_t n = std::strlen(name);
  return std::strncmp(names, name, n) == 0 && (names[n] == '\0' || names[n] == ':');
}

template <size_t N>
bool FirstNameIn(const char* names, const char* const (&list)[N]) {
  for (const char* name : list) {
    if (FirstNameIs(names, name)) return true;
  }
  return false;
}

bool KeepDecoder(const OSSL_ALGORITHM& a) {
  const char* props = a.property_definition != nullptr ? a.property_definition : "";
  return FirstNameIn(a.algorithm_names, kDecoders) && std::strstr(props, "input=der") != nullptr &&
         std::strstr(props, "structure=SubjectPublicKeyInfo") != nullptr;
}
bool KeepKeyManager(const OSSL_ALGORITHM& a) { return FirstNameIn(a.algorithm_names, kKeyManagers); }
bool KeepCipher(const OSSL_ALGORITHM& a) { return FirstNameIn(a.algorithm_names, kCiphers); }
bool KeepDigest(const OSSL_ALGORITHM& a) { return FirstNameIn(a.algorithm_names, kDigests); }

// libssl's "TLS1-PRF" (master secret, key block, Finished: four or five per handshake and side),
// served by TlsPHash: OpenSSL's own made a KDF context and fetched HMAC and the digest on every
// derivation. Parameters as OpenSSL's (providers/implementations/kdfs/tls1_prf.c): the digest
// (SHA-256 and SHA-384 only: the PRFs of DTLS 1.2 suites; anything else is refused), the secret,
// and seeds that concatenate in order.
struct PrfKdf {
  DtlsPrfHash hash = DtlsPrfHash::kSha256;
  bool has_digest = false;
  std::vector<uint8_t> secret;
  std::vector<uint8_t> seed;
  void Wipe() {
    if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
    if (!seed.empty()) OPENSSL_cleanse(seed.data(), seed.size());
    secret.clear();
    seed.clear();
    has_digest = false;
  }
};

// The addon is built without exceptions (an allocation failure in a std::vector ends the process,
// as everywhere in it); a context OpenSSL asks for and cannot get is a null, which it handles.
void* PrfNew(void*) { return new (std::nothrow) PrfKdf(); }

void PrfFree(void* vctx) {
  auto* ctx = static_cast<PrfKdf*>(vctx);
  if (ctx == nullptr) return;
  ctx->Wipe();
  delete ctx;
}

void PrfReset(void* vctx) { static_cast<PrfKdf*>(vctx)->Wipe(); }

int SetPrfParams(PrfKdf* ctx, const OSSL_PARAM params[]) {
  if (params == nullptr) return 1;
  if (const OSSL_PARAM* p = OSSL_PARAM_locate_const(params, OSSL_KDF_PARAM_DIGEST)) {
    const char* name = nullptr;
    if (OSSL_PARAM_get_utf8_string_ptr(p, &name) != 1 || name == nullptr) return 0;
    // A digest we do not serve after one we do is refused, not left at the earlier one.
    ctx->has_digest = false;
    for (const char* alias : {"SHA2-256", "SHA-256", "SHA256"}) {
      if (OPENSSL_strcasecmp(name, alias) == 0) ctx->hash = DtlsPrfHash::kSha256, ctx->has_digest = true;
    }
    for (const char* alias : {"SHA2-384", "SHA-384", "SHA384"}) {
      if (OPENSSL_strcasecmp(name, alias) == 0) ctx->hash = DtlsPrfHash::kSha384, ctx->has_digest = true;
    }
    if (!ctx->has_digest) return 0;
  }
  if (const OSSL_PARAM* p = OSSL_PARAM_locate_const(params, OSSL_KDF_PARAM_SECRET)) {
    const void* data = nullptr;
    size_t len = 0;
    if (OSSL_PARAM_get_octet_string_ptr(p, &data, &len) != 1) return 0;
    if (!ctx->secret.empty()) OPENSSL_cleanse(ctx->secret.data(), ctx->secret.size());
    const auto* b = static_cast<const uint8_t*>(data);
    ctx->secret.assign(b, b + len);
  }
  for (const OSSL_PARAM* p = OSSL_PARAM_locate_const(params, OSSL_KDF_PARAM_SEED); p != nullptr;
       p = OSSL_PARAM_locate_const(p + 1, OSSL_KDF_PARAM_SEED)) {
    if (p->data == nullptr || p->data_size == 0) continue;
    const void* data = nullptr;
    size_t len = 0;
    if (OSSL_PARAM_get_octet_string_ptr(p, &data, &len) != 1) return 0;
    const auto* b = static_cast<const uint8_t*>(data);
    ctx->seed.insert(ctx->seed.end(), b, b + len);
  }
  return 1;
}

int PrfSetParams(void* vctx, const OSSL_PARAM params[]) { return SetPrfParams(static_cast<PrfKdf*>(vctx), params); }

int PrfDerive(void* vctx, unsigned char* key, size_t keylen, const OSSL_PARAM params[]) {
  auto* ctx = static_cast<PrfKdf*>(vctx);
  if (PrfSetParams(ctx, params) != 1 || !ctx->has_digest || ctx->secret.empty() || ctx->seed.empty() ||
      keylen == 0) {
    return 0;
  }
  const TlsPrfPart part{ctx->seed.data(), ctx->seed.size()};
  return TlsPHash(ctx->hash, ctx->secret.data(), ctx->secret.size(), &part, 1, key, keylen) ? 1 : 0;
}

const OSSL_PARAM* PrfSettable(void*, void*) {
  static const OSSL_PARAM kSettable[] = {
      OSSL_PARAM_utf8_string(OSSL_KDF_PARAM_PROPERTIES, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_KDF_PARAM_DIGEST, nullptr, 0),
      OSSL_PARAM_octet_string(OSSL_KDF_PARAM_SECRET, nullptr, 0),
      OSSL_PARAM_octet_string(OSSL_KDF_PARAM_SEED, nullptr, 0), OSSL_PARAM_END};
  return kSettable;
}

int PrfGetParams(void*, OSSL_PARAM params[]) {
  if (OSSL_PARAM* p = OSSL_PARAM_locate(params, OSSL_KDF_PARAM_SIZE)) return OSSL_PARAM_set_size_t(p, SIZE_MAX);
  return -2;
}

const OSSL_PARAM* PrfGettable(void*, void*) {
  static const OSSL_PARAM kGettable[] = {OSSL_PARAM_size_t(OSSL_KDF_PARAM_SIZE, nullptr), OSSL_PARAM_END};
  return kGettable;
}

const OSSL_DISPATCH kPrfKdf[] = {
    {OSSL_FUNC_KDF_NEWCTX, reinterpret_cast<void (*)(void)>(&PrfNew)},
    {OSSL_FUNC_KDF_FREECTX, reinterpret_cast<void (*)(void)>(&PrfFree)},
    {OSSL_FUNC_KDF_RESET, reinterpret_cast<void (*)(void)>(&PrfReset)},
    {OSSL_FUNC_KDF_DERIVE, reinterpret_cast<void (*)(void)>(&PrfDerive)},
    {OSSL_FUNC_KDF_SETTABLE_CTX_PARAMS, reinterpret_cast<void (*)(void)>(&PrfSettable)},
    {OSSL_FUNC_KDF_SET_CTX_PARAMS, reinterpret_cast<void (*)(void)>(&PrfSetParams)},
    {OSSL_FUNC_KDF_GETTABLE_CTX_PARAMS, reinterpret_cast<void (*)(void)>(&PrfGettable)},
    {OSSL_FUNC_KDF_GET_CTX_PARAMS, reinterpret_cast<void (*)(void)>(&PrfGetParams)},
    {0, nullptr}};

// Every KDF passes, TLS1-PRF with our implementation in place of the default's.
bool KeepKdf(const OSSL_ALGORITHM&) { return true; }
const OSSL_DISPATCH* ReplaceKdf(const OSSL_ALGORITHM& a) {
  return FirstNameIs(a.algorithm_names, "TLS1-PRF") ? kPrfKdf : a.implementation;
}
const OSSL_DISPATCH* Same(const OSSL_ALGORITHM& a) { return a.implementation; }

// One trimmed operation: the default provider's table (static in the provider, queried once and
// unqueried at teardown) and the entries kept, ending with a null entry.
struct Trimmed {
  int operation_id;
  bool (*keep)(const OSSL_ALGORITHM&);
  const OSSL_DISPATCH* (*implementation)(const OSSL_ALGORITHM&);
  const OSSL_ALGORITHM* all = nullptr;
  std::vector<OSSL_ALGORITHM> kept;
};

// One filter per process: the core hands our functions the default provider's context (so its
// algorithms get the context they expect), so our own state cannot live there. Every other
// operation passes through untouched.
struct Filter {
  OSSL_LIB_CTX* inner = nullptr;
  OSSL_PROVIDER* deflt = nullptr;
  Trimmed trimmed[5] = {{OSSL_OP_DECODER, &KeepDecoder, &Same},
                        {OSSL_OP_KEYMGMT, &KeepKeyManager, &Same},
                        {OSSL_OP_CIPHER, &KeepCipher, &Same},
                        {OSSL_OP_DIGEST, &KeepDigest, &Same},
                        {OSSL_OP_KDF, &KeepKdf, &ReplaceKdf}};

  Trimmed* find(int operation_id) {
    for (Trimmed& t : trimmed) {
      if (t.operation_id == operation_id) return &t;
    }
    return nullptr;
  }
};

Filter* g_filter = nullptr;

const OSSL_PARAM* FilterGettableParams(void*) { return OSSL_PROVIDER_gettable_params(g_filter->deflt); }

int FilterGetParams(void*, OSSL_PARAM params[]) { return OSSL_PROVIDER_get_params(g_filter->deflt, params); }

int FilterGetCapabilities(void*, const char* capability, OSSL_CALLBACK* cb, void* arg) {
  return OSSL_PROVIDER_get_capabilities(g_filter->deflt, capability, cb, arg);
}

const OSSL_ALGORITHM* FilterQuery(void*, int operation_id, int* no_cache) {
  if (const Trimmed* t = g_filter->find(operation_id)) {
    *no_cache = 0;
    return t->kept.data();
  }
  return OSSL_PROVIDER_query_operation(g_filter->deflt, operation_id, no_cache);
}

void FilterUnquery(void*, int operation_id, const OSSL_ALGORITHM* algs) {
  if (const Trimmed* t = g_filter->find(operation_id); t != nullptr && algs == t->kept.data()) return;
  OSSL_PROVIDER_unquery_operation(g_filter->deflt, operation_id, algs);
}

void FreeFilter(Filter* f) {
  for (Trimmed& t : f->trimmed) {
    if (t.all != nullptr) OSSL_PROVIDER_unquery_operation(f->deflt, t.operation_id, t.all);
  }
  if (f->deflt != nullptr) OSSL_PROVIDER_unload(f->deflt);
  OSSL_LIB_CTX_free(f->inner);
  delete f;
}

// Runs only if our library context is freed (it is not, see the header); the provider context is
// the default provider's, which its own teardown (through the unload) frees.
void FilterTeardown(void*) {
  Filter* f = g_filter;
  g_filter = nullptr;
  if (f != nullptr) FreeFilter(f);
}

const OSSL_DISPATCH kFilterDispatch[] = {
    {OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, reinterpret_cast<void (*)(void)>(&FilterGettableParams)},
    {OSSL_FUNC_PROVIDER_GET_PARAMS, reinterpret_cast<void (*)(void)>(&FilterGetParams)},
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, reinterpret_cast<void (*)(void)>(&FilterQuery)},
    {OSSL_FUNC_PROVIDER_UNQUERY_OPERATION, reinterpret_cast<void (*)(void)>(&FilterUnquery)},
    {OSSL_FUNC_PROVIDER_GET_CAPABILITIES, reinterpret_cast<void (*)(void)>(&FilterGetCapabilities)},
    {OSSL_FUNC_PROVIDER_TEARDOWN, reinterpret_cast<void (*)(void)>(&FilterTeardown)},
    {0, nullptr}};

int FilterInit(const OSSL_CORE_HANDLE*, const OSSL_DISPATCH*, const OSSL_DISPATCH** out, void** provctx) {
  if (g_filter != nullptr) return 0;  // one instance per process (DtlsLibraryContext makes it once)
  auto* f = new (std::nothrow) Filter();
  if (f == nullptr) return 0;
  f->inner = OSSL_LIB_CTX_new();
  f->deflt = f->inner != nullptr ? OSSL_PROVIDER_load(f->inner, "default") : nullptr;
  void* deflt_ctx = f->deflt != nullptr ? OSSL_PROVIDER_get0_provider_ctx(f->deflt) : nullptr;
  bool ok = deflt_ctx != nullptr;
  for (Trimmed& t : f->trimmed) {
    int no_cache = 0;
    t.all = ok ? OSSL_PROVIDER_query_operation(f->deflt, t.operation_id, &no_cache) : nullptr;
    ok = ok && t.all != nullptr;
    if (!ok) break;
    for (const OSSL_ALGORITHM* a = t.all; a->algorithm_names != nullptr; ++a) {
      if (!t.keep(*a)) continue;
      t.kept.push_back(*a);
      t.kept.back().implementation = t.implementation(*a);
    }
    t.kept.push_back(OSSL_ALGORITHM{nullptr, nullptr, nullptr, nullptr});
  }
  if (!ok) {
    FreeFilter(f);
    return 0;
  }
  g_filter = f;
  *provctx = deflt_ctx;
  *out = kFilterDispatch;
  return 1;
}

OSSL_LIB_CTX* MakeLibraryContext() {
  // A process that asks for FIPS (node --enable-fips, an OpenSSL configuration's default properties)
  // keeps its policy: the handshakes then use the default context, whose properties it set.
  if (EVP_default_properties_is_fips_enabled(nullptr) == 1) return nullptr;
  OSSL_LIB_CTX* ctx = OSSL_LIB_CTX_new();
  OSSL_PROVIDER* prov = nullptr;
  if (ctx != nullptr && OSSL_PROVIDER_add_builtin(ctx, "pwt-dtls", &FilterInit) == 1) {
    prov = OSSL_PROVIDER_load(ctx, "pwt-dtls");
  }
  if (prov == nullptr) {
    ERR_clear_error();
    OSSL_LIB_CTX_free(ctx);
    std::fprintf(stderr, "pure-webrtc-transport: OpenSSL refused the DTLS library context; using the default one\n");
    return nullptr;
  }
  // The provider stays loaded with the context (the handle is not kept: nothing unloads it).
  return ctx;
}

}  // namespace

OSSL_LIB_CTX* DtlsLibraryContext() {
  static OSSL_LIB_CTX* const ctx = MakeLibraryContext();
  return ctx;
}

size_t DtlsLibraryContextAlgorithmCount(int operation_id) {
  if (DtlsLibraryContext() == nullptr || g_filter == nullptr) return 0;
  const Trimmed* t = g_filter->find(operation_id);
  return t != nullptr ? t->kept.size() - 1 : 0;
}

}  // namespace pwt
