// The DTLS library context and its filter provider (see dtls_library_context.hpp; docs/dtls.md,
// "Library context").
// EC_KEY_new_ex, EC_KEY_set_group, EC_KEY_oct2key: the default provider's EC key data is an
// EC_KEY, and the decoder of P-256 peer keys below makes one around a shared group.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "native/dtls/dtls_library_context.hpp"

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <mutex>
#include <new>
#include <utility>
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

// The operations a DTLS 1.2 handshake of ours runs beyond key management: ECDSA, RSA (and RSA-PSS,
// the same implementation) and EdDSA signatures, the key exchanges of our groups and X448, HMAC
// (our PRF's P_hash), RSA decryption (RSA key transport, should a context allow it), and the KDFs
// of (D)TLS (TLS1-PRF, ours; HKDF and TLS13-KDF of TLS 1.3). OpenSSL 3.0 puts every algorithm of
// an operation into the context's method store at its first fetch, and each peer key decode walks
// (and copies) that whole store: DSA, SM2, the MAC faces of SIPHASH/POLY1305/CMAC, DH, GMAC/KMAC/
// BLAKE2, SSKDF/PBKDF2/SCRYPT... were walked for every handshake and used by none.
constexpr const char* kSignatures[] = {"ECDSA", "RSA", "ED25519", "ED448"};
constexpr const char* kKeyExchanges[] = {"ECDH", "X25519", "X448"};
constexpr const char* kMacs[] = {"HMAC"};
constexpr const char* kAsymCiphers[] = {"RSA"};
constexpr const char* kKdfs[] = {"TLS1-PRF", "HKDF", "TLS13-KDF"};

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
bool KeepSignature(const OSSL_ALGORITHM& a) { return FirstNameIn(a.algorithm_names, kSignatures); }
bool KeepKeyExchange(const OSSL_ALGORITHM& a) { return FirstNameIn(a.algorithm_names, kKeyExchanges); }
bool KeepMac(const OSSL_ALGORITHM& a) { return FirstNameIn(a.algorithm_names, kMacs); }
bool KeepAsymCipher(const OSSL_ALGORITHM& a) { return FirstNameIn(a.algorithm_names, kAsymCiphers); }

// ECDHE key pools (docs/dtls.md, "Library context", "ECDHE keys made in idle time"). Every
// handshake makes one ECDHE key (RFC 8422 section 2): X25519 with our own peers and Chromium,
// P-256 with some stacks. The filter serves the X25519 and EC key managers through a wrapper whose
// gen hands out a key made beforehand, by the handshake threads when they have no handshake work
// (DtlsLibraryContextIdleWork), when the request is one an identically made key answers: selection
// key pair, and nothing set but the group (X25519; P-256 by name, or a template whose group is
// P-256, named, uncompressed points, as libssl's client side passes the server's key). Anything
// else (another group, explicit curves, ECDH cofactor mode, an empty pool) runs the default's gen
// as before. A pooled key is handed out once and belongs to the caller (the EVP_PKEY frees it).
enum PoolGroup : int { kPoolX25519 = 0, kPoolP256 = 1, kPoolGroups = 2 };

constexpr const char* kPoolGroupName[kPoolGroups] = {"x25519", "prime256v1"};

// Keys each pool holds at most unless PWT_DTLS_KEY_POOL=N says otherwise. One X25519 key (ECX_KEY,
// its lock and private key) is about 250 bytes of heap, a P-256 one (EC_KEY with its own copy of the
// group) about 2 KiB: 0.5 + 0.5 MiB full. A 1000-pair burst with both ends in one process takes
// 2000 X25519 keys; P-256 is what some stacks (not Chromium, Firefox, pion) negotiate.
constexpr size_t kDefaultPoolCapacity[kPoolGroups] = {2048, 256};
constexpr size_t kMaxPoolCapacity = 65536;
// What a pool is filled to after its group's first request: a process that runs one handshake at a
// time takes 1 or 2 keys per connection and keeps 64 (about 16 KiB, 3 ms of one thread's CPU for
// X25519). Each request that finds the pool empty doubles the fill target up to the capacity, so a
// process that sees bursts of concurrent handshakes grows its pool to them.
constexpr size_t kInitialPoolTarget = 64;
// The refill waits while handshakes took keys within this long (tests change it), unless the pool is
// below this share of its fill target.
constexpr int64_t kRefillQuietNs = 20 * 1000000;
std::atomic<int64_t> g_refill_quiet_ns{kRefillQuietNs};
constexpr double kRefillLowWater = 0.125;

