// `npm run bench:setup-timeline [-- --pairs N] [--shared] [--no-dc]`: where one pair's createOffer →
// connected time goes. Both PCs on loopback, one audio m-line and a data channel; every datagram
// (STUN check / nomination, DTLS record by handshake type, SCTP chunk) is stamped when it is queued,
// when its socket flushes it and when the peer's driver reads it, with the API and state events
// between. Prints the median pair's timeline and each milestone's median over N pairs (issue 14).
import { performance } from 'node:perf_hooks';
import { RTCPeerConnection, type RTCDataChannel } from '../lib/peer/index.js';
import '../lib/policy/default-policies.js';
import { UdpSocket } from '../lib/transport/source/udp-socket.js';
import { UdpMux } from '../lib/transport/source/udp-mux.js';
import { IceTransport } from '../lib/transport/ice-transport.js';
import { DtlsTransport } from '../lib/dtls/dtls-transport.js';
import { SctpAssociation } from '../lib/sctp/association.js';

const args = process.argv.slice(2);
const pairsArg = args.indexOf('--pairs');
const PAIRS = pairsArg >= 0 ? Number(args[pairsArg + 1]) : 20;
const SHARED = args.includes('--shared');
const DATA_CHANNEL = !args.includes('--no-dc');

interface Stamp {
  at: number;
  side: string;
  what: string;
}
let stamps: Stamp[] = [];
let t0 = 0;
let pcs: { a: RTCPeerConnection; b: RTCPeerConnection } | undefined;

function stamp(side: string, what: string): void {
  stamps.push({ at: performance.now() - t0, side, what });
}

/** Which PC (A offerer, B answerer) an ICE/DTLS/SCTP object or local port belongs to. */
function sideOf(x: unknown): string {
  if (!pcs) return '?';
  for (const [name, pc] of [['A', pcs.a], ['B', pcs.b]] as const) {
    const t = pc.mediaTransport;
    if (!t) continue;
    if (t.dtls === x || t.sctp?.association === x) return name;
    if (typeof x === 'number' && t.localSockets.some((s) => s.base.port === x)) return name;
    if (x instanceof IceTransport && (t as unknown as { driver: unknown }).driver === x) return name;
  }
  return SHARED && typeof x === 'number' ? 'B' : '?';
}

const HANDSHAKE: Record<number, string> = {
  1: 'ClientHello', 2: 'ServerHello', 3: 'HelloVerifyRequest', 11: 'Certificate', 12: 'ServerKeyExchange',
  13: 'CertificateRequest', 14: 'ServerHelloDone', 15: 'CertificateVerify', 16: 'ClientKeyExchange',
};
const SCTP_CHUNK: Record<number, string> = { 0: 'DATA', 1: 'INIT', 2: 'INIT-ACK', 3: 'SACK', 10: 'COOKIE-ECHO', 11: 'COOKIE-ACK' };

/** A datagram's name: STUN method and USE-CANDIDATE, DTLS records by content and handshake type. */
function describe(d: Uint8Array): string {
  const b = d[0] ?? 255;
  const view = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  if (b < 4 && d.length >= 20) {
    const type = view.readUInt16BE(0);
    let nominate = false;
    for (let at = 20; at + 4 <= d.length; ) {
      const t = view.readUInt16BE(at);
      const len = view.readUInt16BE(at + 2);
      if (t === 0x0025) nominate = true;
      at += 4 + ((len + 3) & ~3);
    }
    const kind = type === 0x0001 ? 'check' : type === 0x0101 ? 'check-ok' : type === 0x0011 ? 'indication' : `stun-0x${type.toString(16)}`;
    return `STUN ${kind}${nominate ? ' +USE-CANDIDATE' : ''}`;
  }
  if (b >= 20 && b <= 63) {
    const parts: string[] = [];
    for (let at = 0; at + 13 <= d.length; ) {
      const content = view[at]!;
      const epoch = view.readUInt16BE(at + 3);
      const len = view.readUInt16BE(at + 11);
      if (content === 22) parts.push(epoch === 0 ? HANDSHAKE[view[at + 13]!] ?? `hs${view[at + 13]}` : 'Finished');
      else if (content === 20) parts.push('ChangeCipherSpec');
      else if (content === 23) parts.push('AppData');
      else if (content === 21) parts.push('Alert');
      at += 13 + len;
    }
    return `DTLS ${parts.join('+')}`;
  }
  if (b >= 128 && b <= 191) return 'RTP/RTCP';
  return `byte ${b}`;
}

