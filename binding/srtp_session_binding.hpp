// N-API glue of the SRTP engine: the wrapped SrtpSession class (exported as `SrtpSession`)
// and the native-only keying entry point used by the DTLS binding (RFC 5764 section 4.2).
#pragma once
#include <napi.h>

#include "native/srtp/srtp_keying.hpp"
#include "native/srtp/srtp_session.hpp"

namespace pwt {

/**
 * Keys the JS SrtpSession object `session` from DTLS-SRTP keying material without the keys
 * ever reaching JavaScript: the DTLS client protects with km.client and unprotects with
 * km.server, the server the reverse. Any previous keys and stream state are replaced.
 * Returns false, with no pending JS exception, when `session` is not a (open) native
 * SrtpSession or the material does not fit its profile. Call on the session's own thread.
 */
bool KeySrtpSessionFromDtls(Napi::Env env, Napi::Value session, const SrtpKeyingMaterial& km, bool is_dtls_client);

/**
 * The native core of the JS SrtpSession object `session` (its `nativeHandle`), or nullptr
 * when it is not one. For native data paths (the UDP receive batch) that unprotect in place
 * without a JS call per packet. The pointer lives as long as the JS object: hold a reference
 * to it. After close() the core stays valid and drops everything as kNotKeyed.
 */
SrtpSession* SrtpSessionFromValue(Napi::Env env, Napi::Value session);

}  // namespace pwt
