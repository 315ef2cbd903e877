// `npm run bench -- scale`: SFU forwarding on 1 and 2 router worker threads (lib/sfu/worker,
// docs/scaling.md), side by side in one run. A server process runs a RouterWorkerPool; each worker
// holds one room with one publisher and S subscribers, all RTCPeerConnections of this process that
// connect through the pool. Once connected, a C program (bench/native/scale_blast.c) takes over their
// ports: it sends each publisher's pre-protected SRTP at a fixed rate above what one worker forwards,
// and sinks what the server sends to the subscribers (recvmmsg), so the load generator and sinks cost
// little next to the server. Between two marks: forwarded packets per second of wall time (the
// aggregate of all workers), server CPU per forwarded packet (all its threads), and the load average,
// since the machine is shared. Subjects: 1 worker, N workers (`--workers`, default 2; a port each),
// N workers on one port (SO_REUSEPORT: connected flow sockets for established flows, docs/scaling.md),
// and N workers on one port with the native hand-off only (flowSockets: 0). Also run by
// `npm run bench -- fanout --workers N`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { LocalStreamTrack, RTCPeerConnection } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';
import { libraryVersions, median, printHeader, printTarget, ratioOf, type BenchOptions, type BenchSeries } from '../lib/report.js';
import type { ScaleMark, ScaleRequest } from '../peers/scale-server.js';

/** Ratios in the table are against one worker. */
export const baseline = '1 worker';

const SUITE = 'scale';
const here = dirname(fileURLToPath(import.meta.url));
const blastSrc = join(here, '..', 'native', 'scale_blast.c');
const blastBin = join(here, '..', '.build', 'scale_blast');
const PAYLOAD = 200;

interface Config {
  subject: string;
  workers: number;
  sharedPort: boolean;
  flowSockets?: number;
}

interface Round {
  forwardedPerSecond: number;
  cpuUsPerPacket: number;
  loadAverage: number;
  deliveredShare: number;
  handoffShare: number;
  flowShare: number;
  acceptedShare: number;
  handoffDrops: number;
  blastCpuShare: number;
}

function buildBlaster(): void {
  mkdirSync(dirname(blastBin), { recursive: true });
  const r = spawnSync('cc', ['-O2', '-pthread', '-o', blastBin, blastSrc], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('could not compile bench/native/scale_blast.c');
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
type ScaleCall = ScaleRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** The server process and a typed call over IPC. */
async function startServer(config: Config): Promise<{ call: (m: ScaleCall) => Promise<unknown>; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, '..', 'peers', 'scale-server.ts'), JSON.stringify({ workers: config.workers, sharedPort: config.sharedPort, flowSockets: config.flowSockets })], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`scale server exited (${code})`)));
    child.on('message', (m: { ready?: boolean; id?: number; value?: unknown; error?: string }) => {
      if (m.ready) return resolve();
      const p = pending.get(m.id!);
      if (!p) return;
      pending.delete(m.id!);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.value);
    });
  });
  await ready;
  const call = (m: ScaleCall): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ ...m, id });
    });
  return { call, child };
}

interface Client {
  pc: RTCPeerConnection;
  mux: UdpMux;
}

