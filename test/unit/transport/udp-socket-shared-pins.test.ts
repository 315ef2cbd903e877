// The pool arrays every socket of a thread shares (docs/udp.md "Cost per connection") are held by
// native code once, however many sockets use them (binding/pinned_array.hpp), and let go with the
// last socket: counted with pinnedArrayCount(), exact, no timing. Counters live in slabs of 64
// sockets (lib/transport/source/udp-socket.ts), so 100 sockets add at most two buffers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pinnedArrayCount } from '../../../lib/native/pinned-array-count.js';
import { UdpSocket } from '../../../lib/transport/source/udp-socket.js';

const SOCKETS = 100;

test('sockets on the shared pools add no held buffer each, and closing the last lets go of them', () => {
  const idle = pinnedArrayCount();
  const sockets: UdpSocket[] = [];
  try {
    sockets.push(UdpSocket.bindSync({ type: 'udp4', address: '127.0.0.1', port: 0 }));
    const one = pinnedArrayCount();
    // The receive pool (7 arrays), the shared send pool (5) and a counter slab: held once.
    assert.ok(one > idle && one <= idle + 13, `one socket holds ${one - idle} buffers`);
    for (let i = 1; i < SOCKETS; i++) sockets.push(UdpSocket.bindSync({ type: 'udp4', address: '127.0.0.1', port: 0 }));
    const many = pinnedArrayCount();
    assert.ok(many - one <= 2, `${SOCKETS} sockets hold ${many - one} buffers more than one does (counter slabs only)`);
  } finally {
    for (const s of sockets) s.close();
  }
  assert.equal(pinnedArrayCount(), idle, 'closing every socket lets go of every buffer they held');
});

test('each socket counts its own datagrams though their counters share a slab', async () => {
  const a = UdpSocket.bindSync({ type: 'udp4', address: '127.0.0.1', port: 0 });
  const b = UdpSocket.bindSync({ type: 'udp4', address: '127.0.0.1', port: 0 });
  const c = UdpSocket.bindSync({ type: 'udp4', address: '127.0.0.1', port: 0 });
  try {
    const got = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no datagram within 10 s')), 10_000);
      b.onBatch((batch) => {
        if (batch.count > 0) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    a.send(Buffer.from('hello'), b.address().port, '127.0.0.1');
    await got;
    assert.equal(a.stats.packetsSent, 1);
    assert.equal(b.stats.packetsReceived, 1);
    assert.equal(c.stats.packetsSent + c.stats.packetsReceived, 0);
    a.close();
    // Closed: a keeps its figures; the slot it gave back starts from zero for the next socket.
    assert.equal(a.stats.packetsSent, 1);
    const d = UdpSocket.bindSync({ type: 'udp4', address: '127.0.0.1', port: 0 });
    assert.equal(d.stats.packetsSent, 0);
    d.close();
  } finally {
    for (const s of [a, b, c]) s.close();
  }
});
