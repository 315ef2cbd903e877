// UdpSocket over real loopback sockets: batching, addresses, errors, truncation, GSO, backpressure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createSocket } from 'node:dgram';
import { UdpSocket, type UdpBatch } from '../../../lib/transport/source/udp-socket.js';
import { PwtError } from '../../../lib/common/errors.js';

interface Received {
  data: Buffer;
  address: string;
  port: number;
  family: number;
  key: number | string;
}

/** Collects datagrams until `count` arrived or `ms` passed. */
function collect(socket: UdpSocket, count: number, ms = 5000): Promise<{ got: Received[]; batches: number[] }> {
  return new Promise((resolve) => {
    const got: Received[] = [];
    const batches: number[] = [];
    const timer = setTimeout(() => done(), ms);
    const done = (): void => {
      clearTimeout(timer);
      socket.onBatch(null);
      resolve({ got, batches });
    };
    socket.onBatch((b: UdpBatch) => {
      batches.push(b.count);
      for (let i = 0; i < b.count; i++) {
        got.push({ data: Buffer.from(b.data(i)), address: b.address(i), port: b.port(i), family: b.family(i), key: b.addressKey(i) });
      }
      if (got.length >= count) done();
    });
  });
}

test('binds to an ephemeral port and reports its address', async () => {
  const s = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  const a = s.address();
  assert.equal(a.address, '127.0.0.1');
  assert.equal(a.family, 'IPv4');
  assert.ok(a.port > 0 && a.port < 65536);
  s.close();
  assert.equal(s.closed, true);
});

test('1000 datagrams arrive intact, in order, with their source, in few batches', async () => {
  const rx = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1', recvBufferSize: 4 << 20 });
  const tx = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  const port = rx.address().port;
  const N = 1000;
  const pending = collect(rx, N);
  for (let i = 0; i < N; i++) {
    const d = Buffer.alloc(200 + (i % 50));
    d.writeUInt32BE(i, 0);
    d.fill(i & 0xff, 4);
    tx.send(d, port, '127.0.0.1');
  }
  const { got, batches } = await pending;
  assert.equal(got.length, N);
  for (let i = 0; i < N; i++) {
    const r = got[i]!;
    assert.equal(r.data.length, 200 + (i % 50));
    assert.equal(r.data.readUInt32BE(0), i);
    assert.equal(r.data[r.data.length - 1], i & 0xff);
    assert.equal(r.address, '127.0.0.1');
    assert.equal(r.port, tx.address().port);
    assert.equal(r.family, 4);
    assert.equal(r.key, (0x7f000001 * 65536) + tx.address().port);
  }
  assert.ok(batches.length < N / 4, `expected batching, got ${batches.length} batches for ${N} datagrams`);
  const st = tx.stats;
  assert.equal(st.packetsSent, N);
  assert.ok(st.sendSyscalls < N / 4, `expected sendmmsg batching, got ${st.sendSyscalls} syscalls`);
  assert.equal(rx.stats.packetsReceived, N);
  rx.close();
  tx.close();
});

test('IPv6 on ::1, and a dual-stack socket reports IPv4 senders as IPv4', async () => {
  const rx6 = await UdpSocket.bind({ type: 'udp6', address: '::1' });
  const tx6 = await UdpSocket.bind({ type: 'udp6', address: '::1' });
  const p = collect(rx6, 1);
  tx6.send(Buffer.from('v6'), rx6.address().port, '::1');
  const { got } = await p;
  assert.equal(got[0]!.data.toString(), 'v6');
  assert.equal(got[0]!.address, '::1');
  assert.equal(got[0]!.family, 6);
  assert.equal(got[0]!.key, `::1|${tx6.address().port}`);
  rx6.close();
  tx6.close();

  const dual = await UdpSocket.bind({ type: 'udp6' });
  const tx4 = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  const q = collect(dual, 1);
  tx4.send(Buffer.from('v4'), dual.address().port, '127.0.0.1');
  const r = (await q).got[0]!;
  assert.equal(r.address, '127.0.0.1');
  assert.equal(r.family, 4);
  // and a udp6 socket can answer an IPv4 peer (mapped destination)
  const back = collect(tx4, 1);
  dual.send(Buffer.from('back'), tx4.address().port, '127.0.0.1');
  assert.equal((await back).got[0]!.data.toString(), 'back');
  dual.close();
  tx4.close();
});

