// Short form of the shared-port soak (udp-mux-soak.ts): 1,500 measured cycles through one UdpMux
// after a 3,000-cycle warm-up, memory snapshots every 250 cycles (after GC and the finalizers of
// the closed connections' native objects, and a C-heap trim); RSS along its trend within 5 %,
// memory held in Buffers and the C heap in use within 512 KiB each (see assertNothingAccumulated).
// The long form, `npm run soak`, runs 10,000 cycles.
import { test } from 'node:test';
import { assertNothingAccumulated, runSoak } from './udp-mux-soak.js';

test('1,500 create → connect (audio + data channel) → close cycles through one UdpMux: nothing accumulates', { timeout: 290_000 }, async () => {
  const r = await runSoak({ cycles: 4500, warmup: 3000, concurrency: 20, sampleEvery: 250 });
  const mib = (v: number): string => (v / 2 ** 20).toFixed(1);
  console.log(`soak: ${r.cycles} cycles, RSS by cycle ${r.samples.map((x) => `${x.cycle}: ${mib(x.rss)}`).join(', ')} MiB (trend ${(r.rssTrend * 100).toFixed(2)} %, last/first ${(r.rssGrowth * 100).toFixed(2)} %), Buffers ${mib(r.baseline.external)} → ${mib(r.final.external)} MiB (trend ${(r.externalTrend / 1024).toFixed(0)} KiB), C heap in use ${r.samples.map((x) => x.nativeInUse === undefined ? '?' : mib(x.nativeInUse)).join(', ')} MiB (trend ${r.nativeInUseTrend === undefined ? '?' : (r.nativeInUseTrend / 1024).toFixed(0)} KiB), heap ${mib(r.baseline.heapUsed)} → ${mib(r.final.heapUsed)} MiB, fds ${r.baseline.fds} → ${r.final.fds}, handles ${JSON.stringify(r.final.handles)}`);
  assertNothingAccumulated(r);
});
