// Regression budget for what an idle connected ICE agent allocates (RFC 7675 consent checks and
// their answers, the timers around them): two agents exchange datagrams directly on a virtual
// clock, and what they allocate in V8's young generation over many consent periods is counted
// (new space used before and after, in a window without any garbage collection, checked with V8's
// GC profiler): bytes, not time, so the load of the machine does not matter. Only the young
// generation: code the JIT compiles meanwhile goes to code space, at times that depend on the load.
// docs/architecture.md, "idle allocation".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GCProfiler, getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { cryptoRng } from '../../../lib/common/rng.js';
import { IceAgent } from '../../../lib/ice/ice-agent.js';
import type { TransportAddress } from '../../../lib/ice/transport-address.js';

/**
 * Bytes of JS heap per consent check (the check encoded and sent by one agent, decoded and
 * answered by the other, the answer decoded, the timeouts around them, the harness's input
 * objects), once the JIT has optimized the path: about 10,200 before the consent path was made
 * allocation-light, 2,300-2,500 after (interpreted: 16,300 before, 9,300 after). The budget sits
 * between, with room for other V8 versions and object layouts.
 */
const BUDGET_PER_CHECK = 5000;
/** Consent periods counted: about 200 checks, well inside an empty young generation. */
const PERIODS = 100;

function connectedPair(): { a: IceAgent; b: IceAgent; exchange: (now: number) => void } {
  const a = new IceAgent({ rng: cryptoRng, role: 'controlling' });
  const b = new IceAgent({ rng: cryptoRng, role: 'controlled' });
  const aAddr: TransportAddress = { address: '192.0.2.1', port: 5000 };
  const bAddr: TransportAddress = { address: '192.0.2.2', port: 6000 };
  a.setRemoteCredentials(0, b.localCredentials);
  b.setRemoteCredentials(0, a.localCredentials);
  a.addRemoteCandidate(0, b.addLocalCandidate(0, { type: 'host', ...bAddr }));
  b.addRemoteCandidate(0, a.addLocalCandidate(0, { type: 'host', ...aAddr }));
  a.endOfLocalCandidates(0);
  b.endOfLocalCandidates(0);
  a.addRemoteCandidate(0, null);
  b.addRemoteCandidate(0, null);
  // Datagrams go straight to the other agent (nothing lost), as often as they come.
  const exchange = (now: number): void => {
    for (let moved = true; moved; ) {
      moved = false;
      for (let t = a.pollTransmit(); t; t = a.pollTransmit(), moved = true) b.handleInput(now, { local: t.remote, remote: t.local, data: t.data });
      for (let t = b.pollTransmit(); t; t = b.pollTransmit(), moved = true) a.handleInput(now, { local: t.remote, remote: t.local, data: t.data });
      while (a.pollEvent() || b.pollEvent());
    }
  };
  return { a, b, exchange };
}

/** Bytes in use in V8's young generation (new space). */
function youngUsed(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_used_size;
}

/**
 * Runs both agents' timers from `from` for `ms` of virtual time, stepping to each next deadline
 * (the harness itself allocates nothing per step); returns the new time.
 */
function run(pair: ReturnType<typeof connectedPair>, from: number, ms: number): number {
  const end = from + ms;
  let now = from;
  for (;;) {
    const ta = pair.a.pollTimeout() ?? Infinity;
    const tb = pair.b.pollTimeout() ?? Infinity;
    const next = Math.max(now, Math.min(ta, tb));
    if (next > end) return end;
    now = next;
    if (ta <= now) pair.a.handleTimeout(now);
    if (tb <= now) pair.b.handleTimeout(now);
    pair.exchange(now);
  }
}

test('idle connected agents allocate within a budget per consent check (counted, not timed)', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const pair = connectedPair();
  let now = run(pair, 0, 3000);
  assert.equal(pair.a.state, 'completed');
  assert.equal(pair.b.state, 'completed');
  // Warm-up: every path of the period has run (feedback and inline caches made) before counting.
  now = run(pair, now, 20 * 5000);
  const checksBefore = pair.a.stats.consentChecksSent + pair.b.stats.consentChecksSent;
  const answeredBefore = pair.a.stats.responsesSent + pair.b.stats.responsesSent;
  let perCheck = Infinity;
  let windows = 0;
  // The least of up to eight windows: a window with a collection in it is not counted, and the
  // consent path allocates far more until the JIT has optimized it (about 9,300 bytes a check
  // interpreted), which on a loaded machine can take more than the warm-up.
  for (let attempt = 0; attempt < 8 && !(perCheck < BUDGET_PER_CHECK); attempt++) {
    const checks0 = pair.a.stats.consentChecksSent + pair.b.stats.consentChecksSent;
    gc();
    const profiler = new GCProfiler();
    profiler.start();
    const used0 = youngUsed();
    now = run(pair, now, PERIODS * 5000);
    const used1 = youngUsed();
    const collections = profiler.stop()?.statistics.length ?? 1;
    const checks = pair.a.stats.consentChecksSent + pair.b.stats.consentChecksSent - checks0;
    if (collections === 0) {
      windows++;
      perCheck = Math.min(perCheck, (used1 - used0) / checks);
    }
  }
  assert.ok(windows > 0, 'no window without a garbage collection in eight attempts');
  // The agents kept consent: checks went out and were answered all along.
  assert.equal(pair.a.state, 'completed');
  // Each agent checks every 4-6 s (RFC 7675 §5.1): about one check per 5 s period each.
  assert.ok(pair.a.stats.consentChecksSent + pair.b.stats.consentChecksSent - checksBefore >= 1.5 * PERIODS);
  assert.ok(pair.a.stats.responsesSent + pair.b.stats.responsesSent > answeredBefore);
  assert.ok(perCheck < BUDGET_PER_CHECK, `${perCheck.toFixed(0)} bytes per consent check (budget ${BUDGET_PER_CHECK})`);
  console.log(`idle ICE agents: ${perCheck.toFixed(0)} bytes of young generation per consent check`);
});