struct KeyPool {
  std::mutex mu;
  std::vector<void*> keys;  // the default provider's keydata, made by its gen
  // Filled only once a handshake asked for a key of the group (a process with none fills nothing).
  std::atomic<bool> wanted{false};
  // Keys the idle threads fill it to (0 until the first request; then see kInitialPoolTarget).
  std::atomic<size_t> target{0};
  std::atomic<uint64_t> taken{0};
  std::atomic<uint64_t> missed{0};
  std::atomic<uint64_t> made{0};
  std::atomic<uint64_t> made_ns{0};
};

// The default provider's key-generation functions of one key manager we wrap (X25519, EC).
struct PooledKeyManager {
  OSSL_FUNC_keymgmt_gen_init_fn* gen_init = nullptr;
  OSSL_FUNC_keymgmt_gen_set_template_fn* gen_set_template = nullptr;
  OSSL_FUNC_keymgmt_gen_set_params_fn* gen_set_params = nullptr;
  OSSL_FUNC_keymgmt_gen_settable_params_fn* gen_settable_params = nullptr;
  OSSL_FUNC_keymgmt_gen_fn* gen = nullptr;
  OSSL_FUNC_keymgmt_gen_cleanup_fn* gen_cleanup = nullptr;
  OSSL_FUNC_keymgmt_free_fn* free = nullptr;
  OSSL_FUNC_keymgmt_get_params_fn* get_params = nullptr;
  std::vector<OSSL_DISPATCH> dispatch;  // the default's, gen functions replaced; ends with {0, null}
  bool wrapped = false;
};

enum PooledAlgorithm : int { kAlgX25519 = 0, kAlgEc = 1, kPooledAlgorithms = 2 };

// The group a name of `alg`'s gen parameters means, or -1 (not pooled).
int PoolGroupOfName(int alg, const char* name) {
  if (alg == kAlgX25519) return OPENSSL_strcasecmp(name, "x25519") == 0 ? kPoolX25519 : -1;
  for (const char* alias : {"prime256v1", "P-256", "secp256r1"}) {
    if (OPENSSL_strcasecmp(name, alias) == 0) return kPoolP256;
  }
  return -1;
}

int64_t SteadyNowNs() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

uint64_t ThreadCpuNs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1000000000u + static_cast<uint64_t>(t.tv_nsec);
}

// Our gen context: the default's, and what was asked of it.
struct PoolGenCtx {
  int alg;
  void* inner;
  int selection;
  int group;          // the pool an identically made key is in, -1 if none
  bool plain = true;  // nothing set that a pooled key would not have
};

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

struct Filter;

// The (D)TLS KDFs, TLS1-PRF with our implementation in place of the default's.
bool KeepKdf(const OSSL_ALGORITHM& a) { return FirstNameIn(a.algorithm_names, kKdfs); }
const OSSL_DISPATCH* ReplaceKdf(Filter&, const OSSL_ALGORITHM& a) {
  return FirstNameIs(a.algorithm_names, "TLS1-PRF") ? kPrfKdf : a.implementation;
}
const OSSL_DISPATCH* Same(Filter&, const OSSL_ALGORITHM& a) { return a.implementation; }
const OSSL_DISPATCH* WrapKeyManager(Filter& f, const OSSL_ALGORITHM& a);
const OSSL_DISPATCH* WrapDecoder(Filter& f, const OSSL_ALGORITHM& a);

// One trimmed operation: the default provider's table (static in the provider, queried once and
// unqueried at teardown) and the entries kept, ending with a null entry.
struct Trimmed {
  int operation_id;
  bool (*keep)(const OSSL_ALGORITHM&);
  const OSSL_DISPATCH* (*implementation)(Filter&, const OSSL_ALGORITHM&);
  const OSSL_ALGORITHM* all = nullptr;
  std::vector<OSSL_ALGORITHM> kept;
};

