// lib/sfu Router: one consumer per subscriber sender (ERR_SFU_CONSUMER_EXISTS) while its producer is
// live, and a sender whose consumer's producer has closed is reusable: consume() on it closes the
// stale consumer ('close' once) and the new producer's stream goes out on the sender's SSRC, the
// only consumer of that SSRC, its sequence numbers and its counters (stats, the sender totals)
// continuing the stale consumer's (docs/sfu.md "Your first SFU": keep the transceiver for the next publisher).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { within } from '../../integration/peer-helpers.js';
import { payload, publisher, subscriber, type Publisher, type Subscriber } from './room-peers.js';
import { closeRouterRig, routerRig } from './router-rig.js';

test("router: a sender carries one consumer while its producer is live; after the producer closed, consume() replaces the stale consumer", { timeout: 90_000 }, async () => {
  const { mux, router, pub: pubA } = await routerRig('audio');
  let pubB: Publisher | undefined;
  let sub: Subscriber | undefined;
  try {
    const producerA = await router.produce(pubA.server, pubA.transceiver);
    sub = await subscriber(mux, 'audio');
    const first = await router.consume(producerA, sub.server, sub.transceiver);
    pubB = await publisher(mux, 'audio');
    const producerB = await router.produce(pubB.server, pubB.transceiver);

    // Live producer: the sender is taken, for the same producer and for another one.
    await assert.rejects(router.consume(producerA, sub.server, sub.transceiver), { name: 'InvalidStateError', code: 'ERR_SFU_CONSUMER_EXISTS' });
    await assert.rejects(router.consume(producerB, sub.server, sub.transceiver), { name: 'InvalidStateError', code: 'ERR_SFU_CONSUMER_EXISTS' });
    assert.equal(first.closed, false, 'a refused consume() leaves the consumer alone');
    // A paused live producer still holds its sender.
    producerA.pause();
    await assert.rejects(router.consume(producerB, sub.server, sub.transceiver), { name: 'InvalidStateError', code: 'ERR_SFU_CONSUMER_EXISTS' });
    producerA.resume();

    // A's packets reach the subscriber: the sender's SSRC has a numbering the receiver follows.
    const track = sub.track;
    let lastA: { seq: number; ts: number } | undefined;
    const receivedA = within((async () => {
      for (let n = 0; n < 10; n++) {
        const p = await track.recv();
        assert.ok(p.payload.equals(payload(n, 'a')), `payload of A's packet ${n}`);
        lastA = { seq: p.sequenceNumber!, ts: p.timestamp! };
      }
    })(), 20_000, "A's packets at the subscriber");
    for (let n = 0; n < 10; n++) pubA.source.send(new RtpPacket({ timestamp: 1000 + n * 960, payload: payload(n, 'a') }));
    await receivedA;

    // The publisher leaves: the consumer stays open, sends nothing, and no longer blocks its sender.
    let producerCloses = 0;
    let closes = 0;
    first.on('producerclose', () => producerCloses++);
    first.on('close', () => closes++);
    pubA.server.close();
    assert.equal(producerA.closed, true);
    assert.equal(producerCloses, 1);
    assert.equal(first.closed, false, 'a consumer outlives its producer');

    const firstStats = first.getStats();
    assert.equal(firstStats.packetsSent, 10);
    const second = await router.consume(producerB, sub.server, sub.transceiver);
    // The SSRC's counters go on as its numbering does: the replacing consumer starts at A's totals.
    const startStats = second.getStats();
    assert.equal(startStats.packetsSent, 10, "the new consumer's packetsSent continues the stale one's");
    assert.equal(startStats.bytesSent, firstStats.bytesSent);
    assert.equal(first.closed, true, 'the stale consumer is closed by consume()');
    assert.equal(closes, 1, "its 'close' fired once");
    assert.equal(second.closed, false);
    assert.equal(second.ssrc, sub.transceiver.sender.ssrc, "the new consumer sends on the sender's SSRC");
    assert.equal(producerB.getStats().pwtConsumers, 1);
    // And now the sender is taken again by a live producer.
    await assert.rejects(router.consume(producerB, sub.server, sub.transceiver), { name: 'InvalidStateError', code: 'ERR_SFU_CONSUMER_EXISTS' });

    // B's packets reach the subscriber on the sender's SSRC, numbered on from A's last packet (a
    // receiver's SRTP replay window drops a stream that jumps back; ours does too), the timestamp
    // advanced by the time between.
    const received = within((async () => {
      let prev = lastA!.seq;
      for (let n = 0; n < 20; n++) {
        const p = await track.recv();
        assert.ok(p.payload.equals(payload(n, 'b')), `payload of B's packet ${n}`);
        assert.equal(p.ssrc, sub!.transceiver.sender.ssrc);
        assert.equal(p.sequenceNumber, (prev + 1) & 0xffff, n === 0 ? "B's first packet continues A's sequence numbers" : 'consecutive');
        if (n === 0) {
          const advance = (p.timestamp! - lastA!.ts) >>> 0;
          assert.ok(advance > 0 && advance < 48_000 * 60, `the timestamp advances from A's last (${advance} ticks)`);
        }
        prev = p.sequenceNumber!;
      }
    })(), 20_000, "B's packets at the subscriber");
    // B's sequence numbers and timestamps have their own random base, unrelated to A's.
    let ts = 7_000_000;
    for (let n = 0; n < 20; n++) {
      pubB.source.send(new RtpPacket({ timestamp: (ts += 960), payload: payload(n, 'b') }));
      if (n % 10 === 9) await new Promise((r) => setTimeout(r, 5));
    }
    await received;
    assert.equal(second.getStats().packetsSent, 10 + 20, "the SSRC's packets: A's and B's");
    assert.ok(second.getStats().bytesSent > firstStats.bytesSent);
    // The sender totals the subscriber transceiver's RTCP reporter reads (its SR counts) count on too.
    const totals = second.nativeTotals(0).sent[0]!;
    assert.equal(totals.packets, 30);
    assert.equal(totals.bytes, second.getStats().bytesSent);
    assert.equal(router.stats.packetsForwarded, 10 + 20, 'one consumer of the SSRC: each packet forwarded once');
  } finally {
    closeRouterRig(router, mux, pubA, pubB, sub);
  }
});