function sctpChunks(p: Uint8Array): string {
  const names: string[] = [];
  for (let at = 12; at + 4 <= p.length; ) {
    const type = p[at]!;
    const len = (p[at + 2]! << 8) | p[at + 3]!;
    let name = SCTP_CHUNK[type] ?? `chunk${type}`;
    if (type === 0 && at + 16 < p.length) {
      const ppid = (p[at + 12]! << 24) | (p[at + 13]! << 16) | (p[at + 14]! << 8) | p[at + 15]!;
      if (ppid === 50) name = p[at + 16] === 3 ? 'DATA(DCEP OPEN)' : p[at + 16] === 2 ? 'DATA(DCEP ACK)' : 'DATA(DCEP)';
    }
    names.push(name);
    if (len < 4) break;
    at += (len + 3) & ~3;
  }
  return names.join('+');
}

// ---- hooks (prototype wrappers; the library is unchanged) ----------------------------------
const proto = <T>(c: { prototype: T }): Record<string, (...a: unknown[]) => unknown> => c.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
function wrap(target: Record<string, (...a: unknown[]) => unknown>, name: string, before: (self: unknown, args: unknown[]) => void, after?: (self: unknown, result: unknown) => void): void {
  const original = target[name]!;
  target[name] = function (this: unknown, ...a: unknown[]) {
    if (pcs) before(this, a);
    const r = original.apply(this, a);
    if (pcs && after) after(this, r);
    return r;
  };
}

const queued = new WeakMap<UdpSocket, string[]>();
const portOf = (s: UdpSocket): number => s.address().port;
wrap(proto(UdpSocket), 'sendTo', (self, a) => {
  const s = self as UdpSocket;
  const what = describe(a[0] as Uint8Array);
  stamp(sideOf(portOf(s)), `queue ${what}`);
  const list = queued.get(s) ?? [];
  list.push(what);
  queued.set(s, list);
});
wrap(proto(UdpSocket), 'flush', (self) => {
  const s = self as UdpSocket;
  const list = queued.get(s);
  if (!list || list.length === 0) return;
  stamp(sideOf(portOf(s)), `SEND ${list.join(', ')}`);
  queued.set(s, []);
});
wrap(proto(IceTransport), 'onSocketBatch', (self, a) => {
  const batch = a[1] as { count: number; data(i: number): Buffer };
  for (let i = 0; i < batch.count; i++) stamp(sideOf(self), `RECV ${describe(batch.data(i))}`);
});
wrap(proto(IceTransport), 'receiveFromMux', (self, a) => stamp(sideOf(self), `RECV ${describe(a[0] as Buffer)}`));
wrap(proto(DtlsTransport), 'start', (self) => stamp(sideOf(self), `DTLS start (${(self as DtlsTransport).role})`));
wrap(proto(DtlsTransport), 'keySrtp', (self) => stamp(sideOf(self), 'SRTP keyed'));
wrap(proto(SctpAssociation), 'handleInput', (self, a) => stamp(sideOf(self), `SCTP in ${sctpChunks(a[1] as Uint8Array)}`));
wrap(proto(SctpAssociation), 'pollTransmit', () => undefined, (self, r) => {
  if (r) stamp(sideOf(self), `SCTP out ${sctpChunks(r as Uint8Array)}`);
});

// ---- one pair ---------------------------------------------------------------------------
let mux: UdpMux | undefined;

