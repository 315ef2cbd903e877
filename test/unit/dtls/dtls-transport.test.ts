// DtlsTransport behaviour: handshakes in both role assignments for every SRTP profile with
// identical RFC 5764 section 4.2 keying material, fingerprint verification (RFC 8122), PEM
// identities, MTU-bounded flights, batched application data, close_notify, misuse errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DtlsCertificate } from '../../../lib/dtls/dtls-certificate.js';
import { DtlsTransport } from '../../../lib/dtls/dtls-transport.js';
import { PwtError } from '../../../lib/common/errors.js';
import { SrtpSession } from '../../../lib/srtp/srtp-session.js';
import type { SrtpProfileName } from '../../../lib/dtls/srtp-profile.js';
import { makePair, pumpLossless, testCertificates } from './dtls-pair.js';
import { callNative, nativeDtlsEngineClass } from '../../../lib/dtls/native-dtls.js';

const PROFILES: [SrtpProfileName, number, number][] = [
  ['AEAD_AES_128_GCM', 16, 12],
  ['AEAD_AES_256_GCM', 32, 12],
  ['AES128_CM_HMAC_SHA1_80', 16, 14],
  ['AES128_CM_HMAC_SHA1_32', 16, 14],
];

for (const [profile, keyLen, saltLen] of PROFILES) {
  for (const offerer of ['client', 'server'] as const) {
    test(`handshake negotiates ${profile} when only the ${offerer} restricts to it; both ends export the same keys`, () => {
      // Restricting one side to a single profile forces that profile whoever prefers what.
      const p = offerer === 'client' ? makePair({}, { srtpProfiles: [profile] }) : makePair({ srtpProfiles: [profile] }, { srtpProfiles: undefined });
      if (offerer === 'server') {
        // makePair applied the restriction to both ends; rebuild the client with the full list.
        const [cc, sc] = testCertificates();
        p.client = new DtlsTransport({ certificate: cc, role: 'client', remoteFingerprints: sc.getFingerprints() });
      }
      p.client.start(0);
      p.server.start(0);
      pumpLossless(p);
      assert.equal(p.client.state, 'connected');
      assert.equal(p.server.state, 'connected');
      assert.equal(p.client.srtpProfile, profile);
      assert.equal(p.server.srtpProfile, profile);
      assert.match(p.client.cipherSuite ?? '', /GCM|CHACHA20/);
      // The engine's own report, as stats carry it: IANA suite name and the DTLS 1.2 wire version.
      assert.match(p.client.cipherSuiteStandardName ?? '', /^TLS_ECDHE_(ECDSA|RSA)_WITH_/);
      assert.equal(p.client.cipherSuiteStandardName, p.server.cipherSuiteStandardName);
      assert.equal(p.client.tlsVersion, 'FEFD');
      assert.equal(p.server.tlsVersion, 'FEFD');
      const len = 2 * (keyLen + saltLen);
      const a = p.client.exportKeyingMaterialForTest('EXTRACTOR-dtls_srtp', len);
      const b = p.server.exportKeyingMaterialForTest('EXTRACTOR-dtls_srtp', len);
      assert.equal(a.length, len);
      assert.deepEqual(a, b);
      assert.notDeepEqual(a.subarray(0, keyLen), a.subarray(keyLen, 2 * keyLen));
      assert.ok(p.maxDatagram <= 1200, `datagram of ${p.maxDatagram} bytes`);
      assert.deepEqual(
        p.clientEvents.filter((e) => e.type === 'statechange').map((e) => e.type === 'statechange' && e.state),
        ['connecting', 'connected'],
      );
    });
  }
}

test('default preference selects AEAD_AES_128_GCM; use_srtp can be disabled (data-only)', () => {
  const p = makePair();
  p.client.start(0);
  p.server.start(0);
  pumpLossless(p);
  assert.equal(p.server.srtpProfile, 'AEAD_AES_128_GCM');
  const q = makePair({ srtpProfiles: [] });
  q.client.start(0);
  q.server.start(0);
  pumpLossless(q);
  assert.equal(q.client.state, 'connected');
  assert.equal(q.client.srtpProfile, undefined);
  assert.throws(() => q.client.keySrtp(new SrtpSession()), (e: PwtError) => e.code === 'ERR_DTLS_STATE' && e.name === 'InvalidStateError');
});

