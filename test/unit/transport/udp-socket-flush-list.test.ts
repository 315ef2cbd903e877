// The thread's list of sockets to flush (lib/transport/source/udp-socket.ts, `socketsToFlush`):
// every socket that queued in a turn sends at the end of THAT turn, one setImmediate serves them
// all, a socket is listed once per turn, and a socket closed before the turn's end neither sends
// twice nor keeps the others from sending. Real loopback sockets.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { UdpSocket, type UdpBatch } from '../../../lib/transport/source/udp-socket.js';

const LOOPBACK = '127.0.0.1';

/** Datagrams by sender port, each as its first byte, until `count` arrived or `ms` passed. */
function collect(socket: UdpSocket, count: number, ms = 5000): Promise<Map<number, number[]>> {
  return new Promise((resolve) => {
    const bySender = new Map<number, number[]>();
    let got = 0;
    const done = (): void => {
      clearTimeout(timer);
      socket.onBatch(null);
      resolve(bySender);
    };
    const timer = setTimeout(done, ms);
    socket.onBatch((b: UdpBatch) => {
      for (let i = 0; i < b.count; i++) {
        const list = bySender.get(b.port(i)) ?? [];
        list.push(b.data(i)[0]!);
        bySender.set(b.port(i), list);
        got++;
      }
      if (got >= count) done();
    });
  });
}

/** Counts the setImmediate calls `fn` makes (the flush list schedules through the global). */
function countImmediates(fn: () => void): number {
  const original = globalThis.setImmediate;
  let calls = 0;
  globalThis.setImmediate = ((...args: Parameters<typeof setImmediate>) => {
    calls++;
    return original(...args);
  }) as typeof setImmediate;
  try {
    fn();
  } finally {
    globalThis.setImmediate = original;
  }
  return calls;
}

/** Resolves after the turn that is queued now has run its immediates. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Binds `n` sockets, closed when the test ends, whether it passed or not. */
async function bindAll(t: TestContext, n: number, options: { recvBufferSize?: number } = {}): Promise<UdpSocket[]> {
  const sockets = await Promise.all(Array.from({ length: n }, () => UdpSocket.bind({ type: 'udp4', address: LOOPBACK, ...options })));
  t.after(() => {
    for (const s of sockets) s.close();
  });
  return sockets;
}

test('sockets queueing interleaved in one turn: one setImmediate, every datagram leaves that turn, in order per socket', async (t) => {
  const [rx] = await bindAll(t, 1, { recvBufferSize: 1 << 20 });
  const senders = await bindAll(t, 3);
  const port = rx!.address().port;
  const PER_SOCKET = 6;
  const arrived = collect(rx!, senders.length * PER_SOCKET);
  const immediates = countImmediates(() => {
    for (let i = 0; i < PER_SOCKET; i++) {
      for (const s of senders) s.send(Uint8Array.of(i, 0xaa), port, LOOPBACK);
    }
  });
  assert.equal(immediates, 1, 'one flush task for every socket of the turn');
  const sentInTurn = senders.reduce((n, s) => n + s.stats.packetsSent, 0);
  assert.ok(sentInTurn < senders.length * PER_SOCKET, `some datagrams wait for the turn's end (${sentInTurn} sent early)`);
  await nextTurn();
  for (const s of senders) assert.equal(s.stats.packetsSent, PER_SOCKET, 'sent at the end of the turn that queued them');
  const bySender = await arrived;
  for (const s of senders) {
    assert.deepEqual(bySender.get(s.address().port), Array.from({ length: PER_SOCKET }, (_, i) => i));
  }
});

test('a socket is listed once per turn: its datagrams of a turn leave in one sendmmsg', async (t) => {
  const [rx] = await bindAll(t, 1, { recvBufferSize: 1 << 20 });
  const [tx] = await bindAll(t, 1);
  const port = rx!.address().port;
  const arrived = collect(rx!, 20);
  for (let turn = 0; turn < 2; turn++) {
    const before = tx!.stats.sendSyscalls;
    const immediates = countImmediates(() => {
      for (let i = 0; i < 10; i++) tx!.send(Uint8Array.of(turn * 10 + i), port, LOOPBACK);
    });
    assert.equal(immediates, 1, `turn ${turn}: one flush task`);
    assert.equal(tx!.stats.packetsSent, turn * 10, `turn ${turn}: nothing left before the turn's end`);
    await nextTurn();
    assert.equal(tx!.stats.packetsSent, (turn + 1) * 10, `turn ${turn}: the list was served again after the previous turn`);
    assert.equal(tx!.stats.sendSyscalls - before, 1, `turn ${turn}: one sendmmsg for the socket's turn`);
  }
  const bySender = await arrived;
  assert.deepEqual(bySender.get(tx!.address().port), Array.from({ length: 20 }, (_, i) => i));
});

test('a socket closed before its turn ends sends once (at close), and the others on the list still send', async (t) => {
  const [rx] = await bindAll(t, 1, { recvBufferSize: 1 << 20 });
  const [first, closing, last] = await bindAll(t, 3);
  const port = rx!.address().port;
  const arrived = collect(rx!, 9);
  for (let i = 0; i < 3; i++) {
    first!.send(Uint8Array.of(i), port, LOOPBACK);
    closing!.send(Uint8Array.of(i), port, LOOPBACK);
    last!.send(Uint8Array.of(i), port, LOOPBACK);
  }
  const closingPort = closing!.address().port;
  closing!.close();
  assert.equal(closing!.stats.packetsSent, 3, 'close sends what it had queued');
  await nextTurn();
  assert.equal(closing!.stats.packetsSent, 3, 'the turn-end flush does not send it again');
  assert.equal(first!.stats.packetsSent, 3);
  assert.equal(last!.stats.packetsSent, 3);
  const bySender = await arrived;
  assert.deepEqual(bySender.get(first!.address().port), [0, 1, 2]);
  assert.deepEqual(bySender.get(closingPort), [0, 1, 2]);
  assert.deepEqual(bySender.get(last!.address().port), [0, 1, 2]);
});
