// Interop with an independent DTLS 1.2 implementation in TypeScript (werift's DtlsClient /
// DtlsServer) over an in-memory datagram link: both role assignments, use_srtp (RFC 5764),
// identical RFC 5705 exporter output, application data both ways. Bounded in time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { DtlsCertificate } from '../../../lib/dtls/dtls-certificate.js';
import { DtlsTransport } from '../../../lib/dtls/dtls-transport.js';

interface WeriftEvent<T extends unknown[]> {
  subscribe(fn: (...args: T) => void): unknown;
  once(fn: (...args: T) => void): unknown;
}
interface WeriftSocket {
  onConnect: WeriftEvent<unknown[]>;
  onData: WeriftEvent<[Buffer]>;
  onError: WeriftEvent<[Error]>;
  srtp: { srtpProfile?: number };
  send(buf: Buffer): Promise<void>;
  close(): void;
  exportKeyingMaterial(label: string, length: number): Buffer;
}
interface WeriftDtls {
  DtlsClient: new (o: object) => WeriftSocket & { connect(): Promise<void> };
  DtlsServer: new (o: object) => WeriftSocket;
  CipherContext: {
    createSelfSignedCertificateWithKey(sh: { signature: number; hash: number }, curve: number): Promise<{ certPem: string; keyPem: string; signatureHash: object }>;
  };
  SignatureAlgorithm: { ecdsa_3: number };
  HashAlgorithm: { sha256_4: number };
  NamedCurveAlgorithm: { secp256r1_23: number };
}

const w = createRequire(import.meta.url)('werift') as WeriftDtls;

// werift's side of the link: datagrams to it are delivered on the next macrotask, like UDP.
class WeriftEnd {
  readonly type = 'udp';
  readonly address = { address: '127.0.0.1', family: 'IPv4', port: 0 };
  closed = false;
  onData: (data: Buffer, addr: [string, number]) => void = () => {};
  constructor(private readonly toUs: (d: Buffer) => void) {}
  send = async (data: Buffer): Promise<void> => {
    setImmediate(() => this.toUs(Buffer.from(data)));
  };
  close = async (): Promise<void> => {
    this.closed = true;
  };
  deliver(d: Buffer): void {
    setImmediate(() => this.onData(d, ['127.0.0.1', 0]));
  }
}

// Drives our transport against a werift socket with real timers until `until` resolves.
async function run(role: 'client' | 'server'): Promise<void> {
  const cert = await w.CipherContext.createSelfSignedCertificateWithKey(
    { signature: w.SignatureAlgorithm.ecdsa_3, hash: w.HashAlgorithm.sha256_4 },
    w.NamedCurveAlgorithm.secp256r1_23,
  );
  const theirFingerprint = { algorithm: 'sha-256' as const, value: new X509Certificate(cert.certPem).fingerprint256.toLowerCase() };
  const ours = new DtlsTransport({ certificate: DtlsCertificate.generate(), role, remoteFingerprints: [theirFingerprint], srtpProfiles: ['AES128_CM_HMAC_SHA1_80'] });
  let timer: NodeJS.Timeout | undefined;
  const received: string[] = [];
  const end = new WeriftEnd((d) => {
    ours.handleInput(performance.now(), d);
    flush();
  });
  const flush = (): void => {
    for (let d = ours.pollTransmit(); d; d = ours.pollTransmit()) end.deliver(d);
    for (let e = ours.pollEvent(); e; e = ours.pollEvent()) if (e.type === 'data') received.push(...e.records.map(String));
    clearTimeout(timer);
    const due = ours.pollTimeout();
    if (due !== undefined) {
      timer = setTimeout(() => {
        ours.handleTimeout(performance.now());
        flush();
      }, Math.max(0, due - performance.now()));
    }
  };
  const options = { cert: cert.certPem, key: cert.keyPem, signatureHash: cert.signatureHash, transport: end, srtpProfiles: [1], extendedMasterSecret: true };
  const theirs = role === 'client' ? new w.DtlsServer({ ...options, certificateRequest: true }) : new w.DtlsClient(options);
  const theirData: string[] = [];
  theirs.onData.subscribe((b) => theirData.push(b.toString()));
  const theirConnect = new Promise<void>((resolve, reject) => {
    theirs.onConnect.once(() => resolve());
    theirs.onError.once(reject);
  });
  let deadline: NodeJS.Timeout | undefined;
  try {
    ours.start(performance.now());
    flush();
    if (role === 'server') await (theirs as WeriftSocket & { connect(): Promise<void> }).connect();
    await Promise.race([
      theirConnect,
      new Promise((_, f) => {
        deadline = setTimeout(() => f(new Error('werift did not connect in 10 s')), 10_000);
      }),
    ]);
    for (let i = 0; i < 50 && ours.state !== 'connected'; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(ours.state, 'connected');
    assert.equal(ours.srtpProfile, 'AES128_CM_HMAC_SHA1_80');
    assert.deepEqual(ours.exportKeyingMaterialForTest('EXTRACTOR-dtls_srtp', 60), theirs.exportKeyingMaterial('EXTRACTOR-dtls_srtp', 60));
    assert.equal(new X509Certificate(ours.getRemoteCertificates()[0]!).fingerprint256, theirFingerprint.value.toUpperCase());
    ours.send([Buffer.from('from us 1'), Buffer.from('from us 2')]);
    flush();
    await theirs.send(Buffer.from('from werift'));
    for (let i = 0; i < 100 && (theirData.length < 2 || received.length < 1); i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(theirData, ['from us 1', 'from us 2']);
    assert.deepEqual(received, ['from werift']);
  } finally {
    clearTimeout(deadline);
    clearTimeout(timer);
    theirs.close();
    ours.close();
  }
}

test('our client ↔ werift DtlsServer: handshake, same exported keys, data both ways', { timeout: 30_000 }, () => run('client'));
test('werift DtlsClient ↔ our server: handshake, same exported keys, data both ways', { timeout: 30_000 }, () => run('server'));
