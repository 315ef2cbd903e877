// Transport-cc feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3) on the network
// simulator: every transport-wide sequence number is reported once, lost ones as not received,
// arrival deltas match the simulated delivery times (250 µs units), one feedback per interval,
// across the 16-bit wrap; nothing is sent unless transport-cc was negotiated; the byte writer
// round-trips through the RTCP parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../../lib/common/rng.js';
import { TransportCcFeedback } from '../../../lib/policy/transport-cc-feedback.js';
import { TransportCcWriter } from '../../../lib/policy/transport-cc-writer.js';
import { tryParseRtcp } from '../../../lib/rtp/rtcp/compound.js';
import type { RtcpTransportCcFeedback } from '../../../lib/rtp/rtcp/transport-cc-feedback.js';
import { PolicyPair } from './policy-pair.js';

test('reports each packet once with its arrival time; losses as not received; every 100 ms', () => {
  const twcc = new TransportCcFeedback();
  const pair = new PolicyPair({ network: { seed: 21, aToB: { delayMs: 30, jitterMs: 3, loss: 0.1 }, bToA: { delayMs: 30 } }, sender: [], receiver: [twcc] });
  // Start near the wrap of the 16-bit transport-wide sequence number.
  (pair as unknown as { transportSeq: number }).transportSeq = 65000;
  const arrivals = new Map<number, number>();
  const sent = pair.runVideo(3000, 2_000_000).length;
  pair.runUntil(pair.now + 500);
  for (const p of pair.b.received) arrivals.set(p.getExtension(3)!.readUInt16BE(0), 0);
  const feedback = pair.a.rtcp.filter((p): p is RtcpTransportCcFeedback => p.kind === 'transport-cc');
  assert.ok(feedback.length >= 25 && feedback.length <= 36, `about one feedback per 100 ms (${feedback.length})`);
  const reported = new Map<number, boolean>();
  for (const f of feedback) {
    for (const r of f.packets()) {
      assert.ok(!reported.has(r.sequenceNumber), `sequence ${r.sequenceNumber} reported once`);
      reported.set(r.sequenceNumber, r.deltaTicks !== null);
    }
  }
  assert.deepEqual(feedback.map((f) => f.feedbackPacketCount), feedback.map((_, i) => i & 0xff));
  const received = [...reported.values()].filter((x) => x).length;
  assert.equal(received, pair.b.received.length, 'every received packet reported as received');
  for (const seq of arrivals.keys()) assert.equal(reported.get(seq), true);
  assert.ok(reported.size >= sent - 2 && reported.size <= sent, 'the lost ones in between as not received');
  assert.ok(reported.has(65535) && reported.has(0), 'across the wrap');
  // Deltas: consecutive arrivals in one feedback differ by the simulated spacing (to 250 µs).
  const f = feedback[5]!;
  const times = f.arrivalTimesUs().filter((t): t is number => t !== null);
  for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]!, 'FIFO link: non-decreasing arrivals');
  assert.equal(twcc.counters.late, 0);
});

test('not negotiated: arrivals are recorded but no feedback is sent', () => {
  const pair = new PolicyPair({ network: { seed: 1, aToB: { delayMs: 10 } }, sender: [], receiver: [new TransportCcFeedback()], feedback: [{ type: 'nack' }] });
  pair.runVideo(500);
  pair.runUntil(pair.now + 300);
  assert.equal(pair.a.rtcp.length, 0);
});

test('a late packet (already reported lost) is counted, not reported twice', () => {
  const twcc = new TransportCcFeedback({ intervalMs: 50 });
  const pair = new PolicyPair({ network: { seed: 2, aToB: { delayMs: 10, reorder: 0.2, reorderDelayMs: 200 } }, sender: [], receiver: [twcc] });
  pair.runVideo(2000);
  pair.runUntil(pair.now + 500);
  assert.ok(twcc.counters.late > 0);
  const seen = new Set<number>();
  for (const f of pair.a.rtcp.filter((p): p is RtcpTransportCcFeedback => p.kind === 'transport-cc')) {
    for (const r of f.packets()) {
      assert.ok(!seen.has(r.sequenceNumber));
      seen.add(r.sequenceNumber);
    }
  }
});

test('the byte writer round-trips through the RTCP parser: leading loss, large and negative deltas, runs, the size cap', () => {
  const rng = new SeededRng(17);
  for (let round = 0; round < 50; round++) {
    const n = 1 + (rng.uint32() % 900);
    const arrivals: number[] = [];
    let t = 5_000_000 + rng.uint32() % 1_000_000;
    for (let i = 0; i < n; i++) {
      const r = rng.float();
      if ((i === 0 && round % 3 === 0) || r < 0.1) arrivals.push(-1);
      else {
        t += r < 0.15 ? -2000 : r < 0.2 ? 70_000 : rng.uint32() % 3000;
        arrivals.push(t);
      }
    }
    if (!arrivals.some((a) => a >= 0)) arrivals[n - 1] = t;
    const writer = new TransportCcWriter(1000, 1100);
    const base = 70000 + round;
    const { bytes, last } = writer.write(11, 22, round, base, base + n - 1, (x) => arrivals[x - base]!);
    assert.ok(bytes.length <= 1100 && bytes.length % 4 === 0);
    const parsed = tryParseRtcp(Buffer.from(bytes), 0, bytes.length)!;
    assert.equal(parsed.length, 1);
    const fb = parsed[0] as RtcpTransportCcFeedback;
    assert.equal(fb.kind, 'transport-cc');
    assert.equal(fb.baseSequenceNumber, base & 0xffff);
    assert.equal(fb.packetStatusCount, last - base + 1);
    const times = fb.arrivalTimesUs();
    for (let i = 0; i <= last - base; i++) {
      if (arrivals[i]! < 0) assert.equal(times[i], null, `round ${round} packet ${i} lost`);
      else assert.ok(Math.abs(times[i]! - arrivals[i]!) <= 125 + 1e-6, `round ${round} packet ${i}: ${times[i]} vs ${arrivals[i]}`);
    }
  }
});

test('an idle module holds no arrival ring: 200 of them allocate no array buffers until packets arrive', () => {
  const before = process.memoryUsage().arrayBuffers;
  const idle = Array.from({ length: 200 }, () => new TransportCcFeedback());
  const grown = process.memoryUsage().arrayBuffers - before;
  // Each ring is 64 KiB once the first packet with a transport-wide number arrives (12.5 MiB for 200).
  assert.ok(grown < 256 * 1024, `200 idle modules hold ${grown} bytes of array buffers`);
  assert.equal(idle.length, 200);
});
