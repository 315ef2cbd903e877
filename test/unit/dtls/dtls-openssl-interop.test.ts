// Interop with OpenSSL's command-line tool over real UDP on 127.0.0.1 (RFC 6347 DTLS 1.2,
// RFC 5764 use_srtp + section 4.2 exporter): `openssl s_server` with our client and
// `openssl s_client` with our server; the exported keying material must match ours. Also peers
// whose certificates (made by the tool) carry RSA-2048 and P-384 keys (servers), Ed25519 and RSA-PSS
// keys (clients), and a DSA client certificate, which our handshakes' library context does not
// decode: a typed failure.
// Child processes are killed and every wait is bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { X509Certificate } from 'node:crypto';
import { DtlsCertificate } from '../../../lib/dtls/dtls-certificate.js';
import { DtlsTransport } from '../../../lib/dtls/dtls-transport.js';
import type { SrtpProfileName } from '../../../lib/dtls/srtp-profile.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const LABEL = 'EXTRACTOR-dtls_srtp';

// Wires a transport to a UDP socket (test-only driver): starts it, moves datagrams both ways
// with real timers, hands data records to `onData`; resolves once connected.
function driveOverUdp(
  t: DtlsTransport,
  sock: Socket,
  initialRemote?: { address: string; port: number },
  onData: (records: readonly Buffer[]) => void = () => {},
): Promise<void> {
  let remote = initialRemote;
  let timer: NodeJS.Timeout | undefined;
  return new Promise<void>((resolve, reject) => {
    const flush = (): void => {
      for (let d = t.pollTransmit(); d; d = t.pollTransmit()) if (remote) sock.send(d, remote.port, remote.address);
      for (let e = t.pollEvent(); e; e = t.pollEvent()) {
        if (e.type === 'statechange' && e.state === 'connected') resolve();
        if (e.type === 'statechange' && e.state === 'failed') reject(new Error(`DTLS failed: ${e.reason}`));
        if (e.type === 'data') onData(e.records);
      }
      clearTimeout(timer);
      const due = t.pollTimeout();
      if (due !== undefined) {
        timer = setTimeout(() => {
          t.handleTimeout(performance.now());
          flush();
        }, Math.max(0, due - performance.now()));
      }
    };
    sock.on('message', (msg, rinfo) => {
      remote ??= { address: rinfo.address, port: rinfo.port };
      t.handleInput(performance.now(), msg);
      flush();
    });
    sock.on('close', () => clearTimeout(timer));
    t.start(performance.now());
    flush();
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let h: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(h)),
    new Promise<T>((_, reject) => {
      h = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
    }),
  ]);
}

// Collects a child's output and resolves once `pattern` matches it.
function waitOutput(child: ChildProcessWithoutNullStreams, pattern: RegExp): { output: () => string; match: Promise<RegExpMatchArray> } {
  let out = '';
  const match = new Promise<RegExpMatchArray>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const m = pattern.exec(out);
      if (m) resolve(m);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      const m = pattern.exec(out);
      if (m) resolve(m);
      else reject(new Error(`openssl exited (${code}) before printing ${pattern}:\n${out}`));
    });
  });
  // A pattern nobody awaited any more (the test already failed) must not become an unhandled rejection.
  match.catch(() => undefined);
  return { output: () => out, match };
}

function writeIdentity(dir: string, name: string, cert: DtlsCertificate): { cert: string; key: string } {
  const pem = cert.toPem();
  const paths = { cert: join(dir, `${name}-cert.pem`), key: join(dir, `${name}-key.pem`) };
  writeFileSync(paths.cert, pem.certificate);
  writeFileSync(paths.key, pem.privateKey, { mode: 0o600 });
  return paths;
}

const OPENSSL_NAMES: Record<SrtpProfileName, [string, number]> = {
  AEAD_AES_128_GCM: ['SRTP_AEAD_AES_128_GCM', 56],
  AEAD_AES_256_GCM: ['SRTP_AEAD_AES_256_GCM', 88],
  AES128_CM_HMAC_SHA1_80: ['SRTP_AES128_CM_SHA1_80', 60],
  AES128_CM_HMAC_SHA1_32: ['SRTP_AES128_CM_SHA1_32', 60],
};

