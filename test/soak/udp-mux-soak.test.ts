// Short form of the shared-port soak (udp-mux-soak.ts): 1,500 cycles through one UdpMux after a
// 1,500-cycle warm-up (the allocator and V8's heap need about that long to reach their steady
// size; a leak of one socket per cycle showed as +9 % in 400). The long form is `npm run soak`
// (10,000 cycles, RSS within 5 %); over this short run the allocator's RSS moved up to 6 % on a loaded
// machine without any JS heap growth, so here RSS may grow 10 % and the JS heap after GC 5 %.
import { test } from 'node:test';
import { assertNothingAccumulated, runSoak } from './udp-mux-soak.js';

test('1,500 create → connect (audio + data channel) → close cycles through one UdpMux: nothing accumulates', { timeout: 240_000 }, async () => {
  const r = await runSoak({ cycles: 3000, warmup: 1500, concurrency: 20 });
  console.log(`soak: ${r.cycles} cycles, RSS ${(r.baseline.rss / 2 ** 20).toFixed(1)} → ${(r.final.rss / 2 ** 20).toFixed(1)} MiB (${(r.rssGrowth * 100).toFixed(2)} %), heap ${(r.baseline.heapUsed / 2 ** 20).toFixed(1)} → ${(r.final.heapUsed / 2 ** 20).toFixed(1)} MiB, fds ${r.baseline.fds} → ${r.final.fds}, handles ${JSON.stringify(r.final.handles)}`);
  assertNothingAccumulated(r, 0.1);
});