test('typed errors: address in use, invalid address, bad port, oversized datagram, use after close', async () => {
  const a = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  const port = a.address().port;
  await assert.rejects(UdpSocket.bind({ type: 'udp4', address: '127.0.0.1', port }), (e: unknown) =>
    e instanceof PwtError && e.code === 'ERR_UDP_ADDRESS_IN_USE' && /EADDRINUSE/.test(e.message));
  await assert.rejects(UdpSocket.bind({ type: 'udp4', address: '300.1.1.1' }), { code: 'ERR_UDP_INVALID_ADDRESS', name: 'TypeError' });
  await assert.rejects(UdpSocket.bind({ type: 'udp4', address: '::1' }), { code: 'ERR_UDP_INVALID_ADDRESS' });
  await assert.rejects(UdpSocket.bind({ type: 'udp4', port: 70000 }), { code: 'ERR_UDP_INVALID_PORT', name: 'RangeError' });
  await assert.rejects(UdpSocket.bind({ type: 'udp4', address: '192.0.2.1' }), { code: 'ERR_UDP_ADDRESS_NOT_AVAILABLE' });
  assert.throws(() => a.send(Buffer.alloc(65508), port, '127.0.0.1'), { code: 'ERR_UDP_DATAGRAM_TOO_BIG', name: 'RangeError' });
  assert.throws(() => a.send(Buffer.alloc(1), port, 'not-an-ip'), { code: 'ERR_UDP_INVALID_ADDRESS' });
  assert.throws(() => a.send(Buffer.alloc(1), port, '::1'), { code: 'ERR_UDP_INVALID_ADDRESS' });
  assert.throws(() => a.send(Buffer.alloc(1), -1, '127.0.0.1'), { code: 'ERR_UDP_INVALID_PORT' });
  a.close();
  assert.throws(() => a.send(Buffer.alloc(1), port, '127.0.0.1'), { code: 'ERR_UDP_CLOSED', name: 'InvalidStateError' });
  assert.throws(() => a.address(), { code: 'ERR_UDP_CLOSED' });
  a.close(); // idempotent
});

test('a datagram larger than the receive slot is dropped and counted; the next one arrives', async () => {
  const rx = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1', maxDatagramSize: 256 });
  const tx = createSocket('udp4');
  const p = collect(rx, 1);
  tx.send(Buffer.alloc(1000, 1), rx.address().port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 50));
  tx.send(Buffer.from('small'), rx.address().port, '127.0.0.1');
  const { got } = await p;
  assert.equal(got.length, 1);
  assert.equal(got[0]!.data.toString(), 'small');
  assert.equal(rx.stats.drops.truncated, 1);
  tx.close();
  rx.close();
});

test('sending to a closed port never throws and the socket keeps working (ICMP errors are absorbed)', async () => {
  const closed = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  const deadPort = closed.address().port;
  closed.close();
  const s = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  const peer = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  for (let i = 0; i < 20; i++) s.send(Buffer.from('x'), deadPort, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 50));
  const p = collect(s, 1);
  peer.send(Buffer.from('still alive'), s.address().port, '127.0.0.1');
  assert.equal((await p).got[0]!.data.toString(), 'still alive');
  s.close();
  peer.close();
});

test('same-size bursts to one destination go out with GSO and arrive as separate datagrams', async () => {
  const rx = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1', recvBufferSize: 4 << 20 });
  const tx = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1', gso: true });
  const dest = tx.destination(rx.address().port, '127.0.0.1');
  const N = 200;
  const p = collect(rx, N);
  for (let i = 0; i < N; i++) {
    const d = Buffer.alloc(i === N - 1 ? 300 : 1200, i & 0xff);
    tx.sendTo(d, dest);
  }
  const { got } = await p;
  assert.equal(got.length, N);
  got.forEach((r, i) => {
    assert.equal(r.data.length, i === N - 1 ? 300 : 1200);
    assert.equal(r.data[0], i & 0xff);
  });
  // GSO may be unavailable on exotic kernels; when it is used, it must have batched.
  if (tx.stats.gsoSends > 0) assert.ok(tx.stats.sendSyscalls <= 10);
  rx.close();
  tx.close();
});