// One filter per process: the core hands our functions the default provider's context (so its
// algorithms get the context they expect), so our own state cannot live there. Every other
// operation passes through untouched.
struct Filter {
  OSSL_LIB_CTX* inner = nullptr;
  OSSL_PROVIDER* deflt = nullptr;
  void* deflt_ctx = nullptr;
  Trimmed trimmed[9] = {{OSSL_OP_DECODER, &KeepDecoder, &WrapDecoder},
                        {OSSL_OP_KEYMGMT, &KeepKeyManager, &WrapKeyManager},
                        {OSSL_OP_CIPHER, &KeepCipher, &Same},
                        {OSSL_OP_DIGEST, &KeepDigest, &Same},
                        {OSSL_OP_KDF, &KeepKdf, &ReplaceKdf},
                        {OSSL_OP_SIGNATURE, &KeepSignature, &Same},
                        {OSSL_OP_KEYEXCH, &KeepKeyExchange, &Same},
                        {OSSL_OP_MAC, &KeepMac, &Same},
                        {OSSL_OP_ASYM_CIPHER, &KeepAsymCipher, &Same}};
  PooledKeyManager managers[kPooledAlgorithms];
  KeyPool pools[kPoolGroups];
  size_t capacity[kPoolGroups] = {kDefaultPoolCapacity[0], kDefaultPoolCapacity[1]};
  bool pooling = true;
  // When a handshake last asked for a pooled key (CLOCK_MONOTONIC ns).
  std::atomic<int64_t> last_take_ns{0};
  // The P-256 peer-key decoder (P256SpkiDecode): the default EC SubjectPublicKeyInfo decoder's
  // table with its decode replaced, that decode, the core's BIO functions it reads and re-wraps
  // input with, and the group every key it makes copies (made once, in the inner context).
  std::vector<OSSL_DISPATCH> ec_spki_dispatch;
  OSSL_FUNC_decoder_decode_fn* ec_spki_decode = nullptr;
  OSSL_FUNC_BIO_read_ex_fn* core_read_ex = nullptr;
  OSSL_FUNC_BIO_new_membuf_fn* core_new_membuf = nullptr;
  OSSL_FUNC_BIO_free_fn* core_bio_free = nullptr;
  EC_GROUP* p256 = nullptr;
  std::atomic<uint64_t> p256_decodes{0};

  Trimmed* find(int operation_id) {
    for (Trimmed& t : trimmed) {
      if (t.operation_id == operation_id) return &t;
    }
    return nullptr;
  }
};

Filter* g_filter = nullptr;

int PoolAlgorithmOf(int group) { return group == kPoolX25519 ? kAlgX25519 : kAlgEc; }

// What gen parameters ask for: the group (by name), and for EC the encoding and point format when
// they are the defaults a key made by name has; anything else makes the request not plain.
void NoteGenParams(PoolGenCtx* g, const OSSL_PARAM params[], int* name_group) {
  for (const OSSL_PARAM* p = params; p != nullptr && p->key != nullptr; ++p) {
    const char* value = nullptr;
    const bool text = p->data_type == OSSL_PARAM_UTF8_STRING && OSSL_PARAM_get_utf8_string_ptr(p, &value) == 1 &&
                      value != nullptr;
    if (text && std::strcmp(p->key, OSSL_PKEY_PARAM_GROUP_NAME) == 0) {
      *name_group = PoolGroupOfName(g->alg, value);
    } else if (text && g->alg == kAlgEc && std::strcmp(p->key, OSSL_PKEY_PARAM_EC_ENCODING) == 0 &&
               OPENSSL_strcasecmp(value, OSSL_PKEY_EC_ENCODING_GROUP) == 0) {
      // named_curve: what a group made by name has
    } else if (text && g->alg == kAlgEc && std::strcmp(p->key, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT) == 0 &&
               OPENSSL_strcasecmp(value, OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED) == 0) {
      // uncompressed: likewise
    } else {
      g->plain = false;
    }
  }
}

// Our gen context remembers the group asked by name apart from one a template set: the default EC
// gen uses a template's group over any name (providers/implementations/keymgmt/ec_kmgmt.c).
struct PoolGenState {
  PoolGenCtx ctx;
  int name_group;
  int template_group;
  bool has_template;
};

void ResolveGroup(PoolGenState* s) {
  if (s->ctx.alg == kAlgX25519) {
    // No domain parameters: any X25519 request is one group (a name other than x25519 fails in
    // the default's set_params before it gets here).
    s->ctx.group = s->name_group == -2 || s->name_group == kPoolX25519 ? kPoolX25519 : -1;
    return;
  }
  s->ctx.group = s->has_template ? s->template_group : (s->name_group >= 0 ? s->name_group : -1);
}

// The pool group of an EC template key: P-256, named, uncompressed points, or -1.
int EcTemplateGroup(const PooledKeyManager& m, void* templ) {
  if (m.get_params == nullptr) return -1;
  char group[64] = "";
  char encoding[32] = "";
  char format[32] = "";
  OSSL_PARAM params[] = {OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group),
                         OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, encoding, sizeof encoding),
                         OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, format, sizeof format),
                         OSSL_PARAM_END};
  if (m.get_params(templ, params) != 1) {
    ERR_clear_error();
    return -1;
  }
  for (const OSSL_PARAM& p : params) {
    if (p.key != nullptr && OSSL_PARAM_modified(&p) != 1) return -1;
  }
  if (OPENSSL_strcasecmp(encoding, OSSL_PKEY_EC_ENCODING_GROUP) != 0 ||
      OPENSSL_strcasecmp(format, OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED) != 0) {
    return -1;
  }
  return PoolGroupOfName(kAlgEc, group);
}

