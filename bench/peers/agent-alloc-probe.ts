// Probe: allocation sites of two idle connected ICE agents on a virtual clock (no sockets, no
// timers): V8's sampling heap profiler over many consent periods, bytes per consent check by site.
// `node --import tsx bench/peers/agent-alloc-probe.ts [periods] [sites]`
import { Session } from 'node:inspector/promises';
import { cryptoRng } from '../../lib/common/rng.js';
import { IceAgent } from '../../lib/ice/ice-agent.js';
import { allocationSites, type SampledNode } from './allocation-sites.js';

const periods = Number(process.argv[2] ?? 2000);
const a = new IceAgent({ rng: cryptoRng, role: 'controlling' });
const b = new IceAgent({ rng: cryptoRng, role: 'controlled' });
a.setRemoteCredentials(0, b.localCredentials);
b.setRemoteCredentials(0, a.localCredentials);
a.addRemoteCandidate(0, b.addLocalCandidate(0, { type: 'host', address: '192.0.2.2', port: 6000 }));
b.addRemoteCandidate(0, a.addLocalCandidate(0, { type: 'host', address: '192.0.2.1', port: 5000 }));
const exchange = (now: number): void => {
  for (let moved = true; moved; ) {
    moved = false;
    for (let t = a.pollTransmit(); t; t = a.pollTransmit(), moved = true) b.handleInput(now, { local: t.remote, remote: t.local, data: t.data });
    for (let t = b.pollTransmit(); t; t = b.pollTransmit(), moved = true) a.handleInput(now, { local: t.remote, remote: t.local, data: t.data });
    while (a.pollEvent() || b.pollEvent());
  }
};
let now = 0;
const run = (ms: number): void => {
  const end = now + ms;
  for (;;) {
    const ta = a.pollTimeout() ?? Infinity;
    const tb = b.pollTimeout() ?? Infinity;
    const next = Math.max(now, Math.min(ta, tb));
    if (next > end) {
      now = end;
      return;
    }
    now = next;
    if (ta <= now) a.handleTimeout(now);
    if (tb <= now) b.handleTimeout(now);
    exchange(now);
  }
};
run(100_000);
const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
await session.post('HeapProfiler.startSampling', { samplingInterval: 64, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
const c0 = a.stats.consentChecksSent + b.stats.consentChecksSent;
run(periods * 5000);
const checks = a.stats.consentChecksSent + b.stats.consentChecksSent - c0;
const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: SampledNode } };
const { total, sites } = allocationSites(profile.head, false);
console.log(`${checks} consent checks: sampled ${(total / checks).toFixed(0)} B per check`);
for (const [k, v] of [...sites].sort((x, y) => y[1] - x[1]).slice(0, Number(process.argv[3] ?? 25))) console.log(`${(v / checks).toFixed(1).padStart(8)} B/check  ${k}`);
