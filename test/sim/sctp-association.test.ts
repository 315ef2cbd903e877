// Simulations of two SCTP associations on a virtual clock over a seeded lossy network
// (RFC 9260 handshake, reliable ordered transfer, heartbeats, shutdown).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { SctpPair } from './sctp-pair.js';
import { SeededRng } from '../../lib/common/rng.js';

test('handshake: one side connects, both reach established', () => {
  const p = new SctpPair(1);
  assert.equal(p.connect(), true);
  assert.deepEqual(p.events.a.map((e) => e.type), ['established']);
  assert.deepEqual(p.events.b.map((e) => e.type), ['established']);
});

test('handshake: simultaneous INIT from both sides converges (RFC 9260 section 5.2.1)', () => {
  for (const seed of [2, 3, 4]) {
    const p = new SctpPair(seed, { delayMs: 20, jitterMs: 10 });
    assert.equal(p.connect(true), true, `seed ${seed}`);
    p.a.send(p.now, 1, 53, Buffer.from('ping'));
    assert.ok(p.runUntil(() => p.events.b.some((e) => e.type === 'message'), { maxTimeMs: 5000, maxSteps: 1000 }));
  }
});

test('connect() after the peer already established us is a no-op; after close it throws', () => {
  const p = new SctpPair(16);
  assert.ok(p.connect());
  p.b.connect(p.now);
  assert.equal(p.b.state, 'established');
  assert.equal(p.b.pollTransmit(), undefined);
  p.b.abort(p.now);
  assert.throws(() => p.b.connect(p.now), { name: 'InvalidStateError', code: 'ERR_SCTP_STATE' });
});

test('handshake survives 30 % loss (T1 retransmission)', () => {
  const p = new SctpPair(5, { loss: 0.3 });
  assert.equal(p.connect(false, { maxTimeMs: 120_000, maxSteps: 10_000 }), true);
});

test('10 MB reliable ordered transfer under 10 % loss, reordering and 100 ms delay arrives intact', () => {
  const p = new SctpPair(42, { loss: 0.1, delayMs: 100, jitterMs: 20, reorder: 0.1, reorderDelayMs: 30 });
  p.recordEvents = false;
  assert.ok(p.connect());
  const rng = new SeededRng(7);
  const total = 10 * 1024 * 1024;
  const msgSize = 16 * 1024;
  const source = rng.bytes(total);
  const sent = createHash('sha256').update(source).digest('hex');
  const recv = createHash('sha256');
  let received = 0;
  let messages = 0;
  let offset = 0;
  const pump = (): void => {
    while (offset < total && p.a.bufferedAmount(1) < 1024 * 1024) {
      p.a.send(p.now, 1, 53, source.subarray(offset, offset + msgSize));
      offset += msgSize;
    }
  };
  p.a.setBufferedAmountLowThreshold(1, 512 * 1024);
  p.onEvent = (side, ev) => {
    if (side === 'a' && ev.type === 'buffered-amount-low') pump();
    if (side === 'b' && ev.type === 'message') {
      assert.equal(ev.data.length, msgSize);
      recv.update(ev.data);
      received += ev.data.length;
      messages++;
    }
  };
  pump();
  // Reno-style congestion control at 10 % loss and ~250 ms RTT moves ~20 KB/s (Mathis et al.),
  // so the virtual-time bound is 30 minutes; wall time is about a second.
  const done = p.runUntil(() => received === total, { maxTimeMs: 1_800_000, maxSteps: 400_000 });
  assert.ok(done, `received ${received} of ${total} by t=${p.now} after ${p.steps} steps`);
  assert.equal(messages, total / msgSize);
  assert.equal(recv.digest('hex'), sent);
  assert.ok(p.net.stats.lost > 500, 'the network really lost packets');
  assert.ok(p.a.stats.retransmissions > 0 && p.a.stats.fastRetransmits > 0);
  assert.equal(p.a.state, 'established');
});

test('messages of 1 B, 16 KiB, 64 KiB and 256 KiB arrive intact and in order', () => {
  const p = new SctpPair(9, { loss: 0.02, delayMs: 20 }, { remoteMaxMessageSize: 256 * 1024 }, {});
  assert.ok(p.connect());
  const sizes = [1, 16 * 1024, 64 * 1024, 256 * 1024, 1];
  const rng = new SeededRng(3);
  const msgs = sizes.map((n) => rng.bytes(n));
  for (const m of msgs) p.a.send(p.now, 3, 53, m);
  const got = () => p.events.b.filter((e) => e.type === 'message');
  assert.ok(p.runUntil(() => got().length === msgs.length, { maxTimeMs: 120_000, maxSteps: 100_000 }));
  got().forEach((e, i) => {
    assert.ok(e.type === 'message' && Buffer.compare(e.data, msgs[i]!) === 0, `message ${i}`);
  });
});

