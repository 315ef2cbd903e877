// Our sender with the bandwidth estimator + pacer behind a real `tbf` rate limit, between two
// network namespaces joined by veth (docs/policy.md, "Bandwidth estimator"). Short form (npm
// test): 1 Mbit/s for 14 s, the target settles within ±20 % by 10 s and the queueing delay seen in
// the feedback stays under 200 ms. Long form (npm run test:net, PWT_NET_LONG=1): a step
// 1 → 3 → 0.5 Mbit/s (at 12 s and 40 s) made by changing the tbf rate, each new rate reached
// within 10 s. Skipped, with the reason, where namespaces
// cannot be made (not root, no `ip`).
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

/** Runs sender and receiver; `steps` change the tbf rate at times after the sender started. */
async function run(durationMs: number, steps: { at: number; rate: string }[], startRate: string): Promise<{ samples: Sample[]; queue: QueueSample[] }> {
  const tx = child('sender', NS_A, ADDR_A, durationMs);
  const rx = child('receiver', NS_B, ADDR_B, durationMs);
  const samples: Sample[] = [];
  const queue: QueueSample[] = [];
  const timers: NodeJS.Timeout[] = [];
  let bps = rateBps(startRate);
  let startedAt: number | undefined;
  let polling = false;
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
  timers.push(poll);
  try {
    const txLines = createInterface({ input: tx.stdout! });
    const rxLines = createInterface({ input: rx.stdout! });
    rxLines.on('line', (l) => {
      const m = JSON.parse(l) as { type: string };
      if (m.type === 'sdp') tx.stdin!.write(`${l}\n`);
    });
    await new Promise<void>((resolve, reject) => {
      const guard = setTimeout(() => reject(new Error('sender did not finish in time')), durationMs + 25_000);
      txLines.on('line', (l) => {
        const m = JSON.parse(l) as { type: string } & Sample & { message?: string };
        if (m.type === 'sdp') rx.stdin!.write(`${l}\n`);
        else if (m.type === 'start') {
          startedAt = performance.now();
          for (const s of steps) {
            timers.push(setTimeout(() => {
              setRate(s.rate);
              bps = rateBps(s.rate);
            }, s.at));
          }
        }
        else if (m.type === 'sample') samples.push(m);
        else if (m.type === 'error') reject(new Error(`sender: ${m.message}`));
        else if (m.type === 'done') {
          clearTimeout(guard);
          resolve();
        }
      });
      tx.on('exit', (code) => {
        if (code !== 0) reject(new Error(`sender exited with ${code}`));
      });
    });
  } finally {
    for (const t of timers) clearTimeout(t);
    clearInterval(poll);
    tx.stdin!.end();
    rx.stdin!.end();
    tx.kill();
    rx.kill();
  }
  // PWT_NET_TRACE=<file>: keep the sender's samples for a look (not committed).
  if (process.env.PWT_NET_TRACE) writeFileSync(`${process.env.PWT_NET_TRACE}.${durationMs}.json`, JSON.stringify({ samples, queue }));
  return { samples, queue };
}

/** Largest tbf backlog (ms) sampled in [from, to). */
function maxQueue(queue: QueueSample[], from: number, to: number): number {
  const q = queue.filter((x) => x.t >= from && x.t < to);
  assert.ok(q.length > 0, `tbf backlog samples in [${from}, ${to})`);
  return Math.max(...q.map((x) => x.queueMs));
}

function window(samples: Sample[], from: number, to: number): { min: number; max: number; mean: number; maxQueue: number } {
  const s = samples.filter((x) => x.t >= from && x.t < to);
  assert.ok(s.length > 0, `samples in [${from}, ${to})`);
  const t = s.map((x) => x.target);
  return { min: Math.min(...t), max: Math.max(...t), mean: t.reduce((a, b) => a + b, 0) / t.length, maxQueue: Math.max(...s.map((x) => x.queueDelayMs)) };
}

const kbps = (w: { min: number; max: number; mean: number; maxQueue: number }): string =>
  `target ${Math.round(w.min / 1000)}..${Math.round(w.max / 1000)} kbit/s (mean ${Math.round(w.mean / 1000)}), queue ≤ ${Math.round(w.maxQueue)} ms`;

