// bench/peers/fanout-floor.ts: the fanout suite's loopback floor rows are read from fanout_floor's
// JSON lines; a malformed, truncated or empty round is refused rather than turned into a figure; the
// 2 µs verdict of bench/suites/fanout.ts is printed where the target applies (N >= 50).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFloorOutput } from '../../../bench/peers/fanout-floor.js';
import { kernelFloorVerdict } from '../../../bench/suites/fanout.js';

const line = (o: Record<string, unknown>): string => JSON.stringify(o);
const good = { round: 1, datagrams: 90000, userUs: 4083, sysUs: 235181, seconds: 3.0008, delivered: 90000, wakeups: 450, blocked: 0 };

test('rounds are read field by field, blank lines skipped', () => {
  const rounds = parseFloorOutput(`${line(good)}\n\n${line({ ...good, round: 2, userUs: 0, sysUs: 240000, delivered: 89990 })}\n`);
  assert.equal(rounds.length, 2);
  assert.deepEqual(rounds[0], { datagrams: 90000, userUs: 4083, sysUs: 235181, seconds: 3.0008, delivered: 90000, wakeups: 450, blocked: 0 });
  assert.equal(rounds[1]!.sysUs, 240000);
  assert.equal(rounds[1]!.delivered, 89990);
});

test('a line that is not JSON (a truncated output) is refused', () => {
  assert.throws(() => parseFloorOutput(`${line(good)}\n{"round":2,"datagrams":9`), /not JSON/);
});

test('a missing, negative or non-numeric field is refused, naming the field', () => {
  const { sysUs: _, ...noSys } = good;
  assert.throws(() => parseFloorOutput(line(noSys)), /valid sysUs/);
  assert.throws(() => parseFloorOutput(line({ ...good, userUs: -1 })), /valid userUs/);
  assert.throws(() => parseFloorOutput(line({ ...good, delivered: '90000' })), /valid delivered/);
  assert.throws(() => parseFloorOutput('[1,2]'), /valid datagrams/);
  assert.throws(() => parseFloorOutput('null'), /not an object/);
});

test('a round that sent nothing is refused (no division by zero downstream)', () => {
  assert.throws(() => parseFloorOutput(line({ ...good, datagrams: 0 })), /sent nothing/);
});

test('no output is no rounds', () => {
  assert.deepEqual(parseFloorOutput(''), []);
});

test('the 2 µs verdict is printed for N >= 50 only (the target is stated for fan-outs of 50 and more)', () => {
  assert.equal(kernelFloorVerdict(1, 2.5), '');
  assert.equal(kernelFloorVerdict(10, 1.9), '');
  assert.equal(kernelFloorVerdict(49, 2.5), '');
  assert.equal(kernelFloorVerdict(50, 2.24), '; the kernel floor alone is above the 2 µs target');
  assert.equal(kernelFloorVerdict(200, 1.8), '; the kernel floor alone is below the 2 µs target');
  assert.equal(kernelFloorVerdict(200, undefined), '', 'no kernel floor measured: no verdict');
});
