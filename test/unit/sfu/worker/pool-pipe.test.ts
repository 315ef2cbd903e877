// Pipes between router workers through the RouterWorkerPool, over real loopback sockets
// (docs/scaling.md "Pipes between workers"): a video publisher in a room on worker 0 reaches a
// subscriber in a room on worker 1 through a pipe pair, forwarded natively on both workers; the
// subscriber's NACK (missed by worker 1's cache) and PLI cross back to worker 0; pool.pipeProducer()
// does both sides; misuse is typed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PwtError } from '../../../../lib/common/errors.js';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack } from '../../../../lib/peer/index.js';
import { RtpPacket } from '../../../../lib/rtp/rtp-packet.js';
import { RtcpGenericNack } from '../../../../lib/rtp/rtcp/generic-nack.js';
import { RtcpPictureLossIndication } from '../../../../lib/rtp/rtcp/picture-loss-indication.js';
import { RouterWorkerPool, type WorkerRoom, type WorkerRoomStats } from '../../../../lib/sfu/index.js';
import { within } from '../../../integration/peer-helpers.js';

const COUNT = 30;

function payload(n: number): Buffer {
  return Buffer.from(`piped:packet:${n}:`.padEnd(200, 'v'));
}

function typed(code: string): (e: unknown) => boolean {
  return (e: unknown) => e instanceof PwtError && e.code === code;
}

