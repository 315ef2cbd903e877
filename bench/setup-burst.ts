// `npm run bench:setup-burst [-- --pairs N] [--warmup N] [--shared] [--busy MS] [--profile FILE] [--phases] [--heap-profile FILE]`: N pairs opened at once in one
// process (the setup suite's many-pairs case, issue 14), with what the suite does not show: when the
// pairs finished negotiating, reached ICE connected and connected (first, median, last), the process
// CPU per pair and the main thread's own share of it (Linux), and the retransmissions and drops the
// burst caused (DTLS flights, ICE checks, by reason). `--shared` puts every answerer on one UdpMux
// port. `--profile FILE` records the main thread's CPU profile of the burst alone (from the first
// createOffer to the last pair connected) into FILE and prints the functions with the most self
// time in µs per pair; `--phases` (with `--profile`) splits that profile at the last pair negotiated
// and the last PC ICE-connected and prints each window's main-thread busy ms and top self times
// (phase A negotiation, B ICE, C DTLS and after). The burst's CPU per thread class (main, DTLS
// handshake threads, V8/libuv workers; /proc/self/task) is always printed. `--heap-profile FILE` samples the burst's allocations (collected objects
// included, what the collector had to walk) into FILE and prints the bytes allocated per pair by
// lib/ folder and the allocation sites with the most. The main thread's line says whether the DTLS handshakes ran adaptively (the
// default), on the handshake thread (PWT_DTLS_HANDSHAKE_THREAD=1) or in-thread (=0), and the
// summary counts the burst's handshakes by the path the adaptive choice took (docs/dtls.md
// "Handshake thread"). docs/peer.md "Setup cost".
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { RTCPeerConnection } from '../lib/peer/index.js';
import '../lib/policy/default-policies.js';
import { UdpMux } from '../lib/transport/source/udp-mux.js';
import { DtlsTransport } from '../lib/dtls/dtls-transport.js';
import { jsThreadCpuMs } from './peers/measure.js';
import { nativeDtlsEngineClass } from '../lib/dtls/native-dtls.js';

const args = process.argv.slice(2);
const pairsArg = args.indexOf('--pairs');
const PAIRS = pairsArg >= 0 ? Number(args[pairsArg + 1]) : 1000;
const SHARED = args.includes('--shared');
const warmupArg = args.indexOf('--warmup');
/** `--warmup N`: a round of N pairs at once after the one-pair warm-up (the setup suite warms up with 1 and 100 pairs). */
const WARMUP_PAIRS = warmupArg >= 0 ? Number(args[warmupArg + 1]) : 0;
const busyArg = args.indexOf('--busy');
/** `--busy MS`: during the burst, a timer keeps the event loop busy for MS ms at every turn (a process that gets a small share of a loaded machine). */
const BUSY_MS = busyArg >= 0 ? Number(args[busyArg + 1]) : 0;
const profileArg = args.indexOf('--profile');
const PROFILE = profileArg >= 0 ? args[profileArg + 1] : undefined;
const PHASES = args.includes('--phases');
if (PHASES && !PROFILE) throw new Error('--phases needs --profile FILE');
const heapArg = args.indexOf('--heap-profile');
const HEAP_PROFILE = heapArg >= 0 ? args[heapArg + 1] : undefined;
/** How many allocation sites `--heap-profile` lists. */
const HEAP_TOP = 30;
/** How many functions `--profile` lists. */
const PROFILE_TOP = 40;
/** How many functions `--phases` lists per window. */
const PHASE_TOP = 15;
/** A pair that has not connected by then counts as failed. */
const PAIR_DEADLINE_MS = 120_000;

/** The threads the process had when this module loaded (before any handshake thread). */
const threadsAtLoad = new Set(threadCpu().keys());
const mux = SHARED ? await UdpMux.bind({ address: '127.0.0.1', recvBufferSize: 16 * 1024 * 1024, sendBufferSize: 16 * 1024 * 1024 }) : undefined;
/** [milestone, ms since the burst started] of every PC. */
const milestones: [string, number][] = [];
let t0 = 0;
/** Pairs of the burst negotiated so far, and the main thread's CPU ms when the last one was (phase A's end). */
let negotiatedPairs = 0;
let negotiatedJsMs: number | undefined;
/** Why each pair that did not connect failed: "<side> ice <state>, dtls <state>: <failure reason>". */
const failures = new Map<string, number>();

/** The `drops` column of /proc/net/udp for the socket bound to `port` (Linux; datagrams the full receive buffer refused). */
function kernelDrops(port: number): number | undefined {
  try {
    const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    const line = readFileSync('/proc/net/udp', 'utf8').split('\n').find((l) => l.trim().split(/\s+/)[1]?.endsWith(hex));
    return line ? Number(line.trim().split(/\s+/).at(-1)) : undefined;
  } catch {
    return undefined;
  }
}

