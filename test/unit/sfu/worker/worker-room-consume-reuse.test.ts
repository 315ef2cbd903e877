// WorkerRoom consume() on a subscriber mid whose consumer's producer has gone (its publisher's peer
// closed): accepted, the stale consumer is closed in the worker and the new publisher's stream
// arrives on the same SSRC, its sequence numbers continuing the old stream's (the client's SRTP
// replay window drops a stream that jumps back); while the producer is open the mid is refused (ERR_SFU_CONSUMER_EXISTS)
// (lib/sfu/router.ts assertNoConsumer / closeStaleConsumers, docs/sfu.md "Your first SFU").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PwtError } from '../../../../lib/common/errors.js';
import { LocalStreamTrack, RTCPeerConnection } from '../../../../lib/peer/index.js';
import { RtpPacket } from '../../../../lib/rtp/rtp-packet.js';
import { RouterWorkerPool } from '../../../../lib/sfu/index.js';
import { within } from '../../../integration/peer-helpers.js';
import { roomClients, type RoomClients } from './fixtures/room-clients.js';

test('worker room: a mid whose producer has gone takes the next publisher; an open producer keeps it', { timeout: 120_000 }, async () => {
  const pool = await RouterWorkerPool.create({ workers: 1, address: '127.0.0.1' });
  let clients: RoomClients | undefined;
  const publisherB = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const room = await pool.createRoom();
    clients = await roomClients(room, 1);
    const sub = clients.subscribers[0]!;
    // A's packets, the last one's sequence number as the subscriber saw it.
    let lastA = -1;
    const gotA = within((async () => {
      for (let n = 0; n < 10; n++) lastA = (await sub.track.recv()).sequenceNumber!;
    })(), 20_000, "A's packets");
    for (let n = 0; n < 10; n++) clients.source.send(new RtpPacket({ timestamp: 1000 + n * 960, payload: Buffer.from(`a:${n}`) }));
    await gotA;
    const mid = sub.pc.getTransceivers()[0]!.mid!;

    // A second publisher in the room.
    const sourceB = new LocalStreamTrack({ kind: 'audio' });
    publisherB.addTransceiver(sourceB, { direction: 'sendonly' });
    await publisherB.setLocalDescription(await publisherB.createOffer());
    const b = await room.answer(publisherB.localDescription!.sdp);
    await publisherB.setRemoteDescription({ type: 'answer', sdp: b.answer });
    await within(publisherB.connected(), 15_000, 'publisher B connected');
    const { producer: producerB } = await within(room.produce(b.peer, publisherB.getTransceivers()[0]!.mid!), 15_000, 'produce B');

    // Publisher A's producer is open: the subscriber's mid is taken.
    await assert.rejects(room.consume(producerB, sub.peer, mid), (e: unknown) => e instanceof PwtError && e.code === 'ERR_SFU_CONSUMER_EXISTS' && e.name === 'InvalidStateError');

    // Publisher A leaves; the subscriber's mid takes publisher B.
    await room.closePeer(clients.publisherPeer);
    const before = await room.stats();
    assert.equal(before.producers[clients.producer], undefined, "A's producer closed with its peer");
    assert.ok(before.consumers[sub.consumer], 'the consumer outlives its producer');
    const { consumer, ssrc } = await within(room.consume(producerB, sub.peer, mid), 15_000, 'consume B');
    assert.equal(ssrc, sub.ssrc, "the same sender's SSRC");
    const after = await room.stats();
    assert.equal(after.consumers[sub.consumer], undefined, 'the stale consumer was closed');
    assert.ok(after.consumers[consumer]);
    assert.equal(Object.keys(after.consumers).length, 1);

    // B's packets reach the subscriber on that SSRC, numbered on from A's last one.
    const got = within((async () => {
      let prev = lastA;
      for (let n = 0; n < 10; n++) {
        const p = await sub.track.recv();
        assert.ok(p.payload.equals(Buffer.from(`b:${n}`)), `B's packet ${n}`);
        assert.equal(p.ssrc, sub.ssrc);
        assert.equal(p.sequenceNumber, (prev + 1) & 0xffff, 'sequence numbers continue');
        prev = p.sequenceNumber!;
      }
    })(), 20_000, "B's packets");
    for (let n = 0; n < 10; n++) sourceB.send(new RtpPacket({ timestamp: 90_000 + n * 960, payload: Buffer.from(`b:${n}`) }));
    await got;
    assert.equal((await room.stats()).consumers[consumer]!.packetsSent, 20, "the SSRC's count goes on from A's 10");
  } finally {
    publisherB.close();
    clients?.close();
    await pool.close();
  }
});
