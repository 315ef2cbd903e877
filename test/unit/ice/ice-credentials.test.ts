// randomIceString / generateIceCredentials (lib/ice/ice-credentials.ts): ice-chars only (RFC 8839
// §5.4), the requested lengths, and the string the per-character form made from the same draws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateIceCredentials, isIceString, randomIceString } from '../../../lib/ice/ice-credentials.js';
import { SeededRng, type Rng } from '../../../lib/common/rng.js';

const ICE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** The form before the reused buffer: one character per drawn byte. */
function perCharacter(rng: Rng, length: number): string {
  const bytes = rng.bytes(length);
  let s = '';
  for (let i = 0; i < length; i++) s += ICE_CHARS[bytes[i]! & 63];
  return s;
}

test('randomIceString gives what the per-character form gives from the same draws, with or without rng.fill', () => {
  const a = new SeededRng(7);
  const b = new SeededRng(7);
  const withoutFill: Rng = { uint32: () => a.uint32(), float: () => a.float(), bytes: (n) => a.bytes(n) };
  const c = new SeededRng(7);
  for (const length of [4, 8, 22, 24, 256, 300, 8]) {
    const expected = perCharacter(b, length);
    assert.equal(randomIceString(c, length), expected);
    assert.equal(randomIceString(withoutFill, length), expected);
  }
});

test('generated credentials are ice-chars of the RFC 8839 lengths, and differ', () => {
  const rng = new SeededRng(1);
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const { ufrag, password } = generateIceCredentials(rng);
    assert.equal(ufrag.length, 8);
    assert.equal(password.length, 24);
    assert.ok(isIceString(ufrag, 4) && isIceString(password, 22), `${ufrag} ${password}`);
    seen.add(ufrag);
  }
  assert.equal(seen.size, 200);
});
