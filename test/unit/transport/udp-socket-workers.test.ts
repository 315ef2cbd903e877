// The addon in worker_threads: two workers use sockets at once, and terminating a worker whose
// socket is open neither aborts the process nor leaks the descriptor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { UdpSocket } from '../../../lib/transport/source/udp-socket.js';

const socketModule = new URL('../../../lib/transport/source/udp-socket.ts', import.meta.url).href;

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

function echoWorker(): Worker {
  const code = `
    import { parentPort } from 'node:worker_threads';
    const { UdpSocket } = await import(${JSON.stringify(socketModule)});
    const s = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
    s.onBatch((b) => { for (let i = 0; i < b.count; i++) s.send(b.data(i), b.port(i), b.address(i)); });
    parentPort.postMessage(s.address().port);
  `;
  return new Worker(`import('tsx/esm/api').then((api) => { api.register(); return import('data:text/javascript,' + encodeURIComponent(${JSON.stringify(code)})); })`, { eval: true });
}

test('two workers echo at once; terminating them with open sockets leaks no descriptor', { skip: process.platform !== 'linux' && 'uses /proc/self/fd' }, async () => {
  const client = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  const fdsBefore = openFds();
  const workers = [echoWorker(), echoWorker()];
  const ports = (await Promise.all(workers.map((w) => once(w, 'message')))).map(([p]) => p as number);
  assert.equal(new Set(ports).size, 2);
  const replies = new Map<number, number>();
  const allBack = new Promise<void>((resolve) => {
    client.onBatch((b) => {
      for (let i = 0; i < b.count; i++) replies.set(b.port(i), (replies.get(b.port(i)) ?? 0) + 1);
      if ([...replies.values()].reduce((a, c) => a + c, 0) >= 100) resolve();
    });
  });
  for (let i = 0; i < 50; i++) for (const p of ports) client.send(Buffer.from(`ping ${i}`), p, '127.0.0.1');
  await Promise.race([allBack, new Promise((r) => setTimeout(r, 5000))]);
  assert.equal(replies.get(ports[0]!), 50);
  assert.equal(replies.get(ports[1]!), 50);
  assert.ok(openFds() > fdsBefore, 'the workers hold sockets while running');
  await Promise.all(workers.map((w) => w.terminate()));
  // Worker teardown runs the addon's cleanup hook, which closes the socket descriptors.
  for (let i = 0; i < 50 && openFds() > fdsBefore; i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(openFds() <= fdsBefore, `descriptors leaked: ${openFds()} open, ${fdsBefore} before`);
  client.close();
});