template <int kAlg>
void* PoolGenInit(void* provctx, int selection, const OSSL_PARAM params[]) {
  const PooledKeyManager& m = g_filter->managers[kAlg];
  void* inner = m.gen_init(provctx, selection, params);
  if (inner == nullptr) return nullptr;
  auto* s = new (std::nothrow) PoolGenState{PoolGenCtx{kAlg, inner, selection, -1, true}, -2, -1, false};
  if (s == nullptr) {
    m.gen_cleanup(inner);
    return nullptr;
  }
  NoteGenParams(&s->ctx, params, &s->name_group);
  ResolveGroup(s);
  return s;
}

int PoolGenSetTemplate(void* genctx, void* templ) {
  auto* s = static_cast<PoolGenState*>(genctx);
  const PooledKeyManager& m = g_filter->managers[s->ctx.alg];
  const int r = m.gen_set_template(s->ctx.inner, templ);
  if (r != 1) return r;
  s->has_template = true;
  s->template_group = s->ctx.alg == kAlgEc ? EcTemplateGroup(m, templ) : kPoolX25519;
  ResolveGroup(s);
  return r;
}

int PoolGenSetParams(void* genctx, const OSSL_PARAM params[]) {
  auto* s = static_cast<PoolGenState*>(genctx);
  const int r = g_filter->managers[s->ctx.alg].gen_set_params(s->ctx.inner, params);
  if (r != 1) return r;
  NoteGenParams(&s->ctx, params, &s->name_group);
  ResolveGroup(s);
  return r;
}

// EVP_PKEY_CTX_settable_params asks with no gen context (crypto/evp/keymgmt_meth.c), hence one
// function per key manager.
template <int kAlg>
const OSSL_PARAM* PoolGenSettableParams(void* genctx, void* provctx) {
  auto* s = static_cast<PoolGenState*>(genctx);
  return g_filter->managers[kAlg].gen_settable_params(s != nullptr ? s->ctx.inner : nullptr, provctx);
}

// The registered idle-time workers (DtlsLibraryContextAddIdleWorker). Made on first use and never
// freed, like the context: a handshake thread of another environment may still take a key while
// the process exits and static destructors run. The count is read without the lock.
struct IdleWorkers {
  std::mutex mu;
  std::vector<std::pair<DtlsIdleWorkerWake, void*>> list;
};
IdleWorkers& TheIdleWorkers() {
  static IdleWorkers* workers = new IdleWorkers();
  return *workers;
}
std::atomic<size_t> g_idle_worker_count{0};

// A handshake took a key or found the pool empty: wake one idle-time worker (the first registered;
// any of them fills the process's pools) so the pool is refilled in idle time.
void WakeIdleWorker() {
  if (g_idle_worker_count.load(std::memory_order_relaxed) == 0) return;
  IdleWorkers& w = TheIdleWorkers();
  std::lock_guard<std::mutex> lock(w.mu);
  if (!w.list.empty()) w.list.front().first(w.list.front().second);
}

void* PoolGen(void* genctx, OSSL_CALLBACK* cb, void* cbarg) {
  auto* s = static_cast<PoolGenState*>(genctx);
  const PoolGenCtx& g = s->ctx;
  if (g_filter->pooling && g.plain && g.group >= 0 && g.selection == OSSL_KEYMGMT_SELECT_KEYPAIR) {
    KeyPool& pool = g_filter->pools[g.group];
    g_filter->last_take_ns.store(SteadyNowNs(), std::memory_order_relaxed);
    const bool first = !pool.wanted.load(std::memory_order_relaxed);
    if (first) {
      pool.target.store(std::min(kInitialPoolTarget, g_filter->capacity[g.group]), std::memory_order_relaxed);
      pool.wanted.store(true, std::memory_order_relaxed);
    }
    void* key = nullptr;
    {
      std::lock_guard<std::mutex> lock(pool.mu);
      if (!pool.keys.empty()) {
        key = pool.keys.back();
        pool.keys.pop_back();
      }
    }
    WakeIdleWorker();
    if (key != nullptr) {
      pool.taken.fetch_add(1, std::memory_order_relaxed);
      return key;
    }
    pool.missed.fetch_add(1, std::memory_order_relaxed);
    if (!first && pool.made.load(std::memory_order_relaxed) > 0) {
      // Demand outran a pool the idle threads had filled: let it hold twice as many (a lost race
      // between two threads' doubling only skips one step). Before the first fill (both ends of
      // the first connection ask at once) it is not demand yet.
      const size_t target = pool.target.load(std::memory_order_relaxed);
      pool.target.store(std::min(target * 2, g_filter->capacity[g.group]), std::memory_order_relaxed);
    }
  }
  return g_filter->managers[g.alg].gen(g.inner, cb, cbarg);
}

