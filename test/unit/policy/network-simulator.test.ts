// The policy network simulator (lib/policy/network-simulator*.ts): each impairment's statistics
// within bounds for fixed seeds, the rate limit and its drop-tail queue, and determinism.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkSimulator, SimulatedLink } from '../../../lib/policy/network-simulator.js';
import type { SimulatedArrival, SimulatedLinkOptions } from '../../../lib/policy/network-simulator.js';
import { SeededRng } from '../../../lib/common/rng.js';
import type { PwtError } from '../../../lib/common/errors.js';

/** Packet i carries its index in its first 4 bytes. */
function packet(i: number, size = 100): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt32BE(i, 0);
  return b;
}
const idx = (p: Uint8Array): number => Buffer.from(p.buffer, p.byteOffset, p.byteLength).readUInt32BE(0);

interface Arrival {
  i: number;
  at: number;
  sentAt: number;
  queuedMs: number;
  duplicate: boolean;
}

/** Sends `count` packets every `intervalMs` over a link a → b, drains everything, returns arrivals. */
function drive(options: SimulatedLinkOptions, seed: number, count: number, intervalMs: number, size = 100): { arrivals: Arrival[]; sim: NetworkSimulator } {
  const sim = new NetworkSimulator({ seed, aToB: options });
  const arrivals: Arrival[] = [];
  const collect = (d: SimulatedArrival): void => {
    assert.equal(d.to, 'b');
    arrivals.push({ i: idx(d.packet), at: d.deliveredAt, sentAt: d.sentAt, queuedMs: d.queuedMs, duplicate: d.duplicate });
  };
  let now = 0;
  for (let i = 0; i < count; i++) {
    now = i * intervalMs;
    for (let d = sim.poll(now); d; d = sim.poll(now)) collect(d);
    sim.send(now, 'a', packet(i, size));
  }
  for (let guard = 0; guard < 10 * count + 10; guard++) {
    const t = sim.nextTimeout();
    if (t === undefined) break;
    now = Math.max(now, t);
    for (let d = sim.poll(now); d; d = sim.poll(now)) collect(d);
  }
  assert.equal(sim.nextTimeout(), undefined, 'drained');
  return { arrivals, sim };
}

test('a perfect link delivers every packet once, in order, after the propagation delay', () => {
  const { arrivals } = drive({ delayMs: 30 }, 1, 200, 5);
  assert.equal(arrivals.length, 200);
  arrivals.forEach((a, k) => {
    assert.equal(a.i, k);
    assert.equal(a.at - a.sentAt, 30);
    assert.equal(a.queuedMs, 0);
  });
});

test('random loss: 10 % over 20 000 packets is 10 ± 1 %, and counted', () => {
  const { arrivals, sim } = drive({ loss: 0.1 }, 7, 20_000, 1);
  const lost = 20_000 - arrivals.length;
  assert.ok(lost > 1800 && lost < 2200, `lost ${lost}`);
  assert.equal(sim.aToB.stats.lostRandom, lost);
  assert.equal(sim.aToB.stats.delivered, arrivals.length);
});

test('Gilbert–Elliott burst loss: long-run rate and mean burst length match the chain', () => {
  const goodToBad = 0.02;
  const badToGood = 0.25;
  const { arrivals, sim } = drive({ burstLoss: { goodToBad, badToGood } }, 11, 50_000, 1);
  const expectedRate = goodToBad / (goodToBad + badToGood); // ≈ 7.4 %
  const rate = 1 - arrivals.length / 50_000;
  assert.ok(Math.abs(rate - expectedRate) < 0.01, `loss rate ${rate}`);
  assert.equal(sim.aToB.stats.lostBurst, 50_000 - arrivals.length);
  // Bursts: runs of consecutive missing indices.
  const got = new Set(arrivals.map((a) => a.i));
  const runs: number[] = [];
  let run = 0;
  for (let i = 0; i < 50_000; i++) {
    if (!got.has(i)) run++;
    else if (run > 0) {
      runs.push(run);
      run = 0;
    }
  }
  const mean = runs.reduce((s, r) => s + r, 0) / runs.length;
  assert.ok(Math.abs(mean - 1 / badToGood) < 0.4, `mean burst ${mean}`);
  // Independent loss at the same rate would almost never lose 4+ in a row; bursts do often.
  assert.ok(runs.filter((r) => r >= 4).length > runs.length * 0.3);
});