test('our client ↔ openssl s_server -dtls1_2 -use_srtp: same profile, same exported keying material', { skip: !hasOpenssl, timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pwt-dtls-'));
  const ours = DtlsCertificate.generate();
  const theirs = DtlsCertificate.generate();
  const files = writeIdentity(dir, 'server', theirs);
  const [opensslProfile, len] = OPENSSL_NAMES.AES128_CM_HMAC_SHA1_80;
  const child = spawn('openssl', [
    's_server', '-dtls1_2', '-accept', '127.0.0.1:0', '-cert', files.cert, '-key', files.key,
    '-use_srtp', opensslProfile, '-keymatexport', LABEL, '-keymatexportlen', String(len), '-Verify', '1', '-naccept', '1',
  ]);
  const sock = createSocket('udp4');
  try {
    const accept = waitOutput(child, /ACCEPT 127\.0\.0\.1:(\d+)/);
    const port = Number((await withTimeout(accept.match, 10_000, 's_server start'))[1]);
    const keyLine = waitOutput(child, /Keying material: ([0-9A-F]+)/);
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const t = new DtlsTransport({ certificate: ours, role: 'client', remoteFingerprints: theirs.getFingerprints() });
    const connected = driveOverUdp(t, sock, { address: '127.0.0.1', port });
    await withTimeout(connected, 15_000, 'handshake with s_server');
    assert.equal(t.srtpProfile, 'AES128_CM_HMAC_SHA1_80');
    const theirKeys = (await withTimeout(keyLine.match, 10_000, 's_server keying material'))[1]!;
    assert.equal(t.exportKeyingMaterialForTest(LABEL, len).toString('hex').toUpperCase(), theirKeys);
    assert.match(accept.output(), /SRTP Extension negotiated, profile=SRTP_AES128_CM_SHA1_80/);
    // The server saw our certificate (it prints the client certificate's subject).
    assert.match(accept.output(), /subject=CN ?= ?[0-9a-f]{16}/);
    t.close();
    for (let d = t.pollTransmit(); d; d = t.pollTransmit()) sock.send(d, port, '127.0.0.1');
    assert.equal(t.state, 'closed');
  } finally {
    child.kill('SIGKILL');
    sock.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('openssl s_client -dtls1_2 -use_srtp ↔ our server: same profile, same exported keying material', { skip: !hasOpenssl, timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pwt-dtls-'));
  const ours = DtlsCertificate.generate();
  const theirs = DtlsCertificate.generate();
  const files = writeIdentity(dir, 'client', theirs);
  const [opensslProfile, len] = OPENSSL_NAMES.AEAD_AES_256_GCM;
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const port = sock.address().port;
  const t = new DtlsTransport({ certificate: ours, role: 'server', remoteFingerprints: theirs.getFingerprints() });
  let resolveData: (s: string) => void = () => {};
  const gotData = new Promise<string>((resolve) => {
    resolveData = resolve;
  });
  const connected = driveOverUdp(t, sock, undefined, (records) => resolveData(records.map(String).join('')));
  const child = spawn('openssl', [
    's_client', '-dtls1_2', '-connect', `127.0.0.1:${port}`, '-cert', files.cert, '-key', files.key,
    '-use_srtp', `SRTP_AEAD_AES_128_GCM:${opensslProfile}`, '-keymatexport', LABEL, '-keymatexportlen', String(len), '-mtu', '1200',
  ]);
  try {
    const keyLine = waitOutput(child, /Keying material: ([0-9A-F]+)/);
    await withTimeout(connected, 15_000, 'handshake with s_client');
    // Our server's preference (AEAD_AES_128_GCM first) wins over the client's order (RFC 5764 4.1.3).
    assert.equal(t.srtpProfile, 'AEAD_AES_128_GCM');
    const theirKeys = (await withTimeout(keyLine.match, 10_000, 's_client keying material'))[1]!;
    assert.equal(t.exportKeyingMaterialForTest(LABEL, len).toString('hex').toUpperCase(), theirKeys);
    assert.match(keyLine.output(), /SRTP Extension negotiated, profile=SRTP_AEAD_AES_128_GCM/);
    // Application data from s_client's stdin arrives as a record.
    child.stdin.write('hello from openssl\n');
    assert.equal(await withTimeout(gotData, 10_000, 'data from s_client'), 'hello from openssl\n');
  } finally {
    child.kill('SIGKILL');
    sock.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

// Peers whose certificates carry other key types than ours (older stacks use RSA; OpenSSL's tool
// makes the key and certificate itself): each end decodes the other's public key in the handshakes'
// library context (docs/dtls.md, "Library context"), and the server signs with that key type.
const PEER_KEYS: [string, string[], RegExp][] = [
  ['RSA-2048', ['-newkey', 'rsa:2048'], /^TLS_ECDHE_RSA_WITH_/],
  ['ECDSA P-384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], /^TLS_ECDHE_ECDSA_WITH_/],
];
for (const [label, newkey, suite] of PEER_KEYS) {
  test(`openssl s_server with an ${label} certificate ↔ our client: connected, same exported keying material`, { skip: !hasOpenssl, timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pwt-dtls-'));
    const files = { cert: join(dir, 'server-cert.pem'), key: join(dir, 'server-key.pem') };
    const made = spawnSync('openssl', ['req', '-x509', ...newkey, '-nodes', '-keyout', files.key, '-out', files.cert, '-subj', '/CN=peer', '-days', '1'], { timeout: 20_000 });
    assert.equal(made.status, 0, String(made.stderr));
    const theirs = DtlsCertificate.fromPem(readFileSync(files.cert, 'utf8'), readFileSync(files.key, 'utf8'));
    const ours = DtlsCertificate.generate();
    const [opensslProfile, len] = OPENSSL_NAMES.AEAD_AES_128_GCM;
    const child = spawn('openssl', [
      's_server', '-dtls1_2', '-accept', '127.0.0.1:0', '-cert', files.cert, '-key', files.key,
      '-use_srtp', opensslProfile, '-keymatexport', LABEL, '-keymatexportlen', String(len), '-Verify', '1', '-naccept', '1',
    ]);
    const sock = createSocket('udp4');
    try {
      const accept = waitOutput(child, /ACCEPT 127\.0\.0\.1:(\d+)/);
      const port = Number((await withTimeout(accept.match, 10_000, 's_server start'))[1]);
      const keyLine = waitOutput(child, /Keying material: ([0-9A-F]+)/);
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
      const t = new DtlsTransport({ certificate: ours, role: 'client', remoteFingerprints: theirs.getFingerprints() });
      await withTimeout(driveOverUdp(t, sock, { address: '127.0.0.1', port }), 15_000, 'handshake with s_server');
      assert.match(t.cipherSuiteStandardName ?? '', suite);
      const theirKeys = (await withTimeout(keyLine.match, 10_000, 's_server keying material'))[1]!;
      assert.equal(t.exportKeyingMaterialForTest(LABEL, len).toString('hex').toUpperCase(), theirKeys);
      t.close();
    } finally {
      child.kill('SIGKILL');
      sock.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

// Client certificates of key types our handshakes' library context keeps but our generator does not
// make (Ed25519, RSA-PSS), and one it dropped (DSA, docs/dtls.md "Library context"): the first two
// connect to our server, the third fails the handshake with a reason, nothing crashes.
const CLIENT_KEYS: [string, string[][], boolean][] = [
  ['Ed25519', [['-newkey', 'ed25519']], true],
  ['RSA-PSS', [['-newkey', 'rsa-pss', '-pkeyopt', 'rsa_keygen_bits:2048']], true],
  ['DSA', [['genpkey', '-genparam', '-algorithm', 'DSA', '-pkeyopt', 'dsa_paramgen_bits:2048', '-out', 'PARAMS'], ['-newkey', 'dsa:PARAMS']], false],
];
for (const [label, steps, connects] of CLIENT_KEYS) {
  test(`openssl s_client with a ${label} client certificate ↔ our server: ${connects ? 'connected' : 'a typed handshake failure'}`, { skip: !hasOpenssl, timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pwt-dtls-'));
    const files = { cert: join(dir, 'client-cert.pem'), key: join(dir, 'client-key.pem'), params: join(dir, 'params.pem') };
    const sock = createSocket('udp4');
    let child: ChildProcessWithoutNullStreams | undefined;
    try {
      for (const step of steps.slice(0, -1)) {
        const made = spawnSync('openssl', step.map((a) => a.replace('PARAMS', files.params)), { timeout: 20_000 });
        assert.equal(made.status, 0, String(made.stderr));
      }
      const newkey = steps.at(-1)!.map((a) => a.replace('PARAMS', files.params));
      const made = spawnSync('openssl', ['req', '-x509', ...newkey, '-nodes', '-keyout', files.key, '-out', files.cert, '-subj', '/CN=peer', '-days', '1'], { timeout: 20_000 });
      assert.equal(made.status, 0, String(made.stderr));
      const fingerprint = new X509Certificate(readFileSync(files.cert)).fingerprint256.toLowerCase();
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
      const port = sock.address().port;
      const t = new DtlsTransport({ certificate: DtlsCertificate.generate(), role: 'server', remoteFingerprints: [{ algorithm: 'sha-256', value: fingerprint }] });
      const handshake = driveOverUdp(t, sock);
      child = spawn('openssl', ['s_client', '-dtls1_2', '-connect', `127.0.0.1:${port}`, '-cert', files.cert, '-key', files.key, '-use_srtp', 'SRTP_AEAD_AES_128_GCM', '-mtu', '1200']);
      if (connects) {
        await withTimeout(handshake, 15_000, `handshake with a ${label} client`);
        assert.equal(t.srtpProfile, 'AEAD_AES_128_GCM');
      } else {
        await assert.rejects(withTimeout(handshake, 15_000, `handshake with a ${label} client`), /DTLS failed: .+/);
      }
      t.close();
    } finally {
      child?.kill('SIGKILL');
      sock.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
