// Probe: where an own-socket connection's C heap goes, part by part (glibc mallinfo2 deltas, bytes
// per object, the median of three rounds): the native socket object before and after bind, the
// TypeScript UdpSocket around it, an SRTP route, a consent registration; then whole connected pairs
// with the answerer on its own socket and on one shared UdpMux port (docs/architecture.md "Idle PCs").
// `node --expose-gc --import tsx bench/peers/own-socket-heap-probe.ts [objects] [pairs] [ours|ours-udpmux]`
import { randomBytes } from 'node:crypto';
import { nativeHeapStats } from '../../lib/native/native-heap-stats.js';
import { createNativeUdpSocket, NativeUdpCounter, type NativeUdpSocket } from '../../lib/native/udp.js';
import { UdpSocket } from '../../lib/transport/source/udp-socket.js';
import { SrtpSession } from '../../lib/srtp/srtp-session.js';
import { SrtpProtectionProfile } from '../../lib/srtp/srtp-profile.js';
import { loadAdapter } from './registry.js';

const OBJECTS = Number(process.argv[2] ?? 500);
const PAIRS = Number(process.argv[3] ?? 100);
/** Pairs in a fresh process each give steadier figures: `ours`, `ours-udpmux`, both (default) or `none`. */
const PAIR_LIBS = (process.argv[4] ?? 'ours,ours-udpmux').split(',').filter((l) => l === 'ours' || l === 'ours-udpmux');
const gc = (globalThis as { gc?: () => void }).gc ?? ((): void => {});

function inUse(): number {
  const s = nativeHeapStats();
  if (!s) throw new Error('the allocator gives no totals here (not glibc, or a sanitizer build)');
  return s.inUse;
}

/** Bytes of C heap per object made by `make` (median of three rounds, a full GC before each; nothing freed in between). */
function perObject<T>(count: number, make: (i: number) => T, keep: T[]): number {
  const rounds: number[] = [];
  for (let r = 0; r < 3; r++) {
    gc();
    const before = inUse();
    for (let i = 0; i < count; i++) keep.push(make(i));
    rounds.push((inUse() - before) / count);
  }
  return rounds.sort((a, b) => a - b)[1]!;
}

// One set of pool arrays shared by every native socket made here, as lib/transport shares its own.
const pools = {
  recvBuffer: Buffer.alloc(2048 * 64), slotSize: 2048, recvLengths: new Uint32Array(64), recvAddresses: new Uint8Array(64 * 16),
  recvPorts: new Uint16Array(64), recvFamilies: new Uint8Array(64), recvStatus: new Uint8Array(64), recvRelays: new Uint16Array(64),
  sendBuffer: Buffer.alloc(4096), sendOffsets: new Uint32Array(16), sendLengths: new Uint32Array(16), sendAddresses: new Uint8Array(16 * 28),
  sendRoutes: new Uint16Array(16), counters: new Float64Array(NativeUdpCounter.Count), onBatch: (): void => {},
};
const rows: [string, number][] = [];
const natives: NativeUdpSocket[] = [];
// Warm-up: one of each, so one-time work (the thread's scratch, class templates) is not counted.
createNativeUdpSocket(pools).close();
UdpSocket.bindSync({ type: 'udp4', address: '127.0.0.1' }).close();
rows.push(['native socket object, not bound (the object, its pool arrays held per thread, callback, async context)', perObject(OBJECTS, () => createNativeUdpSocket(pools), natives)]);
const bound: NativeUdpSocket[] = [];
const unbound = natives.splice(0);
let bindNext = 0;
rows.push(['bind() on it (fd, uv_poll_t, env cleanup hook, self-reference)', perObject(OBJECTS, () => {
  const s = unbound[bindNext++]!;
  s.bind(4, '127.0.0.1', 0, false, false, 0, 0, true);
  return s;
}, bound)]);
for (const s of bound) s.close();
for (const s of unbound) s.close();
const sockets: UdpSocket[] = [];
rows.push(['UdpSocket.bindSync (all of the above + counters Float64Array, JS-side state)', perObject(OBJECTS, () => UdpSocket.bindSync({ type: 'udp4', address: '127.0.0.1' }), sockets)]);
const sessions = sockets.map(() => {
  const s = new SrtpSession();
  s.setKeys({ profile: SrtpProtectionProfile.AES128_CM_HMAC_SHA1_80, localMasterKey: randomBytes(16), localMasterSalt: randomBytes(14), remoteMasterKey: randomBytes(16), remoteMasterSalt: randomBytes(14) });
  return s;
});
const routeDestinations = sockets.map((s, i) => s.destination(40000 + (i % 20000), '127.0.0.1'));
const routes: unknown[] = [];
let routed = 0;
rows.push(['addSrtpRoute (session table entry, reference to the session)', perObject(Math.floor(OBJECTS / 3), () => {
  const i = routed++;
  return sockets[i]!.addSrtpRoute(routeDestinations[i]!, sessions[i]!);
}, routes)]);
let consented = 0;
rows.push(['addConsentResponder (native consent answers, as on UdpMux)', perObject(Math.floor(OBJECTS / 3), () => {
  const i = consented++;
  return sockets[i]!.addConsentResponder(routeDestinations[i]!, `local${i}`, `remote${i}`, 'p'.repeat(24), false);
}, routes)]);
for (const s of sockets) s.close();
for (const s of sessions) s.close();

// Whole pairs: the offerer has its own socket in both; the answerer has its own socket or is on the shared port.
async function perPair(lib: 'ours' | 'ours-udpmux'): Promise<number> {
  const adapter = await loadAdapter(lib);
  await (await adapter.connectPairs(1, true)).peers.close();
  await new Promise((r) => setTimeout(r, 500));
  gc();
  const before = inUse();
  const wave = await adapter.connectPairs(PAIRS, true);
  await new Promise((r) => setTimeout(r, 1000));
  gc();
  const per = (inUse() - before) / (PAIRS - wave.failed);
  await wave.peers.close();
  return per;
}
for (const lib of PAIR_LIBS) rows.push([`connected pair (${lib}: the answerer ${lib === 'ours' ? 'on its own socket' : 'on the shared UdpMux port'})`, await perPair(lib)]);
for (const [what, bytes] of rows) console.log(`${bytes.toFixed(0).padStart(8)} B  ${what}`);
process.exit(0);