test('reordering: about the configured share arrives after a later-sent packet', () => {
  const { arrivals, sim } = drive({ delayMs: 10, reorder: 0.05, reorderDelayMs: 20 }, 3, 10_000, 1);
  assert.equal(arrivals.length, 10_000);
  let late = 0;
  let maxSeen = -1;
  for (const a of arrivals) {
    if (a.i < maxSeen) late++;
    maxSeen = Math.max(maxSeen, a.i);
  }
  assert.ok(late > 400 && late < 600, `late ${late}`);
  assert.equal(sim.aToB.stats.reordered, late);
});

test('duplication: about the configured share is delivered twice, flagged as duplicate', () => {
  const { arrivals, sim } = drive({ duplicate: 0.03 }, 5, 10_000, 1);
  const dups = arrivals.filter((a) => a.duplicate);
  assert.ok(dups.length > 240 && dups.length < 360, `dups ${dups.length}`);
  assert.equal(arrivals.length, 10_000 + dups.length);
  assert.equal(sim.aToB.stats.duplicated, dups.length);
  assert.equal(new Set(arrivals.map((a) => a.i)).size, 10_000);
});

test('delay + jitter: delays stay in [delay, delay + jitter), mean near the middle; FIFO unless allowed to reorder', () => {
  const reordering = drive({ delayMs: 50, jitterMs: 40, jitterReorders: true }, 9, 5000, 1).arrivals;
  const delays = reordering.map((a) => a.at - a.sentAt);
  assert.ok(delays.every((d) => d >= 50 && d < 90));
  const mean = delays.reduce((s, d) => s + d, 0) / delays.length;
  assert.ok(Math.abs(mean - 70) < 1.5, `mean ${mean}`);
  assert.ok(reordering.some((a, k) => k > 0 && a.i < reordering[k - 1]!.i), 'jitter wider than the spacing reorders');

  const fifo = drive({ delayMs: 50, jitterMs: 40 }, 9, 5000, 1).arrivals;
  assert.ok(fifo.every((a, k) => a.i === k), 'in order');
  assert.ok(fifo.every((a) => a.at - a.sentAt >= 50 && a.at - a.sentAt < 90 + 1e-9));
});

test('rate limit: throughput equals the link rate, the drop-tail queue bounds occupancy and queueing delay', () => {
  // 2 Mbit/s offered (1000-byte packets every 4 ms) into 1 Mbit/s with a 50 000-byte queue, 5 s.
  const { arrivals, sim } = drive({ rateBps: 1_000_000, queueBytes: 50_000, delayMs: 20 }, 1, 1250, 4, 1000);
  const s = sim.aToB.stats;
  assert.ok(s.maxQueueBytes <= 50_000);
  assert.equal(s.droppedQueue + arrivals.length, 1250);
  // Serialization of 1000 bytes at 1 Mbit/s takes 8 ms: consecutive arrivals are ≥ 8 ms apart.
  for (let k = 1; k < arrivals.length; k++) assert.ok(arrivals[k]!.at - arrivals[k - 1]!.at >= 8 - 1e-9);
  const span = arrivals.at(-1)!.at - arrivals[0]!.at;
  const bps = ((arrivals.length - 1) * 8000 * 1000) / span;
  assert.ok(Math.abs(bps - 1_000_000) < 10_000, `throughput ${bps}`);
  // The queue holds at most 50 packets: 400 ms at 1 Mbit/s.
  const maxQueued = Math.max(...arrivals.map((a) => a.queuedMs));
  assert.ok(maxQueued > 300 && maxQueued <= 400, `max queued ${maxQueued}`);
  assert.ok(arrivals.every((a) => Math.abs(a.at - a.sentAt - a.queuedMs - 8 - 20) < 1e-6));
});

