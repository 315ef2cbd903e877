// ICE username fragments and passwords (RFC 8445 §5.3; RFC 8839 §5.4: ufrag >= 4 and
// pwd >= 22 ice-chars) and TURN long-term credential keys (RFC 8489 §9.2.2).
import { createHash } from 'node:crypto';
import type { Rng } from '../common/rng.js';

const ICE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** A ufrag/password pair. */
export interface IceCredentials {
  readonly ufrag: string;
  readonly password: string;
}

/** ICE_CHARS as byte values, for {@link randomIceString}. */
const ICE_CHAR_CODES = Buffer.from(ICE_CHARS, 'latin1');
/** Where {@link randomIceString} maps its draws to ice-chars (a ufrag or password fits). */
const ICE_STRING_SCRATCH = Buffer.alloc(256);

/**
 * A random string of `length` ice-chars drawn from `rng` (the same draws as `rng.bytes(length)`).
 * Made as one flat string from a reused buffer: not one concatenation per character and a
 * Buffer per call (about 2 KiB per connection, docs/peer.md "Setup cost").
 */
export function randomIceString(rng: Rng, length: number): string {
  const buf = length <= ICE_STRING_SCRATCH.length ? ICE_STRING_SCRATCH : Buffer.allocUnsafe(length);
  if (rng.fill) rng.fill(buf, 0, length);
  else buf.set(rng.bytes(length), 0);
  for (let i = 0; i < length; i++) buf[i] = ICE_CHAR_CODES[buf[i]! & 63]!;
  return buf.toString('latin1', 0, length);
}

/** Fresh local credentials: 8-char ufrag (48 bits) and 24-char password (144 bits). */
export function generateIceCredentials(rng: Rng): IceCredentials {
  return { ufrag: randomIceString(rng, 8), password: randomIceString(rng, 24) };
}

/** True when `s` is a valid ufrag (4-256 ice-chars) or, with `min` 22, a valid password. */
export function isIceString(s: string, min: number): boolean {
  return s.length >= min && s.length <= 256 && /^[A-Za-z0-9+/]+$/.test(s);
}

/**
 * Long-term credential key MD5(username ":" realm ":" password) (RFC 8489 §9.2.2). The password
 * is used as given: callers with non-ASCII passwords must apply SASLprep/OpaqueString first.
 */
export function longTermKey(username: string, realm: string, password: string): Buffer {
  return createHash('md5').update(`${username}:${realm}:${password}`, 'utf8').digest();
}
