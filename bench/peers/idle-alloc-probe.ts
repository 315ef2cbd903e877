// Probe: bytes the JS heap allocates per idle connected PC per second, and the top allocation sites
// (V8's sampling heap profiler over a quiet window, objects collected by minor/major GC included);
// then RSS per PC and V8's young generation (new space) over a further idle watch.
// `node --expose-gc --import tsx bench/peers/idle-alloc-probe.ts [pairs] [window s] [sites] [watch s]`
import { Session } from 'node:inspector/promises';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { loadAdapter } from './registry.js';
import { allocationSites, type SampledNode } from './allocation-sites.js';

const pairs = Number(process.argv[2] ?? 100);
const seconds = Number(process.argv[3] ?? 10);
const watch = Number(process.argv[5] ?? 0);
const gc = (globalThis as { gc?: () => void }).gc ?? ((): void => {});
const adapter = await loadAdapter('ours');
await (await adapter.connectPairs(1, true)).peers.close();
await new Promise((r) => setTimeout(r, 500));
gc();
const rss0 = process.memoryUsage().rss;
const wave = await adapter.connectPairs(pairs, true);
const pcs = 2 * (pairs - wave.failed);
await new Promise((r) => setTimeout(r, 3000));
const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
await session.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
const y0 = getHeapStatistics();
await new Promise((r) => setTimeout(r, seconds * 1000));
const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: SampledNode } };
const { total, sites } = allocationSites(profile.head, true);
const y1 = getHeapStatistics();
console.log(`${pcs} PCs idle ${seconds} s: sampled allocation ${(total / pcs / seconds).toFixed(0)} B per PC per s (${(total / seconds / 1048576).toFixed(2)} MiB/s); heap used ${(y0.used_heap_size / 1048576).toFixed(1)} -> ${(y1.used_heap_size / 1048576).toFixed(1)} MiB`);
for (const [k, v] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, Number(process.argv[4] ?? 25))) console.log(`${(v / pcs / seconds).toFixed(1).padStart(8)} B/PC/s  ${k}`);
const newSpace = (): string => {
  const n = getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
  return n ? (n.space_size / 1048576).toFixed(1) : '?';
};
const seen: string[] = [`0s ${newSpace()}`];
for (let t = 0; t < watch; t += 5) {
  await new Promise((r) => setTimeout(r, 5000));
  seen.push(`${t + 5}s ${newSpace()}`);
}
if (watch) console.log(`new space (MiB) over ${watch} s idle (no forced GC): ${seen.join(', ')}`);
gc();
console.log(`RSS per PC ${((process.memoryUsage().rss - rss0) / pcs / 1024).toFixed(1)} KiB (after a full GC)`);
await wave.peers.close();
process.exit(0);
