// The DTLS handshake on the native handshake thread (docs/dtls.md, "Handshake thread"): both
// ends or one end threaded connect with the same RFC 5764 exporter output and hand over; the
// results arrive through onAsyncOutput; hostile datagrams during the handshake are dropped and
// counted; a wrong fingerprint fails; close during the handshake is final; misuse throws; a
// handshake collected or closed while it waits for an admission slot lets the process exit.
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { DtlsCertificate } from '../../../lib/dtls/dtls-certificate.js';
import { DtlsTransport } from '../../../lib/dtls/dtls-transport.js';
import { InvalidArgumentError } from '../../../lib/common/errors.js';
import { makeThreadedPair, moveOnce, nextWake, pumpThreaded, hostileFlightFilter } from './dtls-handshake-thread-pair.js';
import { testCertificates } from './dtls-pair.js';

const received = (events: readonly { type: string; records?: readonly Buffer[] }[]): string[] =>
  events.flatMap((e) => (e.type === 'data' ? e.records!.map(String) : []));

for (const threaded of [
  { client: true, server: true },
  { client: true, server: false },
  { client: false, server: true },
]) {
  test(`handshake with client ${threaded.client ? 'on the thread' : 'in place'}, server ${threaded.server ? 'on the thread' : 'in place'}`, async () => {
    const p = makeThreadedPair(threaded);
    p.server.start(0);
    p.client.start(0);
    await pumpThreaded(p);
    assert.equal(p.client.state, 'connected');
    assert.equal(p.server.state, 'connected');
    assert.ok(p.wakes > 0, 'results came through onAsyncOutput');
    assert.deepEqual(p.clientEvents.filter((e) => e.type === 'statechange').map((e) => e.type === 'statechange' && e.state), ['connecting', 'connected']);
    assert.deepEqual(p.serverEvents.filter((e) => e.type === 'statechange').map((e) => e.type === 'statechange' && e.state), ['connecting', 'connected']);
    assert.equal(p.client.recordLayer, 'own');
    assert.equal(p.server.recordLayer, 'own');
    // Where each handshake ran, and no thread refused in this process (stats, docs/dtls.md).
    assert.equal(p.client.handshakeThread, threaded.client ? 'on' : 'off');
    assert.equal(p.server.handshakeThread, threaded.server ? 'on' : 'off');
    assert.equal(p.client.stats().handshakeThreadRefusals, 0);
    assert.equal(p.client.stats().droppedBacklog, 0);
    assert.equal(p.client.srtpProfile, 'AEAD_AES_128_GCM');
    assert.equal(p.server.cipherSuiteStandardName, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256');
    assert.equal(p.client.tlsVersion, 'FEFD');
    assert.deepEqual(p.client.exportKeyingMaterialForTest('EXTRACTOR-dtls_srtp', 60), p.server.exportKeyingMaterialForTest('EXTRACTOR-dtls_srtp', 60));
    const [clientCert, serverCert] = testCertificates();
    assert.deepEqual(p.server.getRemoteCertificates()[0], clientCert.certificateDer());
    assert.deepEqual(p.client.getRemoteCertificates()[0], serverCert.certificateDer());
    assert.equal(p.client.pollTimeout(), undefined);
    // Home after the handshake: data runs in place, synchronously, both ways.
    p.client.send([Buffer.from('up'), Buffer.from('again')]);
    p.server.send(Buffer.from('down'));
    moveOnce(p);
    assert.deepEqual(received(p.serverEvents), ['up', 'again']);
    assert.deepEqual(received(p.clientEvents), ['down']);
    p.client.close();
    moveOnce(p);
    assert.equal(p.server.state, 'closed');
  });
}

test('hostile datagrams during a threaded handshake are dropped and counted; the handshake still completes', async () => {
  const p = makeThreadedPair();
  p.server.start(0);
  p.client.start(0);
  const hostile = hostileFlightFilter();
  await pumpThreaded(p, hostile.filter);
  assert.equal(p.client.state, 'connected');
  assert.equal(p.server.state, 'connected');
  const dropped = p.client.stats().droppedMalformed + p.server.stats().droppedMalformed;
  assert.ok(dropped >= 2 * hostile.injected, `malformed drops ${dropped} for ${hostile.injected} injections`);
});

test('a wrong remote fingerprint fails the threaded handshake with a reason', async () => {
  const p = makeThreadedPair();
  p.client.setRemoteFingerprints(DtlsCertificate.generate().getFingerprints());
  p.server.start(0);
  p.client.start(0);
  await pumpThreaded(p);
  assert.equal(p.client.state, 'failed');
  assert.match(p.client.failureReason ?? '', /fingerprint/);
  assert.notEqual(p.server.state, 'connected');
});

test('close while the thread works is final: no later connected, no output after it', async () => {
  for (let at = 0; at < 6; at++) {
    const p = makeThreadedPair();
    p.server.start(0);
    p.client.start(0);
    for (let step = 0; step < at; step++) {
      if (moveOnce(p) === 0) await nextWake();
    }
    p.server.close();
    assert.equal(p.server.state, 'closed');
    // Whatever work was still on the thread finishes; the client's datagrams keep arriving. The
    // server must stay closed at every look (a safety property: no timing is asserted).
    for (let round = 0; round < 8; round++) {
      moveOnce(p);
      assert.equal(p.server.state, 'closed');
      await nextWake(100);
    }
    moveOnce(p);
    assert.equal(p.server.state, 'closed');
    const states = p.serverEvents.filter((e) => e.type === 'statechange').map((e) => e.type === 'statechange' && e.state);
    assert.equal(states.at(-1), 'closed');
    assert.ok(!states.slice(states.indexOf('closed')).includes('connected'));
  }
});

test('handshakeThread without onAsyncOutput is refused with a typed error', () => {
  const [cert] = testCertificates();
  assert.throws(() => new DtlsTransport({ certificate: cert, role: 'client', handshakeThread: true }), (err: unknown) => err instanceof InvalidArgumentError && err.code === 'ERR_DTLS_OPTION');
});

function startWorker(data: { count: number; hang: boolean }): Worker {
  const url = new URL('./fixtures/handshake-thread-worker.ts', import.meta.url);
  // Workers do not inherit tsx's loader: an eval stub imports the .ts body through tsx's API.
  const stub = `import('tsx/esm/api').then((m) => m.tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(url.href)}))`;
  return new Worker(stub, { eval: true, workerData: data });
}

test('each worker thread has its own handshake thread; terminating one mid-handshake leaves the rest running', { timeout: 120_000 }, async () => {
  const hanging = startWorker({ count: 20, hang: true });
  const started = await new Promise<unknown>((resolve, reject) => {
    hanging.once('message', resolve);
    hanging.once('error', reject);
  });
  assert.equal(started, 'started');
  const running = [0, 1].map(
    () =>
      new Promise<unknown>((resolve, reject) => {
        const w = startWorker({ count: 15, hang: false });
        w.once('message', resolve);
        w.once('error', reject);
        w.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
      }),
  );
  // Terminated while its handshake thread has work: the environment's cleanup stops the thread.
  assert.equal(await hanging.terminate(), 1);
  assert.deepEqual(await Promise.all(running), [15, 15]);
});

test('process.exit() while the handshake thread works exits cleanly', { timeout: 60_000 }, () => {
  const child = fileURLToPath(new URL('./fixtures/exit-mid-handshake.ts', import.meta.url));
  for (let run = 0; run < 3; run++) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', child], { encoding: 'utf8', timeout: 50_000 });
    assert.equal(r.signal, null, r.stderr.slice(-2000));
    assert.equal(r.status, 0, r.stderr.slice(-2000));
  }
});

