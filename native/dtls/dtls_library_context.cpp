// The DTLS library context and its filter provider (see dtls_library_context.hpp; docs/dtls.md,
// "Library context").
#include "native/dtls/dtls_library_context.hpp"

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/err.h>
#include <openssl/provider.h>

#include <cstdio>
#include <cstring>
#include <vector>

namespace pwt {
namespace {

// The key types a WebRTC peer's certificate may carry: ECDSA (P-256/P-384: Chromium, Firefox,
// libwebrtc, pion, aiortc), RSA and RSA-PSS (older stacks, and ours on request), EdDSA; X25519 and
// X448 for completeness (ECDHE keys are made by key management, never decoded). "DER" is the
// decoder that reads a SubjectPublicKeyInfo's algorithm to pick the key type's decoder.
constexpr const char* kDecodedTypes[] = {"EC", "RSA", "RSA-PSS", "X25519", "X448", "ED25519", "ED448", "DER"};

// Key managers a DTLS 1.2 handshake uses: the peer's and our certificate keys, the ECDHE groups
// (X25519, P-256, P-384; X448 kept, it costs one entry) and the KDFs/MACs libssl may ask for. Left
// out: DH/DHX (no FFDHE suites), DSA (not a TLS 1.2 WebRTC certificate), SM2, SCRYPT, SIPHASH,
// POLY1305, CMAC (no suite of ours uses them).
constexpr const char* kManagedTypes[] = {"EC",   "RSA",      "RSA-PSS", "X25519", "X448",
                                         "ED25519", "ED448", "TLS1-PRF", "HKDF",  "HMAC"};

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

// One filter per process: the core hands our functions the default provider's context (so its
// algorithms get the context they expect), so our own state cannot live there.
struct Filter {
  OSSL_LIB_CTX* inner = nullptr;
  OSSL_PROVIDER* deflt = nullptr;
  // Trimmed copies of the default provider's tables, each ending with a null entry; the default's
  // own tables are static and outlive them (queried once, unqueried at teardown).
  std::vector<OSSL_ALGORITHM> decoders;
  std::vector<OSSL_ALGORITHM> keymgmt;
  const OSSL_ALGORITHM* deflt_decoders = nullptr;
  const OSSL_ALGORITHM* deflt_keymgmt = nullptr;
};

Filter* g_filter = nullptr;

// Copies the entries of `all` that `keep` accepts, plus the terminator.
template <typename Keep>
std::vector<OSSL_ALGORITHM> Trim(const OSSL_ALGORITHM* all, Keep keep) {
  std::vector<OSSL_ALGORITHM> out;
  for (const OSSL_ALGORITHM* a = all; a != nullptr && a->algorithm_names != nullptr; ++a) {
    if (keep(*a)) out.push_back(*a);
  }
  out.push_back(OSSL_ALGORITHM{nullptr, nullptr, nullptr, nullptr});
  return out;
}

bool KeepDecoder(const OSSL_ALGORITHM& a) {
  const char* props = a.property_definition != nullptr ? a.property_definition : "";
  return FirstNameIn(a.algorithm_names, kDecodedTypes) && std::strstr(props, "input=der") != nullptr &&
         std::strstr(props, "structure=SubjectPublicKeyInfo") != nullptr;
}

bool KeepKeyManager(const OSSL_ALGORITHM& a) { return FirstNameIn(a.algorithm_names, kManagedTypes); }

const OSSL_PARAM* FilterGettableParams(void*) { return OSSL_PROVIDER_gettable_params(g_filter->deflt); }

int FilterGetParams(void*, OSSL_PARAM params[]) { return OSSL_PROVIDER_get_params(g_filter->deflt, params); }

int FilterGetCapabilities(void*, const char* capability, OSSL_CALLBACK* cb, void* arg) {
  return OSSL_PROVIDER_get_capabilities(g_filter->deflt, capability, cb, arg);
}

const OSSL_ALGORITHM* FilterQuery(void*, int operation_id, int* no_cache) {
  switch (operation_id) {
    case OSSL_OP_DECODER: *no_cache = 0; return g_filter->decoders.data();
    case OSSL_OP_KEYMGMT: *no_cache = 0; return g_filter->keymgmt.data();
    default: return OSSL_PROVIDER_query_operation(g_filter->deflt, operation_id, no_cache);
  }
}

void FilterUnquery(void*, int operation_id, const OSSL_ALGORITHM* algs) {
  if (algs == g_filter->decoders.data() || algs == g_filter->keymgmt.data()) return;
  OSSL_PROVIDER_unquery_operation(g_filter->deflt, operation_id, algs);
}

void FreeFilter(Filter* f) {
  if (f->deflt_decoders != nullptr) OSSL_PROVIDER_unquery_operation(f->deflt, OSSL_OP_DECODER, f->deflt_decoders);
  if (f->deflt_keymgmt != nullptr) OSSL_PROVIDER_unquery_operation(f->deflt, OSSL_OP_KEYMGMT, f->deflt_keymgmt);
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
  auto* f = new Filter();
  f->inner = OSSL_LIB_CTX_new();
  f->deflt = f->inner != nullptr ? OSSL_PROVIDER_load(f->inner, "default") : nullptr;
  int no_cache = 0;
  if (f->deflt != nullptr) {
    f->deflt_decoders = OSSL_PROVIDER_query_operation(f->deflt, OSSL_OP_DECODER, &no_cache);
    f->deflt_keymgmt = OSSL_PROVIDER_query_operation(f->deflt, OSSL_OP_KEYMGMT, &no_cache);
  }
  void* deflt_ctx = f->deflt != nullptr ? OSSL_PROVIDER_get0_provider_ctx(f->deflt) : nullptr;
  if (f->deflt_decoders == nullptr || f->deflt_keymgmt == nullptr || deflt_ctx == nullptr) {
    FreeFilter(f);
    return 0;
  }
  f->decoders = Trim(f->deflt_decoders, KeepDecoder);
  f->keymgmt = Trim(f->deflt_keymgmt, KeepKeyManager);
  g_filter = f;
  *provctx = deflt_ctx;
  *out = kFilterDispatch;
  return 1;
}

OSSL_LIB_CTX* MakeLibraryContext() {
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
  const std::vector<OSSL_ALGORITHM>& t = operation_id == OSSL_OP_DECODER ? g_filter->decoders : g_filter->keymgmt;
  return t.size() - 1;
}

}  // namespace pwt
