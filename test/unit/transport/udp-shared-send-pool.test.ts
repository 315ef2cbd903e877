// The thread's shared send pool (lib/transport/source/udp-socket.ts, docs/udp.md "Send pools") over
// real loopback sockets: sockets that queue one after another, interleaved, in bursts larger than
// the shared pool, after quiet turns (back on the shared pool), and one that closes while its
// datagrams are queued, all send exactly their own datagrams, intact and in order per socket; sockets
// that stop sending from JavaScript altogether give their own pools back by the thread's sweep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UdpSocket, ownSendPoolCount, type UdpBatch } from '../../../lib/transport/source/udp-socket.js';

/** Collects datagram payloads (with their source port) until `count` arrived or `ms` passed. */
function collect(socket: UdpSocket, count: number, ms = 10_000): Promise<{ from: number; data: Buffer }[]> {
  return new Promise((resolve) => {
    const got: { from: number; data: Buffer }[] = [];
    const done = (): void => {
      clearTimeout(timer);
      socket.onBatch(null);
      resolve(got);
    };
    const timer = setTimeout(done, ms);
    socket.onBatch((b: UdpBatch) => {
      for (let i = 0; i < b.count; i++) got.push({ from: b.port(i), data: Buffer.from(b.data(i)) });
      if (got.length >= count) done();
    });
  });
}

/** A datagram that names its sender and sequence number, `size` bytes long. */
function datagram(sender: number, seq: number, size: number): Buffer {
  const d = Buffer.alloc(size, (sender * 31 + seq) & 0xff);
  d.writeUInt16BE(sender, 0);
  d.writeUInt32BE(seq, 2);
  return d;
}

/** Checks every datagram of every sender arrived once, in order, with intact bytes. */
function checkAll(got: { from: number; data: Buffer }[], senders: UdpSocket[], perSender: number, size: (seq: number) => number): void {
  assert.equal(got.length, senders.length * perSender);
  senders.forEach((s, sender) => {
    const port = s.address().port;
    const mine = got.filter((g) => g.from === port);
    assert.equal(mine.length, perSender, `sender ${sender}`);
    mine.forEach((g, seq) => assert.deepEqual(g.data, datagram(sender, seq, size(seq)), `sender ${sender} datagram ${seq}`));
  });
}