test('a refused handshake thread falls back to in-thread handshakes, said once', { timeout: 90_000 }, () => {
  const child = fileURLToPath(new URL('./fixtures/refused-handshake-thread.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', child], {
    encoding: 'utf8',
    timeout: 80_000,
    env: { ...process.env, PWT_DTLS_HANDSHAKE_THREAD: '1', PWT_TEST_REFUSE_HANDSHAKE_THREAD: '1' },
  });
  assert.equal(r.signal, null, r.stderr.slice(-2000));
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  // Each connection's stats say its handshake ran in-thread because the thread was refused, and
  // count the refusals so far: two engines per pair, the first pair's stats read after two.
  assert.match(r.stdout, /\{"delivered":2,"handshakeThread":\["refused","refused"\],"handshakeThreadRefusals":\[2,4\],"droppedBacklog":\[0,0\]\}/);
  // Four engines asked for the thread and were refused; the message is printed once per process.
  assert.equal(r.stderr.match(/DTLS handshake thread could not be created/g)?.length, 1, r.stderr);
});

test('datagrams beyond the backlog while the thread is behind are dropped and counted in droppedBacklog', { timeout: 60_000 }, () => {
  // The child slows the thread (PWT_TEST_HANDSHAKE_THREAD_DELAY_MS, read when its thread starts).
  const child = fileURLToPath(new URL('./fixtures/handshake-backlog.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', child], {
    encoding: 'utf8',
    timeout: 50_000,
    env: { ...process.env, PWT_TEST_HANDSHAKE_THREAD_DELAY_MS: '300' },
  });
  assert.equal(r.signal, null, r.stderr.slice(-2000));
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  // Three batches of 30 while the ClientHello is on the thread: the first two wait (60 of at most
  // 64), the third is dropped whole; after the drain the counter stays.
  assert.match(r.stdout, /\{"handshakeThread":"on","droppedBacklog":30,"afterDrain":30\}/);
});