test('a burst larger than the send buffer is sent completely and in order (backpressure, no loss)', async () => {
  const rx = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1', recvBufferSize: 32 << 20 });
  const tx = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1', sendBufferSize: 4096, gso: false });
  const N = 5000;
  const p = collect(rx, N, 10000);
  const dest = tx.destination(rx.address().port, '127.0.0.1');
  for (let i = 0; i < N; i++) {
    const d = Buffer.alloc(100);
    d.writeUInt32BE(i, 0);
    tx.sendTo(d, dest);
  }
  const { got } = await p;
  const st = tx.stats;
  assert.equal(st.packetsSent, N, `sent ${st.packetsSent}, queued ${st.sendQueued}`);
  // The receiver may drop on its own buffer, but what arrives must be in order.
  let last = -1;
  for (const r of got) {
    const v = r.data.readUInt32BE(0);
    assert.ok(v > last);
    last = v;
  }
  assert.ok(got.length > N * 0.9, `received ${got.length}`);
  rx.close();
  tx.close();
});

test('SO_REUSEPORT lets two sockets share a port', async () => {
  const a = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1', reusePort: true });
  const b = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1', port: a.address().port, reusePort: true });
  assert.equal(a.address().port, b.address().port);
  a.close();
  b.close();
});

test('a throwing batch listener is reported and does not stop delivery', async () => {
  const rx = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  const tx = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  const warnings: string[] = [];
  const onWarning = (w: Error): void => {
    warnings.push(w.message);
  };
  process.on('warning', onWarning);
  let calls = 0;
  const second = new Promise<string>((resolve) => {
    rx.onBatch((b) => {
      calls++;
      if (calls === 1) throw new Error('listener bug');
      resolve(b.data(0).toString());
    });
  });
  tx.send(Buffer.from('one'), rx.address().port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 50));
  tx.send(Buffer.from('two'), rx.address().port, '127.0.0.1');
  assert.equal(await second, 'two');
  await new Promise((r) => setImmediate(r));
  process.off('warning', onWarning);
  assert.ok(warnings.some((w) => w.includes('listener bug')));
  rx.close();
  tx.close();
});

test('close() releases every handle: a process that closed its sockets exits by itself, and so does one that unref()ed', async () => {
  const script = (body: string): string => `
    import { UdpSocket } from ${JSON.stringify(new URL('../../../lib/transport/source/udp-socket.ts', import.meta.url).href)};
    const a = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
    const b = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
    b.onBatch(() => {});
    a.send(Buffer.from('x'), b.address().port, '127.0.0.1');
    ${body}
  `;
  for (const body of [
    'setTimeout(() => { a.close(); b.close(); }, 50);',
    'a.unref(); b.unref();',
  ]) {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(body)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: process.env,
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 10000);
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    clearTimeout(killer);
    assert.equal(signal, null, `child did not exit by itself (${body})`);
    assert.equal(code, 0, stderr);
  }
});

test('the send pool starts small and grows for bursts; large datagrams still fit', async () => {
  const rx = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1', recvBufferSize: 8 << 20 });
  const tx = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1', gso: false });
  const dest = tx.destination(rx.address().port, '127.0.0.1');
  const N = 2000;
  const p = collect(rx, N + 1);
  for (let i = 0; i < N; i++) {
    const d = Buffer.alloc(1000);
    d.writeUInt32BE(i, 0);
    tx.sendTo(d, dest);
  }
  tx.sendTo(Buffer.alloc(60000, 7), dest);
  const { got } = await p;
  assert.equal(got.length, N, 'the 60000-byte datagram exceeds the receive slot and is counted as truncated');
  got.forEach((r, i) => assert.equal(r.data.readUInt32BE(0), i));
  assert.equal(tx.stats.packetsSent, N + 1);
  // Flushes grew with the burst: far fewer than one per 32-entry initial pool.
  assert.ok(tx.stats.sendSyscalls < N / 32, `sendmmsg calls: ${tx.stats.sendSyscalls}`);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(rx.stats.drops.truncated, 1);
  rx.close();
  tx.close();
});
