// Typed view of the addon's STUN MESSAGE-INTEGRITY (binding/stun_integrity_binding.cpp,
// native/stun/stun_integrity.hpp; RFC 8489 §14.5): HMAC-SHA1 with no OpenSSL fetch per message.
import { nativeExport } from './addon.js';

type StunIntegritySha1 = (key: Uint8Array, msg: Uint8Array, covered: number, lengthField: number, out: Uint8Array) => boolean;

let fn: StunIntegritySha1 | undefined;

/**
 * Writes HMAC-SHA1(key, msg[0..2) || lengthField || msg[4..covered)) into `out` (20 bytes); false
 * when `covered` is outside `msg` or shorter than a STUN header.
 */
export function stunIntegritySha1(key: Uint8Array, msg: Uint8Array, covered: number, lengthField: number, out: Uint8Array): boolean {
  return (fn ??= nativeExport<StunIntegritySha1>('stunIntegritySha1'))(key, msg, covered, lengthField, out);
}
