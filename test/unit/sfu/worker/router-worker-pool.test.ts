// RouterWorkerPool over real loopback sockets, a port per worker: two router workers (the addon
// loaded in both at once), a room on each with a publisher and a subscriber that are our own
// RTCPeerConnections on the main thread; each worker forwards its room's packets natively while the
// other does the same. Errors cross the thread boundary typed, and a crashed worker fails its rooms
// and pending calls instead of hanging the main thread (docs/scaling.md "Routers on worker threads").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PwtError } from '../../../../lib/common/errors.js';
import { RtpPacket } from '../../../../lib/rtp/rtp-packet.js';
import { RouterWorkerPool, type RouterWorkerFailure, type RouterWorkerStats } from '../../../../lib/sfu/index.js';
import { within } from '../../../integration/peer-helpers.js';
import { roomClients, sendAndExpect, type RoomClients } from './fixtures/room-clients.js';

const PACKETS = 40;

function isStats(s: RouterWorkerStats | { failed: PwtError }): s is RouterWorkerStats {
  return !('failed' in s);
}

test('router workers: a room on each of 2 workers forwards natively; typed errors; a crashed worker fails cleanly', { timeout: 120_000 }, async () => {
  const pool = await RouterWorkerPool.create({ workers: 2, address: '127.0.0.1' });
  const sessions: RoomClients[] = [];
  try {
    assert.equal(pool.size, 2);
    assert.notEqual(pool.ports[0]!.port, pool.ports[1]!.port, 'a port per worker');
    const rooms = [await pool.createRoom({ worker: 0 }), await pool.createRoom({ worker: 1 })];
    assert.deepEqual(rooms.map((r) => r.worker), [0, 1]);
    // Both sessions are set up and run at the same time: the addon is live in both workers at once.
    sessions.push(...(await Promise.all(rooms.map((r) => roomClients(r, 1)))));
    await Promise.all(sessions.map((s) => sendAndExpect(s, PACKETS)));

    for (const [i, room] of rooms.entries()) {
      const st = await room.stats();
      const s = sessions[i]!;
      assert.equal(st.worker, i);
      assert.equal(st.producers[s.producer]?.packetsReceived, PACKETS);
      assert.equal(st.consumers[s.subscribers[0]!.consumer]?.packetsSent, PACKETS);
      assert.equal(st.router.packetsForwarded, PACKETS, 'each worker forwarded only its own room');
      assert.equal(st.router.jsDeliveries, 0, 'no forwarded packet reached JavaScript in the worker');
      assert.equal(Object.keys(st.peers).length, 2);
    }
    // Pause and resume through the room: paused packets are dropped and counted in the worker, and
    // after resume the subscriber gets the next ones (sendAndExpect checks payload and SSRC).
    const s0 = sessions[0]!;
    const consumer0 = s0.subscribers[0]!.consumer;
    await rooms[0]!.pause(consumer0);
    let ts = PACKETS * 960;
    for (let n = 0; n < 10; n++) s0.source.send(new RtpPacket({ timestamp: (ts += 960), payload: Buffer.from(`paused:${n}`) }));
    for (let i = 0; i < 100 && (await rooms[0]!.stats()).consumers[consumer0]!.pwtDrops.paused < 10; i++) await new Promise((r) => setTimeout(r, 20));
    const paused = await rooms[0]!.stats();
    assert.equal(paused.consumers[consumer0]!.pwtDrops.paused, 10);
    assert.equal(paused.consumers[consumer0]!.pwtPaused, true);
    await rooms[0]!.resume(consumer0);
    await sendAndExpect(s0, 5, PACKETS + 100);
    await rooms[0]!.requestKeyFrame(s0.producer);
    const resumed = await rooms[0]!.stats();
    assert.equal(resumed.consumers[consumer0]!.packetsSent, PACKETS + 5);
    assert.equal(resumed.consumers[consumer0]!.pwtPaused, false);
    assert.equal(resumed.producers[s0.producer]!.pwtKeyframeRequestsSent + resumed.producers[s0.producer]!.pwtKeyframeRequestsMerged, 1, 'the keyframe request reached the producer');

    const workerStats = (await pool.stats()).filter(isStats);
    assert.deepEqual(workerStats.map((w) => [w.worker, w.packetsForwarded, w.peers]), [[0, PACKETS + 5, 2], [1, PACKETS, 2]]);
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
    for (const s of sessions) s.close();
    await pool.close();
  }
});