function failureOf(pc: RTCPeerConnection, side: string): string {
  return `${side} ice ${pc.iceConnectionState}, ${pc.connectionState}${pc.failureReason ? `: ${pc.failureReason}` : ''}`;
}

async function pair(): Promise<[RTCPeerConnection, RTCPeerConnection]> {
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const b = mux ? new RTCPeerConnection({ udpMux: mux }) : new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  for (const pc of [a, b]) {
    pc.addEventListener('iceconnectionstatechange', () => {
      if (pc.iceConnectionState === 'connected') milestones.push(['ICE connected', performance.now() - t0]);
      if (pc.iceConnectionState === 'failed' && process.env.BURST_DEBUG) console.log(`${pc === a ? 'offerer' : 'answerer'} ICE failed at ${(performance.now() - t0).toFixed(0)} ms: ${JSON.stringify(pc.mediaTransport?.ice.stats)}`);
    });
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'connected') milestones.push(['connected', performance.now() - t0]);
    });
  }
  a.addTransceiver('audio');
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription!);
  milestones.push(['negotiated', performance.now() - t0]);
  if (++negotiatedPairs === PAIRS) negotiatedJsMs = jsThreadCpuMs();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.all([a.connected(), b.connected()]),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('pair did not connect')), PAIR_DEADLINE_MS))),
    ]);
  } catch (err) {
    const key = `${failureOf(a, 'offerer')} / ${failureOf(b, 'answerer')}`;
    failures.set(key, (failures.get(key) ?? 0) + 1);
    a.close();
    b.close();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return [a, b];
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples?: number[];
  timeDeltas?: number[];
}

/**
 * Self time (µs) per function of the profile's samples taken between `fromMs` and `toMs` after the
 * profile started, idle time left out, and the busy µs. Time in native code (the addon, OpenSSL,
 * syscalls) is counted under the JavaScript function that called it.
 */
function selfTimes(profile: CpuProfile, fromMs = 0, toMs = Infinity): { self: Map<string, number>; busy: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const jsName = (id: number): string => {
    const n = byId.get(id);
    if (!n) return '?';
    const { functionName, url, lineNumber } = n.callFrame;
    const file = url.replace(/^file:\/\//, '').replace(`${process.cwd()}/`, '');
    return `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`;
  };
  const nameOf = new Map<number, string>();
  for (const n of profile.nodes) {
    const { functionName, url } = n.callFrame;
    // V8 names a native call after an arbitrary function template; what matters is who called it.
    const native = url === '' && !functionName.startsWith('(');
    const parent = parentOf.get(n.id);
    nameOf.set(n.id, native && parent !== undefined ? `[native] from ${jsName(parent)}` : jsName(n.id));
  }
  const self = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let busy = 0;
  let at = 0;
  for (let i = 0; i < samples.length; i++) {
    const dt = deltas[i] ?? 0;
    at += dt;
    if (at < fromMs * 1000 || at >= toMs * 1000) continue;
    const name = nameOf.get(samples[i]!) ?? '?';
    if (name.startsWith('(idle)')) continue;
    busy += dt;
    self.set(name, (self.get(name) ?? 0) + dt);
  }
  return { self, busy };
}

/** The profile's functions with the most self time (µs per pair), idle time left out. */
function printSelfTimes(profile: CpuProfile, pairCount: number): void {
  const { self, busy } = selfTimes(profile);
  console.log(`  profile: ${(busy / 1000).toFixed(0)} ms busy on the main thread, ${(busy / pairCount).toFixed(0)} µs per pair; most self time (µs per pair, share):`);
  for (const [name, us] of [...self].sort((x, y) => y[1] - x[1]).slice(0, PROFILE_TOP)) {
    console.log(`  ${(us / pairCount).toFixed(1).padStart(8)} ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${name}`);
  }
}

/**
 * `--phases`: the profile cut at the last pair negotiated and the last PC ICE-connected (ms since
 * the burst started; `offsetMs` is when the burst started after the profile did): each window's
 * main-thread busy ms and its functions with the most self time.
 */
function printPhases(profile: CpuProfile, offsetMs: number, negotiatedMs: number, iceMs: number, endMs: number): void {
  const windows: [string, number, number][] = [
    ['A negotiation', 0, negotiatedMs],
    ['B ICE', negotiatedMs, iceMs],
    ['C DTLS and after', iceMs, endMs],
  ];
  for (const [label, from, to] of windows) {
    const { self, busy } = selfTimes(profile, from + offsetMs, to + offsetMs);
    const wall = Math.max(0, to - from);
    console.log(`  phase ${label} [${from.toFixed(0)}, ${to.toFixed(0)}] ms: main thread busy ${(busy / 1000).toFixed(0)} of ${wall.toFixed(0)} ms (${wall > 0 ? ((busy / 10 / wall)).toFixed(0) : '-'} %); most self time (ms, share):`);
    for (const [name, us] of [...self].sort((x, y) => y[1] - x[1]).slice(0, PHASE_TOP)) {
      console.log(`  ${(us / 1000).toFixed(1).padStart(8)} ${((100 * us) / Math.max(1, busy)).toFixed(1).padStart(5)} %  ${name}`);
    }
  }
}

/** CPU ms (user + system, 10 ms ticks) and name of every thread of this process (Linux; empty elsewhere). */
function threadCpu(): Map<number, { comm: string; ms: number }> {
  const out = new Map<number, { comm: string; ms: number }>();
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const comm = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), { comm, ms: (Number(fields[11]) + Number(fields[12])) * 10 });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/**
 * The burst's CPU per thread class: the main thread; the DTLS handshake threads (named `pwt-dtls-*`,
 * or, where they are not named, the threads started after this module loaded: they are made on
 * the first handshake, the libuv pool's threads on its first use); the rest (V8's compiler and GC
 * workers, libuv). A thread that ended during the burst is not counted.
 */
