// `npm run bench -- srtp`: SRTP protect/unprotect packets per CPU-second (per core) at 200 B and
// 1200 B payload for every profile: (a) our batch API from JS (one native call per 64 packets),
// (b) our per-packet API from JS, (c) libsrtp from C (bench/srtp/libsrtp_bench.c), (d) werift-rtp
// (the profiles it has), (e) a plain C loop over OpenSSL EVP with reused contexts
// (bench/srtp/evp_ceiling.c), the ceiling and the ratio baseline. Rounds are interleaved across
// subjects so that load from other processes spreads evenly; CPU time, not wall time, is measured.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RtpPacket, SrtpSession as WeriftSrtp } from 'werift-rtp';
import { SrtpBatch, SrtpPacketKind, SrtpSession, srtpProfileLengths, type SrtpProtectionProfile } from '../../lib/srtp/index.js';
import { median, printHeader, type BenchOptions, type BenchSeries } from '../lib/report.js';

/** Ratios in the table are against the EVP ceiling. */
export const baseline = 'C EVP ceiling';

const here = dirname(fileURLToPath(import.meta.url));
const buildDir = join(here, '..', '.build');
const ceilingBin = join(buildDir, 'srtp_evp_ceiling');
const libsrtpBin = join(buildDir, 'srtp_libsrtp');

const PROFILES: { id: SrtpProtectionProfile; name: string }[] = [
  { id: 0x0001, name: 'AES_CM_80' },
  { id: 0x0002, name: 'AES_CM_32' },
  { id: 0x0007, name: 'GCM_128' },
  { id: 0x0008, name: 'GCM_256' },
];
const SIZES = [200, 1200];
const OPS = ['protect', 'unprotect'] as const;
type Op = (typeof OPS)[number];
const BATCH = 64;
const POOL_BATCHES = 32;

const SUBJECT = {
  batch: 'ours (batch)',
  perPacket: 'ours (per-packet)',
  libsrtp: 'libsrtp (C)',
  werift: 'werift-rtp',
  ceiling: 'C EVP ceiling',
} as const;

function compile(): boolean {
  mkdirSync(buildDir, { recursive: true });
  const cc = (src: string, out: string, lib: string): boolean =>
    spawnSync('cc', ['-O2', '-o', out, join(here, '..', 'srtp', src), lib], { stdio: 'inherit' }).status === 0;
  if (!cc('evp_ceiling.c', ceilingBin, '-lcrypto')) throw new Error('could not compile bench/srtp/evp_ceiling.c (needs libssl-dev)');
  const haveLibsrtp = cc('libsrtp_bench.c', libsrtpBin, '-lsrtp2');
  if (!haveLibsrtp) console.log('libsrtp2-dev not installed: the libsrtp subject is skipped');
  return haveLibsrtp;
}

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function keys(profile: SrtpProtectionProfile): { key: Buffer; salt: Buffer } {
  const l = srtpProfileLengths(profile)!;
  return { key: Buffer.alloc(l.keyLength, 0x2b), salt: Buffer.alloc(l.saltLength, 0x51) };
}

function ourPair(profile: SrtpProtectionProfile): { tx: SrtpSession; rx: SrtpSession } {
  const k = keys(profile);
  const tx = new SrtpSession();
  const rx = new SrtpSession();
  const material = { profile, localMasterKey: k.key, localMasterSalt: k.salt, remoteMasterKey: k.key, remoteMasterSalt: k.salt };
  tx.setKeys(material);
  rx.setKeys(material);
  return { tx, rx };
}

function clearPacket(payload: number, seq: number): Buffer {
  const p = Buffer.alloc(12 + payload, 0xab);
  p[0] = 0x80;
  p[1] = 96;
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE(0x12345678, 8);
  return p;
}

/** A pool of POOL_BATCHES batches of BATCH clear packets with consecutive sequence numbers. */
class Pool {
  readonly batches: SrtpBatch[] = [];
  private seq = 0;
  constructor(private readonly payload: number) {
    for (let b = 0; b < POOL_BATCHES; b++) this.batches.push(new SrtpBatch({ slots: BATCH, slotSize: 12 + payload + 32 }));
  }
  /** Refills every slot with a fresh clear packet (new sequence numbers). */
  refill(): void {
    const template = clearPacket(this.payload, 0);
    for (const b of this.batches) {
      for (let i = 0; i < BATCH; i++) {
        const off = b.offsets[i]!;
        b.buffer.set(template, off);
        b.buffer[off + 2] = (this.seq >> 8) & 0xff;
        b.buffer[off + 3] = this.seq & 0xff;
        this.seq = (this.seq + 1) & 0xffff;
      }
      b.lengths.fill(template.length);
    }
  }
}

