// STUN MESSAGE-INTEGRITY through the addon (lib/native/stun-integrity.ts, RFC 8489 §14.5) gives the
// same HMAC-SHA1 as node:crypto for random messages and keys (short ICE passwords, 16-byte
// long-term keys, keys above the 64-byte block), and refuses out-of-range arguments; messages
// encoded with it verify, and a flipped bit or another key fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { stunIntegritySha1 } from '../../../lib/native/stun-integrity.js';
import { StunMessage } from '../../../lib/ice/stun-message.js';
import { StunAttr, StunClass, StunMethod } from '../../../lib/ice/stun-constants.js';
import { SeededRng } from '../../../lib/common/rng.js';
import { crc32 } from '../../../lib/ice/crc32.js';

test('native MESSAGE-INTEGRITY equals node:crypto HMAC-SHA1 over the covered bytes', () => {
  const rng = new SeededRng(16);
  const out = Buffer.alloc(20);
  for (let i = 0; i < 300; i++) {
    const key = Buffer.from(rng.bytes([4, 16, 22, 64, 65, 100][i % 6]!));
    const covered = 20 + 4 * Math.floor(rng.float() * 100);
    const msg = Buffer.from(rng.bytes(covered + 24));
    const lengthField = Math.floor(rng.float() * 0x10000);
    assert.equal(stunIntegritySha1(key, msg, covered, lengthField, out), true);
    const head = Buffer.from([msg[0]!, msg[1]!, lengthField >> 8, lengthField & 0xff]);
    const expected = createHmac('sha1', key).update(head).update(msg.subarray(4, covered)).digest();
    assert.ok(out.equals(expected), `message ${i}`);
  }
});

test('native MESSAGE-INTEGRITY refuses arguments out of range instead of throwing', () => {
  const msg = Buffer.alloc(40);
  const key = Buffer.from('password');
  assert.equal(stunIntegritySha1(key, msg, 19, 0, Buffer.alloc(20)), false);
  assert.equal(stunIntegritySha1(key, msg, 41, 0, Buffer.alloc(20)), false);
  assert.equal(stunIntegritySha1(key, msg, 20, 0x10000, Buffer.alloc(20)), false);
  assert.equal(stunIntegritySha1(key, msg, 20, 0, Buffer.alloc(19)), false);
});

test('a message encoded with native integrity verifies; a flipped bit or another key does not', () => {
  const key = Buffer.from('VOkJxbRl1RmTxUk/WvJxBt');
  const data = new StunMessage(StunMethod.Binding, StunClass.Request, Buffer.alloc(12, 7))
    .addString(StunAttr.Username, 'abcd:efgh')
    .addUint32(StunAttr.Priority, 0x6e0001ff)
    .encode({ integrityKey: key, fingerprint: true });
  const ok = StunMessage.decode(data);
  assert.ok(ok.ok);
  assert.equal(ok.message.verifyIntegrity(key), true);
  assert.equal(ok.message.verifyIntegrity(Buffer.from('another password')), false);
  const flipped = Buffer.from(data);
  flipped[30]! ^= 1;
  // FINGERPRINT is recomputed so that only MESSAGE-INTEGRITY can catch the change.
  const refingerprinted = StunMessage.decode(refingerprint(flipped));
  assert.ok(refingerprinted.ok);
  assert.equal(refingerprinted.message.verifyIntegrity(key), false);
});

/** The same bytes with a FINGERPRINT that matches them (RFC 8489 §14.7). */
function refingerprint(data: Buffer): Buffer {
  const out = Buffer.from(data);
  const at = out.length - 8;
  out.writeUInt32BE((crc32(out.subarray(0, at)) ^ 0x5354554e) >>> 0, at + 4);
  return out;
}

