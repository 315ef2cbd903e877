// WorkerRoom parity with the single-thread Router's room vocabulary (docs/scaling.md "Routers on
// worker threads", docs/sfu.md "Your first SFU"): the room's 'producer' event (before produce()
// resolves), producer pause/resume through the room (its consumers send nothing, 'paused' drops,
// then numbering continues), 'producerpause'/'producerresume' once per change, 'producerclose' and
// 'consumerclose' for closes by call, by a peer's close and by a replacing consume().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PwtError } from '../../../../lib/common/errors.js';
import { LocalStreamTrack, RTCPeerConnection } from '../../../../lib/peer/index.js';
import { RtpPacket } from '../../../../lib/rtp/rtp-packet.js';
import { RouterWorkerPool } from '../../../../lib/sfu/index.js';
import { within } from '../../../integration/peer-helpers.js';
import { roomClients, sendAndExpect, type RoomClients } from './fixtures/room-clients.js';

/** Waits until `cond` holds, polling every 20 ms, at most `ms`. */
async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  for (let i = 0; i < 10_000; i++) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

test('worker room: producer events, producer pause/resume and close events reach the main thread', { timeout: 120_000 }, async () => {
  const pool = await RouterWorkerPool.create({ workers: 1, address: '127.0.0.1' });
  let clients: RoomClients | undefined;
  try {
    const room = await pool.createRoom();
    const events: string[] = [];
    const producers: { producer: number; peer?: number; kind: string; ssrc: number }[] = [];
    room.on('producer', (p) => {
      producers.push(p);
      events.push(`producer:${p.producer}`);
    });
    room.on('producerpause', ({ producer }) => events.push(`pause:${producer}`));
    room.on('producerresume', ({ producer }) => events.push(`resume:${producer}`));
    room.on('producerclose', ({ producer }) => events.push(`producerclose:${producer}`));
    room.on('consumerclose', ({ consumer }) => events.push(`consumerclose:${consumer}`));

    clients = await roomClients(room, 2);
    const [sub0, sub1] = clients.subscribers as [RoomClients['subscribers'][0], RoomClients['subscribers'][0]];
    const p = clients.producer;
    // 'producer' came once, with the publisher's peer, kind and SSRC.
    assert.deepEqual(events, [`producer:${p}`]);
    assert.equal(producers[0]!.peer, clients.publisherPeer);
    assert.equal(producers[0]!.kind, 'audio');
    assert.equal(producers[0]!.ssrc, clients.publisher.getTransceivers()[0]!.sender.ssrc);
    await sendAndExpect(clients, 10);

    // Producer paused through the room: both consumers send nothing, the copies drop as 'paused'.
    await room.pauseProducer(p);
    await room.pauseProducer(p); // no-op: no second event
    let stats = await room.stats();
    assert.equal(stats.producers[p]!.pwtPaused, true);
    const pausedBefore = stats.router.drops.paused;
    const sentBefore = stats.consumers[sub0.consumer]!.packetsSent;
    for (let n = 0; n < 5; n++) clients.source.send(new RtpPacket({ timestamp: 50_000 + n * 960, payload: Buffer.from(`held:${n}`) }));
    await until(async () => (await room.stats()).router.drops.paused >= pausedBefore + 10, 10_000, 'paused drops for both consumers');
    stats = await room.stats();
    assert.equal(stats.consumers[sub0.consumer]!.packetsSent, sentBefore, 'nothing sent while the producer is paused');
    assert.equal(stats.consumers[sub0.consumer]!.pwtPaused, false, "the consumer's own pause is unchanged");

    // Resumed: packets flow again (the held ones never arrive: sendAndExpect checks each payload in order).
    await room.resumeProducer(p);
    await room.resumeProducer(p); // no-op
    await sendAndExpect(clients, 10, 10);
    assert.equal((await room.stats()).producers[p]!.pwtPaused, false);
    assert.deepEqual(events, [`producer:${p}`, `pause:${p}`, `resume:${p}`]);

    // A consumer closed by call, another by its peer's close: 'consumerclose' for each, once.
    await room.closeConsumer(sub0.consumer);
    await room.closeConsumer(sub0.consumer); // idempotent
    await room.closePeer(sub1.peer);
    await until(() => events.length >= 5, 10_000, 'consumerclose events');
    assert.deepEqual(events.slice(3), [`consumerclose:${sub0.consumer}`, `consumerclose:${sub1.consumer}`]);
    assert.deepEqual(Object.keys((await room.stats()).consumers), []);

    // The producer closed by call: 'producerclose'; its pause is refused from then on, close stays a no-op.
    await room.closeProducer(p);
    await room.closeProducer(p);
    await until(() => events.length >= 6, 10_000, 'producerclose');
    assert.equal(events[5], `producerclose:${p}`);
    await assert.rejects(room.pauseProducer(p), (e: unknown) => e instanceof PwtError && e.code === 'ERR_SFU_PRODUCER_CLOSED');
    assert.equal((await room.stats()).producers[p], undefined);
    assert.equal(events.length, 6, 'no event twice');
  } finally {
    clients?.close();
    await pool.close();
  }
});