void PoolGenCleanup(void* genctx) {
  auto* s = static_cast<PoolGenState*>(genctx);
  if (s == nullptr) return;
  g_filter->managers[s->ctx.alg].gen_cleanup(s->ctx.inner);
  delete s;
}

// The X25519 and EC key managers with our gen functions, the rest of the default's table as it
// is; any other key manager (or one whose table has a function we do not know, which might take
// a gen context) is served as it is.
const OSSL_DISPATCH* WrapKeyManager(Filter& f, const OSSL_ALGORITHM& a) {
  int alg = -1;
  if (FirstNameIs(a.algorithm_names, "X25519")) alg = kAlgX25519;
  if (FirstNameIs(a.algorithm_names, "EC")) alg = kAlgEc;
  if (alg < 0) return a.implementation;
  PooledKeyManager& m = f.managers[alg];
  m.dispatch.clear();
  for (const OSSL_DISPATCH* d = a.implementation; d->function_id != 0; ++d) {
    OSSL_DISPATCH out = *d;
    switch (d->function_id) {
      case OSSL_FUNC_KEYMGMT_GEN_INIT:
        m.gen_init = OSSL_FUNC_keymgmt_gen_init(d);
        out.function = alg == kAlgX25519 ? reinterpret_cast<void (*)(void)>(&PoolGenInit<kAlgX25519>)
                                         : reinterpret_cast<void (*)(void)>(&PoolGenInit<kAlgEc>);
        break;
      case OSSL_FUNC_KEYMGMT_GEN_SET_TEMPLATE:
        m.gen_set_template = OSSL_FUNC_keymgmt_gen_set_template(d);
        out.function = reinterpret_cast<void (*)(void)>(&PoolGenSetTemplate);
        break;
      case OSSL_FUNC_KEYMGMT_GEN_SET_PARAMS:
        m.gen_set_params = OSSL_FUNC_keymgmt_gen_set_params(d);
        out.function = reinterpret_cast<void (*)(void)>(&PoolGenSetParams);
        break;
      case OSSL_FUNC_KEYMGMT_GEN_SETTABLE_PARAMS:
        m.gen_settable_params = OSSL_FUNC_keymgmt_gen_settable_params(d);
        out.function = alg == kAlgX25519 ? reinterpret_cast<void (*)(void)>(&PoolGenSettableParams<kAlgX25519>)
                                         : reinterpret_cast<void (*)(void)>(&PoolGenSettableParams<kAlgEc>);
        break;
      case OSSL_FUNC_KEYMGMT_GEN:
        m.gen = OSSL_FUNC_keymgmt_gen(d);
        out.function = reinterpret_cast<void (*)(void)>(&PoolGen);
        break;
      case OSSL_FUNC_KEYMGMT_GEN_CLEANUP:
        m.gen_cleanup = OSSL_FUNC_keymgmt_gen_cleanup(d);
        out.function = reinterpret_cast<void (*)(void)>(&PoolGenCleanup);
        break;
      case OSSL_FUNC_KEYMGMT_FREE:
        m.free = OSSL_FUNC_keymgmt_free(d);
        break;
      case OSSL_FUNC_KEYMGMT_GET_PARAMS:
        m.get_params = OSSL_FUNC_keymgmt_get_params(d);
        break;
      case OSSL_FUNC_KEYMGMT_NEW:
      case OSSL_FUNC_KEYMGMT_LOAD:
      case OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS:
      case OSSL_FUNC_KEYMGMT_SET_PARAMS:
      case OSSL_FUNC_KEYMGMT_SETTABLE_PARAMS:
      case OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME:
      case OSSL_FUNC_KEYMGMT_HAS:
      case OSSL_FUNC_KEYMGMT_VALIDATE:
      case OSSL_FUNC_KEYMGMT_MATCH:
      case OSSL_FUNC_KEYMGMT_IMPORT:
      case OSSL_FUNC_KEYMGMT_IMPORT_TYPES:
      case OSSL_FUNC_KEYMGMT_EXPORT:
      case OSSL_FUNC_KEYMGMT_EXPORT_TYPES:
      case OSSL_FUNC_KEYMGMT_DUP:
        break;
      default:
        m = PooledKeyManager();
        return a.implementation;
    }
    m.dispatch.push_back(out);
  }
  // The functions a pooled key needs (a template setter and settable list, optional, are wrapped
  // only where the default's table has them).
  if (m.gen_init == nullptr || m.gen_set_params == nullptr || m.gen == nullptr || m.gen_cleanup == nullptr ||
      m.free == nullptr) {
    m = PooledKeyManager();
    return a.implementation;
  }
  m.dispatch.push_back(OSSL_DISPATCH{0, nullptr});
  m.wrapped = true;
  return m.dispatch.data();
}

