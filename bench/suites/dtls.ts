// `npm run bench -- dtls`: complete DTLS 1.2 handshakes per second (ECDSA P-256, mutual
// certificates, use_srtp, extended master secret; both ends in one process on one core) and
// bulk application-data throughput through DTLS records, ours vs werift's DtlsClient/DtlsServer;
// `ours-keep-ssl` is ours with OpenSSL kept after the handshake (keepOpenSsl, docs/dtls.md
// "Handover"), so the record layer of our own and OpenSSL's are compared in the same run.
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DtlsCertificate } from '../../lib/dtls/dtls-certificate.js';
import { DtlsTransport } from '../../lib/dtls/dtls-transport.js';
import { printHeader, type BenchOptions, type BenchSeries } from '../lib/report.js';

/** Ratios are printed against werift. */
export const baseline = 'werift';

const SUITE = 'dtls';
// werift's handshake idles in polling sleeps (waitForReady: 100 ms steps), so its wall-clock
// rate says little about cost: the headline is handshakes per CPU-second (process user+system
// time, all threads), and the wall-clock rate is shown with werift running 16 at once.
const HANDSHAKE_CPU_CASE = 'handshake ECDSA P-256, both ends (per CPU-second)';
const HANDSHAKE_WALL_CASE = 'handshake ECDSA P-256, both ends (wall clock; werift 16 concurrent)';
const HANDSHAKE_SEQ_CASE = 'handshake ECDSA P-256, both ends (wall clock, one at a time)';
const BULK_CASE = 'app data 1000 B records, encrypt+decrypt (per CPU-second)';

// ---- ours ----------------------------------------------------------------------------

function oursPair(a: DtlsCertificate, b: DtlsCertificate, keepOpenSsl = false): [DtlsTransport, DtlsTransport] {
  const client = new DtlsTransport({ certificate: a, role: 'client', remoteFingerprints: b.getFingerprints(), keepOpenSsl });
  const server = new DtlsTransport({ certificate: b, role: 'server', remoteFingerprints: a.getFingerprints(), keepOpenSsl });
  return [client, server];
}

function pump(client: DtlsTransport, server: DtlsTransport, onData?: (n: number) => void): void {
  for (let round = 0; round < 64; round++) {
    let moved = 0;
    for (const [from, to] of [[client, server], [server, client]] as const) {
      const batch: Buffer[] = [];
      for (let d = from.pollTransmit(); d; d = from.pollTransmit()) batch.push(d);
      if (batch.length) to.handleInput(0, batch);
      moved += batch.length;
      for (let e = to.pollEvent(); e; e = to.pollEvent()) if (e.type === 'data' && onData) onData(e.records.length);
    }
    if (moved === 0) return;
  }
}

/** Handshakes per wall-clock second and per CPU-second of a measured run. */
interface Rates {
  wall: number;
  cpu: number;
}

function cpuSeconds(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e6;
}

function oursHandshakes(a: DtlsCertificate, b: DtlsCertificate, n: number, keepOpenSsl = false): Rates {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const [client, server] = oursPair(a, b, keepOpenSsl);
    client.start(0);
    server.start(0);
    pump(client, server);
    if (client.state !== 'connected' || server.state !== 'connected') throw new Error('handshake failed');
  }
  return { wall: n / ((performance.now() - t0) / 1000), cpu: n / cpuSeconds(c0) };
}

function oursBulk(a: DtlsCertificate, b: DtlsCertificate, records: number, size: number, keepOpenSsl = false): number {
  const [client, server] = oursPair(a, b, keepOpenSsl);
  client.start(0);
  server.start(0);
  pump(client, server);
  const batch = Array.from({ length: 256 }, () => Buffer.alloc(size, 7));
  let received = 0;
  const c0 = process.cpuUsage();
  for (let sent = 0; sent < records; sent += batch.length) {
    client.send(batch);
    pump(client, server, (k) => (received += k));
  }
  const s = cpuSeconds(c0);
  if (received < records) throw new Error(`only ${received} of ${records} records arrived`);
  return (received * size) / s / 1e6;
}