async function onePair(): Promise<Stamp[]> {
  stamps = [];
  t0 = performance.now();
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const b = SHARED ? new RTCPeerConnection({ udpMux: mux! }) : new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  pcs = { a, b };
  for (const [side, pc] of [['A', a], ['B', b]] as const) {
    pc.addEventListener('icecandidate', (e) => stamp(side, e.candidate ? `candidate ${e.candidate.candidate.split(' ').slice(4, 8).join(' ')}` : 'end-of-candidates'));
    pc.addEventListener('iceconnectionstatechange', () => stamp(side, `ice ${pc.iceConnectionState}`));
    pc.addEventListener('connectionstatechange', () => stamp(side, `connection ${pc.connectionState}`));
    pc.addEventListener('datachannel', (e) => stamp(side, `datachannel '${e.channel.label}' announced`));
  }
  a.addTransceiver('audio');
  let dc: RTCDataChannel | undefined;
  if (DATA_CHANNEL) dc = a.createDataChannel('t');
  const dcOpen = dc ? new Promise<void>((r) => dc!.on('open', () => (stamp('A', 'datachannel open'), r()))) : Promise.resolve();
  stamp('A', 'createOffer');
  const offer = await a.createOffer();
  stamp('A', 'setLocalDescription(offer)');
  await a.setLocalDescription(offer);
  stamp('B', 'setRemoteDescription(offer)');
  await b.setRemoteDescription(a.localDescription!);
  stamp('B', 'createAnswer');
  const answer = await b.createAnswer();
  stamp('B', 'setLocalDescription(answer)');
  await b.setLocalDescription(answer);
  stamp('A', 'setRemoteDescription(answer)');
  await a.setRemoteDescription(b.localDescription!);
  stamp('A', 'negotiated');
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.all([a.connected(), b.connected(), dcOpen]),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('pair did not connect in 10 s')), 10_000))),
    ]);
  } finally {
    // Not left pending: each pair's timer held the process open for 10 s after the last pair.
    clearTimeout(timer);
  }
  const out = stamps;
  pcs = undefined;
  a.close();
  b.close();
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

if (SHARED) mux = await UdpMux.bind({ address: '127.0.0.1' });
await onePair(); // warm-up: loads the addon, generates the process certificate, compiles
const runs: Stamp[][] = [];
for (let i = 0; i < PAIRS; i++) {
  runs.push(await onePair());
  await new Promise((r) => setTimeout(r, 20));
}
const connectedAt = (run: Stamp[]): number => Math.max(...run.filter((s) => s.what === 'connection connected').map((s) => s.at));
const sorted = [...runs].sort((x, y) => connectedAt(x) - connectedAt(y));
const mid = sorted[Math.floor(sorted.length / 2)]!;
console.log(`one pair on loopback (${SHARED ? 'B on a shared UdpMux port' : 'own sockets'}, audio${DATA_CHANNEL ? ' + data channel' : ''}), the median of ${PAIRS} pairs:`);
for (const s of mid) console.log(`${s.at.toFixed(2).padStart(8)} ms  ${s.side}  ${s.what}`);
// Each milestone's median over all pairs (first occurrence per side). A flush that sent several
// datagrams counts for each of them ("SEND STUN check-ok, DTLS ClientHello": "SEND STUN check-ok" and
// "SEND DTLS ClientHello"): which datagrams share a flush varies from pair to pair with the schedule.
const firsts = new Map<string, number[]>();
for (const run of runs) {
  const seen = new Set<string>();
  for (const s of run) {
    const sent = /^SEND (.*)$/.exec(s.what);
    for (const what of sent ? sent[1]!.split(', ').map((d) => `SEND ${d}`) : [s.what]) {
      const key = `${s.side}  ${what}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const list = firsts.get(key) ?? [];
      list.push(s.at);
      firsts.set(key, list);
    }
  }
}
console.log(`\nmilestones, median over ${PAIRS} pairs (first occurrence; ms since createOffer):`);
const rows = [...firsts.entries()].filter(([, v]) => v.length >= PAIRS / 2).map(([k, v]) => ({ k, m: median(v) })).sort((x, y) => x.m - y.m);
for (const r of rows) console.log(`${r.m.toFixed(2).padStart(8)} ms  ${r.k}`);
console.log(`\ncreateOffer → both connected: median ${median(runs.map(connectedAt)).toFixed(2)} ms`);
mux?.close();