function oursProtect(profile: SrtpProtectionProfile, payload: number, seconds: number, batched: boolean): number {
  const { tx } = ourPair(profile);
  const pool = new Pool(payload);
  pool.refill();
  const b = pool.batches[0]!;
  const clearLen = 12 + payload;
  const views = Array.from({ length: BATCH }, (_, i) => b.buffer.subarray(b.offsets[i]!, b.offsets[i]! + clearLen));
  let packets = 0;
  let cpu = 0;
  while (cpu < seconds) {
    const t0 = cpuNow();
    for (let r = 0; r < 16; r++) {
      if (batched) {
        // Protect in place again and again: the sender does not refuse a repeated index, and
        // re-encrypting costs what encrypting costs.
        b.lengths.fill(clearLen);
        if (tx.protectBatch(b, BATCH, SrtpPacketKind.rtp) !== BATCH) throw new Error('batch protect failed');
      } else {
        for (let i = 0; i < BATCH; i++) tx.protectRtp(views[i]!, b.buffer, b.offsets[i]!);
      }
    }
    cpu += cpuNow() - t0;
    packets += 16 * BATCH;
  }
  tx.close();
  return packets / cpu;
}

function oursUnprotect(profile: SrtpProtectionProfile, payload: number, seconds: number, batched: boolean): number {
  const { tx, rx } = ourPair(profile);
  const pool = new Pool(payload);
  const protectedLen = 12 + payload + srtpProfileLengths(profile)!.rtpOverhead;
  const views = pool.batches.map((b) =>
    Array.from({ length: BATCH }, (_, i) => b.buffer.subarray(b.offsets[i]!, b.offsets[i]! + protectedLen)));
  let packets = 0;
  let cpu = 0;
  while (cpu < seconds) {
    // Untimed: fresh packets with new indices, protected by the sender.
    pool.refill();
    for (const b of pool.batches) tx.protectBatch(b, BATCH, SrtpPacketKind.rtp);
    let accepted = 0;
    const t0 = cpuNow();
    for (let k = 0; k < POOL_BATCHES; k++) {
      const b = pool.batches[k]!;
      if (batched) {
        accepted += rx.unprotectBatch(b, BATCH, SrtpPacketKind.rtp);
      } else {
        const v = views[k]!;
        for (let i = 0; i < BATCH; i++) if (rx.unprotectRtp(v[i]!, b.buffer, b.offsets[i]!) > 0) accepted++;
      }
    }
    cpu += cpuNow() - t0;
    if (accepted !== POOL_BATCHES * BATCH) throw new Error(`unprotect accepted ${accepted} of ${POOL_BATCHES * BATCH}`);
    packets += accepted;
  }
  tx.close();
  rx.close();
  return packets / cpu;
}

function weriftSession(profile: SrtpProtectionProfile): WeriftSrtp {
  const k = keys(profile);
  return new WeriftSrtp({
    profile,
    keys: { localMasterKey: k.key, localMasterSalt: k.salt, remoteMasterKey: k.key, remoteMasterSalt: k.salt },
  });
}

function weriftRun(profile: SrtpProtectionProfile, payload: number, op: Op, seconds: number): number {
  const tx = weriftSession(profile);
  const rx = weriftSession(profile);
  const parsed = RtpPacket.deSerialize(clearPacket(payload, 0));
  let seq = 0;
  let packets = 0;
  let cpu = 0;
  while (cpu < seconds) {
    if (op === 'protect') {
      const t0 = cpuNow();
      for (let i = 0; i < BATCH * 4; i++) {
        parsed.header.sequenceNumber = seq++ & 0xffff;
        tx.encrypt(parsed.payload, parsed.header);
      }
      cpu += cpuNow() - t0;
      packets += BATCH * 4;
    } else {
      const pool: Buffer[] = [];
      for (let i = 0; i < BATCH * 4; i++) {
        parsed.header.sequenceNumber = seq++ & 0xffff;
        pool.push(tx.encrypt(parsed.payload, parsed.header));
      }
      const t0 = cpuNow();
      for (const p of pool) rx.decrypt(p);
      cpu += cpuNow() - t0;
      packets += pool.length;
    }
  }
  return packets / cpu;
}