// A P-256 peer key, as every WebRTC stack's ECDSA certificate carries it (RFC 5480 section 2: the
// id-ecPublicKey algorithm with the prime256v1 named curve, an uncompressed point): the default
// decoder parses the SubjectPublicKeyInfo a second time and builds the curve's group from its
// numbers for every key (EC_GROUP_new_by_curve_name: two Montgomery setups with a modular
// inverse each, about a fifth of a peer key's decode). This one checks that the input is exactly
// that encoding and makes the key around a copy of one group made at start; anything else (other
// curves, compressed points, explicit parameters, RSA in an EC wrapper, trailing bytes) goes to the
// default decoder unchanged, as does a point the key refuses (not on the curve).
constexpr unsigned char kP256SpkiPrefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
                                             0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03,
                                             0x42, 0x00, 0x04};
constexpr size_t kP256SpkiSize = sizeof kP256SpkiPrefix + 64;

// The key of a P-256 SubjectPublicKeyInfo in exactly that encoding, or null.
EC_KEY* P256KeyOf(const Filter& f, const unsigned char* der, size_t len) {
  if (f.p256 == nullptr || len != kP256SpkiSize || std::memcmp(der, kP256SpkiPrefix, sizeof kP256SpkiPrefix) != 0) {
    return nullptr;
  }
  EC_KEY* key = EC_KEY_new_ex(f.inner, nullptr);
  // The point starts at its 0x04 (the last byte of the prefix).
  if (key == nullptr || EC_KEY_set_group(key, f.p256) != 1 ||
      EC_KEY_oct2key(key, der + sizeof kP256SpkiPrefix - 1, 65, nullptr) != 1) {
    EC_KEY_free(key);
    ERR_clear_error();
    return nullptr;
  }
  return key;
}

int P256SpkiDecode(void* ctx, OSSL_CORE_BIO* in, int selection, OSSL_CALLBACK* data_cb, void* data_cbarg,
                   OSSL_PASSPHRASE_CALLBACK* pw_cb, void* pw_cbarg) {
  const Filter& f = *g_filter;
  if (selection != 0 && (selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) == 0) {
    return f.ec_spki_decode(ctx, in, selection, data_cb, data_cbarg, pw_cb, pw_cbarg);
  }
  // Read it all (libssl hands over the SubjectPublicKeyInfo's bytes alone; a peer's certificate
  // is at most kMaxHandshakeMessage). Past 64 KiB nothing is decoded (as an undecodable key).
  unsigned char stack[512];
  std::vector<unsigned char> heap;
  unsigned char* data = stack;
  size_t cap = sizeof stack;
  size_t len = 0;
  for (;;) {
    if (len == cap) {
      if (cap >= 64 * 1024) return 1;
      heap.resize(cap * 2);
      if (data == stack) std::memcpy(heap.data(), stack, len);
      data = heap.data();
      cap = heap.size();
    }
    size_t n = 0;
    if (f.core_read_ex(in, data + len, cap - len, &n) != 1 || n == 0) break;
    len += n;
  }
  const unsigned char* der = data;
  EC_KEY* key = P256KeyOf(f, der, len);
  if (key == nullptr) {
    // The default decoder on the same bytes.
    OSSL_CORE_BIO* again = len <= 0x7fffffff ? f.core_new_membuf(der, static_cast<int>(len)) : nullptr;
    if (again == nullptr) return 0;
    const int ok = f.ec_spki_decode(ctx, again, selection, data_cb, data_cbarg, pw_cb, pw_cbarg);
    f.core_bio_free(again);
    return ok;
  }
  // What the default's decoder hands on (providers/implementations/encode_decode/decode_der2key.c):
  // an EC key by reference, which the EC key manager's load takes (and clears).
  int object_type = OSSL_OBJECT_PKEY;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &object_type),
                         OSSL_PARAM_construct_utf8_string(OSSL_OBJECT_PARAM_DATA_TYPE, const_cast<char*>("EC"), 0),
                         OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_REFERENCE, &key, sizeof key),
                         OSSL_PARAM_END};
  const int ok = data_cb(params, data_cbarg);
  EC_KEY_free(key);  // null once taken
  g_filter->p256_decodes.fetch_add(1, std::memory_order_relaxed);
  return ok;
}