test('a wrong remote fingerprint fails the transport with a reason and exports no keys', () => {
  const other = DtlsCertificate.generate();
  const p = makePair({}, { remoteFingerprints: other.getFingerprints() });
  p.client.start(0);
  p.server.start(0);
  pumpLossless(p);
  assert.equal(p.client.state, 'failed');
  assert.match(p.client.failureReason ?? '', /fingerprint/);
  const failed = p.clientEvents.find((e) => e.type === 'statechange' && e.state === 'failed');
  assert.ok(failed && failed.type === 'statechange' && /fingerprint/.test(failed.reason ?? ''));
  assert.notEqual(p.server.state, 'connected');
  assert.throws(() => p.client.exportKeyingMaterialForTest('EXTRACTOR-dtls_srtp', 60), (e: PwtError) => e.code === 'ERR_DTLS_STATE');
  assert.throws(() => p.client.send(Buffer.from('x')), (e: PwtError) => e.name === 'InvalidStateError');
});

test('fingerprints arriving after the handshake: connecting until verified, any listed algorithm matches', () => {
  const p = makePair({}, {}, true);
  p.client.start(0);
  p.server.start(0);
  pumpLossless(p);
  assert.equal(p.client.state, 'connecting');
  assert.equal(p.server.state, 'connecting');
  // Data sent by the verified side waits unseen until the other side verifies.
  p.server.setRemoteFingerprints([p.clientCert.fingerprint('sha-384')]);
  assert.equal(p.server.state, 'connected');
  p.server.send([Buffer.from('early')]);
  pumpLossless(p);
  assert.equal(p.clientEvents.filter((e) => e.type === 'data').length, 0);
  p.client.setRemoteFingerprints([
    { algorithm: 'sha-1', value: Array(20).fill('ab').join(':') },
    p.serverCert.fingerprint('sha-512'),
  ]);
  assert.equal(p.client.state, 'connected');
  const ev = p.client.pollEvent();
  assert.deepEqual(ev, { type: 'statechange', state: 'connected' });
  const data = p.client.pollEvent();
  assert.ok(data && data.type === 'data');
  assert.equal(data.records[0]!.toString(), 'early');
  assert.equal(p.client.getRemoteCertificates().length, 1);
});

test('a wrong late fingerprint fails', () => {
  const p = makePair({}, {}, true);
  p.client.start(0);
  p.server.start(0);
  pumpLossless(p);
  p.client.setRemoteFingerprints(DtlsCertificate.generate().getFingerprints());
  assert.equal(p.client.state, 'failed');
  assert.match(p.client.failureReason ?? '', /fingerprint/);
});

test('certificate from PEM: same fingerprint, handshakes; bad PEM and mismatched key are typed errors', () => {
  const gen = DtlsCertificate.generate();
  const pem = gen.toPem();
  assert.match(pem.certificate, /BEGIN CERTIFICATE/);
  const loaded = DtlsCertificate.fromPem(pem.certificate, pem.privateKey);
  assert.deepEqual(loaded.getFingerprints(), gen.getFingerprints());
  assert.equal(loaded.keyType, 'ECDSA');
  assert.equal(loaded.expires, gen.expires);
  const [clientCert] = testCertificates();
  const client = new DtlsTransport({ certificate: clientCert, role: 'client', remoteFingerprints: loaded.getFingerprints() });
  const server = new DtlsTransport({ certificate: loaded, role: 'server', remoteFingerprints: clientCert.getFingerprints() });
  client.start(0);
  server.start(0);
  pumpLossless({ client, server, clientCert, serverCert: loaded, clientEvents: [], serverEvents: [], maxDatagram: 0 });
  assert.equal(client.state, 'connected');
  assert.throws(() => DtlsCertificate.fromPem('nope', pem.privateKey), (e: PwtError) => e.code === 'ERR_DTLS_CERTIFICATE_PEM');
  assert.throws(
    () => DtlsCertificate.fromPem(pem.certificate, DtlsCertificate.generate().toPem().privateKey),
    (e: PwtError) => e.code === 'ERR_DTLS_CERTIFICATE_PEM' && /does not belong/.test(e.message),
  );
});

test('generated certificates: ECDSA default, RSA option, ~30 day validity, distinct identities', () => {
  const [a, b] = testCertificates();
  assert.equal(a.keyType, 'ECDSA');
  assert.notDeepEqual(a.getFingerprints(), b.getFingerprints());
  const days = (a.expires - Date.now()) / 86_400_000;
  assert.ok(days > 29 && days <= 30.01, `expires in ${days} days`);
  const rsa = DtlsCertificate.generate({ keyType: 'rsa', expiresInMs: 3_600_000 });
  assert.equal(rsa.keyType, 'RSA');
  assert.match(rsa.fingerprint('sha-1').value, /^([0-9a-f]{2}:){19}[0-9a-f]{2}$/);
  assert.throws(() => DtlsCertificate.generate({ expiresInMs: 5 }), (e: PwtError) => e.name === 'RangeError');
});

