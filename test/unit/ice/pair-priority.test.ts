// Candidate-pair priority in Numbers (RFC 8445 §6.1.2.3) against the formula in BigInt, over edge and
// random candidate priorities: the exact value, and the order of pairs it gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { comparePairPriority, setPairPriority, type PairPriority } from '../../../lib/ice/pair-priority.js';
import { candidatePriority } from '../../../lib/ice/candidate.js';

/** The RFC's formula as written, in 64-bit-safe BigInt: 2^32 MIN(G,D) + 2 MAX(G,D) + (G>D ? 1 : 0). */
function referencePriority(g: number, d: number): bigint {
  const G = BigInt(g);
  const D = BigInt(d);
  const min = G < D ? G : D;
  const max = G < D ? D : G;
  return (min << 32n) + 2n * max + (G > D ? 1n : 0n);
}

function priorityOf(g: number, d: number): PairPriority {
  const p: PairPriority = { priorityHigh: -1, priorityLow: -1 };
  setPairPriority(p, g, d);
  return p;
}

function asBigInt(p: PairPriority): bigint {
  return (BigInt(p.priorityHigh) << 32n) + BigInt(p.priorityLow);
}

const MAX_32 = 0xffffffff;
const EDGES = [0, 1, 2, 255, 256, 0x7fffffff, 0x80000000, 0x80000001, MAX_32 - 1, MAX_32,
  candidatePriority('host', 65535), candidatePriority('host', 65534), candidatePriority('prflx', 65535),
  candidatePriority('srflx', 65535), candidatePriority('relay', 0), 1677729535, 2122262783, 2122260223];

test('the two halves hold the exact RFC 8445 §6.1.2.3 value at the edges', () => {
  for (const g of EDGES) {
    for (const d of EDGES) {
      const p = priorityOf(g, d);
      assert.equal(asBigInt(p), referencePriority(g, d), `G=${g} D=${d}`);
      assert.ok(Number.isSafeInteger(p.priorityHigh) && Number.isSafeInteger(p.priorityLow));
      assert.ok(p.priorityLow >= 0 && p.priorityLow < 2 ** 32, `low half of G=${g} D=${d}`);
    }
  }
  // The worked values: 2^32·10 + 40, and one more when G > D.
  assert.equal(asBigInt(priorityOf(10, 20)), (10n << 32n) + 40n);
  assert.equal(asBigInt(priorityOf(20, 10)), (10n << 32n) + 40n + 1n);
  // 2 MAX + 1 carries into the upper half once MAX reaches 2^31.
  assert.deepEqual(priorityOf(MAX_32, 0x80000000), { priorityHigh: 0x80000001, priorityLow: MAX_32 });
});

test('property: value and order match the BigInt formula for random candidate priorities', () => {
  const prio = fc.oneof(fc.integer({ min: 0, max: MAX_32 }), fc.constantFrom(...EDGES));
  fc.assert(fc.property(prio, prio, prio, prio, (g1, d1, g2, d2) => {
    const a = priorityOf(g1, d1);
    const b = priorityOf(g2, d2);
    const ra = referencePriority(g1, d1);
    const rb = referencePriority(g2, d2);
    assert.equal(asBigInt(a), ra);
    assert.equal(Math.sign(comparePairPriority(a, b)), ra > rb ? 1 : ra < rb ? -1 : 0);
    assert.equal(Math.sign(comparePairPriority(b, a)), rb > ra ? 1 : rb < ra ? -1 : 0);
  }), { numRuns: 5000 });
});

test('sorting pairs by the halves gives the BigInt order', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: MAX_32 }), fc.integer({ min: 0, max: MAX_32 })), { maxLength: 40 }), (cands) => {
    const pairs = cands.map(([g, d], id) => ({ id, ref: referencePriority(g, d), ...priorityOf(g, d) }));
    const byHalves = [...pairs].sort((x, y) => comparePairPriority(y, x) || x.id - y.id).map((p) => p.id);
    const byBigInt = [...pairs].sort((x, y) => (x.ref > y.ref ? -1 : x.ref < y.ref ? 1 : x.id - y.id)).map((p) => p.id);
    assert.deepEqual(byHalves, byBigInt);
  }), { numRuns: 500 });
});
