// `npm run bench -- udp`: receive and send rates on loopback at 200 B and 1200 B for our
// UdpSocket (JS API), Node's dgram doing the same work, and a plain C recvmmsg/sendmmsg loop
// (bench/udp/udp_blast.c) as the ceiling. Rates are per CPU-second of the measured process
// (packets / (user+sys)), which is "per core"; wall-clock rates are printed beside them.
// Receivers are fed by the C sendmmsg blaster on the other core; the C receive ceiling is
// event-driven like ours (epoll, then recvmmsg until EAGAIN), so the ratio is our overhead.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UdpSocket } from '../../lib/transport/source/udp-socket.js';
import { printHeader, type BenchOptions, type BenchSeries } from '../lib/report.js';

export const baseline = 'dgram';
const here = dirname(fileURLToPath(import.meta.url));
const blastSrc = join(here, '..', 'udp', 'udp_blast.c');
const blastBin = join(here, '..', '.build', 'udp_blast');

interface Measure {
  packets: number;
  seconds: number;
  cpu: number;
}

function buildBlaster(): void {
  mkdirSync(dirname(blastBin), { recursive: true });
  const r = spawnSync('cc', ['-O2', '-o', blastBin, blastSrc], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('could not compile bench/udp/udp_blast.c');
}

function runBlaster(args: string[]): { child: ChildProcess; result: Promise<Measure>; ready: Promise<void> } {
  const child = spawn(blastBin, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let readyResolve: () => void = () => undefined;
  const ready = new Promise<void>((r) => (readyResolve = r));
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    if (out.includes('"ready"')) readyResolve();
  });
  const result = new Promise<Measure>((resolve, reject) => {
    child.on('exit', () => {
      const line = out.trim().split('\n').filter((l) => l.includes('packets')).pop();
      if (!line) return reject(new Error(`udp_blast ${args.join(' ')} printed nothing`));
      resolve(JSON.parse(line) as Measure);
    });
  });
  return { child, result, ready };
}

function cpuSeconds(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e6;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Receives from a C blaster for `seconds` after the first datagram. */
async function recvOurs(size: number, seconds: number): Promise<Measure> {
  const s = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1', recvBufferSize: 8 << 20 });
  let packets = 0;
  let t0 = 0;
  let cpu0 = process.cpuUsage();
  let done: (m: Measure) => void = () => undefined;
  const finished = new Promise<Measure>((r) => (done = r));
  let bytes = 0;
  s.onBatch((b) => {
    if (t0 === 0) {
      t0 = performance.now();
      cpu0 = process.cpuUsage();
    }
    // The same work dgram's listener does: touch every datagram's length.
    for (let i = 0; i < b.count; i++) bytes += b.length(i);
    packets += b.count;
    const el = (performance.now() - t0) / 1000;
    if (el >= seconds) {
      s.onBatch(null);
      done({ packets, seconds: el, cpu: cpuSeconds(cpu0) });
    }
  });
  const blaster = runBlaster(['send', '127.0.0.1', String(s.address().port), String(size), String(seconds + 5)]);
  const m = await finished;
  blaster.child.kill();
  await blaster.result.catch(() => undefined);
  s.close();
  if (bytes < 0) throw new Error('unreachable');
  return m;
}

async function recvDgram(size: number, seconds: number): Promise<Measure> {
  const s = createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  let packets = 0;
  let t0 = 0;
  let cpu0 = process.cpuUsage();
  let bytes = 0;
  let done: (m: Measure) => void = () => undefined;
  const finished = new Promise<Measure>((r) => (done = r));
  let stopped = false;
  s.on('message', (msg) => {
    if (stopped) return;
    if (t0 === 0) {
      t0 = performance.now();
      cpu0 = process.cpuUsage();
    }
    bytes += msg.length;
    packets++;
    if ((packets & 63) === 0) {
      const el = (performance.now() - t0) / 1000;
      if (el >= seconds) {
        stopped = true;
        done({ packets, seconds: el, cpu: cpuSeconds(cpu0) });
      }
    }
  });
  const blaster = runBlaster(['send', '127.0.0.1', String(s.address().port), String(size), String(seconds + 5)]);
  const m = await finished;
  blaster.child.kill();
  await blaster.result.catch(() => undefined);
  s.close();
  if (bytes < 0) throw new Error('unreachable');
  return m;
}

async function recvC(size: number, seconds: number): Promise<Measure> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const rx = runBlaster(['recv', '127.0.0.1', String(port), String(seconds)]);
  await rx.ready;
  const tx = runBlaster(['send', '127.0.0.1', String(port), String(size), String(seconds + 5)]);
  const m = await rx.result;
  tx.child.kill();
  await tx.result.catch(() => undefined);
  return m;
}