test('application data moves in batches both ways; a small MTU bounds every handshake datagram', () => {
  const p = makePair({ mtu: 500 });
  p.client.start(0);
  p.server.start(0);
  pumpLossless(p);
  assert.equal(p.client.state, 'connected');
  assert.ok(p.maxDatagram <= 500, `datagram of ${p.maxDatagram} bytes`);
  const records = Array.from({ length: 300 }, (_, i) => Buffer.alloc(1 + ((i * 97) % 1100), i & 0xff));
  p.client.send(records);
  p.server.send(records.slice(0, 10));
  pumpLossless(p);
  const got = p.serverEvents.flatMap((e) => (e.type === 'data' ? e.records : []));
  assert.equal(got.length, 300);
  for (let i = 0; i < 300; i++) assert.deepEqual(got[i], records[i]);
  assert.equal(p.clientEvents.flatMap((e) => (e.type === 'data' ? e.records : [])).length, 10);
  assert.equal(p.server.stats().dataRecordsIn, 300);
  assert.equal(p.client.stats().dataRecordsOut, 300);
  assert.throws(() => p.client.send(Buffer.alloc(16385)), (e: PwtError) => e.code === 'ERR_DTLS_RECORD_SIZE');
  assert.throws(() => p.client.send(Buffer.alloc(0)), (e: PwtError) => e.code === 'ERR_DTLS_RECORD_SIZE');
});

test('close sends close_notify: both ends end up closed; later input is dropped and counted', () => {
  const p = makePair();
  p.client.start(0);
  p.server.start(0);
  pumpLossless(p);
  p.server.close();
  assert.equal(p.server.state, 'closed');
  pumpLossless(p);
  assert.equal(p.client.state, 'closed');
  assert.equal(p.client.pollTimeout(), undefined);
  p.client.handleInput(1, Buffer.from([23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0]));
  assert.equal(p.client.stats().droppedAfterClose, 1);
  p.client.close();  // idempotent
  assert.equal(p.client.state, 'closed');
});

test('retransmission: a lost first flight is resent after the (short) initial timeout', async () => {
  // 300 ms leaves a loaded machine ample margin for the "not yet expired" check.
  const p = makePair({ initialRetransmitTimeoutMs: 300 });
  p.client.start(0);
  const first = p.client.pollTransmit();
  assert.ok(first);
  assert.equal(p.client.pollTransmit(), undefined);
  const due = p.client.pollTimeout();
  assert.ok(due !== undefined && due > 0 && due <= 300.01, `timeout ${due}`);
  p.client.handleTimeout(0);  // not expired yet: nothing resent
  assert.equal(p.client.pollTransmit(), undefined);
  await new Promise((r) => setTimeout(r, 320));
  p.client.handleTimeout(320);
  const again = p.client.pollTransmit();
  assert.ok(again);
  assert.equal(again[0], 22);
  assert.equal(p.client.stats().retransmitTimeouts, 1);
});

test('API misuse throws typed errors', () => {
  const [cert] = testCertificates();
  const bad = (f: () => unknown, code: string) => assert.throws(f, (e: PwtError) => e instanceof PwtError && e.code === code);
  // @ts-expect-error role is checked at runtime too
  bad(() => new DtlsTransport({ certificate: cert, role: 'both' }), 'ERR_DTLS_OPTION');
  bad(() => new DtlsTransport({ certificate: cert, role: 'client', mtu: 100 }), 'ERR_DTLS_OPTION');
  bad(() => new DtlsTransport({ certificate: cert, role: 'client', mtu: 5000 }), 'ERR_DTLS_OPTION');
  // @ts-expect-error unknown profile
  bad(() => new DtlsTransport({ certificate: cert, role: 'client', srtpProfiles: ['NULL'] }), 'ERR_DTLS_SRTP_PROFILE');
  // @ts-expect-error not a certificate
  bad(() => new DtlsTransport({ certificate: {}, role: 'client' }), 'ERR_DTLS_OPTION');
  bad(() => new DtlsTransport({ certificate: cert, role: 'client', remoteFingerprints: [{ algorithm: 'sha-256', value: 'ab:cd' }] }), 'ERR_DTLS_FINGERPRINT');
  // @ts-expect-error md5 is refused
  bad(() => new DtlsTransport({ certificate: cert, role: 'client', remoteFingerprints: [{ algorithm: 'md5', value: 'ab' }] }), 'ERR_DTLS_FINGERPRINT');
  const t = new DtlsTransport({ certificate: cert, role: 'client' });
  t.start(0);
  bad(() => t.start(1), 'ERR_DTLS_STATE');
  bad(() => t.send(Buffer.from('x')), 'ERR_DTLS_STATE');
});

