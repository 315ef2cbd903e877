// The OpenSSL library context of our DTLS handshakes: a private OSSL_LIB_CTX whose only provider is
// a built-in filter over OpenSSL's `default` provider (docs/dtls.md, "Library context").
#pragma once
#include <openssl/crypto.h>

#include <cstddef>
#include <cstdint>

namespace pwt {

/**
 * The process-wide library context every DTLS SSL_CTX, handshake key and PRF of ours uses, made on
 * first call (thread-safe) and kept for the life of the process (SSL_CTXs may outlive any one Node
 * environment, so it is never freed; it stays reachable, so leak checkers do not report it).
 *
 * Its only provider, `pwt-dtls`, passes every operation through to a `default` provider loaded in a
 * second private library context, except the decoder and key-management tables, which it trims to
 * what decoding a DTLS peer's certificate and running an ECDHE handshake need. OpenSSL 3.0 builds
 * the decoder chain of every peer certificate's public key (`OSSL_DECODER_CTX_new_for_pkey`) by
 * walking every decoder and key manager of the context, with no cache: fewer of them is less work.
 *
 * Null when OpenSSL refuses to make it (then callers use the default context, as before; the first
 * refusal prints one line to stderr). node:crypto never sees this context: nothing process-global
 * (ENGINE, default properties, the default context's providers) is changed.
 */
OSSL_LIB_CTX* DtlsLibraryContext();

/** The ECDHE groups whose keys are made ahead of use (docs/dtls.md, "Library context"). */
enum class DtlsKeyPoolGroup : int { kX25519 = 0, kP256 = 1 };

/** What one ECDHE key pool did so far (process-wide). */
struct DtlsKeyPoolStats {
  /** Keys waiting now, and the most it holds. */
  size_t pooled = 0;
  size_t capacity = 0;
  /** What the idle threads fill it to now: 0 before the group's first request, then 64, doubled
   * (up to the capacity) by each request that found it empty. */
  size_t target = 0;
  /** False when the pools are off (PWT_DTLS_KEY_POOL=0, no library context of ours). */
  bool enabled = false;
  /** Handshake keys handed out from the pool; asked for when it was empty (made on the spot). */
  uint64_t taken = 0;
  uint64_t missed = 0;
  /** Keys made in idle time, and the thread CPU that took (ns). */
  uint64_t made = 0;
  uint64_t made_cpu_ns = 0;
};

/**
 * Idle-time work of a handshake thread (no handshake work queued): makes one ECDHE key for the
 * emptiest pool of a group handshakes have asked for. True if it made one (call again once the
 * queue is checked). False when there is nothing to do now: `*retry_ms` 0 means nothing until
 * handshakes take keys again (every pool full, pooling off); more than 0 means keys were taken in
 * the last few milliseconds (a burst is under way, whose threads and cores are busy) and the pools
 * still hold more than an eighth of their keys, so the refill waits: call again after that long if
 * still idle. Thread-safe.
 */
bool DtlsLibraryContextIdleWork(uint32_t* retry_ms);

/**
 * The idle-time workers (a handshake pool's first thread per Node environment) that sleep until
 * woken once the pools need nothing: a handshake that takes a pooled key, or asks for one while the
 * pool is empty, calls one registered `wake(arg)` so the pools refill. Without it, handshakes that
 * run in place (adaptive, one connection at a time) never woke the sleeping thread and made every
 * key on the spot. `wake` must be cheap and must not call back into this file; after
 * `DtlsLibraryContextRemoveIdleWorker(arg)` returns it is not running and is not called again.
 * Thread-safe.
 */
using DtlsIdleWorkerWake = void (*)(void* arg);
void DtlsLibraryContextAddIdleWorker(DtlsIdleWorkerWake wake, void* arg);
void DtlsLibraryContextRemoveIdleWorker(void* arg);

/** Test hook: how long after a key was taken the refill waits (20 ms unless set; 0: never). */
void DtlsLibraryContextSetRefillQuietMsForTesting(uint32_t ms);

/** The figures of one key pool. */
DtlsKeyPoolStats DtlsLibraryContextKeyPoolStats(DtlsKeyPoolGroup group);

/**
 * P-256 peer keys decoded by the filter's own decoder (the exact RFC 5480 encoding with an
 * uncompressed point, made around one shared group); other keys go to the default's (for tests).
 */
uint64_t DtlsLibraryContextP256Decodes();

/** Algorithms the filter serves for an operation (OSSL_OP_DECODER, OSSL_OP_KEYMGMT; for tests). */
size_t DtlsLibraryContextAlgorithmCount(int operation_id);

}  // namespace pwt
