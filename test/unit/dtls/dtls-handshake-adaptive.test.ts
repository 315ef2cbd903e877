// The adaptive handshake-thread mode (docs/dtls.md "Handshake thread"): a handshake chooses where
// it runs when it starts (the client's start, the server's ClientHello): in place while fewer than
// two handshakes of the thread are in flight, on the handshake thread otherwise. One pair at a time
// runs both ends in place (no wake from the thread); pairs started together send all but the first
// two clients, and every server, to the thread; hostile datagrams during an in-place handshake are
// dropped and counted as on the thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DtlsTransport } from '../../../lib/dtls/dtls-transport.js';
import { makeThreadedPair, moveOnce, nextWake, pumpThreaded, hostileFlightFilter, type ThreadedPair } from './dtls-handshake-thread-pair.js';

const adaptivePair = (): ThreadedPair => makeThreadedPair({ client: true, server: true }, { handshakeThread: 'adaptive' });

test('one adaptive pair at a time: both handshakes run in place, connect, and stop counting once over', async () => {
  for (let round = 0; round < 3; round++) {
    const before = DtlsTransport.handshakePaths();
    const p = adaptivePair();
    // Before its handshake starts an adaptive transport may still go to the thread.
    assert.equal(p.client.handshakeThread, 'on');
    p.server.start(0);
    p.client.start(0);
    assert.equal(p.client.handshakeThread, 'off');
    assert.equal(p.client.awaitingHandshakeThread, false);
    assert.equal(DtlsTransport.handshakePaths().inThreadNow, 1);
    await pumpThreaded(p);
    assert.equal(p.client.state, 'connected');
    assert.equal(p.server.state, 'connected');
    assert.equal(p.server.handshakeThread, 'off');
    assert.equal(p.wakes, 0, 'nothing came back from the handshake thread');
    assert.deepEqual(p.client.exportKeyingMaterialForTest('EXTRACTOR-dtls_srtp', 60), p.server.exportKeyingMaterialForTest('EXTRACTOR-dtls_srtp', 60));
    const after = DtlsTransport.handshakePaths();
    assert.equal(after.inThread - before.inThread, 2);
    assert.equal(after.onThreads - before.onThreads, 0);
    assert.equal(after.inThreadNow, 0);
    p.client.close();
    p.server.close();
  }
});

test('adaptive pairs started together: the first two clients run in place, the other clients and every server on the thread', async () => {
  const before = DtlsTransport.handshakePaths();
  const pairs = Array.from({ length: 8 }, adaptivePair);
  for (const p of pairs) {
    p.server.start(0);
    p.client.start(0);
  }
  assert.deepEqual(pairs.map((p) => p.client.handshakeThread), ['off', 'off', 'on', 'on', 'on', 'on', 'on', 'on']);
  const settled = (s: string): boolean => s === 'connected' || s === 'closed' || s === 'failed';
  for (let i = 0; i < 400; i++) {
    let moved = 0;
    for (const p of pairs) moved += moveOnce(p);
    if (pairs.every((p) => settled(p.client.state) && settled(p.server.state)) && moved === 0) break;
    if (moved === 0) await nextWake();
  }
  for (const p of pairs) {
    assert.equal(p.client.state, 'connected');
    assert.equal(p.server.state, 'connected');
    assert.equal(p.server.handshakeThread, 'on');
  }
  const after = DtlsTransport.handshakePaths();
  assert.equal(after.inThread - before.inThread, 2);
  assert.equal(after.onThreads - before.onThreads, 14);
  assert.equal(after.inThreadNow, 0);
  for (const p of pairs) {
    p.client.close();
    p.server.close();
  }
});

test('hostile datagrams during an in-place adaptive handshake are dropped and counted; the handshake still completes', async () => {
  const p = adaptivePair();
  p.server.start(0);
  p.client.start(0);
  const hostile = hostileFlightFilter();
  await pumpThreaded(p, hostile.filter);
  assert.equal(p.client.handshakeThread, 'off');
  assert.equal(p.server.handshakeThread, 'off');
  assert.equal(p.client.state, 'connected');
  assert.equal(p.server.state, 'connected');
  const dropped = p.client.stats().droppedMalformed + p.server.stats().droppedMalformed;
  assert.ok(dropped >= 2 * hostile.injected, `malformed drops ${dropped} for ${hostile.injected} injections`);
  assert.equal(DtlsTransport.handshakePaths().inThreadNow, 0);
});