// ---- werift --------------------------------------------------------------------------

type Address = [string, number];
interface WeriftEvent<T extends unknown[]> {
  subscribe(fn: (...args: T) => void): unknown;
  once(fn: (...args: T) => void): unknown;
}
interface WeriftSocket {
  onConnect: WeriftEvent<unknown[]>;
  onData: WeriftEvent<[Buffer]>;
  onError: WeriftEvent<[Error]>;
  send(buf: Buffer): Promise<void>;
  close(): void;
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

// In-memory datagram link between two werift sockets (delivery on the next macrotask, like UDP).
class MemTransport {
  readonly type = 'udp';
  readonly address = { address: '127.0.0.1', family: 'IPv4', port: 0 };
  closed = false;
  peer: MemTransport | undefined;
  onData: (data: Buffer, addr: Address) => void = () => {};
  send = async (data: Buffer): Promise<void> => {
    const peer = this.peer;
    if (peer && !peer.closed) setImmediate(() => peer.onData(data, ['127.0.0.1', 0]));
  };
  close = async (): Promise<void> => {
    this.closed = true;
  };
}

async function weriftPair(w: WeriftDtls, cert: { certPem: string; keyPem: string; signatureHash: object }): Promise<[WeriftSocket, WeriftSocket]> {
  const ta = new MemTransport();
  const tb = new MemTransport();
  ta.peer = tb;
  tb.peer = ta;
  const common = { cert: cert.certPem, key: cert.keyPem, signatureHash: cert.signatureHash, srtpProfiles: [1], extendedMasterSecret: true };
  const server = new w.DtlsServer({ ...common, transport: tb, certificateRequest: true });
  const client = new w.DtlsClient({ ...common, transport: ta });
  const done = Promise.all([
    new Promise<void>((r, f) => {
      client.onConnect.once(() => r());
      client.onError.once(f);
    }),
    new Promise<void>((r, f) => {
      server.onConnect.once(() => r());
      server.onError.once(f);
    }),
  ]);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, f) => {
    timer = setTimeout(() => f(new Error('werift handshake did not complete in 10 s')), 10_000);
  });
  try {
    await Promise.race([client.connect().then(() => done), timeout]);
  } catch (err) {
    client.close();
    server.close();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return [client, server];
}

// werift throws from inside its own datagram handlers when a flight is retransmitted while the
// event loop is busy (e.g. a duplicate HelloVerifyRequest); those surface as unhandled
// rejections. They are counted and reported, and the handshakes they break are not counted.
let weriftInternalErrors = 0;
const countWeriftError = (): void => {
  weriftInternalErrors++;
};

async function weriftHandshakes(w: WeriftDtls, cert: { certPem: string; keyPem: string; signatureHash: object }, n: number, concurrency: number): Promise<Rates> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let completed = 0;
  for (let i = 0; i < n; i += concurrency) {
    const pairs = await Promise.allSettled(Array.from({ length: Math.min(concurrency, n - i) }, () => weriftPair(w, cert)));
    for (const p of pairs) {
      if (p.status !== 'fulfilled') continue;
      completed++;
      p.value[0].close();
      p.value[1].close();
    }
  }
  return { wall: completed / ((performance.now() - t0) / 1000), cpu: completed / cpuSeconds(c0) };
}

async function weriftBulk(w: WeriftDtls, cert: { certPem: string; keyPem: string; signatureHash: object }, records: number, size: number): Promise<number> {
  const [client, server] = await weriftPair(w, cert);
  let received = 0;
  let wake: () => void = () => {};
  server.onData.subscribe(() => {
    received++;
    if (received >= records) wake();
  });
  const all = new Promise<void>((r) => {
    wake = r;
  });
  const payload = Buffer.alloc(size, 7);
  const c0 = process.cpuUsage();
  for (let i = 0; i < records; i++) await client.send(payload);
  await all;
  const s = cpuSeconds(c0);
  client.close();
  server.close();
  return (received * size) / s / 1e6;
}