test('at most PWT_DTLS_HANDSHAKES_IN_FLIGHT handshakes per role run at once; the others wait and connect; a stalled peer holds a slot until closed (or stale)', { timeout: 90_000 }, () => {
  const child = fileURLToPath(new URL('./fixtures/handshake-admission.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', child], {
    encoding: 'utf8',
    timeout: 80_000,
    env: { ...process.env, PWT_DTLS_HANDSHAKES_IN_FLIGHT: '2' },
  });
  assert.equal(r.signal, null, r.stderr.slice(-2000));
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  assert.equal(out.connected, 12);
  assert.equal(out.limit, 2);
  // Sampled after every move, and the native peak: never above the limit.
  assert.ok((out.maxClient as number) <= 2 && (out.maxServer as number) <= 2, JSON.stringify(out));
  assert.equal(out.peakClient, 2);
  assert.ok((out.peakServer as number) <= 2, JSON.stringify(out));
  assert.equal(out.waitingAtStart, 10);
  assert.equal(out.clientWaits, 10);
  // (Retransmissions are printed, not asserted: a loaded machine may let a 1 s timer of a handshake
  // in flight fire; that a waiting one has no timer is checked natively, TestAdmissionBoundsHandshakesInFlight.)
  assert.equal(out.stalledServerSlots, 2);
  assert.equal(out.goodWaited, 1);
  assert.equal(out.goodBeforeClose, 'connecting');
  assert.deepEqual(out.goodAfter, ['connected', 'connected']);
  assert.equal(out.inFlightAtEnd, 0);
});

test('a handshake collected or closed while it waits for a slot lets the process exit; a closed waiter never sends its ClientHello', { timeout: 120_000 }, () => {
  const child = fileURLToPath(new URL('./fixtures/handshake-admission-gc.ts', import.meta.url));
  for (const mode of ['drop', 'close', 'drop-admitted']) {
    // The bound: the child exits in about a second when nothing keeps its loop alive; before the
    // fix, `drop` never exited (the collected waiter's work stayed counted, the wake-up referenced).
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', child, mode], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, PWT_DTLS_HANDSHAKES_IN_FLIGHT: '1' },
    });
    assert.equal(r.signal, null, `${mode}: the process did not exit on its own\n${r.stdout}${r.stderr.slice(-2000)}`);
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    // The second handshake really waited for the slot, and (dropped) really was collected.
    assert.equal(out.waitingBefore, 1, JSON.stringify(out));
    assert.equal(out.waiterWasWaiting, true, JSON.stringify(out));
    if (mode !== 'close') assert.equal(out.collected, 1, JSON.stringify(out));
    // Collected or closed while waiting: out of the FIFO at once (before the first frees the slot).
    if (mode !== 'drop-admitted') assert.equal(out.waitingAfterWaiterGone, 0, JSON.stringify(out));
    assert.equal(out.waitingAfterClose, 0, JSON.stringify(out));
    if (mode === 'close') assert.equal(out.helloAfterClose, 0, JSON.stringify(out));
    assert.equal(out.inFlightAtEnd, 0, JSON.stringify(out));
    assert.equal(out.waitingAtEnd, 0, JSON.stringify(out));
  }
});
