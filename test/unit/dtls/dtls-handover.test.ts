// The handover after the handshake (docs/dtls.md, "Handover"): OpenSSL's session is freed and our
// own DTLS 1.2 record layer (RFC 6347 section 4.1) carries the records; data both ways, the same
// exporter output and remote certificate, our last flight answered after the handover when the
// peer retransmits (RFC 6347 section 4.2.4), close_notify both ways, and the keep-OpenSSL option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DtlsEvent, DtlsTransport } from '../../../lib/dtls/dtls-transport.js';
import { makePair, pumpLossless, type DtlsPair } from './dtls-pair.js';

function handshake(p: DtlsPair): void {
  p.client.start(0);
  p.server.start(0);
  pumpLossless(p);
  assert.equal(p.client.state, 'connected');
  assert.equal(p.server.state, 'connected');
}

function drain(t: DtlsTransport): Buffer[] {
  const out: Buffer[] = [];
  for (let d = t.pollTransmit(); d; d = t.pollTransmit()) out.push(d);
  return out;
}

function received(events: DtlsEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'data' ? e.records.map((r) => r.toString()) : []));
}

function sha256Fingerprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex').match(/../g)!.join(':');
}

test('after the handshake both ends hand over; data, exporter and remote certificates are unchanged', () => {
  const p = makePair();
  handshake(p);
  assert.equal(p.client.recordLayer, 'own');
  assert.equal(p.server.recordLayer, 'own');
  p.client.send([Buffer.from('to server'), Buffer.from('again')]);
  p.server.send(Buffer.from('to client'));
  pumpLossless(p);
  assert.deepEqual(received(p.serverEvents), ['to server', 'again']);
  assert.deepEqual(received(p.clientEvents), ['to client']);
  assert.deepEqual(p.client.exportKeyingMaterialForTest('EXTRACTOR-dtls_srtp', 60), p.server.exportKeyingMaterialForTest('EXTRACTOR-dtls_srtp', 60));
  const [clientDer] = p.server.getRemoteCertificates();
  const [serverDer] = p.client.getRemoteCertificates();
  assert.ok(clientDer && serverDer);
  assert.equal(sha256Fingerprint(clientDer), p.clientCert.getFingerprints()[0]!.value);
  assert.equal(sha256Fingerprint(serverDer), p.serverCert.getFingerprints()[0]!.value);
  assert.equal(p.client.cipherSuite, 'ECDHE-ECDSA-AES128-GCM-SHA256');
  assert.equal(p.server.cipherSuiteStandardName, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256');
  assert.equal(p.client.tlsVersion, 'FEFD');
  assert.equal(p.client.pollTimeout(), undefined);
  assert.equal(p.server.pollTimeout(), undefined);
  p.client.close();
  pumpLossless(p);
  assert.equal(p.client.state, 'closed');
  assert.equal(p.server.state, 'closed');
});

test('keepOpenSsl keeps OpenSSL on that end; it interoperates with an end that handed over', () => {
  for (const clientKeeps of [true, false]) {
    const p = makePair({ keepOpenSsl: !clientKeeps }, { keepOpenSsl: clientKeeps });
    handshake(p);
    assert.equal(p.client.recordLayer, clientKeeps ? 'openssl' : 'own');
    assert.equal(p.server.recordLayer, clientKeeps ? 'own' : 'openssl');
    const big = Buffer.alloc(16384, 7);
    p.client.send([Buffer.from('a'), big]);
    p.server.send(Buffer.from('b'));
    pumpLossless(p);
    const got = p.serverEvents.flatMap((e) => (e.type === 'data' ? e.records : []));
    assert.equal(got.length, 2);
    assert.deepEqual(got[1], big);
    assert.deepEqual(received(p.clientEvents), ['b']);
    assert.deepEqual(p.client.exportKeyingMaterialForTest('EXTRACTOR-dtls_srtp', 60), p.server.exportKeyingMaterialForTest('EXTRACTOR-dtls_srtp', 60));
    p.server.close();
    pumpLossless(p);
    assert.equal(p.client.state, 'closed');
  }
});

test('our lost last flight is sent again after the handover when the client retransmits', async () => {
  const p = makePair({ initialRetransmitTimeoutMs: 20 });
  let now = 0;
  p.client.start(now);
  p.server.start(now);
  let dropped = 0;
  const serverConnected = (): boolean => p.server.state === 'connected';
  for (let i = 0; i < 20 && !serverConnected(); i++) {
    const fromClient = drain(p.client);
    if (fromClient.length) p.server.handleInput(now, fromClient);
    const fromServer = drain(p.server);
    if (serverConnected()) {
      dropped = fromServer.length;  // the server's change_cipher_spec + Finished never arrive
      break;
    }
    if (fromServer.length) p.client.handleInput(now, fromServer);
  }
  assert.ok(dropped > 0, 'the server sent a last flight');
  assert.equal(p.server.recordLayer, 'own');
  assert.equal(p.client.state, 'connecting');
  // The client's retransmission timer reads the real clock: wait for it (bounded by steps).
  let retransmitted: Buffer[] = [];
  for (let step = 0; step < 200 && retransmitted.length === 0; step++) {
    const at = p.client.pollTimeout();
    assert.ok(at !== undefined, 'the client has a retransmission timer');
    const wait = Math.max(0, Math.ceil(at - now)) + 1;
    await sleep(wait);
    now += wait;
    p.client.handleTimeout(now);
    retransmitted = drain(p.client);
  }
  assert.ok(retransmitted.length > 0, 'the client retransmitted its flight');
  p.server.handleInput(now, retransmitted);
  assert.equal(p.server.stats().flightResends, 1);
  const resent = drain(p.server);
  assert.ok(resent.length > 0);
  p.client.handleInput(now, resent);
  assert.equal(p.client.state, 'connected');
  assert.equal(p.client.recordLayer, 'own');
  // The same retransmission replayed: the Finished is in the window now, nothing is sent.
  p.server.handleInput(now, retransmitted);
  assert.equal(p.server.stats().flightResends, 1);
  assert.equal(p.server.pollTransmit(), undefined);
  p.client.send(Buffer.from('after the resend'));
  p.server.send(Buffer.from('and back'));
  pumpLossless(p, now);
  assert.deepEqual(received(p.serverEvents), ['after the resend']);
  assert.deepEqual(received(p.clientEvents), ['and back']);
});

test('late fingerprints after the handover: data is held, then released, or the session fails', () => {
  for (const match of [true, false]) {
    const p = makePair({}, {}, true);
    p.client.start(0);
    p.server.start(0);
    pumpLossless(p);
    assert.equal(p.client.state, 'connecting');
    assert.equal(p.client.recordLayer, 'own');
    p.server.setRemoteFingerprints(p.clientCert.getFingerprints());
    pumpLossless(p);
    assert.equal(p.server.state, 'connected');
    p.server.send(Buffer.from('early'));
    pumpLossless(p);
    assert.deepEqual(received(p.clientEvents), []);
    p.client.setRemoteFingerprints(match ? p.serverCert.getFingerprints() : p.clientCert.getFingerprints());
    pumpLossless(p);
    if (match) {
      assert.equal(p.client.state, 'connected');
      assert.deepEqual(received(p.clientEvents), ['early']);
    } else {
      assert.equal(p.client.state, 'failed');
      assert.match(p.client.failureReason ?? '', /does not match/);
      // Our close_notify told the server.
      assert.equal(p.server.state, 'closed');
    }
  }
});