/** The process's ECDHE key pools (docs/dtls.md "Library context"), or undefined with an addon without them. */
function keyPools(): Float64Array | undefined {
  try {
    return nativeDtlsEngineClass().keyPools?.();
  } catch {
    return undefined;
  }
}

/**
 * The ECDHE key pools during the burst: keys the handshakes took from them and made on the spot,
 * and the keys the handshake threads made in idle time with the CPU that took; that CPU is part of
 * the `pwt-dtls-*` figure, so the handshakes' own (critical path) CPU is printed without it.
 */
function printKeyPools(before: Float64Array | undefined, after: Float64Array | undefined, handshakeMs: number | undefined, pairCount: number): void {
  if (!before || !after) return;
  const d = (i: number): number => after[i]! - before[i]!;
  const groups = ['X25519', 'P-256'].map((name, g) => `${name} taken ${d(g * 6 + 2)}, made on the spot ${d(g * 6 + 3)}, made in idle time ${d(g * 6 + 4)} (${d(g * 6 + 5).toFixed(0)} ms CPU), pooled ${before[g * 6]} -> ${after[g * 6]}`);
  const idleMs = d(5) + d(11);
  console.log(`  ECDHE key pools: ${groups.join('; ')}`);
  if (handshakeMs !== undefined) {
    console.log(`  DTLS handshake threads without idle-time key making: ${(handshakeMs - idleMs).toFixed(0)} ms, ${((handshakeMs - idleMs) / Math.max(1, pairCount)).toFixed(2)} ms per pair (idle-time work ${idleMs.toFixed(0)} ms, ${(idleMs / Math.max(1, pairCount)).toFixed(2)} ms per pair)`);
  }
}

function printThreadClasses(before: Map<number, { comm: string; ms: number }>, after: Map<number, { comm: string; ms: number }>, pairCount: number, pools0?: Float64Array, pools1?: Float64Array): void {
  if (after.size === 0) return;
  const classes = new Map<string, { ms: number; threads: number }>();
  for (const [tid, { comm, ms }] of after) {
    const cls = tid === process.pid
      ? 'main (JavaScript)'
      : comm.startsWith('pwt-dtls')
        ? 'DTLS handshake (pwt-dtls-*)'
        : comm.startsWith('pwt-')
          ? `other pwt (${comm})`
          : threadsAtLoad.has(tid)
            ? 'V8/libuv workers'
            : 'started since load (unnamed DTLS handshake, libuv pool)';
    const c = classes.get(cls) ?? { ms: 0, threads: 0 };
    c.ms += ms - (before.get(tid)?.ms ?? 0);
    c.threads++;
    classes.set(cls, c);
  }
  console.log(`  CPU per thread class (ms, ms per pair): ${[...classes].map(([cls, { ms, threads }]) => `${cls} x${threads} ${ms.toFixed(0)} (${(ms / Math.max(1, pairCount)).toFixed(2)})`).join('; ')}`);
  printKeyPools(pools0, pools1, classes.get('DTLS handshake (pwt-dtls-*)')?.ms, pairCount);
}

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

