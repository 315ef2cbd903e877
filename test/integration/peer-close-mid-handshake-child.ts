// Child process of peer-close-mid-handshake.test.ts: 200 RTCPeerConnections (100 pairs, 10 at a
// time) closed at seeded random points of their DTLS handshakes (which run on the handshake
// thread by default, docs/dtls.md "Handshake thread"); prints handle, JS heap and C heap figures
// as one JSON line and returns WITHOUT process.exit: the parent checks the process exits by itself.
import { RTCPeerConnection } from '../../lib/peer/index.js';
import { nativeHeapStats } from '../../lib/native/native-heap-stats.js';

const pairs = Number(process.argv[2] ?? '100');
const concurrency = 10;
let seed = 0x5eed2026;
// Deterministic draws (a 32-bit LCG): the same close points on every run.
function draw(bound: number): number {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed % bound;
}

function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

const immediate = (): Promise<void> => new Promise((r) => setImmediate(r));
const outcomes = { beforeIceConnected: 0, duringDtls: 0, afterConnected: 0 };

async function onePair(): Promise<void> {
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  pc1.createDataChannel('d');
  // Points in event-loop turns after the answer is applied (ICE, then DTLS, take a few turns);
  // the second PC closes at its own point, later.
  const first = draw(160);
  const second = first + draw(16);
  const order = draw(2) === 0 ? [pc1, pc2] : [pc2, pc1];
  await pc1.setLocalDescription();
  await pc2.setRemoteDescription(pc1.localDescription!);
  await pc2.setLocalDescription();
  await pc1.setRemoteDescription(pc2.localDescription!);
  for (let turn = 0; turn <= second; turn++) {
    if (turn === first) {
      const pc = order[0]!;
      if (pc.connectionState === 'connected') outcomes.afterConnected++;
      else if (pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed') outcomes.duringDtls++;
      else outcomes.beforeIceConnected++;
      order[0]!.close();
    }
    if (turn === second) order[1]!.close();
    await immediate();
  }
}

const gc = (globalThis as { gc?: () => void }).gc;
async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 50));
  gc?.();
  await new Promise((r) => setTimeout(r, 10));
  gc?.();
}

for (let i = 0; i < concurrency; i++) await onePair();
await settle();
for (const k of Object.keys(outcomes)) outcomes[k as keyof typeof outcomes] = 0;
const before = { resources: resources(), heap: process.memoryUsage().heapUsed, native: nativeHeapStats()?.inUse ?? 0 };
for (let i = 0; i < pairs; i += concurrency) {
  await Promise.all(Array.from({ length: Math.min(concurrency, pairs - i) }, () => onePair()));
}
await settle();
const after = { resources: resources(), heap: process.memoryUsage().heapUsed, native: nativeHeapStats()?.inUse ?? 0 };
console.log(JSON.stringify({ before, after, outcomes }));
