// The fanout benchmark's native load generator (bench/loadgen, bench/peers/fanout-native-clients.ts)
// against real relays in their own processes: over real ICE/DTLS-SRTP on loopback it delivers every
// published packet to every subscriber and counts each exactly once, paced and as frames; a NACKing
// subscriber's dropped packets come back from ours-native's cache (RTX) and still count once; the
// werift relay gets the same client. Low rates, so a loaded machine delivers everything too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFanout } from '../../bench/peers/fanout-run.js';
import type { FanoutRound } from '../../bench/peers/fanout-protocol.js';

function assertExact(rounds: FanoutRound[], subscribers: number): void {
  for (const r of rounds) {
    assert.ok(r.published! > 0);
    // The publisher's wake-ups that sent (the loopback floor replays published / bursts per wake-up).
    assert.ok(r.publishedBursts! >= 1 && r.publishedBursts! <= r.published!, `bursts ${r.publishedBursts} of ${r.published} packets`);
    assert.equal(r.offered, r.published! * subscribers);
    assert.equal(r.delivered, r.offered, 'every subscriber got every packet, counted once');
    assert.equal(r.client!.minDelivered, r.published);
    assert.equal(r.client!.duplicates, 0);
    assert.equal(r.client!.foreign, 0);
    assert.equal(r.client!.unauthenticated, 0);
  }
}

test('ours-native: every packet delivered and counted once, paced and as frames', { timeout: 240_000 }, async () => {
  const outcome = await runFanout('ours-native', {
    subscribers: 3, offeredPps: 600, maxPublisherPps: 300, payload: 1000, seconds: 0.5, warmupSeconds: 0.3, rounds: 1,
    steps: [{ publisherPps: 200, pattern: 'paced' }, { publisherPps: 300, pattern: 'frames' }],
  }, 200_000);
  assert.ok(outcome.ok, outcome.ok ? '' : outcome.error);
  assert.equal(outcome.result.length, 2);
  assertExact(outcome.result, 3);
  assert.equal(outcome.result[0]!.published, 100);
  assert.equal(outcome.result[1]!.published, 150);
  // As frames, a frame's 10 packets are due at once and leave in one burst: at most the 0.5 s round's 16 frames.
  assert.ok(outcome.result[1]!.publishedBursts! <= 16, `${outcome.result[1]!.publishedBursts} bursts`);
  // The relay forwarded them natively (no JavaScript per packet on the server either).
  for (const r of outcome.result) assert.ok(r.forwarded > 0);
});

test('ours-native video with a NACKing subscriber: dropped packets come back from the cache and count once', { timeout: 240_000 }, async () => {
  const outcome = await runFanout('ours-native', {
    subscribers: 3, offeredPps: 600, maxPublisherPps: 200, payload: 1000, seconds: 1, warmupSeconds: 0.3, rounds: 1, nackShare: 0.01, kind: 'video',
  }, 200_000);
  assert.ok(outcome.ok, outcome.ok ? '' : outcome.error);
  const [r] = outcome.result;
  assertExact(outcome.result, 3);
  const c = r!.client!;
  // One subscriber of three drops every 50th sequence number: about 4 of 200.
  assert.ok(c.droppedOnPurpose >= 3 && c.droppedOnPurpose <= 5, `dropped ${c.droppedOnPurpose}`);
  assert.equal(c.retransmissionsReceived, c.droppedOnPurpose);
  assert.ok(r!.nacked! >= c.droppedOnPurpose);
  assert.ok(r!.retransmitted! >= c.droppedOnPurpose);
  assert.equal(r!.nackMisses, 0);
});

test('werift relay: the same client, every packet delivered', { timeout: 240_000 }, async () => {
  const outcome = await runFanout('werift', {
    subscribers: 2, offeredPps: 400, maxPublisherPps: 200, payload: 1000, seconds: 0.5, warmupSeconds: 0.3, rounds: 1,
  }, 200_000);
  assert.ok(outcome.ok, outcome.ok ? '' : outcome.error);
  assertExact(outcome.result, 2);
  assert.equal(outcome.result[0]!.published, 100);
});