function cRun(bin: string, profile: number, payload: number, op: Op, ms: number): number {
  return Number(execFileSync(bin, [String(profile), String(payload), op, String(ms)], { encoding: 'utf8' }).trim());
}

/** The installed version of `pkg`, found from its main file (its exports hide package.json). */
function version(pkg: string): string {
  let dir = dirname(createRequire(import.meta.url).resolve(pkg));
  for (let i = 0; i < 6; i++, dir = dirname(dir)) {
    try {
      const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (meta.name === pkg) return meta.version ?? 'unknown';
    } catch {
      // no package.json at this level; keep walking up
    }
  }
  return 'unknown';
}

/** Runs every case; returns one series per (case, subject). */
export async function run(opts: BenchOptions): Promise<BenchSeries[]> {
  const haveLibsrtp = compile();
  const libsrtpVersion = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'libsrtp2-dev'], { encoding: 'utf8' }).stdout || 'n/a';
  printHeader('srtp', { 'werift-rtp': version('werift-rtp'), libsrtp2: libsrtpVersion });
  const seconds = opts.quick ? 0.08 : 0.2;
  const ms = Math.round(seconds * 1000);
  const series = new Map<string, BenchSeries>();
  const add = (kase: string, subject: string, value: number): void => {
    const key = `${kase}|${subject}`;
    let s = series.get(key);
    if (!s) {
      s = { suite: 'srtp', case: kase, subject, unit: 'packets/s per core', higherIsBetter: true, samples: [] };
      series.set(key, s);
    }
    s.samples.push(value);
  };
  for (let round = 0; round < opts.rounds; round++) {
    for (const op of OPS) {
      for (const size of SIZES) {
        for (const p of PROFILES) {
          const kase = `${op} ${size}B ${p.name}`;
          add(kase, SUBJECT.ceiling, cRun(ceilingBin, p.id, size, op, ms));
          add(kase, SUBJECT.batch, op === 'protect' ? oursProtect(p.id, size, seconds, true) : oursUnprotect(p.id, size, seconds, true));
          add(kase, SUBJECT.perPacket, op === 'protect' ? oursProtect(p.id, size, seconds, false) : oursUnprotect(p.id, size, seconds, false));
          if (haveLibsrtp) add(kase, SUBJECT.libsrtp, cRun(libsrtpBin, p.id, size, op, ms));
          if (p.id === 0x0001 || p.id === 0x0007) add(kase, SUBJECT.werift, weriftRun(p.id, size, op, seconds));
        }
      }
    }
  }
  const all = [...series.values()];
  printTargets(all);
  return all;
}

/** Prints the targets against the medians of this run. */
function printTargets(all: BenchSeries[]): void {
  const med = (kase: string, subject: string): number => {
    const s = all.find((x) => x.case === kase && x.subject === subject);
    return s ? median(s.samples) : NaN;
  };
  const line = (what: string, ratio: number, target: number): void =>
    console.log(`${Number.isNaN(ratio) ? 'n/a ' : ratio >= target ? 'MET ' : 'MISS'}  ${what}: ${ratio.toFixed(2)}x (target >= ${target}x)`);
  console.log('\ntargets (medians of this run):');
  for (const kase of [...new Set(all.map((s) => s.case))]) {
    line(`${kase} batch / EVP ceiling`, med(kase, SUBJECT.batch) / med(kase, SUBJECT.ceiling), 0.8);
    line(`${kase} per-packet / EVP ceiling`, med(kase, SUBJECT.perPacket) / med(kase, SUBJECT.ceiling), 0.6);
  }
  line('protect 1200B GCM_128 batch / werift-rtp', med('protect 1200B GCM_128', SUBJECT.batch) / med('protect 1200B GCM_128', SUBJECT.werift), 10);
  line('unprotect 1200B GCM_128 batch / werift-rtp', med('unprotect 1200B GCM_128', SUBJECT.batch) / med('unprotect 1200B GCM_128', SUBJECT.werift), 20);
  for (const op of OPS) {
    for (const size of SIZES) {
      const kase = `${op} ${size}B AES_CM_80`;
      line(`${kase} batch / libsrtp`, med(kase, SUBJECT.batch) / med(kase, SUBJECT.libsrtp), 5);
    }
  }
}