/**
 * Bytes the sampled allocations of the burst came to per pair: by lib/ folder (the innermost
 * frame in lib/ of each sample's stack) and by allocation site (the innermost JavaScript frame).
 */
function printAllocations(profile: { head: HeapNode }, pairCount: number): void {
  const byFolder = new Map<string, number>();
  const bySite = new Map<string, number>();
  let total = 0;
  const walk = (n: HeapNode, libFolder: string, site: string): void => {
    const { functionName, url, lineNumber } = n.callFrame;
    const file = url.replace(/^file:\/\//, '').replace(`${process.cwd()}/`, '');
    const lib = /^(?:dist\/)?lib\/([^/]+)\//.exec(file);
    const folder = lib ? `lib/${lib[1]}` : libFolder;
    const here = file ? `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}` : site;
    if (n.selfSize > 0) {
      total += n.selfSize;
      byFolder.set(folder, (byFolder.get(folder) ?? 0) + n.selfSize);
      bySite.set(here, (bySite.get(here) ?? 0) + n.selfSize);
    }
    for (const c of n.children) walk(c, folder, here);
  };
  walk(profile.head, '(outside lib)', '(native)');
  const kib = (b: number): string => (b / 1024 / pairCount).toFixed(1).padStart(7);
  console.log(`  allocations: ${kib(total).trim()} KiB per pair; by folder (KiB per pair):`);
  for (const [f, b] of [...byFolder].sort((x, y) => y[1] - x[1])) console.log(`  ${kib(b)}  ${f}`);
  console.log('  top allocation sites (KiB per pair, share):');
  for (const [s, b] of [...bySite].sort((x, y) => y[1] - x[1]).slice(0, HEAP_TOP)) {
    console.log(`  ${kib(b)} ${((100 * b) / total).toFixed(1).padStart(5)} %  ${s}`);
  }
}

function quantiles(xs: number[]): string {
  const s = [...xs].sort((x, y) => x - y);
  return `first ${s[0]!.toFixed(0)}, median ${s[s.length >> 1]!.toFixed(0)}, last ${s[s.length - 1]!.toFixed(0)} ms`;
}

// Warm-up: loads the addon, makes the process certificate, compiles the setup path.
for (const [a, b] of [await pair(), ...(WARMUP_PAIRS > 0 ? await Promise.all(Array.from({ length: WARMUP_PAIRS }, pair)) : [])]) {
  a.close();
  b.close();
}
if (WARMUP_PAIRS > 0) await new Promise((r) => setTimeout(r, 500)); // closed sockets go, timers settle
milestones.length = 0;
negotiatedPairs = 0;
let profileStart = 0;
const inspector = PROFILE || HEAP_PROFILE ? new Session() : undefined;
if (inspector) inspector.connect();
if (inspector && PROFILE) {
  await inspector.post('Profiler.enable');
  await inspector.post('Profiler.setSamplingInterval', { interval: 250 });
  await inspector.post('Profiler.start');
  profileStart = performance.now();
}
if (inspector && HEAP_PROFILE) {
  await inspector.post('HeapProfiler.enable');
  await inspector.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
}
const loopDelay = monitorEventLoopDelay({ resolution: 20 });
loopDelay.enable();
const busy = BUSY_MS > 0
  ? setInterval(() => {
      const end = performance.now() + BUSY_MS;
      while (performance.now() < end);
    }, 1)
  : undefined;
/** Where the adaptive DTLS handshakes ran before the burst (docs/dtls.md "Handshake thread"). */
const paths0 = DtlsTransport.handshakePaths();
const cpu0 = process.cpuUsage();
const js0 = jsThreadCpuMs();
const threads0 = threadCpu();
const pools0 = keyPools();
t0 = performance.now();
const settled = await Promise.allSettled(Array.from({ length: PAIRS }, pair));
const wallMs = performance.now() - t0;
loopDelay.disable();
clearInterval(busy);
const cpu = process.cpuUsage(cpu0);
const js1 = jsThreadCpuMs();
const threads1 = threadCpu();
const pools1 = keyPools();
if (inspector && PROFILE) {
  const { profile } = await inspector.post('Profiler.stop');
  writeFileSync(PROFILE, JSON.stringify(profile));
  printSelfTimes(profile, settled.length);
  if (PHASES) {
    const last = (name: string): number => Math.max(0, ...milestones.filter((m) => m[0] === name).map((m) => m[1]));
    printPhases(profile, t0 - profileStart, last('negotiated'), last('ICE connected'), wallMs);
  }
}
if (inspector && HEAP_PROFILE) {
  const { profile } = await inspector.post('HeapProfiler.stopSampling');
  writeFileSync(HEAP_PROFILE, JSON.stringify(profile));
  printAllocations(profile, settled.length);
}
inspector?.disconnect();
const pairs = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
const cpuMs = (cpu.user + cpu.system) / 1000;

console.log(`${PAIRS} pairs at once (${SHARED ? 'answerers on one UdpMux port' : 'own sockets'}${BUSY_MS ? `, event loop kept busy ${BUSY_MS} ms per turn` : ''}): ${pairs.length} connected in ${wallMs.toFixed(0)} ms, ${((pairs.length / wallMs) * 1000).toFixed(1)} pairs/s; process CPU ${cpuMs.toFixed(0)} ms, ${(cpuMs / Math.max(1, pairs.length)).toFixed(2)} ms per pair`);
const threadEnv = process.env.PWT_DTLS_HANDSHAKE_THREAD;
const handshakes = threadEnv === '0' ? 'in-thread' : threadEnv === '1' ? 'on the handshake thread' : 'adaptive';
const paths1 = DtlsTransport.handshakePaths();
console.log(`  DTLS handshakes of the burst by path: in-thread ${paths1.inThread - paths0.inThread} (adaptive choice), on the handshake threads ${paths1.onThreads - paths0.onThreads} (adaptive choice)${threadEnv === '0' || threadEnv === '1' ? `, the rest forced by PWT_DTLS_HANDSHAKE_THREAD=${threadEnv}` : ''}`);
if (js0 !== undefined && js1 !== undefined) {
  const jsMs = js1 - js0;
  console.log(`  JS thread CPU ${jsMs.toFixed(0)} ms, ${(jsMs / Math.max(1, pairs.length)).toFixed(2)} ms per pair (DTLS handshakes ${handshakes})`);
  if (negotiatedJsMs !== undefined) console.log(`  JS thread CPU until the last pair negotiated (phase A) ${(negotiatedJsMs - js0).toFixed(0)} ms, ${((negotiatedJsMs - js0) / PAIRS).toFixed(2)} ms per pair`);
} else {
  console.log(`  JS thread CPU: not measurable here (DTLS handshakes ${handshakes})`);
}
printThreadClasses(threads0, threads1, pairs.length, pools0, pools1);
console.log(`  event-loop delay during the burst: p50 ${(loopDelay.percentile(50) / 1e6).toFixed(0)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms, max ${(loopDelay.max / 1e6).toFixed(0)} ms`);
for (const name of ['negotiated', 'ICE connected', 'connected']) {
  const xs = milestones.filter((m) => m[0] === name).map((m) => m[1]);
  if (xs.length) console.log(`  ${name.padEnd(13)} ${String(xs.length).padStart(5)} ${name === 'negotiated' ? 'pairs' : 'PCs  '}  ${quantiles(xs)}`);
}
let dtlsRetransmits = 0;
let iceRetransmits = 0;
const drops: Record<string, number> = {};
const count = (key: string, n: number): void => {
  if (n) drops[key] = (drops[key] ?? 0) + n;
};
for (const [a, b] of pairs) {
  for (const pc of [a, b]) {
    const t = pc.mediaTransport;
    if (!t) continue;
    const side = pc === a ? 'offerer' : 'answerer';
    const dtls = t.dtls?.stats();
    if (dtls) {
      dtlsRetransmits += dtls.retransmitTimeouts;
      for (const [k, v] of Object.entries(dtls)) if (k.startsWith('dropped')) count(`${side} dtls ${k}`, v);
    }
    iceRetransmits += t.ice.stats.retransmissions;
    for (const [k, v] of Object.entries(t.iceDropStats())) count(`${side} ice ${k}`, v);
  }
}
console.log(`  retransmissions: DTLS flights ${dtlsRetransmits}, ICE checks ${iceRetransmits}`);
console.log(`  drops: ${Object.entries(drops).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
if (pairs.length < PAIRS) console.log(`  ${PAIRS - pairs.length} pairs did not connect`);
for (const [why, n] of [...failures].sort((x, y) => y[1] - x[1])) console.log(`    ${String(n).padStart(5)}  ${why}`);
if (mux) {
  const socket = mux.nativeSocket;
  const reads = socket?.stats;
  console.log(`  mux: ${JSON.stringify(mux.stats)}`);
  console.log(`  mux socket: receive buffer ${JSON.stringify(socket?.receiveBuffer)}, kernel receive-buffer drops ${kernelDrops(mux.local.port) ?? 'unknown'}${reads ? `, ${reads.packetsReceived} datagrams in ${reads.batches} batches, ${reads.recvSyscalls} receive calls` : ''}`);
}
for (const [a, b] of pairs) {
  a.close();
  b.close();
}
mux?.close();