test('interleaved senders share the pool and each sends exactly its own datagrams', async () => {
  const rx = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1', recvBufferSize: 4 << 20 });
  const senders = await Promise.all(Array.from({ length: 5 }, () => UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' })));
  const port = rx.address().port;
  const rounds = 20;
  const pending = collect(rx, senders.length * rounds);
  // One turn: A, B, C, D, E, A, B, ... (the third datagram of each sender moves it to its own pool).
  for (let seq = 0; seq < rounds; seq++) senders.forEach((s, sender) => s.send(datagram(sender, seq, 100 + seq), port, '127.0.0.1'));
  checkAll(await pending, senders, rounds, (seq) => 100 + seq);
  for (const s of senders) s.close();
  rx.close();
});

test('one datagram per sender per turn, bursts beyond the shared 4 KiB, then quiet turns and interleaved sends again', async () => {
  const rx = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1', recvBufferSize: 4 << 20 });
  const senders = await Promise.all(Array.from({ length: 4 }, () => UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' })));
  const port = rx.address().port;
  const turns = 20;
  const burst = 10; // 10 x 1,000 B: more than the shared pool (4 KiB) holds
  const quiet = 8; // more quiet turns than a socket needs to give its own pool back
  const total = turns + burst + quiet + 3;
  const pending = collect(rx, senders.length * total);
  const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));
  let seq = 0;
  for (; seq < turns; seq++) {
    senders.forEach((s, sender) => s.send(datagram(sender, seq, 1000), port, '127.0.0.1'));
    await nextTurn();
  }
  for (const [sender, s] of senders.entries()) for (let k = 0; k < burst; k++) s.send(datagram(sender, seq + k, 1000), port, '127.0.0.1');
  seq += burst;
  await nextTurn();
  for (let k = 0; k < quiet; k++, seq++) {
    senders.forEach((s, sender) => s.send(datagram(sender, seq, 1000), port, '127.0.0.1'));
    await nextTurn();
  }
  for (let k = 0; k < 3; k++, seq++) senders.forEach((s, sender) => s.send(datagram(sender, seq, 1000), port, '127.0.0.1'));
  checkAll(await pending, senders, total, () => 1000);
  for (const s of senders) s.close();
  rx.close();
});

test('a socket closed with datagrams queued in the shared pool leaves it usable by the others', async () => {
  const rx = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  const a = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  const b = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  const port = rx.address().port;
  const pending = collect(rx, 2);
  a.send(datagram(0, 0, 64), port, '127.0.0.1');
  a.close(); // flushes what it queued
  b.send(datagram(1, 0, 64), port, '127.0.0.1');
  const got = await pending;
  assert.deepEqual(got.map((g) => g.data).sort(Buffer.compare), [datagram(0, 0, 64), datagram(1, 0, 64)].sort(Buffer.compare));
  b.close();
  rx.close();
});

test('sockets that took pools of their own in a burst and then send nothing more give them back (the sweep)', async () => {
  const rx = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1', recvBufferSize: 4 << 20 });
  const senders = await Promise.all(Array.from({ length: 6 }, () => UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' })));
  const port = rx.address().port;
  const before = ownSendPoolCount();
  const pending = collect(rx, senders.length * 3);
  // One turn, interleaved: every sender's third datagram moves it to a pool of its own. Then none
  // sends again (an idle connection: its consent traffic is native), so no flush counts quiet turns.
  for (let seq = 0; seq < 3; seq++) senders.forEach((s, sender) => s.send(datagram(sender, seq, 200), port, '127.0.0.1'));
  checkAll(await pending, senders, 3, () => 200);
  assert.ok(ownSendPoolCount() - before >= senders.length - 1, `own pools after the burst: ${ownSendPoolCount() - before}`);
  // One sender keeps sending two datagrams every 100 ms (two a turn: its flushes are not quiet, and
  // the sweep sees it queue): it keeps its pool; the others give theirs back within two sweeps (a
  // sweep a second; bounded at 5 s). The receiver drops what it gets meanwhile (no listener).
  const busy = senders[0]!;
  let seq = 3;
  const started = Date.now();
  const ticker = setInterval(() => {
    busy.send(datagram(0, seq++, 200), port, '127.0.0.1');
    busy.send(datagram(0, seq++, 200), port, '127.0.0.1');
  }, 100);
  while (ownSendPoolCount() - before > 1 && Date.now() - started < 5_000) await new Promise((r) => setTimeout(r, 100));
  clearInterval(ticker);
  assert.equal(ownSendPoolCount() - before, 1, 'only the busy sender keeps a pool of its own');
  await new Promise((r) => setTimeout(r, 100)); // the busy sender's last datagrams arrive (and are dropped)
  // Back on the shared pool, they still send exactly their own datagrams.
  const again = collect(rx, senders.length - 1);
  senders.slice(1).forEach((s, k) => s.send(datagram(k + 1, 100, 300), port, '127.0.0.1'));
  const got = await again;
  assert.equal(got.length, senders.length - 1);
  senders.slice(1).forEach((s, k) => assert.deepEqual(got.find((g) => g.from === s.address().port)?.data, datagram(k + 1, 100, 300)));
  for (const s of senders) s.close();
  assert.equal(ownSendPoolCount(), before, 'closing forgets the socket');
  rx.close();
});

test('a socket sent for once by another in a turn stays on the shared pool; the second time it moves to its own', async () => {
  const rx = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  const a = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  const b = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  const port = rx.address().port;
  const before = ownSendPoolCount();
  const pending = collect(rx, 5);
  // One turn: A, B (sends A's), A again: a connection answering a check and then sending its own.
  a.send(datagram(0, 0, 64), port, '127.0.0.1');
  b.send(datagram(1, 0, 64), port, '127.0.0.1');
  a.send(datagram(0, 1, 64), port, '127.0.0.1');
  assert.equal(ownSendPoolCount(), before, 'sent for once: still on the shared pool');
  // B sends A's a second time in the turn: A's next datagram moves it.
  b.send(datagram(1, 1, 64), port, '127.0.0.1');
  a.send(datagram(0, 2, 64), port, '127.0.0.1');
  assert.equal(ownSendPoolCount(), before + 1, 'sent for twice: a pool of its own');
  const got = await pending;
  assert.deepEqual(got.filter((g) => g.from === a.address().port).map((g) => g.data), [0, 1, 2].map((seq) => datagram(0, seq, 64)));
  assert.deepEqual(got.filter((g) => g.from === b.address().port).map((g) => g.data), [0, 1].map((seq) => datagram(1, seq, 64)));
  a.close();
  b.close();
  rx.close();
});
