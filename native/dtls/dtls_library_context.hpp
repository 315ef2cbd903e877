// The OpenSSL library context of our DTLS handshakes: a private OSSL_LIB_CTX whose only provider is
// a built-in filter over OpenSSL's `default` provider (docs/dtls.md, "Library context").
#pragma once
#include <openssl/crypto.h>

#include <cstddef>

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

/** Algorithms the filter serves for an operation (OSSL_OP_DECODER, OSSL_OP_KEYMGMT; for tests). */
size_t DtlsLibraryContextAlgorithmCount(int operation_id);

}  // namespace pwt