test('a message above the peer max-message-size is refused with a typed error, never truncated', () => {
  const p = new SctpPair(10);
  assert.ok(p.connect());
  p.a.remoteMaxMessageSize = 1000;
  assert.throws(() => p.a.send(p.now, 1, 53, Buffer.alloc(1001)), { name: 'TypeError', code: 'ERR_SCTP_MESSAGE_TOO_LARGE' });
  p.a.send(p.now, 1, 53, Buffer.alloc(1000, 7));
  assert.ok(p.runUntil(() => p.events.b.some((e) => e.type === 'message'), { maxTimeMs: 5000, maxSteps: 1000 }));
});

test('an idle association survives a long pause with heartbeats', () => {
  const p = new SctpPair(11, { delayMs: 50 });
  assert.ok(p.connect());
  p.advance(10 * 60 * 1000);
  assert.equal(p.a.state, 'established');
  assert.equal(p.b.state, 'established');
  assert.ok(p.a.stats.heartbeatsSent >= 10, `heartbeats sent: ${p.a.stats.heartbeatsSent}`);
  p.b.send(p.now, 2, 51, Buffer.from('still here'));
  assert.ok(p.runUntil(() => p.events.a.some((e) => e.type === 'message'), { maxTimeMs: 5000, maxSteps: 1000 }));
});

test('a peer that goes silent is detected: association closes with a reason', () => {
  const p = new SctpPair(12, { delayMs: 10 });
  assert.ok(p.connect());
  p.tap = (from, pkt) => (from === 'b' ? undefined : pkt);
  p.a.send(p.now, 1, 53, Buffer.alloc(100));
  assert.ok(p.runUntil(() => p.a.state === 'closed', { maxTimeMs: 3_600_000, maxSteps: 10_000 }));
  assert.equal(p.a.closeReason?.error, true);
  assert.match(p.a.closeReason!.reason, /retransmissions|unreachable/);
});

test('graceful shutdown delivers queued data and closes both sides without error', () => {
  const p = new SctpPair(13, { loss: 0.05, delayMs: 30 });
  assert.ok(p.connect());
  for (let i = 0; i < 50; i++) p.a.send(p.now, 1, 53, Buffer.alloc(5000, i));
  p.a.shutdown(p.now);
  assert.ok(p.runUntil(() => p.a.state === 'closed' && p.b.state === 'closed', { maxTimeMs: 120_000, maxSteps: 50_000 }));
  assert.equal(p.events.b.filter((e) => e.type === 'message').length, 50);
  assert.deepEqual(p.a.closeReason, { reason: 'shutdown complete', error: false });
  assert.equal(p.b.closeReason?.error, false);
});

test('abort closes the peer with the reason', () => {
  const p = new SctpPair(14);
  assert.ok(p.connect());
  p.a.abort(p.now, 'bye now');
  p.flush();
  assert.ok(p.runUntil(() => p.b.state === 'closed', { maxTimeMs: 5000, maxSteps: 100 }));
  assert.match(p.b.closeReason!.reason, /bye now/);
  assert.equal(p.b.closeReason!.error, true);
});

test('1 MB under burst loss, duplication and jitter arrives intact and in order (duplicates reported, not delivered twice)', () => {
  const p = new SctpPair(15, { burstLoss: 0.02, burstLength: 4, duplicate: 0.05, delayMs: 30, jitterMs: 30 });
  p.recordEvents = false;
  assert.ok(p.connect());
  const rng = new SeededRng(8);
  const msgs = Array.from({ length: 256 }, (_, i) => rng.bytes(1000 + ((i * 37) % 7000)));
  let next = 0;
  let bad = 0;
  p.onEvent = (side, ev) => {
    if (side === 'b' && ev.type === 'message') {
      if (!ev.data.equals(msgs[next]!)) bad++;
      next++;
    }
  };
  for (const m of msgs) p.a.send(p.now, 4, 53, m);
  assert.ok(p.runUntil(() => next === msgs.length, { maxTimeMs: 600_000, maxSteps: 100_000 }));
  p.advance(5_000);
  assert.equal(next, msgs.length);
  assert.equal(bad, 0);
  assert.ok(p.net.stats.duplicated > 10);
  assert.ok((p.b.stats.drops['duplicate-tsn'] ?? 0) > 0);
});
