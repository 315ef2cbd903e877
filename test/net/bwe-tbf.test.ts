// Our sender with the bandwidth estimator + pacer behind a real `tbf` rate limit, between two
// network namespaces joined by veth (docs/policy.md, "Bandwidth estimator"). Short form (npm
// test): behind 1 Mbit/s, until the target has settled within ±20 % for a 4 s window, the tbf
// queue stays under 200 ms. Long form (npm run test:net, PWT_NET_LONG=1): a step 1 → 3 → 0.5
// Mbit/s made by changing the tbf rate, each step taken when the condition before it holds
// (settled; the new rate found; settled again with the queue drained). Every wait is for a
// condition under a generous bound, never a judged duration: a stalled process on a loaded machine
// only makes it take longer. Skipped, with the reason, where namespaces cannot be made (not root,
// no `ip`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createVethPair, deleteVethPair, sh } from './veth-pair.js';
import { writeFileSync } from 'node:fs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
// Names unique to this run: several checkouts on one machine (developers, CI jobs) run this file
// at once, and a fixed name let one run's cleanup delete another's namespace mid-test.
// PWT_NETNS_PREFIX names the namespaces after whoever runs them; interface names stay short
// (15 characters at most) and exist outside the namespaces only between `add` and `set netns`.
const RUN = String(process.pid);
const PREFIX = process.env.PWT_NETNS_PREFIX ?? 'pwt';
const NS_A = `${PREFIX}-bwe-a-${RUN}`;
const NS_B = `${PREFIX}-bwe-b-${RUN}`;
const IF_A = `pwtva${RUN}`;
const IF_B = `pwtvb${RUN}`;
const ADDR_A = '10.213.0.1';
const ADDR_B = '10.213.0.2';
const LONG = process.env.PWT_NET_LONG === '1';

const PAIR = { nsA: NS_A, nsB: NS_B, ifA: IF_A, ifB: IF_B, addrA: ADDR_A, addrB: ADDR_B };
const cleanup = (): void => deleteVethPair(PAIR);

/** Creates the two namespaces; returns a reason when it cannot. */
function setup(rate: string): string | undefined {
  const reason = createVethPair(PAIR);
  if (reason !== undefined) return reason;
  // The bottleneck: the sender's egress. A 1 s latency bound lets the queue grow well past 200 ms,
  // so a bounded queueing delay is the estimator's doing, not the qdisc's.
  setRate(rate, 'add');
  return undefined;
}

function setRate(rate: string, verb: 'add' | 'change' = 'change'): void {
  sh(['ip', 'netns', 'exec', NS_A, 'tc', 'qdisc', verb, 'dev', IF_A, 'root', 'tbf', 'rate', rate, 'burst', '16kb', 'latency', '1000ms']);
}

/** Bits per second of a tc rate ("1mbit", "500kbit"). */
function rateBps(rate: string): number {
  const m = /^(\d+(?:\.\d+)?)(k|m)?bit$/.exec(rate);
  if (!m) throw new Error(`rate ${rate}`);
  return Number(m[1]) * (m[2] === 'm' ? 1e6 : m[2] === 'k' ? 1e3 : 1);
}

/** Bytes waiting in the tbf qdisc, from `tc -s qdisc show` ("backlog 31734b 21p", or "31Kb"), or undefined. */
function backlogBytes(text: string): number | undefined {
  const m = /backlog (\d+(?:\.\d+)?)([KMG]?)b /.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === 'K' ? 1024 : m[2] === 'M' ? 1024 * 1024 : m[2] === 'G' ? 1024 ** 3 : 1);
}

/** The real queue: the tbf backlog, in ms at the rate then set, sampled every 100 ms by the test. */
interface QueueSample {
  t: number;
  queueMs: number;
  /** Bytes the qdisc has sent so far ("Sent 123456 bytes"): the rate the link really carried. */
  sentBytes?: number;
}

/** Bits per second the tbf qdisc sent in [from, to), from its own byte counter, or undefined. */
function kernelRate(queue: QueueSample[], from: number, to: number): number | undefined {
  const q = queue.filter((x) => x.t >= from && x.t < to && x.sentBytes !== undefined);
  if (q.length < 2) return undefined;
  const a = q[0]!;
  const b = q[q.length - 1]!;
  return b.t > a.t ? ((b.sentBytes! - a.sentBytes!) * 8 * 1000) / (b.t - a.t) : undefined;
}

interface Sample {
  t: number;
  target: number;
  queueDelayMs: number;
  rttMs: number;
}

function child(role: string, ns: string, addr: string, durationMs: number): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', join(here, 'bwe-peer-child.ts'), role, addr, String(durationMs)], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
}