// The EC SubjectPublicKeyInfo decoder with P256SpkiDecode in front; every other decoder as it is.
const OSSL_DISPATCH* WrapDecoder(Filter& f, const OSSL_ALGORITHM& a) {
  if (!FirstNameIs(a.algorithm_names, "EC") || f.core_read_ex == nullptr || f.core_new_membuf == nullptr ||
      f.core_bio_free == nullptr || !f.ec_spki_dispatch.empty()) {
    return a.implementation;
  }
  for (const OSSL_DISPATCH* d = a.implementation; d->function_id != 0; ++d) {
    OSSL_DISPATCH out = *d;
    if (d->function_id == OSSL_FUNC_DECODER_DECODE) {
      f.ec_spki_decode = OSSL_FUNC_decoder_decode(d);
      out.function = reinterpret_cast<void (*)(void)>(&P256SpkiDecode);
    }
    f.ec_spki_dispatch.push_back(out);
  }
  f.p256 = f.ec_spki_decode != nullptr ? EC_GROUP_new_by_curve_name_ex(f.inner, nullptr, NID_X9_62_prime256v1) : nullptr;
  if (f.p256 == nullptr) {
    ERR_clear_error();
    f.ec_spki_dispatch.clear();
    f.ec_spki_decode = nullptr;
    return a.implementation;
  }
  f.ec_spki_dispatch.push_back(OSSL_DISPATCH{0, nullptr});
  return f.ec_spki_dispatch.data();
}

// Makes one key of `group` with the default's gen, as libssl asks for one (key pair, the group by
// name); null on failure.
void* MakePooledKey(Filter& f, int group) {
  const PooledKeyManager& m = f.managers[PoolAlgorithmOf(group)];
  OSSL_PARAM params[] = {
      OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(kPoolGroupName[group]), 0),
      OSSL_PARAM_END};
  void* gctx = m.gen_init(f.deflt_ctx, OSSL_KEYMGMT_SELECT_KEYPAIR, params);
  void* key = gctx != nullptr ? m.gen(gctx, nullptr, nullptr) : nullptr;
  if (gctx != nullptr) m.gen_cleanup(gctx);
  if (key == nullptr) ERR_clear_error();
  return key;
}


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
  for (int group = 0; group < kPoolGroups; ++group) {
    const PooledKeyManager& m = f->managers[PoolAlgorithmOf(group)];
    for (void* key : f->pools[group].keys) m.free(key);
    f->pools[group].keys.clear();
  }
  for (Trimmed& t : f->trimmed) {
    if (t.all != nullptr) OSSL_PROVIDER_unquery_operation(f->deflt, t.operation_id, t.all);
  }
  EC_GROUP_free(f->p256);
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