test("worker room: a publisher's peer closing fires 'producerclose'; a consume() replacing the stale consumer fires its 'consumerclose'", { timeout: 120_000 }, async () => {
  const pool = await RouterWorkerPool.create({ workers: 1, address: '127.0.0.1' });
  let clients: RoomClients | undefined;
  const publisherB = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const room = await pool.createRoom();
    const events: string[] = [];
    room.on('producer', ({ producer }) => events.push(`producer:${producer}`));
    room.on('producerclose', ({ producer }) => events.push(`producerclose:${producer}`));
    room.on('consumerclose', ({ consumer }) => events.push(`consumerclose:${consumer}`));
    clients = await roomClients(room, 1);
    const sub = clients.subscribers[0]!;
    // The publisher's peer closes: its producer's 'producerclose'; the consumer stays (no 'consumerclose').
    await room.closePeer(clients.publisherPeer);
    await until(() => events.length >= 2, 10_000, 'producerclose on the peer close');
    assert.deepEqual(events, [`producer:${clients.producer}`, `producerclose:${clients.producer}`]);
    assert.ok((await room.stats()).consumers[sub.consumer], 'the consumer outlives its producer');

    // Publisher B; consuming it on the subscriber's mid replaces the stale consumer, which closes.
    publisherB.addTransceiver(new LocalStreamTrack({ kind: 'audio' }), { direction: 'sendonly' });
    await publisherB.setLocalDescription(await publisherB.createOffer());
    const b = await room.answer(publisherB.localDescription!.sdp);
    await publisherB.setRemoteDescription({ type: 'answer', sdp: b.answer });
    await within(publisherB.connected(), 15_000, 'publisher B connected');
    let seenBeforeReply = false;
    const made = room.produce(b.peer, publisherB.getTransceivers()[0]!.mid!);
    room.once('producer', () => (seenBeforeReply = true));
    const { producer: producerB } = await within(made, 15_000, 'produce B');
    assert.ok(seenBeforeReply, "'producer' fired before produce() resolved");
    const { consumer } = await within(room.consume(producerB, sub.peer, sub.pc.getTransceivers()[0]!.mid!), 15_000, 'consume B');
    await until(() => events.length >= 4, 10_000, 'consumerclose of the replaced consumer');
    assert.deepEqual(events.slice(2), [`producer:${producerB}`, `consumerclose:${sub.consumer}`]);
    assert.ok((await room.stats()).consumers[consumer]);
    // Closing the room closes everything in the worker; the main thread hears nothing after close().
    await room.close();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(events.length, 4);
  } finally {
    publisherB.close();
    clients?.close();
    await pool.close();
  }
});
