// `npm run soak`: the long form of the shared-port soak (udp-mux-soak.ts), 10,000 cycles by default
// (`npm run soak -- <cycles>`); prints progress and exits non-zero when anything accumulated.
import { assertNothingAccumulated, runSoak } from './udp-mux-soak.js';

const cycles = Number(process.argv[2] ?? 10_000);
const started = Date.now();
const r = await runSoak({ cycles, warmup: Math.min(2000, Math.floor(cycles / 5)), concurrency: 20, progress: (l) => console.log(l) });
console.log(`soak: ${r.cycles} cycles in ${((Date.now() - started) / 1000).toFixed(0)} s, RSS ${(r.baseline.rss / 2 ** 20).toFixed(1)} → ${(r.final.rss / 2 ** 20).toFixed(1)} MiB (trend ${(r.rssTrend * 100).toFixed(2)} %, last/first ${(r.rssGrowth * 100).toFixed(2)} %), heap ${(r.baseline.heapUsed / 2 ** 20).toFixed(1)} → ${(r.final.heapUsed / 2 ** 20).toFixed(1)} MiB, fds ${r.baseline.fds} → ${r.final.fds}, handles ${JSON.stringify(r.baseline.handles)} → ${JSON.stringify(r.final.handles)}`);
assertNothingAccumulated(r);
console.log('soak: nothing accumulated');
