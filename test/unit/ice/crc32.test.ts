import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crc32, tableCrc32 } from '../../../lib/ice/crc32.js';

describe('crc32 (STUN FINGERPRINT, RFC 8489 §14.7)', () => {
  it('gives the check value of CRC-32/ISO-HDLC and 0 for no bytes', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(tableCrc32(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32(new Uint8Array(0)), 0);
    assert.equal(crc32(Buffer.from('x123456789y'), 1, 10), 0xcbf43926);
  });

  it('gives the table CRC for any bytes and range, views into a larger buffer included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(), fc.nat(), fc.nat({ max: 16 }), (bytes, a, b, pad) => {
        // A view at an offset into a bigger ArrayBuffer, as Buffer's pool slices are.
        const backing = new Uint8Array(bytes.length + 2 * pad);
        backing.set(bytes, pad);
        const data = backing.subarray(pad, pad + bytes.length);
        const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
        const end = start + (bytes.length === 0 ? 0 : b % (bytes.length - start + 1));
        const got = crc32(data, start, end);
        assert.equal(got, tableCrc32(data, start, end));
        assert.ok(got >= 0 && got <= 0xffffffff);
        assert.equal(crc32(data), tableCrc32(data));
      }),
      { numRuns: 500 },
    );
  });
});
