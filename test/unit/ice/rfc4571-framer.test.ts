// RFC 4571 framing (lib/ice/rfc4571-framer.ts): frames split anywhere across chunks come out whole
// and in order, zero-length frames are skipped and counted, and at most one frame is buffered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { frameRfc4571, Rfc4571Framer } from '../../../lib/ice/rfc4571-framer.js';

test('frames cut at arbitrary points reassemble in order', () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 3000 }), { maxLength: 20 }), fc.array(fc.nat(4000), { maxLength: 30 }), (packets, cuts) => {
    const stream = Buffer.concat(packets.map((p) => frameRfc4571(p)));
    const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
    const framer = new Rfc4571Framer();
    const out: Buffer[] = [];
    let prev = 0;
    for (const p of [...points, stream.length]) {
      out.push(...framer.push(stream.subarray(prev, p)));
      prev = p;
    }
    assert.deepEqual(out.map((b) => Buffer.from(b)), packets.map((p) => Buffer.from(p)));
    assert.equal(framer.pendingBytes, 0);
  }), { numRuns: 300 });
});

test('zero-length frames are skipped and counted; a lying length holds at most one frame', () => {
  const framer = new Rfc4571Framer();
  assert.deepEqual(framer.push(Buffer.from([0, 0, 0, 1, 7, 0, 0])), [Buffer.from([7])]);
  assert.equal(framer.emptyFrames, 2);
  // Announces 65535 bytes and sends 10: buffered, nothing out, bounded by the length field.
  assert.deepEqual(framer.push(Buffer.from([0xff, 0xff, ...new Array(10).fill(1)])), []);
  assert.equal(framer.pendingBytes, 12);
  for (let i = 0; i < 100; i++) framer.push(Buffer.alloc(1000));
  assert.ok(framer.pendingBytes <= 2 + 65535, `pending ${framer.pendingBytes}`);
});

test('frameRfc4571 prefixes the 16-bit length', () => {
  assert.deepEqual(frameRfc4571(Buffer.from([1, 2, 3])), Buffer.from([0, 3, 1, 2, 3]));
});
