// The pacer (lib/policy/pacer.ts): leaky bucket at target × pacing factor, burst bound, priority
// classes, the queue-drain guarantee, and argument checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pacer } from '../../../lib/policy/pacer.js';
import type { PwtError } from '../../../lib/common/errors.js';

/** Drains the pacer until `until`, returning [time, packet] of each send. */
function drain<T>(p: Pacer<T>, from: number, until: number): [number, T][] {
  const out: [number, T][] = [];
  let now = from;
  for (let guard = 0; guard < 1_000_000; guard++) {
    for (let x = p.poll(now); x !== undefined; x = p.poll(now)) out.push([now, x]);
    const t = p.nextTimeout();
    if (t === undefined || t > until) break;
    now = Math.max(now, t);
  }
  return out;
}

test('sends at target × pacing factor: 100 packets of 1250 bytes at 1 Mbit/s × 2.5 take 400 ms', () => {
  const p = new Pacer<number>({ initialTargetBitrate: 1_000_000 });
  for (let i = 0; i < 100; i++) p.enqueue(0, i, 1250);
  const sent = drain(p, 0, 10_000);
  assert.deepEqual(sent.map(([, x]) => x), Array.from({ length: 100 }, (_, i) => i), 'FIFO');
  const last = sent.at(-1)![0];
  assert.ok(last > 390 && last < 400, `last at ${last} ms`);
  // Burst bound: never more than the bucket (5 ms of rate) plus one packet ahead of the rate.
  for (const [t, x] of sent) assert.ok((x - 1) * 1250 * 8 <= (t + 5) * 2500, `packet ${x} at ${t}`);
  assert.equal(p.stats.sent, 100);
  assert.equal(p.queueLength, 0);
});

test('priority: audio, then retransmissions, then video, then padding; audio is not held by the budget', () => {
  const p = new Pacer<string>({ initialTargetBitrate: 100_000 });
  p.enqueue(0, 'v1', 1200, 'video');
  p.enqueue(0, 'pad', 200, 'padding');
  p.enqueue(0, 'v2', 1200, 'video');
  p.enqueue(0, 'rtx', 1200, 'retransmission');
  p.enqueue(0, 'a1', 100, 'audio');
  const first = drain(p, 0, 0).map(([, x]) => x);
  assert.deepEqual(first, ['a1', 'rtx'], 'audio goes at once, then one paced packet');
  p.enqueue(1, 'a2', 100, 'audio');
  assert.equal(p.poll(1), 'a2', 'audio bypasses the exhausted budget');
  const rest = drain(p, 1, 10_000).map(([, x]) => x);
  assert.deepEqual(rest, ['v1', 'v2', 'pad']);
});

test('a lower target slows it, and the queue is drained within maxQueueMs whatever the target', () => {
  const p = new Pacer<number>({ initialTargetBitrate: 1_000_000, maxQueueMs: 1000 });
  p.setTargetBitrate(0, 40_000); // 100 kbit/s pacing: 250 kB would take 20 s
  for (let i = 0; i < 200; i++) p.enqueue(0, i, 1250);
  const sent = drain(p, 0, 60_000);
  assert.equal(sent.length, 200);
  assert.ok(sent.at(-1)![0] <= 1000 + 1, `drained by ${sent.at(-1)![0]} ms`);
  assert.ok(p.stats.maxQueueDelayMs <= 1001);
});

test('an idle pacer does not save up more than one burst', () => {
  const p = new Pacer<number>({ initialTargetBitrate: 1_000_000, burstMs: 5 });
  p.poll(0);
  for (let i = 0; i < 10; i++) p.enqueue(10_000, i, 1000);
  const atOnce = drain(p, 10_000, 10_000).length;
  assert.ok(atOnce <= 3, `after 10 s idle only ~5 ms of rate goes at once (${atOnce} packets)`);
});

test('bad rates and options throw a RangeError with a stable code', () => {
  assert.throws(() => new Pacer({ pacingFactor: 0 }), (e: PwtError) => e.name === 'RangeError' && e.code === 'ERR_PACER_OPTION');
  const p = new Pacer();
  assert.throws(() => p.setTargetBitrate(0, -1), (e: PwtError) => e.code === 'ERR_PACER_RATE');
  assert.throws(() => p.setTargetBitrate(0, Number.NaN), (e: PwtError) => e.code === 'ERR_PACER_RATE');
});
