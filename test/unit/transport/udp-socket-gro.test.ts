// UdpSocket with `gro: true` over real loopback sockets (docs/udp.md "GRO"): a burst our own GSO
// sender sends as one UDP_SEGMENT message reaches the GRO socket as one coalesced buffer and the
// listener gets every datagram, intact and in order, with the sender's address; the counters show
// the coalesced receive. Without `gro` the same burst arrives without any. Where the kernel refuses
// UDP_GRO, `groEnabled` is false and the datagrams still arrive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UdpSocket, type UdpBatch } from '../../../lib/transport/source/udp-socket.js';

const COUNT = 40;

function datagram(i: number): Buffer {
  return Buffer.alloc(1100, i + 1);
}

/** Sends COUNT same-size datagrams to `to` in one flush (one GSO message where the kernel allows). */
async function burst(to: UdpSocket): Promise<{ data: Buffer; port: number }[]> {
  const tx = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  try {
    const got: { data: Buffer; port: number }[] = [];
    const all = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${got.length} of ${COUNT} datagrams in 5 s`)), 5000);
      to.onBatch((b: UdpBatch) => {
        for (let i = 0; i < b.count; i++) got.push({ data: Buffer.from(b.data(i)), port: b.port(i) });
        if (got.length >= COUNT) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    for (let i = 0; i < COUNT; i++) tx.send(datagram(i), to.address().port, '127.0.0.1');
    await all;
    for (const g of got) assert.equal(g.port, tx.address().port, "the sender's port");
    assert.ok(tx.stats.gsoSends >= 1, 'the burst left as GSO');
    return got;
  } finally {
    to.onBatch(null);
    tx.close();
  }
}

test('gro: a GSO burst arrives as one coalesced receive, split into every datagram in order', async () => {
  const rx = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1', gro: true, recvBufferSize: 4 << 20 });
  try {
    const got = await burst(rx);
    assert.equal(got.length, COUNT);
    got.forEach((g, i) => assert.ok(g.data.equals(datagram(i)), `datagram ${i} intact and in order`));
    if (!rx.groEnabled) {
      console.log('UDP_GRO refused by this kernel: the socket received on the plain path');
      return;
    }
    const s = rx.stats;
    assert.ok(s.groReceives >= 1, 'coalesced receives counted');
    assert.equal(s.groSegments, COUNT, 'every datagram came out of a coalesced buffer');
    assert.equal(s.packetsReceived, COUNT);
    assert.ok(s.recvSyscalls < COUNT);
  } finally {
    rx.close();
  }
});

test('without gro the kernel splits the burst: the same datagrams, no coalesced receive', async () => {
  const rx = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1', recvBufferSize: 4 << 20 });
  try {
    assert.equal(rx.groEnabled, false);
    const got = await burst(rx);
    got.forEach((g, i) => assert.ok(g.data.equals(datagram(i))));
    assert.equal(rx.stats.groReceives, 0);
    assert.equal(rx.stats.groSegments, 0);
  } finally {
    rx.close();
  }
});
