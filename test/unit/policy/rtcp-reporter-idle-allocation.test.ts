// Regression budget for what the RTCP reporter (RFC 3550 §6.3 report timer) allocates on an idle
// connection, where it runs every few seconds per transceiver and has nothing to report: bytes of
// V8's young generation per timeout in a window without any garbage collection (checked with V8's
// GC profiler), counted, not timed. docs/architecture.md, "Idle allocation".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GCProfiler, getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { cryptoRng } from '../../../lib/common/rng.js';
import type { RtpPolicyOutput } from '../../../lib/peer/rtp-policy.js';
import { RtcpReporter } from '../../../lib/policy/rtcp-reporter.js';

/**
 * Bytes per idle report timeout once the JIT has optimized it (the production random source):
 * 72-81 while every timeout walked the send and source tables and made empty report and block
 * arrays, 50-67 since it stops on two flags first (the interval's own numbers remain). The two
 * ranges sit too close for a budget between them to hold on every machine, so the budget bounds
 * the idle tick against larger regressions (the tick that built the NTP timestamp and the report
 * before finding nothing to send made several hundred bytes).
 */
const BUDGET_PER_TIMEOUT = 100;
const TIMEOUTS = 2000;
const ATTEMPTS = 40;

function youngUsed(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_used_size;
}

test('an idle RTCP reporter sends nothing and allocates within a budget per timeout (counted, not timed)', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const reporter = new RtcpReporter('audio', { rng: cryptoRng, wallClockOffsetMs: 1_700_000_000_000 });
  reporter.configure(0, {
    kind: 'audio', cname: 'idle', localSsrc: 1111, sendStreams: [{ ssrc: 1111, rtxSsrc: undefined, rid: undefined, kind: 'audio' }],
    sendCodec: { payloadType: 111, clockRate: 48000, rtxPayloadType: undefined }, receiveClockRates: new Map([[111, 48000]]),
    rtcpFeedback: new Set(), headerExtensions: new Map(), reducedSizeRtcp: true, receiverRtt: false,
  });
  let sent = 0;
  const out: RtpPolicyOutput = { sendRtcp: () => void sent++ } as unknown as RtpPolicyOutput;
  const step = (n: number): void => {
    for (let i = 0; i < n; i++) reporter.timeout(reporter.nextTimeout()!, out);
  };
  step(5 * TIMEOUTS);
  let perTimeout = Infinity;
  let windows = 0;
  // Until a window is under the budget, at most ATTEMPTS windows: the loop is optimized by V8's
  // background compiler, which on a loaded machine may not have finished after the warm-up, so a
  // window over the budget is followed by a pause that gives it the CPU (waiting for a condition,
  // bounded; nothing is timed).
  for (let attempt = 0; attempt < ATTEMPTS && !(perTimeout < BUDGET_PER_TIMEOUT); attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    step(TIMEOUTS);
    gc();
    const profiler = new GCProfiler();
    profiler.start();
    const used0 = youngUsed();
    step(TIMEOUTS);
    const used1 = youngUsed();
    if ((profiler.stop()?.statistics.length ?? 1) === 0) {
      windows++;
      perTimeout = Math.min(perTimeout, (used1 - used0) / TIMEOUTS);
    }
  }
  assert.ok(windows > 0, `no window without a garbage collection in ${ATTEMPTS} attempts`);
  assert.equal(sent, 0, 'nothing sent or heard: no report (RFC 3550 §6.4 has nothing to say)');
  assert.ok(reporter.nextTimeout()! > 0, 'the timer keeps running');
  assert.ok(perTimeout < BUDGET_PER_TIMEOUT, `${perTimeout.toFixed(0)} bytes per idle report timeout (budget ${BUDGET_PER_TIMEOUT})`);
  console.log(`idle RTCP reporter: ${perTimeout.toFixed(0)} bytes of young generation per timeout`);
});
