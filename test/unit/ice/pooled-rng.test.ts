// The pooled CSPRNG used by the ICE driver: values vary, copies are independent, large requests work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PooledCryptoRng } from '../../../lib/common/rng.js';

test('pooled rng gives distinct, independent values across pool refills', () => {
  const r = new PooledCryptoRng();
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) seen.add(r.bytes(12).toString('hex'));
  assert.equal(seen.size, 2000);
  const a = r.bytes(8);
  const copy = Buffer.from(a);
  for (let i = 0; i < 1000; i++) r.bytes(16);
  assert.deepEqual(a, copy, 'returned bytes are not overwritten by refills');
  assert.equal(r.bytes(5000).length, 5000);
  const f = r.float();
  assert.ok(f >= 0 && f < 1);
  assert.ok(Number.isInteger(r.uint32()));
});
