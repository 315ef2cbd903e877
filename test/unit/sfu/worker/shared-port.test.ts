// One public port for all router workers (SO_REUSEPORT + the native hand-off, docs/scaling.md "One
// port across workers"): 2 workers, 2 rooms on each, every client an RTCPeerConnection of ours with
// its own loopback socket, so the kernel's 4-tuple hash delivers about half of the flows to the
// worker that does not own them. Every flow is served by its owner: all packets reach every
// subscriber, each owner's router received and forwarded exactly its rooms' packets, no worker dropped
// a datagram as unknown, and the hand-offs that made this happen are counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PwtError } from '../../../../lib/common/errors.js';
import { RouterWorkerPool, type RouterWorkerStats } from '../../../../lib/sfu/index.js';
import { roomClients, sendAndExpect, type RoomClients } from './fixtures/room-clients.js';

const ROOMS_PER_WORKER = 2;
const SUBSCRIBERS = 3;
const PACKETS = 30;

function isStats(s: RouterWorkerStats | { failed: PwtError }): s is RouterWorkerStats {
  return !('failed' in s);
}

test('shared port: every flow reaches the worker that owns it, through the native hand-off', { timeout: 180_000, skip: process.platform !== 'linux' && 'SO_REUSEPORT hashing and recvmmsg are Linux-only' }, async () => {
  const pool = await RouterWorkerPool.create({ workers: 2, address: '127.0.0.1', sharedPort: true });
  const clients: RoomClients[] = [];
  try {
    const port = pool.ports[0]!.port;
    assert.ok(port > 0);
    assert.deepEqual(pool.ports.map((p) => p.port), [port, port], 'one port for both workers');
    const rooms = [];
    for (let r = 0; r < ROOMS_PER_WORKER; r++) for (let w = 0; w < 2; w++) rooms.push(await pool.createRoom({ worker: w }));
    for (const room of rooms) {
      assert.equal(room.local.port, port);
      clients.push(await roomClients(room, SUBSCRIBERS));
    }
    await Promise.all(clients.map((c) => sendAndExpect(c, PACKETS)));

    for (const c of clients) {
      const st = await c.room.stats();
      assert.equal(st.producers[c.producer]?.packetsReceived, PACKETS, `room ${c.room.id}: its worker received every packet of its publisher`);
      for (const s of c.subscribers) assert.equal(st.consumers[s.consumer]?.packetsSent, PACKETS);
    }
    const stats = (await pool.stats()).filter(isStats);
    assert.equal(stats.length, 2);
    for (const w of stats) {
      assert.equal(w.local.port, port);
      assert.equal(w.packetsReceived, ROOMS_PER_WORKER * PACKETS, `worker ${w.worker} received only its own rooms' media`);
      assert.equal(w.packetsForwarded, ROOMS_PER_WORKER * PACKETS * SUBSCRIBERS);
      assert.equal(w.unknownSender, 0, `worker ${w.worker} met no flow it could not place`);
      assert.equal(w.unknownUfrag, 0);
      assert.ok(w.handoff, 'hand-off counters on a shared port');
      assert.equal(w.handoff.drops, 0);
      assert.equal(w.handoff.steeringFull, 0);
    }
    const sent = stats.reduce((a, w) => a + w.handoff!.sent, 0);
    const received = stats.reduce((a, w) => a + w.handoff!.received, 0);
    // 2 × 2 × (1 + 3) = 16 client sockets: the chance that the kernel put every one on its owner is 2^-16.
    assert.ok(sent > 0, 'some flows arrived at the other worker and were handed off');
    assert.equal(received, sent, 'every hand-off arrived');
  } finally {
    for (const c of clients) c.close();
    await pool.close();
  }
});
