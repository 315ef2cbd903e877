// RouterWorkerPool over real loopback sockets: two router workers (the addon loaded in both at
// once), a room on each with a publisher and a subscriber that are our own RTCPeerConnections on
// the main thread; each worker forwards its room's packets natively while the other does the same.
// Errors cross the thread boundary typed, and a crashed worker fails its rooms and pending calls
// instead of hanging the main thread (docs/scaling.md "Routers on worker threads").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack } from '../../../../lib/peer/index.js';
import { RtpPacket } from '../../../../lib/rtp/rtp-packet.js';
import { PwtError } from '../../../../lib/common/errors.js';
import { RouterWorkerPool, type RouterWorkerFailure, type RouterWorkerStats, type WorkerRoom } from '../../../../lib/sfu/index.js';
import { within } from '../../../integration/peer-helpers.js';

const PACKETS = 40;

interface Session {
  publisher: RTCPeerConnection;
  source: LocalStreamTrack;
  subscriber: RTCPeerConnection;
  track: MediaStreamTrack;
  publisherPeer: number;
  producer: number;
  consumer: number;
  consumerSsrc: number;
}

function payload(room: number, n: number): Buffer {
  return Buffer.from(`room:${room}:packet:${n}:`.padEnd(100, 'x'));
}

/** A publisher and a subscriber of `room`, both connected through the room's worker. */
async function session(room: WorkerRoom): Promise<Session> {
  const publisher = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const source = new LocalStreamTrack({ kind: 'audio' });
  publisher.addTransceiver(source, { direction: 'sendonly' });
  await publisher.setLocalDescription(await publisher.createOffer());
  const pub = await room.answer(publisher.localDescription!.sdp);
  await publisher.setRemoteDescription({ type: 'answer', sdp: pub.answer });
  await within(publisher.connected(), 15_000, `room ${room.id} publisher connected`);
  const { producer } = await within(room.produce(pub.peer, publisher.getTransceivers()[0]!.mid!), 15_000, 'produce');

  const subscriber = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const track = new Promise<MediaStreamTrack>((r) => subscriber.once('track', (e) => r(e.track)));
  const sub = await room.offer(['audio']);
  await subscriber.setRemoteDescription({ type: 'offer', sdp: sub.offer });
  await subscriber.setLocalDescription(await subscriber.createAnswer());
  await room.accept(sub.peer, subscriber.localDescription!.sdp);
  await within(subscriber.connected(), 15_000, `room ${room.id} subscriber connected`);
  const { consumer, ssrc } = await within(room.consume(producer, sub.peer, subscriber.getTransceivers()[0]!.mid!), 15_000, 'consume');
  return { publisher, source, subscriber, publisherPeer: pub.peer, track: await within(track, 5000, 'subscriber track'), producer, consumer, consumerSsrc: ssrc };
}

async function sendAndExpect(roomId: number, s: Session): Promise<void> {
  const got = (async () => {
    for (let n = 0; n < PACKETS; n++) {
      const p = await s.track.recv();
      assert.ok(p.payload.equals(payload(roomId, n)), `room ${roomId} packet ${n} intact`);
      assert.equal(p.ssrc, s.consumerSsrc, "the consumer's SSRC");
    }
  })();
  let ts = 0;
  for (let n = 0; n < PACKETS; n++) {
    s.source.send(new RtpPacket({ timestamp: (ts += 960), payload: payload(roomId, n) }));
    if (n % 10 === 9) await new Promise((r) => setTimeout(r, 5));
  }
  await within(got, 20_000, `room ${roomId} packets`);
}

function isStats(s: RouterWorkerStats | { failed: PwtError }): s is RouterWorkerStats {
  return !('failed' in s);
}