/** A sink that reads and discards (C, on the other core) so the sender is what is measured. */
async function withSink<T>(seconds: number, fn: (port: number) => Promise<T>): Promise<T> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const sink = runBlaster(['recv', '127.0.0.1', String(port), String(seconds + 30)]);
  await sink.ready;
  try {
    return await fn(port);
  } finally {
    sink.child.kill();
    await sink.result.catch(() => undefined);
  }
}

async function sendOurs(size: number, seconds: number, gso: boolean): Promise<Measure> {
  return withSink(seconds, async (port) => {
    const s = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1', sendBufferSize: 8 << 20, gso });
    const dest = s.destination(port, '127.0.0.1');
    const data = Buffer.alloc(size, 0x5a);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let el = 0;
    while ((el = (performance.now() - t0) / 1000) < seconds) {
      for (let i = 0; i < 256; i++) s.sendTo(data, dest);
      await turn();
    }
    s.flush();
    const m = { packets: s.stats.packetsSent, seconds: el, cpu: cpuSeconds(cpu0) };
    s.close();
    return m;
  });
}

async function sendDgram(size: number, seconds: number): Promise<Measure> {
  return withSink(seconds, async (port) => {
    const s = createSocket({ type: 'udp4', sendBufferSize: 8 << 20 });
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    const data = Buffer.alloc(size, 0x5a);
    let sent = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let el = 0;
    while ((el = (performance.now() - t0) / 1000) < seconds) {
      await new Promise<void>((resolve) => {
        for (let i = 0; i < 255; i++) s.send(data, port, '127.0.0.1', (err) => void (err || sent++));
        s.send(data, port, '127.0.0.1', (err) => {
          if (!err) sent++;
          resolve();
        });
      });
    }
    const m = { packets: sent, seconds: el, cpu: cpuSeconds(cpu0) };
    s.close();
    return m;
  });
}

async function sendC(size: number, seconds: number, gso: boolean): Promise<Measure> {
  return withSink(seconds, async (port) =>
    runBlaster([gso ? 'gso' : 'send', '127.0.0.1', String(port), String(size), String(seconds)]).result);
}

export async function run(opts: BenchOptions): Promise<BenchSeries[]> {
  buildBlaster();
  printHeader('udp', { 'pure-webrtc-transport': 'UdpSocket (recvmmsg/sendmmsg)', dgram: `node ${process.version}` });
  const seconds = opts.quick ? 0.4 : 1.5;
  const series: BenchSeries[] = [];
  const add = (kase: string, subject: string, m: Measure): void => {
    const perCpu = m.packets / Math.max(m.cpu, 1e-6);
    const wall = m.packets / m.seconds;
    for (const [c, v, unit] of [[`${kase} per core`, perCpu, 'pkt/CPU-s'], [`${kase} wall`, wall, 'pkt/s']] as const) {
      let s = series.find((x) => x.case === c && x.subject === subject);
      if (!s) {
        s = { suite: 'udp', case: c, subject, unit, higherIsBetter: true, samples: [] };
        series.push(s);
      }
      s.samples.push(v);
    }
  };
  for (let round = 0; round < opts.rounds; round++) {
    for (const size of [200, 1200]) {
      add(`recv ${size}B`, 'dgram', await recvDgram(size, seconds));
      add(`recv ${size}B`, 'ours', await recvOurs(size, seconds));
      add(`recv ${size}B`, 'C recvmmsg', await recvC(size, seconds));
      add(`send ${size}B`, 'dgram', await sendDgram(size, seconds));
      add(`send ${size}B`, 'ours', await sendOurs(size, seconds, false));
      add(`send ${size}B`, 'ours+GSO', await sendOurs(size, seconds, true));
      add(`send ${size}B`, 'C sendmmsg', await sendC(size, seconds, false));
      add(`send ${size}B`, 'C GSO', await sendC(size, seconds, true));
      await sleep(50);
    }
  }
  return series;
}