/** What the watcher of {@link run} sees after each sample of the sender. */
interface Watch {
  samples: Sample[];
  queue: QueueSample[];
  /** ms since the sender started (the time of the last sample). */
  t: number;
  /** Changes the tbf rate now. */
  setRate(rate: string): void;
}

/**
 * Runs sender and receiver until `watch` (called after each sample) returns true, or until the
 * sender has sent for `maxMs` (a generous bound: then `finished` is false and the test says what
 * it was still waiting for). Nothing is judged by how long anything took.
 */
async function run(maxMs: number, startRate: string, watch: (w: Watch) => boolean): Promise<{ samples: Sample[]; queue: QueueSample[]; finished: boolean }> {
  const tx = child('sender', NS_A, ADDR_A, maxMs);
  const rx = child('receiver', NS_B, ADDR_B, maxMs);
  const samples: Sample[] = [];
  const queue: QueueSample[] = [];
  let bps = rateBps(startRate);
  let startedAt: number | undefined;
  let polling = false;
  let finished = false;
  // The queueing delay the estimator sees (one-way delay over its minimum, from send and arrival
  // times taken by two JS event loops) also grows when either process stalls; the qdisc's backlog
  // is the queue itself. Both are recorded; the assertions use the backlog.
  const poll = setInterval(() => {
    if (startedAt === undefined || polling) return;
    polling = true;
    const t = performance.now() - startedAt;
    const rateThen = bps;
    execFile('ip', ['netns', 'exec', NS_A, 'tc', '-s', 'qdisc', 'show', 'dev', IF_A], { timeout: 2000 }, (err, stdout) => {
      polling = false;
      const bytes = err ? undefined : backlogBytes(stdout);
      const sent = err ? undefined : /Sent (\d+) bytes/.exec(stdout);
      if (bytes !== undefined) queue.push({ t, queueMs: (bytes * 8 * 1000) / rateThen, sentBytes: sent ? Number(sent[1]) : undefined });
    });
  }, 100);
  const setRateNow = (rate: string): void => {
    setRate(rate);
    bps = rateBps(rate);
  };
  let guard: NodeJS.Timeout | undefined;
  try {
    const txLines = createInterface({ input: tx.stdout! });
    const rxLines = createInterface({ input: rx.stdout! });
    rxLines.on('line', (l) => {
      const m = JSON.parse(l) as { type: string };
      if (m.type === 'sdp') tx.stdin!.write(`${l}\n`);
    });
    await new Promise<void>((resolve, reject) => {
      guard = setTimeout(() => reject(new Error('sender did not finish in time')), maxMs + 25_000);
      txLines.on('line', (l) => {
        const m = JSON.parse(l) as { type: string } & Sample & { message?: string };
        if (m.type === 'sdp') rx.stdin!.write(`${l}\n`);
        else if (m.type === 'start') startedAt = performance.now();
        else if (m.type === 'sample') {
          samples.push(m);
          try {
            if (!finished && watch({ samples, queue, t: m.t, setRate: setRateNow })) {
              finished = true;
              resolve();
            }
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        } else if (m.type === 'error') reject(new Error(`sender: ${m.message}`));
        else if (m.type === 'done') resolve();
      });
      tx.on('exit', (code) => {
        if (code !== 0 && !finished) reject(new Error(`sender exited with ${code}`));
      });
    });
  } finally {
    clearTimeout(guard);
    clearInterval(poll);
    tx.stdin!.end();
    rx.stdin!.end();
    tx.kill();
    rx.kill();
  }
  // PWT_NET_TRACE=<file>: keep the sender's samples for a look (not committed).
  if (process.env.PWT_NET_TRACE) writeFileSync(`${process.env.PWT_NET_TRACE}.${maxMs}.json`, JSON.stringify({ samples, queue }));
  return { samples, queue, finished };
}

/** Length of the window in which a target counts as settled. */
const SETTLE_WINDOW_MS = 4000;

/**
 * Whether the target settled around `bps` in the SETTLE_WINDOW_MS before `t`: the window holds at
 * least half its samples (a stalled sender has too few to judge), their mean is within ±20 % of
 * `bps` and every one within ±30 % (the sawtooth around the mean).
 */
function settledAround(samples: Sample[], t: number, bps: number): boolean {
  const s = samples.filter((x) => x.t >= t - SETTLE_WINDOW_MS && x.t <= t);
  if (s.length < SETTLE_WINDOW_MS / 100 / 2) return false;
  const mean = s.reduce((a, x) => a + x.target, 0) / s.length;
  return Math.abs(mean - bps) <= 0.2 * bps && s.every((x) => x.target >= 0.7 * bps && x.target <= 1.3 * bps);
}

/** Largest tbf backlog (ms) sampled in [from, to). */
function maxQueue(queue: QueueSample[], from: number, to: number): number {
  const q = queue.filter((x) => x.t >= from && x.t < to);
  assert.ok(q.length > 0, `tbf backlog samples in [${from}, ${to})`);
  return Math.max(...q.map((x) => x.queueMs));
}

/** Where the largest backlog of [from, to) was, and the target then and the second before it (for a failing run's message). */
function queuePeak(queue: QueueSample[], samples: Sample[], from: number, to: number): string {
  const q = queue.filter((x) => x.t >= from && x.t < to);
  if (q.length === 0) return 'no backlog samples';
  const peak = q.reduce((a, b) => (b.queueMs > a.queueMs ? b : a));
  const around = samples.filter((x) => x.t >= peak.t - 1000 && x.t <= peak.t).map((x) => Math.round(x.target / 1000));
  return `peak ${Math.round(peak.queueMs)} ms at ${Math.round(peak.t)} ms, target in the second before: ${around.join(' ')} kbit/s`;
}

function window(samples: Sample[], from: number, to: number): { min: number; max: number; mean: number; maxQueue: number } {
  const s = samples.filter((x) => x.t >= from && x.t < to);
  assert.ok(s.length > 0, `samples in [${from}, ${to})`);
  const t = s.map((x) => x.target);
  return { min: Math.min(...t), max: Math.max(...t), mean: t.reduce((a, b) => a + b, 0) / t.length, maxQueue: Math.max(...s.map((x) => x.queueDelayMs)) };
}

const kbps = (w: { min: number; max: number; mean: number; maxQueue: number }): string =>
  `target ${Math.round(w.min / 1000)}..${Math.round(w.max / 1000)} kbit/s (mean ${Math.round(w.mean / 1000)}), queue ≤ ${Math.round(w.maxQueue)} ms`;

test('behind tbf 1 Mbit/s the target settles within ±20 % and the tbf queue stays under 200 ms until it has', { timeout: 120_000 }, async (t) => {
  const reason = setup('1mbit');
  if (reason !== undefined) {
    t.skip(`skipped: ${reason}`);
    return;
  }
  try {
    // Until the target has been settled for a whole window (bounded: 45 s of sending; it takes
    // about 7-10 s on an idle machine, longer when stalled processes cost extra decreases).
    let settledAt: number | undefined;
    const { samples, queue } = await run(45_000, '1mbit', (w) => {
      if (w.t >= SETTLE_WINDOW_MS && settledAround(w.samples, w.t, 1_000_000)) settledAt = w.t;
      return settledAt !== undefined;
    });
    const last = samples.length > 0 ? samples[samples.length - 1]!.t : 0;
    assert.ok(settledAt !== undefined, `not settled within ±20 % of 1 Mbit/s in ${last} ms of sending; last window: ${kbps(window(samples, last - SETTLE_WINDOW_MS, last + 1))}`);
    const settled = window(samples, settledAt - SETTLE_WINDOW_MS, settledAt + 1);
    const backlog = maxQueue(queue, 0, settledAt + 1);
    const carried = kernelRate(queue, settledAt - SETTLE_WINDOW_MS, settledAt + 1);
    t.diagnostic(`tbf 1 Mbit/s: settled at ${settledAt} ms, window before it: ${kbps(settled)}, the qdisc sent ${carried === undefined ? '?' : Math.round(carried / 1000)} kbit/s; until then: queueing delay seen in feedback ≤ ${Math.round(window(samples, 0, settledAt + 1).maxQueue)} ms, tbf backlog ≤ ${Math.round(backlog)} ms`);
    // The real queue (the qdisc's backlog) from the start until the target settled. Its peak is
    // the estimator's start-up overshoot: tbf's 16 KB burst makes the acknowledged rate read
    // ~1.2 Mbit/s, so the start-up cap lets the target pass 1.4 Mbit/s before a queue forms, and
    // the trendline sees it ~250 ms later (docs/policy.md "Finding more capacity"). Measured:
    // 75–174 ms in nineteen runs. 200 ms is what docs/policy.md promises behind a 1 s-deep queue;
    // it is not raised to hide that overshoot.
    assert.ok(backlog < 200, `tbf backlog ≤ ${Math.round(backlog)} ms (${queuePeak(queue, samples, 0, settledAt + 1)})`);
  } finally {
    cleanup();
  }
});

test('tbf step 1 → 3 → 0.5 Mbit/s is tracked (long form: npm run test:net)', { timeout: 240_000, skip: LONG ? false : 'long form: npm run test:net' }, async (t) => {
  const reason = setup('1mbit');
  if (reason !== undefined) {
    t.skip(`skipped: ${reason}`);
    return;
  }
  try {
    // Each step waits for a condition, not a time: settled at 1 Mbit/s → 3 Mbit/s; the target
    // within 20 % of it, then 10 s more to judge the sawtooth → 0.5 Mbit/s; settled there with the
    // tbf queue drained (below 200 ms for a whole window). Bounded: 150 s of sending in all.
    let upAt: number | undefined;
    let reachedAt: number | undefined;
    let downAt: number | undefined;
    let followedAt: number | undefined;
    let doneAt: number | undefined;
    const { samples, queue } = await run(150_000, '1mbit', (w) => {
      if (upAt === undefined) {
        if (w.t >= SETTLE_WINDOW_MS && settledAround(w.samples, w.t, 1_000_000)) {
          upAt = w.t;
          w.setRate('3mbit');
        }
      } else if (reachedAt === undefined) {
        if (w.samples[w.samples.length - 1]!.target >= 2_400_000) reachedAt = w.t;
      } else if (downAt === undefined) {
        if (w.t >= reachedAt + 10_000) {
          downAt = w.t;
          w.setRate('500kbit');
        }
      } else {
        if (followedAt === undefined && w.samples[w.samples.length - 1]!.target < 600_000) followedAt = w.t;
        const q = w.queue.filter((x) => x.t >= w.t - SETTLE_WINDOW_MS);
        const drained = w.t >= downAt + SETTLE_WINDOW_MS && q.length > 0 && q.every((x) => x.queueMs < 200);
        if (followedAt !== undefined && drained && settledAround(w.samples, w.t, 500_000)) doneAt = w.t;
      }
      return doneAt !== undefined;
    });
    const last = samples.length > 0 ? samples[samples.length - 1]!.t : 0;
    const at = (x: number | undefined): string => (x === undefined ? 'never' : `${x} ms`);
    t.diagnostic(`settled at 1 Mbit/s and stepped up at ${at(upAt)}; within 20 % of 3 Mbit/s ${reachedAt !== undefined && upAt !== undefined ? `${reachedAt - upAt} ms after the step` : 'never'}; ` +
      `stepped down at ${at(downAt)}; below 0.6 Mbit/s ${followedAt !== undefined && downAt !== undefined ? `${followedAt - downAt} ms after the drop` : 'never'}; ` +
      `settled at 0.5 Mbit/s with the queue drained ${doneAt !== undefined && downAt !== undefined ? `${doneAt - downAt} ms after the drop` : 'never'} (${last} ms of sending)`);
    assert.ok(upAt !== undefined, `not settled within ±20 % of 1 Mbit/s in ${last} ms: ${kbps(window(samples, last - SETTLE_WINDOW_MS, last + 1))}`);
    assert.ok(reachedAt !== undefined, `3 Mbit/s never found within 20 % (${last - upAt} ms after the step): ${kbps(window(samples, upAt, last + 1))}`);
    assert.ok(downAt !== undefined, 'the sender ran out before the 3 Mbit/s phase was judged');
    const three = window(samples, reachedAt, downAt);
    const before = maxQueue(queue, 0, downAt);
    const spikes = samples.filter((x) => x.t < downAt! && x.queueDelayMs >= 200)
      .map((x) => `${x.t} ms: seen ${Math.round(x.queueDelayMs)} ms, tbf ${Math.round(Math.max(0, ...queue.filter((q) => Math.abs(q.t - x.t) <= 300).map((q) => q.queueMs)))} ms`);
    t.diagnostic(`3 Mbit/s, from reaching it to the drop: ${kbps(three)}; before the drop: tbf backlog ≤ ${Math.round(before)} ms, seen in feedback ≤ ${Math.round(window(samples, 0, downAt).maxQueue)} ms` +
      `${spikes.length > 0 ? `; seen ≥ 200 ms: ${spikes.slice(0, 8).join(', ')}` : ''}`);
    // Up: then a sawtooth below the new rate. Send and receive times are taken by JS event loops:
    // on a loaded machine a stalled process looks like a delay spike and costs a decrease, so the
    // mean is only bounded loosely here (the simulator test asserts staying within ±20 %).
    assert.ok(three.mean >= 1_500_000 && three.mean <= 3_600_000, kbps(three));
    assert.ok(before < 200, `tbf backlog before the drop ≤ ${Math.round(before)} ms (${queuePeak(queue, samples, 0, downAt)})`);
    // Down: the estimate follows, and the 1 s tbf queue the drop filled drains while the target
    // sits at 0.85 × the acknowledged rate; then it settles around the new rate.
    assert.ok(followedAt !== undefined, `the estimate never fell below 0.6 Mbit/s after the drop: ${kbps(window(samples, downAt, last + 1))}`);
    assert.ok(doneAt !== undefined, `not settled within ±20 % of 0.5 Mbit/s with the tbf queue drained in ${last - downAt} ms after the drop: ${kbps(window(samples, last - SETTLE_WINDOW_MS, last + 1))}, tbf backlog ≤ ${Math.round(maxQueue(queue, last - SETTLE_WINDOW_MS, last + 1))} ms`);
  } finally {
    cleanup();
  }
});
