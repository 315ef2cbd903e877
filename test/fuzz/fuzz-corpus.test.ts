// Replays every committed fuzz corpus file (test/fuzz/corpus/<target>/) through its target, every
// truncation of each seed, and a bounded number of deterministic mutations (fixed RNG seed), so
// `npm test` catches a regression on any input a fuzz run ever kept. Longer runs: scripts/fuzz.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FUZZ_TARGETS } from './targets.js';
import { fuzzTarget, loadCorpus, runOne, type FuzzFinding } from './fuzz-target.js';
import { Mutator } from './mutator.js';

/** Mutations per target: bounded so the whole file stays well under a minute on a loaded machine. */
const MUTATIONS = 1500;
const SEED = 0x5eed;

function describe(findings: readonly FuzzFinding[]): string {
  return findings
    .slice(0, 5)
    .map((f) => `${f.target} ${f.origin}\n  input ${f.input.toString('hex').slice(0, 256)}${f.input.length > 128 ? '…' : ''}\n  ${f.error.split('\n').slice(0, 3).join('\n  ')}`)
    .join('\n');
}

test('every target has a committed seed corpus', () => {
  for (const t of FUZZ_TARGETS) assert.ok(loadCorpus(t.name).length > 0, `test/fuzz/corpus/${t.name} is empty`);
});

test('the mutator is deterministic for a seed and varies the input', () => {
  const seeds = [Buffer.from('0123456789abcdef'), Buffer.from('fedcba9876543210')];
  const a = new Mutator(7, seeds);
  const b = new Mutator(7, seeds);
  const outA = Array.from({ length: 50 }, () => a.next().toString('hex'));
  const outB = Array.from({ length: 50 }, () => b.next().toString('hex'));
  assert.deepEqual(outA, outB);
  assert.ok(new Set(outA).size > 25, 'mutations repeat too often');
  assert.ok(outA.some((h) => h !== seeds[0]!.toString('hex') && h !== seeds[1]!.toString('hex')));
});

test('the runner reports an untyped exception and accepts the documented error', () => {
  const target = {
    name: 'self-check',
    description: 'throws on a 0xff first byte',
    maxLength: 8,
    run(d: Buffer): void {
      if (d[0] === 0xff) throw new TypeError('boom');
      if (d[0] === 0xfe) throw new RangeError('documented');
    },
    isExpectedError: (e: unknown) => e instanceof RangeError,
  };
  assert.match(runOne(target, Buffer.from([0xff])) ?? '', /TypeError: boom/);
  assert.equal(runOne(target, Buffer.from([0xfe])), undefined);
  assert.equal(runOne(target, Buffer.from([0])), undefined);
});

for (const target of FUZZ_TARGETS) {
  test(`fuzz ${target.name}: corpus, truncations and ${MUTATIONS} mutations hold the invariant`, () => {
    const findings = fuzzTarget(target, { seed: SEED, iterations: MUTATIONS, truncateCorpus: true, maxFindings: 5 });
    assert.equal(findings.length, 0, `${target.description}\n${describe(findings)}`);
  });
}