/** A port no socket uses now (a SO_REUSEPORT bind to port 0 may join another reuseport socket's port). */
async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind({ address: '127.0.0.1', port: 0, exclusive: true }, () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A connection of this process on its own reuseport port (so scale_blast can take the port over). */
async function client(): Promise<Client> {
  const mux = await UdpMux.bind({ address: '127.0.0.1', port: await freePort(), reusePort: true });
  return { pc: new RTCPeerConnection({ udpMux: mux }), mux };
}

async function connected(pc: RTCPeerConnection): Promise<void> {
  await Promise.race([pc.connected(), new Promise((_, reject) => setTimeout(() => reject(new Error('connection timed out')), 15_000))]);
}

/** A load level: the publishers' rate, and the case names' prefix. */
interface Phase {
  label: string;
  pps: number;
}

/**
 * One server process and one set of connections for a configuration, measured at each load level in
 * turn (fresh SRTP packets each time: the server's replay protection refuses a packet index twice).
 */
async function measure(config: Config, subscribers: number, phases: Phase[], seconds: number, dir: string): Promise<Round[]> {
  const { call, child } = await startServer(config);
  const clients: Client[] = [];
  try {
    const sinkArgs: string[] = [];
    const publishers: Array<{ port: number; serverPort: number; files: string[] }> = [];
    for (let w = 0; w < config.workers; w++) {
      const { room, port } = (await call({ op: 'room', worker: w })) as { room: number; port: number };
      const pub = await client();
      clients.push(pub);
      const track = new LocalStreamTrack({ kind: 'audio' });
      const transceiver = pub.pc.addTransceiver(track, { direction: 'sendonly' });
      await pub.pc.setLocalDescription(await pub.pc.createOffer());
      const { peer, answer } = (await call({ op: 'answer', room, offer: pub.pc.localDescription!.sdp })) as { peer: number; answer: string };
      await pub.pc.setRemoteDescription({ type: 'answer', sdp: answer });
      await connected(pub.pc);
      const { producer } = (await call({ op: 'produce', room, peer, mid: transceiver.mid! })) as { producer: number };
      // The subscribers connect at the same time (setup time is not measured; it bounds the suite's run time).
      const subs = await Promise.all(Array.from({ length: subscribers }, async () => {
        const sub = await client();
        clients.push(sub);
        const { peer: sp, offer } = (await call({ op: 'offer', room })) as { peer: number; offer: string };
        await sub.pc.setRemoteDescription({ type: 'offer', sdp: offer });
        await sub.pc.setLocalDescription(await sub.pc.createAnswer());
        await call({ op: 'accept', room, peer: sp, answer: sub.pc.localDescription!.sdp });
        await connected(sub.pc);
        await call({ op: 'consume', room, producer, peer: sp, mid: sub.pc.getTransceivers()[0]!.mid! });
        return sub;
      }));
      for (const sub of subs) sinkArgs.push(`sink:${sub.mux.local.port}:${port}`);
      // The publisher's packets, protected now by its connection's own SRTP session, so the server
      // authenticates them when scale_blast sends them from the publisher's port; one file per phase.
      const srtp = pub.pc.mediaTransport!.srtp!;
      const ssrc = transceiver.sender.ssrc;
      const payloadType = transceiver.sender.getParameters().codecs[0]!.payloadType;
      const out = Buffer.alloc(2048);
      const payload = Buffer.alloc(PAYLOAD, 0x5a);
      const files: string[] = [];
      let k = 0;
      for (const [i, phase] of phases.entries()) {
        const count = Math.ceil(phase.pps * (seconds + 1));
        const file = Buffer.alloc(count * (2 + 12 + PAYLOAD + srtp.rtpOverhead));
        let at = 0;
        for (const end = k + count; k < end; k++) {
          const rtp = new RtpPacket({ payloadType, ssrc, sequenceNumber: k & 0xffff, timestamp: (k * 960) >>> 0, payload }).serialize();
          const n = srtp.protectRtp(rtp, out);
          file.writeUInt16LE(n, at);
          out.copy(file, at + 2, 0, n);
          at += 2 + n;
        }
        const path = join(dir, `publisher-${w}-${i}.bin`);
        writeFileSync(path, file.subarray(0, at));
        files.push(path);
      }
      publishers.push({ port: pub.mux.local.port, serverPort: port, files });
    }

    const rounds: Round[] = [];
    for (const [i, phase] of phases.entries()) {
      const blastArgs = [...publishers.map((p) => `pub:${p.port}:${p.serverPort}:${p.files[i]!}`), ...sinkArgs];
      const blast = spawn(blastBin, [String(seconds + 0.5), String(phase.pps), ...blastArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      blast.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      const blastDone = new Promise<{ sent: number; received: number; cpu: number; seconds: number }>((resolve, reject) =>
        blast.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout.trim()) as { sent: number; received: number; cpu: number; seconds: number }) : reject(new Error(`scale_blast exited ${code}`)))),
      );
      const start = (await call({ op: 'mark' })) as ScaleMark;
      await new Promise((r) => setTimeout(r, 300));
      const load = loadavg()[0]!;
      const m1 = (await call({ op: 'mark' })) as ScaleMark;
      const t1 = performance.now();
      await new Promise((r) => setTimeout(r, seconds * 1000 - 200));
      const m2 = (await call({ op: 'mark' })) as ScaleMark;
      const t2 = performance.now();
      const b = await blastDone;
      const end = (await call({ op: 'mark' })) as ScaleMark;
      const forwarded = m2.forwarded - m1.forwarded;
      const received = end.received - start.received;
      rounds.push({
        forwardedPerSecond: forwarded / ((t2 - t1) / 1000),
        cpuUsPerPacket: (m2.cpuUs - m1.cpuUs) / forwarded,
        loadAverage: load,
        deliveredShare: end.forwarded - start.forwarded > 0 ? b.received / (end.forwarded - start.forwarded) : 0,
        handoffShare: received > 0 ? (end.handoffSent - start.handoffSent) / received : 0,
        flowShare: received > 0 ? (end.flowReceived - start.flowReceived) / received : 0,
        acceptedShare: b.sent > 0 ? received / b.sent : 0,
        handoffDrops: end.handoffDrops - start.handoffDrops,
        blastCpuShare: b.cpu / b.seconds,
      });
    }
    return rounds;
  } finally {
    for (const c of clients) {
      c.pc.close();
      c.mux.close();
    }
    await call({ op: 'close' }).catch(() => undefined);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/** CPU-seconds per second that `threads` busy threads of one process got just now (the machine is shared). */
function spinShare(threads: number): number {
  const r = spawnSync(blastBin, ['spin', String(threads), '1'], { encoding: 'utf8' });
  const m = JSON.parse(r.stdout.trim()) as { cpu: number; seconds: number };
  return m.cpu / m.seconds;
}

export async function run(opts: BenchOptions): Promise<BenchSeries[]> {
  printHeader(SUITE, libraryVersions());
  buildBlaster();
  const subscribers = opts.quick ? 4 : 24;
  const seconds = opts.quick ? 1 : 2;
  // Saturated: more than one worker forwards, so packets/s shows the capacity; below saturation every
  // configuration forwards everything offered and CPU per packet compares like with like. Below
  // saturation runs first: a worker starved of CPU for longer than 2^15 of its publisher's packets
  // (0.4 s at 80,000/s) loses that publisher's SRTP index (RFC 3711 §3.3.1) and forwards nothing more
  // from it, which only the last phase may suffer ("accepted" in the log shows it).
  const phases: Phase[] = opts.quick ? [{ label: 'smoke', pps: 5000 }] : [{ label: 'below saturation', pps: 10_000 }, { label: 'saturated', pps: 80_000 }];
  console.log(`per worker: one room, 1 publisher (${PAYLOAD} B payloads, pre-protected SRTP) and ${subscribers} subscribers; ${seconds} s between marks; publisher rates: ${phases.map((p) => `${p.label} ${p.pps}/s (${p.pps * subscribers} forwarded/s offered per worker)`).join(', ')}`);
  const n = opts.workers ?? 2;
  const many = `${n} workers`;
  const shared = `${n} workers, one port`;
  const handoffOnly = `${n} workers, one port, hand-off only`;
  const configs: Config[] = [
    { subject: '1 worker', workers: 1, sharedPort: false },
    { subject: many, workers: n, sharedPort: false },
    { subject: shared, workers: n, sharedPort: true },
    { subject: handoffOnly, workers: n, sharedPort: true, flowSockets: 0 },
  ];
  const series: BenchSeries[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'pwt-scale-'));
  const loads: number[] = [];
  const spins: Array<{ one: number; two: number }> = [];
  try {
    const samples = new Map<string, Round[]>();
    // Rounds interleave the configurations, so a change in the machine's load hits all of them alike.
    for (let r = 0; r < opts.rounds; r++) {
      // Calibration: what 1 and 2 busy threads get right now bounds what 2 workers can show.
      const one = spinShare(1);
      const two = spinShare(2);
      console.log(`round ${r + 1} machine: 1 busy thread got ${one.toFixed(2)} CPU-s/s, 2 busy threads ${two.toFixed(2)} (${(two / one).toFixed(2)}x)`);
      spins.push({ one, two });
      for (const config of configs) {
        const rounds = await measure(config, subscribers, phases, seconds, dir);
        for (const [i, phase] of phases.entries()) {
          const round = rounds[i]!;
          loads.push(round.loadAverage);
          console.log(`${phase.label} round ${r + 1} ${config.subject}: ${Math.round(round.forwardedPerSecond)} forwarded/s, ${round.cpuUsPerPacket.toFixed(3)} µs CPU per packet, load average ${round.loadAverage.toFixed(2)}, accepted ${(100 * round.acceptedShare).toFixed(1)} % of sent, delivered ${(100 * round.deliveredShare).toFixed(1)} %, handed off ${(100 * round.handoffShare).toFixed(1)} % of received (${round.handoffDrops} dropped by a full channel), ${(100 * round.flowShare).toFixed(1)} % read from flow sockets, load generator + sinks ${(100 * round.blastCpuShare).toFixed(0)} % of a core`);
          const key = `${phase.label}\u0000${config.subject}`;
          samples.set(key, [...(samples.get(key) ?? []), round]);
        }
      }
    }
    for (const phase of phases) {
      for (const config of configs) {
        const rounds = samples.get(`${phase.label}\u0000${config.subject}`) ?? [];
        const add = (what: string, unit: string, higherIsBetter: boolean, pick: (r: Round) => number): void => {
          series.push({ suite: SUITE, case: `${phase.label}: ${what}`, subject: config.subject, unit, higherIsBetter, samples: rounds.map(pick) });
        };
        add('forwarded (all workers)', 'pkt/s', true, (r) => r.forwardedPerSecond);
        add('server CPU per forwarded packet', 'µs', false, (r) => r.cpuUsPerPacket);
        add('load average (1 min) at the mark', 'load', false, (r) => r.loadAverage);
        add('load generator + sinks CPU', '% of a core', false, (r) => 100 * r.blastCpuShare);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (spins.length) {
    series.push({ suite: SUITE, case: 'machine: CPU-s per s for 1 busy thread', subject: 'calibration', unit: 'CPU-s/s', higherIsBetter: true, samples: spins.map((x) => x.one) });
    series.push({ suite: SUITE, case: 'machine: CPU-s per s for 2 busy threads', subject: 'calibration', unit: 'CPU-s/s', higherIsBetter: true, samples: spins.map((x) => x.two) });
    console.log(`machine calibration: 2 busy threads got ${median(spins.map((x) => x.two / x.one)).toFixed(2)}x the CPU of 1 (median of ${spins.length}); an idle 2-core machine gives 2.00x`);
  }
  if (opts.quick) {
    console.log('\n--quick: a smoke run below saturation; the issue 18 targets are judged on a full run only');
    return series;
  }
  console.log(`\ntargets (issue 18: ${many} >= 1.7x one worker in forwarded packets/s (on 2 cores); CPU per forwarded packet within 10 %):`);
  const first = phases[phases.length - 1]!.label;
  for (const subject of [many, shared, handoffOnly]) {
    printTarget(`${first}: forwarded/s, ${subject} / 1 worker`, ratioOf(series, `${first}: forwarded (all workers)`, subject, '1 worker'), 1.7);
  }
  // CPU per packet: lower is better, so the ratio is (N workers) / (1 worker) here.
  for (const phase of phases) {
    const cpuOf = (subject: string): number | undefined => {
      const s = series.find((x) => x.case === `${phase.label}: server CPU per forwarded packet` && x.subject === subject);
      return s && s.samples.length ? median(s.samples) : undefined;
    };
    const one = cpuOf('1 worker');
    for (const subject of [many, shared, handoffOnly]) {
      const v = cpuOf(subject);
      if (v === undefined || one === undefined) console.log(`N/A   ${phase.label}: CPU per forwarded packet, ${subject} / 1 worker: not measured`);
      else console.log(`${v / one <= 1.1 ? 'MET ' : 'MISS'}  ${phase.label}: CPU per forwarded packet, ${subject} / 1 worker: ${(v / one).toFixed(2)}x (target <= 1.10x)`);
    }
    // What one shared port costs against a port per worker, the same number of workers.
    const own = cpuOf(many);
    for (const subject of [shared, handoffOnly]) {
      const v = cpuOf(subject);
      if (v === undefined || own === undefined) console.log(`N/A   ${phase.label}: CPU per forwarded packet, ${subject} / ${many}: not measured`);
      else console.log(`${v / own <= 1.1 ? 'MET ' : 'MISS'}  ${phase.label}: CPU per forwarded packet, ${subject} / ${many} (a port each): ${(v / own).toFixed(2)}x (target <= 1.10x)`);
    }
  }
  if (loads.length) console.log(`load average (1 min) during the run: median ${median(loads).toFixed(2)}, ${Math.min(...loads).toFixed(2)}..${Math.max(...loads).toFixed(2)}, on 2 cores shared with other work`);
  return series;
}
