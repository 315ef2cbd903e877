// cryptoRng (lib/common/rng.ts): small draws come from a pooled block of OS randomness; no byte is
// handed out twice, across refills, and what a caller got never changes afterwards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cryptoRng } from '../../../lib/common/rng.js';

test('cryptoRng.bytes: copies that later draws (three pool refills) leave unchanged, no 16-byte draw repeated', () => {
  const first = cryptoRng.bytes(16);
  const kept = Buffer.from(first);
  const seen = new Set<string>([first.toString('hex')]);
  // 800 draws of 16 bytes is 12,800 bytes: the 4 KiB pool is refilled three times.
  for (let i = 0; i < 800; i++) {
    const b = cryptoRng.bytes(16);
    assert.equal(b.length, 16);
    const hex = b.toString('hex');
    assert.ok(!seen.has(hex), 'a draw repeated an earlier one');
    seen.add(hex);
  }
  assert.deepEqual(first, kept);
});

test('cryptoRng.uint32 and float: in range, and draws across refills are not constant', () => {
  const values = new Set<number>();
  for (let i = 0; i < 3000; i++) {
    const v = cryptoRng.uint32();
    assert.ok(Number.isInteger(v) && v >= 0 && v <= 0xffffffff);
    values.add(v);
    const f = cryptoRng.float();
    assert.ok(f >= 0 && f < 1);
  }
  // 3000 uniform 32-bit draws collide with probability about 1e-3; far fewer distinct values
  // would mean the pool handed out the same bytes again.
  assert.ok(values.size >= 2990, `${values.size} distinct of 3000`);
});

test('cryptoRng.bytes: a draw larger than the pool slice limit comes straight from the OS', () => {
  const big = cryptoRng.bytes(2048);
  assert.equal(big.length, 2048);
  assert.notDeepEqual(big, cryptoRng.bytes(2048));
});