test('a rate change takes effect at once, also for the packet being serialized', () => {
  const rng = new SeededRng(1);
  const link = new SimulatedLink(rng, { rateBps: 1_000_000 });
  link.send(0, packet(0, 1000)); // 8 ms at 1 Mbit/s
  assert.equal(link.nextTimeout(), 8);
  link.configure(4, { rateBps: 2_000_000 }); // half sent; the other 4000 bits take 2 ms
  assert.equal(link.nextTimeout(), 6);
  link.send(4, packet(1, 1000)); // starts at 6, 4 ms
  assert.equal(link.poll(6)?.deliveredAt, 6);
  assert.equal(link.poll(9), undefined);
  assert.equal(link.poll(10)?.deliveredAt, 10);
  assert.equal(link.pending, 0);
});

test('determinism: the same seed gives the same trace; another seed another one', () => {
  const opts: SimulatedLinkOptions = {
    delayMs: 20,
    jitterMs: 15,
    jitterReorders: true,
    loss: 0.02,
    burstLoss: { goodToBad: 0.01, badToGood: 0.3 },
    reorder: 0.02,
    duplicate: 0.01,
    rateBps: 800_000,
    queueBytes: 30_000,
  };
  const trace = (seed: number): string =>
    JSON.stringify(drive(opts, seed, 3000, 3, 400).arrivals.map((a) => [a.i, a.at, a.duplicate]));
  assert.equal(trace(42), trace(42));
  assert.notEqual(trace(42), trace(43));
});

test('two directions are independent: traffic one way does not change the other way\'s trace', () => {
  const run = (withReverse: boolean): string => {
    const sim = new NetworkSimulator({ seed: 8, aToB: { loss: 0.2, delayMs: 10 }, bToA: { loss: 0.5, delayMs: 5 } });
    const out: string[] = [];
    for (let t = 0; t < 1000; t++) {
      for (let d = sim.poll(t); d; d = sim.poll(t)) if (d.to === 'b') out.push(`${idx(d.packet)}@${d.deliveredAt}`);
      sim.send(t, 'a', packet(t));
      if (withReverse) sim.send(t, 'b', packet(t));
    }
    for (let t = sim.nextTimeout(); t !== undefined; t = sim.nextTimeout()) {
      for (let d = sim.poll(t); d; d = sim.poll(t)) if (d.to === 'b') out.push(`${idx(d.packet)}@${d.deliveredAt}`);
    }
    return out.join(',');
  };
  assert.equal(run(false), run(true));
});

test('poll interleaves both directions in delivery order', () => {
  const sim = new NetworkSimulator({ seed: 1, aToB: { delayMs: 10 }, bToA: { delayMs: 3 } });
  sim.send(0, 'a', packet(1));
  sim.send(5, 'b', packet(2));
  sim.send(6, 'a', packet(3));
  const seen: string[] = [];
  for (let d = sim.poll(100); d; d = sim.poll(100)) seen.push(`${d.to}${idx(d.packet)}@${d.deliveredAt}`);
  assert.deepEqual(seen, ['a2@8', 'b1@10', 'b3@16']);
});

test('an older now is ignored, and impossible options throw a RangeError with a stable code', () => {
  const link = new SimulatedLink(new SeededRng(1), { delayMs: 10 });
  link.send(100, packet(0));
  link.send(50, packet(1)); // treated as sent at 100
  assert.equal(link.poll(109), undefined);
  assert.equal(link.poll(110)?.sentAt, 100);
  assert.equal(link.poll(110)?.sentAt, 100);
  for (const bad of [{ loss: 1.5 }, { delayMs: -1 }, { rateBps: Number.NaN }, { burstLoss: { goodToBad: 2, badToGood: 0 } }]) {
    assert.throws(() => new SimulatedLink(new SeededRng(1), bad), (e: PwtError) => e.name === 'RangeError' && e.code === 'ERR_SIM_OPTION');
  }
});
