// CRC32c known answers (RFC 3720 section B.4, the iSCSI vectors SCTP shares per RFC 9260
// Appendix A) and agreement with a bitwise reference on random input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crc32c, sctpChecksum } from '../../../lib/sctp/crc32c.js';

function reference(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

test('RFC 3720 B.4 vectors', () => {
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
});

test('slicing-by-8 equals the bitwise definition, also when continued across splits', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (data, cut) => {
      const whole = crc32c(data);
      assert.equal(whole, reference(data));
      const k = data.length ? cut % data.length : 0;
      assert.equal(crc32c(data, k, data.length, crc32c(data, 0, k)), whole);
    }),
    { numRuns: 300 },
  );
});

test('views at any byte offset give the same CRC (word reads handle misalignment)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.nat(7), (data, shift) => {
      const backing = new Uint8Array(data.length + 8);
      backing.set(data, shift);
      assert.equal(crc32c(backing.subarray(shift, shift + data.length)), reference(data));
    }),
    { numRuns: 300 },
  );
});

test('sctpChecksum treats the checksum field as zero (RFC 9260 section 6.8)', () => {
  const pkt = Buffer.from('0123456789abcdefghijklmnop');
  const a = sctpChecksum(pkt);
  pkt.writeUInt32LE(0xffffffff, 8);
  assert.equal(sctpChecksum(pkt), a);
  const zeroed = Buffer.from(pkt);
  zeroed.writeUInt32LE(0, 8);
  assert.equal(a, crc32c(zeroed));
});