/** Polls a room's stats until `check` holds, at most `ms` (then fails naming `what`). */
async function statsUntil(room: WorkerRoom, check: (s: WorkerRoomStats) => boolean, ms: number, what: string): Promise<WorkerRoomStats> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await room.stats();
    if (check(s)) return s;
    if (Date.now() > deadline) assert.fail(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('pool pipes: a publisher on worker 0 reaches a subscriber on worker 1 natively; NACK and PLI cross back; misuse is typed', { timeout: 120_000 }, async () => {
  const pool = await RouterWorkerPool.create({ workers: 2, address: '127.0.0.1' });
  const pcs: RTCPeerConnection[] = [];
  try {
    const roomA = await pool.createRoom({ worker: 0 });
    const roomB = await pool.createRoom({ worker: 1 });

    // Publisher in room A (worker 0).
    const publisher = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
    pcs.push(publisher);
    const source = new LocalStreamTrack({ kind: 'video' });
    publisher.addTransceiver(source, { direction: 'sendonly' });
    let plisAtPublisher = 0;
    publisher.getTransceivers()[0]!.sender.on('rtcp', (e) => {
      if (e.packet instanceof RtcpPictureLossIndication) plisAtPublisher++;
    });
    await publisher.setLocalDescription(await publisher.createOffer());
    const pub = await roomA.answer(publisher.localDescription!.sdp);
    await publisher.setRemoteDescription({ type: 'answer', sdp: pub.answer });
    await within(publisher.connected(), 15_000, 'publisher connected');
    const { producer: producerA } = await within(roomA.produce(pub.peer, publisher.getTransceivers()[0]!.mid!), 15_000, 'produce');

    // A pipe pair between the rooms; the producer crosses it.
    const pipeA = await roomA.createPipeTransport({ listenIp: '127.0.0.1' });
    const pipeB = await roomB.createPipeTransport({ listenIp: '127.0.0.1' });
    assert.equal(pipeA.localParameters.ip, '127.0.0.1');
    assert.notEqual(pipeA.localParameters.port, pipeB.localParameters.port);
    await pipeA.connect(pipeB.localParameters);
    await pipeB.connect(pipeA.localParameters);
    const stream = await pipeA.pipeProducer(producerA);
    assert.equal(stream.kind, 'video');
    // No cache on worker 1: the subscriber's NACK must cross the pipe to worker 0's cache.
    const piped = await pipeB.produceFromPipe({ ...stream, cachePackets: 0 });
    assert.equal(piped.kind, 'video');

    // Subscriber in room B (worker 1).
    const subscriber = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
    pcs.push(subscriber);
    const trackP = new Promise<MediaStreamTrack>((r) => subscriber.once('track', (e) => r(e.track)));
    const offer = await roomB.offer(['video']);
    await subscriber.setRemoteDescription({ type: 'offer', sdp: offer.offer });
    await subscriber.setLocalDescription(await subscriber.createAnswer());
    await roomB.accept(offer.peer, subscriber.localDescription!.sdp);
    await within(subscriber.connected(), 15_000, 'subscriber connected');
    const { consumer, ssrc } = await within(roomB.consume(piped.producer, offer.peer, subscriber.getTransceivers()[0]!.mid!), 15_000, 'consume');
    const track = await within(trackP, 5000, 'subscriber track');

    // Media: every packet arrives intact with the consumer's SSRC.
    const seqOf: number[] = [];
    const received = within((async () => {
      for (let n = 0; n < COUNT; n++) {
        const p = await track.recv();
        assert.ok(p.payload.equals(payload(n)), `packet ${n} intact`);
        assert.equal(p.ssrc, ssrc, "the consumer's SSRC");
        seqOf[n] = p.sequenceNumber!;
      }
    })(), 20_000, 'subscriber receives the piped packets');
    for (let n = 0; n < COUNT; n++) {
      source.send(new RtpPacket({ timestamp: 3000 * (n + 1), payload: payload(n) }));
      if (n % 10 === 9) await new Promise((r) => setTimeout(r, 5));
    }
    await received;

    const a = await roomA.stats();
    const b = await statsUntil(roomB, (s) => s.consumers[consumer]?.packetsSent === COUNT, 10_000, 'consumer counters');
    assert.equal(a.producers[producerA]!.packetsReceived, COUNT);
    assert.equal(b.producers[piped.producer]!.packetsReceived, COUNT, 'the piped producer got every packet');
    assert.equal(a.worker, 0);
    assert.equal(b.worker, 1);
    assert.equal(a.router.jsDeliveries + b.router.jsDeliveries, 0, 'no forwarded packet reached JavaScript on either worker');

    // NACK from the subscriber for packet 5 (which arrived, so the counters show the way): worker 1's
    // cache misses and asks across the pipe; worker 0's producer cache answers.
    const clientSender = subscriber.getTransceivers()[0]!.sender;
    clientSender.sendRtcp([RtcpGenericNack.fromSequenceNumbers(clientSender.ssrc, ssrc, [seqOf[5]!])]);
    await statsUntil(roomB, (s) => s.router.nackMisses === 1, 10_000, "worker 1's cache missed");
    await statsUntil(roomA, (s) => s.router.retransmittedPackets === 1, 10_000, "worker 0 answered from its producer's cache");

    // PLI from the subscriber reaches the publisher on worker 0 (after the merge interval of the consume-time requests).
    await new Promise((r) => setTimeout(r, 350));
    const sentBefore = (await roomA.stats()).producers[producerA]!.pwtKeyframeRequestsSent;
    const plisBefore = plisAtPublisher;
    clientSender.sendRtcp([new RtcpPictureLossIndication(clientSender.ssrc, ssrc)]);
    await statsUntil(roomA, (s) => s.producers[producerA]!.pwtKeyframeRequestsSent > sentBefore, 10_000, "the PLI reached worker 0's producer");
    await within((async () => {
      while (plisAtPublisher === plisBefore) await new Promise((r) => setTimeout(r, 10));
    })(), 10_000, 'PLI at the publisher');

    // Misuse comes back typed.
    await assert.rejects(pipeA.connect(pipeB.localParameters), typed('ERR_SFU_PIPE_CONNECTED'));
    await assert.rejects(pipeA.pipeProducer(9999), typed('ERR_SFU_PRODUCER_CLOSED'));
    await assert.rejects(roomA.createPipeTransport({ listenIp: 'not-an-ip' }), typed('ERR_SFU_PIPE_LISTEN_IP'));
    const spareRoom = await pool.createRoom({ worker: 0 });
    await spareRoom.close();
    const spare = await roomB.createPipeTransport({ listenIp: '127.0.0.1' });
    await spare.close();
    assert.equal(spare.closed, true);
    await assert.rejects(spare.pipeProducer(piped.producer), typed('ERR_WORKER_PIPE_CLOSED'));
    await assert.rejects(roomB.request({ op: 'connectPipe', room: roomB.id, pipe: 4242, remote: pipeA.localParameters }), typed('ERR_WORKER_PIPE_CLOSED'));

    // The pool's shortcut does both sides: one pipe pair per pair of rooms, reused; media crosses it.
    const viaPool = await pool.pipeProducer({ from: roomA, to: roomB, producerId: producerA });
    const viaPool2 = await pool.pipeProducer({ from: roomA, to: roomB, producerId: producerA });
    assert.equal(viaPool.kind, 'video');
    assert.notEqual(viaPool.producer, viaPool2.producer);
    for (let n = COUNT; n < COUNT + 5; n++) source.send(new RtpPacket({ timestamp: 3000 * (n + 1), payload: payload(n) }));
    await statsUntil(roomB, (s) => s.producers[viaPool.producer]?.packetsReceived === 5 && s.producers[viaPool2.producer]?.packetsReceived === 5, 10_000, 'packets through the pool-made pipe');
    await assert.rejects(pool.pipeProducer({ from: roomA, to: roomB, producerId: 9999 }), typed('ERR_SFU_PRODUCER_CLOSED'));
    await assert.rejects(pool.pipeProducer({ from: spareRoom, to: roomB, producerId: producerA }), typed('ERR_WORKER_ROOM_UNKNOWN'));

    // Closing the receiving pipe closes the producer it made (its consumers stay open and send nothing, docs/sfu.md).
    await pipeB.close();
    await statsUntil(roomB, (s) => s.producers[piped.producer] === undefined, 10_000, 'piped producer closed with its pipe');
    await assert.rejects(roomB.consume(piped.producer, offer.peer, subscriber.getTransceivers()[0]!.mid!), typed('ERR_SFU_PRODUCER_CLOSED'));
    // A pipe closes with its room, and a pool-made pair with either of its rooms: the other room's end
    // and the producers it made go too.
    assert.equal(pool.pipePairCount, 1);
    assert.equal((await roomB.stats()).pipes, 1, 'the pool-made end is the open pipe of room B');
    await roomA.close();
    assert.equal(pipeA.closed, true);
    assert.equal(pool.pipePairCount, 0);
    const afterClose = await roomB.stats();
    assert.equal(afterClose.pipes, 0, "room B's end of the pair closed with room A");
    assert.equal(afterClose.producers[viaPool.producer], undefined);
    assert.equal(afterClose.producers[viaPool2.producer], undefined);
    await assert.rejects(pipeA.pipeProducer(producerA), typed('ERR_WORKER_ROOM_CLOSED'));
  } finally {
    for (const pc of pcs) pc.close();
    await pool.close();
  }
});