test('behind tbf 1 Mbit/s the target settles within ±20 % in 10 s, queueing delay under 200 ms', { timeout: 90_000 }, async (t) => {
  const reason = setup('1mbit');
  if (reason !== undefined) {
    t.skip(`skipped: ${reason}`);
    return;
  }
  try {
    const { samples, queue } = await run(14_000, [], '1mbit');
    const settled = window(samples, 10_000, 14_000);
    const backlog = maxQueue(queue, 0, 14_000);
    const carried = kernelRate(queue, 10_000, 14_000);
    t.diagnostic(`tbf 1 Mbit/s, 10-14 s: ${kbps(settled)}, the qdisc sent ${carried === undefined ? '?' : Math.round(carried / 1000)} kbit/s; over the run: queueing delay seen in feedback ≤ ${Math.round(window(samples, 0, 14_000).maxQueue)} ms, tbf backlog ≤ ${Math.round(backlog)} ms`);
    assert.ok(Math.abs(settled.mean - 1_000_000) <= 200_000, kbps(settled));
    // The sawtooth around the mean: every sample within ±30 %.
    assert.ok(settled.min >= 700_000 && settled.max <= 1_300_000, kbps(settled));
    assert.ok(backlog < 200, `tbf backlog ≤ ${Math.round(backlog)} ms`);
  } finally {
    cleanup();
  }
});

test('tbf step 1 → 3 → 0.5 Mbit/s is tracked (long form: npm run test:net)', { timeout: 160_000, skip: LONG ? false : 'long form: npm run test:net' }, async (t) => {
  const reason = setup('1mbit');
  if (reason !== undefined) {
    t.skip(`skipped: ${reason}`);
    return;
  }
  try {
    const { samples, queue } = await run(52_000, [{ at: 12_000, rate: '3mbit' }, { at: 40_000, rate: '500kbit' }], '1mbit');
    const one = window(samples, 8_000, 12_000);
    const three = window(samples, 30_000, 40_000);
    const found = window(samples, 12_000, 22_000);
    const half = window(samples, 44_000, 52_000);
    const drop = window(samples, 40_000, 47_000);
    const reached = samples.find((x) => x.t >= 12_000 && x.target >= 2_400_000);
    const drained = samples.find((x) => x.t >= 41_000 && samples.every((y) => y.t < x.t || y.queueDelayMs < 200));
    const backlogDrained = queue.find((x) => x.t >= 41_000 && queue.every((y) => y.t < x.t || y.queueMs < 200));
    const before = maxQueue(queue, 0, 40_000);
    // Where the estimator saw 200 ms or more before the drop, what the qdisc held then (±300 ms).
    const spikes = samples.filter((x) => x.t < 40_000 && x.queueDelayMs >= 200)
      .map((x) => `${x.t} ms: seen ${Math.round(x.queueDelayMs)} ms, tbf ${Math.round(Math.max(0, ...queue.filter((q) => Math.abs(q.t - x.t) <= 300).map((q) => q.queueMs)))} ms`);
    t.diagnostic(`1 Mbit/s (8-12 s): ${kbps(one)}; within 20 % of 3 Mbit/s ${reached ? `${reached.t - 12_000} ms` : 'never'} after the step; 3 Mbit/s (30-40 s): ${kbps(three)}; ` +
      `0.5 Mbit/s (44-52 s): ${kbps(half)}; right after the drop (40-47 s): ${kbps(drop)}; queue < 200 ms for good ${drained ? `${drained.t - 40_000} ms` : 'never'} after the drop ` +
      `(tbf backlog: ${backlogDrained ? `${Math.round(backlogDrained.t - 40_000)} ms` : 'never'}); before the drop: tbf backlog ≤ ${Math.round(before)} ms, seen in feedback ≤ ${Math.round(window(samples, 0, 40_000).maxQueue)} ms` +
      `${spikes.length > 0 ? `; seen ≥ 200 ms: ${spikes.slice(0, 8).join(', ')}` : ''}`);
    assert.ok(Math.abs(one.mean - 1_000_000) <= 200_000, kbps(one));
    // Up: the accelerating increase (docs/policy.md) reaches the new rate within 10 s, then a
    // sawtooth below it. Send and receive times are taken by JS event loops: on a loaded machine
    // a stalled process looks like a delay spike and costs a decrease, so the mean is only
    // bounded loosely here (the simulator test asserts staying within ±20 %).
    assert.ok(found.max >= 2_400_000, `the 3 Mbit/s is found within 20 % in 10 s: ${kbps(found)}`);
    assert.ok(three.mean >= 1_500_000 && three.mean <= 3_600_000, kbps(three));
    assert.ok(Math.abs(half.mean - 500_000) <= 100_000, kbps(half));
    assert.ok(before < 200, `tbf backlog before the drop ≤ ${Math.round(before)} ms`);
    // Down: the estimate follows within a second, but the drop has filled the 1 s tbf queue, which
    // drains while the target sits at 0.85 × the acknowledged rate: 6–8 s. Like the other rates,
    // drained (for good) within the issue's 10 s settling time.
    assert.ok(window(samples, 40_000, 41_500).min < 600_000, 'the estimate follows the drop');
    assert.ok(backlogDrained !== undefined && backlogDrained.t <= 50_000, `tbf backlog below 200 ms for good ${backlogDrained ? `${Math.round(backlogDrained.t - 40_000)} ms` : 'never'} after the drop`);
  } finally {
    cleanup();
  }
});
