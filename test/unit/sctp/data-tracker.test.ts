// Receive-side TSN tracking (RFC 9260 sections 6.2 and 6.7): cumulative TSN, gap-ack blocks,
// duplicates, wraparound at 2^32, and the window bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DataTracker, MAX_TSN_AHEAD } from '../../../lib/sctp/data-tracker.js';
import { tsnAdd } from '../../../lib/sctp/tsn.js';

test('gaps and duplicates as in the RFC 9260 section 3.3.4 example', () => {
  const t = new DataTracker(1);
  for (const tsn of [1, 2, 4, 5, 7]) assert.equal(t.observe(tsn), 'new');
  assert.equal(t.cumTsn, 2);
  assert.deepEqual(t.gapBlocks(10), [{ start: 2, end: 3 }, { start: 5, end: 5 }]);
  assert.equal(t.observe(4), 'duplicate');
  assert.equal(t.observe(1), 'duplicate');
  assert.deepEqual(t.takeDuplicates(), [4, 1]);
  assert.equal(t.observe(3), 'new');
  assert.equal(t.cumTsn, 5);
  assert.deepEqual(t.gapBlocks(10), [{ start: 2, end: 2 }]);
});

test('wraps around 2^32 and refuses TSNs beyond the 16-bit gap range', () => {
  const t = new DataTracker(0xfffffffe);
  assert.equal(t.observe(0xfffffffe), 'new');
  assert.equal(t.observe(0), 'new');
  assert.equal(t.observe(0xffffffff), 'new');
  assert.equal(t.cumTsn, 0);
  assert.equal(t.classify(MAX_TSN_AHEAD + 1), 'too-far');
  assert.equal(t.classify(MAX_TSN_AHEAD), 'new');
});

test('forwardTo moves past missing TSNs and absorbs received ones above', () => {
  const t = new DataTracker(10);
  t.observe(10);
  t.observe(14);
  t.observe(15);
  t.forwardTo(12);
  assert.equal(t.cumTsn, 12);
  t.observe(13);
  assert.equal(t.cumTsn, 15);
});

test('any arrival order: cum TSN and gaps describe exactly the set received', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.array(fc.nat(60), { maxLength: 80 }), (start, offs) => {
      const t = new DataTracker(start);
      const got = new Set<number>();
      for (const o of offs) {
        t.observe(tsnAdd(start, o));
        got.add(o);
      }
      let cum = -1;
      while (got.has(cum + 1)) cum++;
      assert.equal(t.cumTsn, tsnAdd(start, cum));
      const fromGaps = new Set<number>();
      for (const g of t.gapBlocks(1000)) for (let i = g.start; i <= g.end; i++) fromGaps.add(cum + i);
      assert.deepEqual([...fromGaps].sort((a, b) => a - b), [...got].filter((o) => o > cum).sort((a, b) => a - b));
    }),
    { numRuns: 300 },
  );
});