int FilterInit(const OSSL_CORE_HANDLE*, const OSSL_DISPATCH* in, const OSSL_DISPATCH** out, void** provctx) {
  if (g_filter != nullptr) return 0;  // one instance per process (DtlsLibraryContext makes it once)
  auto* f = new (std::nothrow) Filter();
  if (f == nullptr) return 0;
  for (const OSSL_DISPATCH* d = in; d != nullptr && d->function_id != 0; ++d) {
    if (d->function_id == OSSL_FUNC_BIO_READ_EX) f->core_read_ex = OSSL_FUNC_BIO_read_ex(d);
    if (d->function_id == OSSL_FUNC_BIO_NEW_MEMBUF) f->core_new_membuf = OSSL_FUNC_BIO_new_membuf(d);
    if (d->function_id == OSSL_FUNC_BIO_FREE) f->core_bio_free = OSSL_FUNC_BIO_free(d);
  }
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
      t.kept.back().implementation = t.implementation(*f, *a);
    }
    t.kept.push_back(OSSL_ALGORITHM{nullptr, nullptr, nullptr, nullptr});
  }
  if (!ok) {
    FreeFilter(f);
    return 0;
  }
  f->deflt_ctx = deflt_ctx;
  // PWT_DTLS_KEY_POOL (read once): 0 turns the ECDHE key pools off, N (1 to 65536) holds N keys
  // per group; anything else keeps the defaults.
  if (const char* pool_env = std::getenv("PWT_DTLS_KEY_POOL")) {
    char* end = nullptr;
    const unsigned long n = std::strtoul(pool_env, &end, 10);
    if (end != pool_env && *end == '\0' && n <= kMaxPoolCapacity) {
      f->pooling = n > 0;
      for (size_t& c : f->capacity) c = n;
    }
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

bool DtlsLibraryContextIdleWork(uint32_t* retry_ms) {
  *retry_ms = 0;
  if (DtlsLibraryContext() == nullptr || g_filter == nullptr || !g_filter->pooling) return false;
  Filter& f = *g_filter;
  // The emptiest pool (by share of its fill target) of those asked for that has room.
  int group = -1;
  double fill = 1.0;
  for (int g = 0; g < kPoolGroups; ++g) {
    KeyPool& pool = f.pools[g];
    if (!pool.wanted.load(std::memory_order_relaxed) || !f.managers[PoolAlgorithmOf(g)].wrapped) continue;
    size_t n = 0;
    {
      std::lock_guard<std::mutex> lock(pool.mu);
      n = pool.keys.size();
    }
    const size_t target = pool.target.load(std::memory_order_relaxed);
    if (n >= target) continue;
    const double share = static_cast<double>(n) / static_cast<double>(target);
    if (share < fill) {
      fill = share;
      group = g;
    }
  }
  if (group < 0) return false;
  // Keys taken moments ago: a burst of handshakes is under way and the cores are busy with it;
  // refill once it is over, unless the pool runs low (then a gap between handshakes is used).
  const int64_t since_take = SteadyNowNs() - f.last_take_ns.load(std::memory_order_relaxed);
  const int64_t quiet_ns = g_refill_quiet_ns.load(std::memory_order_relaxed);
  if (since_take < quiet_ns && fill > kRefillLowWater) {
    *retry_ms = static_cast<uint32_t>((quiet_ns - since_take) / 1000000 + 1);
    return false;
  }
  const uint64_t t0 = ThreadCpuNs();
  void* key = MakePooledKey(f, group);
  KeyPool& pool = f.pools[group];
  pool.made_ns.fetch_add(ThreadCpuNs() - t0, std::memory_order_relaxed);
  if (key == nullptr) return false;
  {
    std::lock_guard<std::mutex> lock(pool.mu);
    if (pool.keys.size() < pool.target.load(std::memory_order_relaxed)) {
      pool.keys.push_back(key);
      key = nullptr;
    }
  }
  // Another thread filled the last place first.
  if (key != nullptr) {
    f.managers[PoolAlgorithmOf(group)].free(key);
    return false;
  }
  pool.made.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void DtlsLibraryContextAddIdleWorker(DtlsIdleWorkerWake wake, void* arg) {
  IdleWorkers& w = TheIdleWorkers();
  std::lock_guard<std::mutex> lock(w.mu);
  w.list.emplace_back(wake, arg);
  g_idle_worker_count.store(w.list.size(), std::memory_order_relaxed);
}

void DtlsLibraryContextRemoveIdleWorker(void* arg) {
  IdleWorkers& w = TheIdleWorkers();
  std::lock_guard<std::mutex> lock(w.mu);
  for (auto it = w.list.begin(); it != w.list.end(); ++it) {
    if (it->second == arg) {
      w.list.erase(it);
      break;
    }
  }
  g_idle_worker_count.store(w.list.size(), std::memory_order_relaxed);
}

void DtlsLibraryContextSetRefillQuietMsForTesting(uint32_t ms) {
  g_refill_quiet_ns.store(static_cast<int64_t>(ms) * 1000000, std::memory_order_relaxed);
}

DtlsKeyPoolStats DtlsLibraryContextKeyPoolStats(DtlsKeyPoolGroup group) {
  DtlsKeyPoolStats s;
  const int g = static_cast<int>(group);
  if (DtlsLibraryContext() == nullptr || g_filter == nullptr || g < 0 || g >= kPoolGroups) return s;
  KeyPool& pool = g_filter->pools[g];
  {
    std::lock_guard<std::mutex> lock(pool.mu);
    s.pooled = pool.keys.size();
  }
  s.capacity = g_filter->capacity[g];
  s.target = pool.target.load(std::memory_order_relaxed);
  s.enabled = g_filter->pooling && g_filter->managers[PoolAlgorithmOf(g)].wrapped;
  s.taken = pool.taken.load(std::memory_order_relaxed);
  s.missed = pool.missed.load(std::memory_order_relaxed);
  s.made = pool.made.load(std::memory_order_relaxed);
  s.made_cpu_ns = pool.made_ns.load(std::memory_order_relaxed);
  return s;
}

uint64_t DtlsLibraryContextP256Decodes() {
  if (DtlsLibraryContext() == nullptr || g_filter == nullptr) return 0;
  return g_filter->p256_decodes.load(std::memory_order_relaxed);
}

size_t DtlsLibraryContextAlgorithmCount(int operation_id) {
  if (DtlsLibraryContext() == nullptr || g_filter == nullptr) return 0;
  const Trimmed* t = g_filter->find(operation_id);
  return t != nullptr ? t->kept.size() - 1 : 0;
}

}  // namespace pwt
