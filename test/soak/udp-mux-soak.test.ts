// Short form of the shared-port soak (udp-mux-soak.ts): 1,500 cycles through one UdpMux after a
// 3,000-cycle warm-up (a leak of one socket per cycle showed as +9 % RSS in 400 cycles). glibc's
// arenas and V8's heap keep growing for about 4,000 cycles before RSS levels off (a 7,500-cycle
// probe: 230 → 250 → 265 → 262 → 261 MiB per 1,000, 219 MiB after the final GC), so this short form
// allows RSS 10 % and the JS heap after GC 5 %; the long form, `npm run soak` (10,000 cycles), holds
// RSS to 5 %.
import { test } from 'node:test';
import { assertNothingAccumulated, runSoak } from './udp-mux-soak.js';

test('1,500 create → connect (audio + data channel) → close cycles through one UdpMux: nothing accumulates', { timeout: 240_000 }, async () => {
  const r = await runSoak({ cycles: 4500, warmup: 3000, concurrency: 20 });
  console.log(`soak: ${r.cycles} cycles, RSS ${(r.baseline.rss / 2 ** 20).toFixed(1)} → ${(r.final.rss / 2 ** 20).toFixed(1)} MiB (${(r.rssGrowth * 100).toFixed(2)} %), heap ${(r.baseline.heapUsed / 2 ** 20).toFixed(1)} → ${(r.final.heapUsed / 2 ** 20).toFixed(1)} MiB, fds ${r.baseline.fds} → ${r.final.fds}, handles ${JSON.stringify(r.final.handles)}`);
  assertNothingAccumulated(r, 0.1);
});