/** Runs the suite (see the header comment). */
export async function run(opts: BenchOptions): Promise<BenchSeries[]> {
  process.on('unhandledRejection', countWeriftError);
  try {
    return await measure(opts);
  } finally {
    process.off('unhandledRejection', countWeriftError);
    if (weriftInternalErrors) console.log(`werift internal errors (unhandled rejections, handshakes not counted): ${weriftInternalErrors}`);
  }
}

async function measure(opts: BenchOptions): Promise<BenchSeries[]> {
  const require = createRequire(import.meta.url);
  const w = require('werift') as WeriftDtls;
  // werift's "exports" hides package.json; read it next to the resolved entry point.
  const weriftVersion = (
    JSON.parse(readFileSync(join(dirname(require.resolve('werift')), '..', '..', '..', 'package.json'), 'utf8')) as { version: string }
  ).version;
  printHeader(SUITE, { werift: weriftVersion });
  const a = DtlsCertificate.generate();
  const b = DtlsCertificate.generate();
  const wcert = await w.CipherContext.createSelfSignedCertificateWithKey(
    { signature: w.SignatureAlgorithm.ecdsa_3, hash: w.HashAlgorithm.sha256_4 },
    w.NamedCurveAlgorithm.secp256r1_23,
  );
  const nOurs = opts.quick ? 100 : 400;
  const nWerift = opts.quick ? 32 : 64;
  const bulkRecords = opts.quick ? 20_000 : 100_000;
  const bulkWerift = opts.quick ? 2_000 : 10_000;
  const series = (c: string, subject: string, unit: string): BenchSeries => ({ suite: SUITE, case: c, subject, unit, higherIsBetter: true, samples: [] });
  const hsOurs = series(HANDSHAKE_CPU_CASE, 'ours', 'handshakes/cpu-s');
  const hsWerift = series(HANDSHAKE_CPU_CASE, 'werift', 'handshakes/cpu-s');
  const wallOurs = series(HANDSHAKE_WALL_CASE, 'ours', 'handshakes/s');
  const wallWerift = series(HANDSHAKE_WALL_CASE, 'werift', 'handshakes/s');
  const seqOurs = series(HANDSHAKE_SEQ_CASE, 'ours', 'handshakes/s');
  const seqWerift = series(HANDSHAKE_SEQ_CASE, 'werift', 'handshakes/s');
  const bulkOurs = series(BULK_CASE, 'ours', 'MB/cpu-s');
  const bulkW = series(BULK_CASE, 'werift', 'MB/cpu-s');
  const hsKeep = series(HANDSHAKE_CPU_CASE, 'ours-keep-ssl', 'handshakes/cpu-s');
  const bulkKeep = series(BULK_CASE, 'ours-keep-ssl', 'MB/cpu-s');
  // Warm-up (JIT, OpenSSL lazy init) before measuring.
  oursHandshakes(a, b, 10);
  await weriftHandshakes(w, wcert, 4, 4);
  for (let r = 0; r < opts.rounds; r++) {
    const ours = oursHandshakes(a, b, nOurs);
    hsOurs.samples.push(ours.cpu);
    wallOurs.samples.push(ours.wall);
    const theirs = await weriftHandshakes(w, wcert, nWerift, 16);
    hsWerift.samples.push(theirs.cpu);
    wallWerift.samples.push(theirs.wall);
    // Ours is synchronous: its sequential rate is the wall rate measured above.
    seqOurs.samples.push(ours.wall);
    seqWerift.samples.push((await weriftHandshakes(w, wcert, opts.quick ? 3 : 6, 1)).wall);
    bulkOurs.samples.push(oursBulk(a, b, bulkRecords, 1000));
    bulkW.samples.push(await weriftBulk(w, wcert, bulkWerift, 1000));
    hsKeep.samples.push(oursHandshakes(a, b, nOurs, true).cpu);
    bulkKeep.samples.push(oursBulk(a, b, bulkRecords, 1000, true));
  }
  return [hsOurs, hsKeep, hsWerift, wallOurs, wallWerift, seqOurs, seqWerift, bulkOurs, bulkKeep, bulkW];
}
