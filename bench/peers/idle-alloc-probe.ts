// Probe: bytes the JS heap allocates per idle connected PC per second, and the top allocation sites
// (V8's sampling heap profiler over a quiet window, objects collected by minor/major GC included).
import { Session } from 'node:inspector/promises';
import { getHeapStatistics } from 'node:v8';
import { loadAdapter } from './registry.js';

const pairs = Number(process.argv[2] ?? 100);
const seconds = Number(process.argv[3] ?? 10);
const adapter = await loadAdapter('ours');
const wave = await adapter.connectPairs(pairs, true);
const pcs = 2 * (pairs - wave.failed);
await new Promise((r) => setTimeout(r, 3000));
const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
await session.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
const y0 = getHeapStatistics();
await new Promise((r) => setTimeout(r, seconds * 1000));
const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: Node } };
interface Node { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: Node[] }
let total = 0;
const sites = new Map<string, number>();
const walk = (n: Node, stack: string[]): void => {
  const f = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/.*\/lib\//, 'lib/')}:${n.callFrame.lineNumber + 1}`;
  const s = [...stack, f];
  if (n.selfSize) {
    total += n.selfSize;
    const key = s.slice(-3).reverse().join(' < ');
    sites.set(key, (sites.get(key) ?? 0) + n.selfSize);
  }
  for (const c of n.children) walk(c, s);
};
walk(profile.head, []);
const y1 = getHeapStatistics();
console.log(`${pcs} PCs idle ${seconds} s: sampled allocation ${(total / pcs / seconds).toFixed(0)} B per PC per s (${(total / seconds / 1048576).toFixed(2)} MiB/s); heap used ${(y0.used_heap_size / 1048576).toFixed(1)} -> ${(y1.used_heap_size / 1048576).toFixed(1)} MiB`);
for (const [k, v] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, Number(process.argv[4] ?? 25))) console.log(`${(v / pcs / seconds).toFixed(1).padStart(8)} B/PC/s  ${k}`);
await wave.peers.close();
process.exit(0);
