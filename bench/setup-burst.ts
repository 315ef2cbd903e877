// `npm run bench:setup-burst [-- --pairs N] [--shared]`: N pairs opened at once in one process (the
// setup suite's many-pairs case, issue 14), with what the suite does not show: when the pairs finished
// negotiating, reached ICE connected and connected (first, median, last), the process CPU per pair,
// and the retransmissions and drops the burst caused (DTLS flights, ICE checks, by reason).
// `--shared` puts every answerer on one UdpMux port. It also prints the CPU of the main (JavaScript)
// thread alone and whether the DTLS handshakes ran on the handshake thread (the default) or, with
// PWT_DTLS_HANDSHAKE_THREAD=0, in-thread (docs/dtls.md "Handshake thread"). docs/peer.md "Setup cost".
import { performance } from 'node:perf_hooks';
import { RTCPeerConnection } from '../lib/peer/index.js';
import '../lib/policy/default-policies.js';
import { UdpMux } from '../lib/transport/source/udp-mux.js';
import { jsThreadCpuMs } from './peers/measure.js';

const args = process.argv.slice(2);
const pairsArg = args.indexOf('--pairs');
const PAIRS = pairsArg >= 0 ? Number(args[pairsArg + 1]) : 1000;
const SHARED = args.includes('--shared');
/** A pair that has not connected by then counts as failed. */
const PAIR_DEADLINE_MS = 120_000;

const mux = SHARED ? await UdpMux.bind({ address: '127.0.0.1', recvBufferSize: 16 * 1024 * 1024, sendBufferSize: 16 * 1024 * 1024 }) : undefined;
/** [milestone, ms since the burst started] of every PC. */
const milestones: [string, number][] = [];
let t0 = 0;

async function pair(): Promise<[RTCPeerConnection, RTCPeerConnection]> {
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const b = mux ? new RTCPeerConnection({ udpMux: mux }) : new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  for (const pc of [a, b]) {
    pc.addEventListener('iceconnectionstatechange', () => {
      if (pc.iceConnectionState === 'connected') milestones.push(['ICE connected', performance.now() - t0]);
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
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.all([a.connected(), b.connected()]),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('pair did not connect')), PAIR_DEADLINE_MS))),
    ]);
  } finally {
    clearTimeout(timer);
  }
  return [a, b];
}

function quantiles(xs: number[]): string {
  const s = [...xs].sort((x, y) => x - y);
  return `first ${s[0]!.toFixed(0)}, median ${s[s.length >> 1]!.toFixed(0)}, last ${s[s.length - 1]!.toFixed(0)} ms`;
}

// Warm-up: loads the addon, makes the process certificate, compiles the setup path.
for (const [a, b] of [await pair()]) {
  a.close();
  b.close();
}
milestones.length = 0;
const cpu0 = process.cpuUsage();
const js0 = jsThreadCpuMs();
t0 = performance.now();
const settled = await Promise.allSettled(Array.from({ length: PAIRS }, pair));
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const js1 = jsThreadCpuMs();
const pairs = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
const cpuMs = (cpu.user + cpu.system) / 1000;

console.log(`${PAIRS} pairs at once (${SHARED ? 'answerers on one UdpMux port' : 'own sockets'}): ${pairs.length} connected in ${wallMs.toFixed(0)} ms, ${((pairs.length / wallMs) * 1000).toFixed(1)} pairs/s; process CPU ${cpuMs.toFixed(0)} ms, ${(cpuMs / Math.max(1, pairs.length)).toFixed(2)} ms per pair`);
const handshakes = process.env.PWT_DTLS_HANDSHAKE_THREAD === '0' ? 'in-thread' : 'on the handshake thread';
if (js0 !== undefined && js1 !== undefined) {
  const jsMs = js1 - js0;
  console.log(`  JS thread CPU ${jsMs.toFixed(0)} ms, ${(jsMs / Math.max(1, pairs.length)).toFixed(2)} ms per pair (DTLS handshakes ${handshakes})`);
} else {
  console.log(`  JS thread CPU: not measurable here (DTLS handshakes ${handshakes})`);
}
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
for (const [a, b] of pairs) {
  a.close();
  b.close();
}
mux?.close();
