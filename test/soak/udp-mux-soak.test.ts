// Short form of the shared-port soak (udp-mux-soak.ts): 1,500 cycles through one UdpMux after a
// 1,500-cycle warm-up (the allocator and V8's heap need about that long to reach their steady
// size; a leak of one socket per cycle showed as +9 % in 400). The long form is `npm run soak`.
import { test } from 'node:test';
import { assertNothingAccumulated, runSoak } from './udp-mux-soak.js';

test('1,500 create → connect (audio + data channel) → close cycles through one UdpMux: nothing accumulates', { timeout: 240_000 }, async () => {
  const r = await runSoak({ cycles: 3000, warmup: 1500, concurrency: 20 });
  console.log(`soak: ${r.cycles} cycles, RSS ${(r.baseline.rss / 2 ** 20).toFixed(1)} → ${(r.final.rss / 2 ** 20).toFixed(1)} MiB (${(r.rssGrowth * 100).toFixed(2)} %), heap ${(r.baseline.heapUsed / 2 ** 20).toFixed(1)} → ${(r.final.heapUsed / 2 ** 20).toFixed(1)} MiB, fds ${r.baseline.fds} → ${r.final.fds}, handles ${JSON.stringify(r.final.handles)}`);
  // RSS within 25 % here (see assertNothingAccumulated); `npm run soak` holds it to 5 %.
  assertNothingAccumulated(r, 0.25);
});