test('the last flight and close_notify in one batch: the client still reports connected, then closed', () => {
  const p = makePair();
  p.client.start(0);
  p.server.start(0);
  // ClientHello → server flight → client flight → server: the server is connected now.
  for (let i = 0; i < 2; i++) {
    for (let d = p.client.pollTransmit(); d; d = p.client.pollTransmit()) p.server.handleInput(0, d);
    if (i === 0) for (let d = p.server.pollTransmit(); d; d = p.server.pollTransmit()) p.client.handleInput(0, d);
  }
  assert.equal(p.server.state, 'connected');
  p.server.close();
  const batch: Buffer[] = [];
  for (let d = p.server.pollTransmit(); d; d = p.server.pollTransmit()) batch.push(d);
  assert.ok(batch.length >= 2, 'final flight + close_notify');
  p.client.handleInput(1, batch);
  const states: string[] = [];
  for (let e = p.client.pollEvent(); e; e = p.client.pollEvent()) if (e.type === 'statechange') states.push(e.state);
  assert.deepEqual(states, ['connecting', 'connected', 'closed']);
});

for (const keepOpenSsl of [false, true]) {
  test(`records sent just before close_notify arrive in one batch with it: delivered, then 'closed' (${keepOpenSsl ? 'OpenSSL' : 'own'} record layer)`, () => {
    // The peer's SCTP ABORT rides in the record before its close_notify (RFC 5246 section 7.2.1:
    // data before the close is valid); dropping it left our association established.
    const p = makePair({ keepOpenSsl });
    p.client.start(0);
    p.server.start(0);
    pumpLossless(p);
    assert.equal(p.client.state, 'connected');
    for (let e = p.client.pollEvent(); e; e = p.client.pollEvent());
    p.server.send([Buffer.from('first'), Buffer.from('abort')]);
    p.server.close();
    const batch: Buffer[] = [];
    for (let d = p.server.pollTransmit(); d; d = p.server.pollTransmit()) batch.push(d);
    assert.equal(batch.length, 3, 'two records and the close_notify');
    p.client.handleInput(1, batch);
    const seen: string[] = [];
    for (let e = p.client.pollEvent(); e; e = p.client.pollEvent()) {
      if (e.type === 'statechange') seen.push(e.state);
      else for (const r of e.records) seen.push(r.toString());
    }
    assert.deepEqual(seen, ['first', 'abort', 'closed']);
    assert.equal(p.client.stats().dataRecordsIn, 2);
    // Closed is final: a later record is dropped and counted, nothing is handed out.
    p.client.handleInput(2, Buffer.from([23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 0]));
    assert.equal(p.client.pollEvent(), undefined);
    assert.equal(p.client.stats().droppedAfterClose, 1);
  });
}

// The engine makes no OpenSSL object when it is made (the SSL is made by the handshake's first
// step, on the handshake thread when offloaded: docs/dtls.md "Handshake thread"), so what OpenSSL
// would refuse then is refused by the native constructor itself, at once and typed, even when the
// TypeScript checks are bypassed: here a use_srtp list naming a profile twice.
test('the native engine refuses a bad configuration synchronously (no SSL is made there)', () => {
  const [cert] = testCertificates();
  const Engine = nativeDtlsEngineClass();
  const typed = (e: PwtError) => e instanceof PwtError && e.code === 'ERR_DTLS_ARGUMENT';
  for (const threaded of [0, 1, 2] as const) {
    const make = (profiles: number[], mtu = 1200) =>
      callNative(() => new Engine(cert.native, 0, mtu, 1000, 60_000, Uint16Array.from(profiles), false, threaded,
        threaded ? () => {} : undefined, new Uint8Array(64 * 1024), new Uint32Array(256), new Float64Array(32)));
    assert.throws(() => make([0x0007, 0x0001, 0x0007]), typed);
    assert.throws(() => make([0x0099]), typed);
    assert.throws(() => make([0x0007], 100), typed);
    // A good one is made; closed before its start, it never runs a handshake.
    const ok = make([0x0007, 0x0001]);
    ok.close();
    assert.equal(ok.state(), 3);
    assert.equal(ok.awaitingThread(), false);
  }
});