test('router workers: a room on each of 2 workers forwards natively; typed errors; a crashed worker fails cleanly', { timeout: 120_000 }, async () => {
  const pool = await RouterWorkerPool.create({ workers: 2, address: '127.0.0.1' });
  const sessions: Session[] = [];
  try {
    assert.equal(pool.size, 2);
    assert.notEqual(pool.ports[0]!.port, pool.ports[1]!.port, 'a port per worker');
    const rooms = [await pool.createRoom({ worker: 0 }), await pool.createRoom({ worker: 1 })];
    assert.deepEqual(rooms.map((r) => r.worker), [0, 1]);
    // Both sessions are set up and run at the same time: the addon is live in both workers at once.
    sessions.push(...(await Promise.all(rooms.map((r) => session(r)))));
    await Promise.all(rooms.map((r, i) => sendAndExpect(r.id, sessions[i]!)));

    for (const [i, room] of rooms.entries()) {
      const st = await room.stats();
      assert.equal(st.worker, i);
      assert.equal(st.producers[sessions[i]!.producer]?.packetsReceived, PACKETS);
      assert.equal(st.consumers[sessions[i]!.consumer]?.packetsSent, PACKETS);
      assert.equal(st.router.packetsForwarded, PACKETS, 'each worker forwarded only its own room');
      assert.equal(st.router.jsDeliveries, 0, 'no forwarded packet reached JavaScript in the worker');
      assert.equal(Object.keys(st.peers).length, 2);
    }
    const workerStats = (await pool.stats()).filter(isStats);
    assert.deepEqual(workerStats.map((w) => [w.worker, w.packetsForwarded, w.peers]), [[0, PACKETS, 2], [1, PACKETS, 2]]);
    assert.ok(workerStats.every((w) => w.handoff === undefined), 'no hand-off counters with a port per worker');

    // Typed errors cross the boundary with their name and code.
    await assert.rejects(rooms[0]!.consume(9999, 1, '0'), (e: unknown) => e instanceof PwtError && e.code === 'ERR_SFU_PRODUCER_CLOSED' && e.name === 'InvalidStateError');
    await assert.rejects(rooms[0]!.produce(sessions[0]!.publisherPeer, 'no-such-mid'), (e: unknown) => e instanceof PwtError && e.code === 'ERR_WORKER_NO_MID');
    await assert.rejects(rooms[0]!.produce(424242, '0'), (e: unknown) => e instanceof PwtError && e.code === 'ERR_WORKER_PEER_CLOSED');
    await assert.rejects(rooms[1]!.answer('v=0\r\nnot sdp'), (e: unknown) => e instanceof PwtError && typeof e.code === 'string' && e.code.startsWith('ERR_'));
    await assert.rejects(pool.createRoom({ worker: 7 }), (e: unknown) => e instanceof PwtError && e.code === 'ERR_WORKER_INDEX');

    // A worker dies with a call in flight (a produce() waiting for a peer that never connects).
    const failures: RouterWorkerFailure[] = [];
    pool.on('workerfailed', (f) => failures.push(f));
    const roomFailed = new Promise<PwtError>((r) => rooms[1]!.once('failed', r));
    const lonely = await rooms[1]!.offer(['audio']);
    const inFlight = rooms[1]!.produce(lonely.peer, '0');
    await pool.workerThread(1).terminate();
    await assert.rejects(within(inFlight, 5000, 'pending call rejected'), (e: unknown) => e instanceof PwtError && e.code === 'ERR_WORKER_FAILED');
    assert.equal((await within(roomFailed, 5000, 'room failed')).code, 'ERR_WORKER_FAILED');
    assert.deepEqual(failures.map((f) => f.worker), [1]);
    await assert.rejects(rooms[1]!.stats(), (e: unknown) => e instanceof PwtError && e.code === 'ERR_WORKER_FAILED');
    // The other worker goes on; new rooms avoid the failed one.
    const again = await pool.createRoom();
    assert.equal(again.worker, 0);
    const all = await pool.stats();
    assert.ok('failed' in all[1]! && all[1].failed.code === 'ERR_WORKER_FAILED');
    assert.equal(isStats(all[0]!) ? all[0].rooms : -1, 2);
  } finally {
    for (const s of sessions) {
      s.publisher.close();
      s.subscriber.close();
    }
    await pool.close();
  }
});
