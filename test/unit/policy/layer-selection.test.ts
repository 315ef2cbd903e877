// Automatic layer selection (lib/policy/layer-selection.ts, layer-bitrate-meter.ts; docs/sfu.md
// "Automatic layer selection") with synthetic estimates on a virtual clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BandwidthLayerSelection, layerSteps, type LayerSelectionChange } from '../../../lib/policy/layer-selection.js';
import { LayerBitrateMeter } from '../../../lib/policy/layer-bitrate-meter.js';

// Three spatial layers with three temporal layers each, cumulative bits/s:
// S0 100k/150k/200k, S1 300k/450k/600k, S2 800k/1.2M/1.6M.
const THREE_BY_THREE = [
  [100_000, 150_000, 200_000, 200_000],
  [300_000, 450_000, 600_000, 600_000],
  [800_000, 1_200_000, 1_600_000, 1_600_000],
];
const ALL = { spatialLayer: 2, temporalLayer: 3 };

function drive(policy: BandwidthLayerSelection, from: number, to: number, estimateBps: number | undefined,
  extra: { lossFraction?: number; cap?: { spatialLayer: number; temporalLayer: number }; bitrates?: number[][] } = {}): LayerSelectionChange[] {
  const changes: LayerSelectionChange[] = [];
  for (let now = from; now < to; now += 250) {
    changes.push(...policy.update(now, {
      estimateBps,
      ...(extra.lossFraction !== undefined ? { lossFraction: extra.lossFraction } : {}),
      consumers: [{ id: 1, bitrates: extra.bitrates ?? THREE_BY_THREE, cap: extra.cap ?? ALL }],
    }));
  }
  return changes;
}

const layers = (c: LayerSelectionChange | undefined): string => (c ? `S${c.spatialLayer}T${c.temporalLayer}` : 'none');

test('steps: each arriving spatial layer up to the cap, one step per temporal layer that carries bytes', () => {
  const steps = layerSteps(THREE_BY_THREE, ALL).map((s) => `S${s.spatialLayer}T${s.temporalLayer}`);
  assert.deepEqual(steps, ['S0T0', 'S0T1', 'S0T3', 'S1T0', 'S1T1', 'S1T3', 'S2T0', 'S2T1', 'S2T3']);
  // No TIDs: one step per layer; a layer not arriving (0) is left out; the cap bounds both dimensions.
  assert.deepEqual(layerSteps([[200_000, 200_000, 200_000, 200_000], [0, 0, 0, 0], [900_000, 900_000, 900_000, 900_000]], ALL)
    .map((s) => `S${s.spatialLayer}T${s.temporalLayer}`), ['S0T3', 'S2T3']);
  assert.deepEqual(layerSteps(THREE_BY_THREE, { spatialLayer: 1, temporalLayer: 1 }).map((s) => `S${s.spatialLayer}T${s.temporalLayer}`),
    ['S0T0', 'S0T1', 'S0T3', 'S1T0', 'S1T1']);
});

test('no estimate: the target stays at the cap', () => {
  const changes = drive(new BandwidthLayerSelection(), 0, 10_000, undefined);
  assert.deepEqual(changes, []);
});

test('an estimate drop moves down at once to the highest layer that fits', () => {
  const p = new BandwidthLayerSelection();
  assert.deepEqual(drive(p, 0, 5000, 5_000_000), [], 'everything fits: stays at the top');
  const down = drive(p, 5000, 5250, 500_000);
  assert.equal(down.length, 1);
  assert.equal(layers(down[0]), 'S1T1', '450k is the highest step under 500k');
  assert.equal(down[0]!.reason, 'estimate');
  assert.equal(down[0]!.bitrateBps, 450_000);
  // A deeper drop: straight to the lowest step; below it the lowest is kept.
  assert.equal(layers(drive(p, 5250, 5500, 50_000)[0]), 'S0T0');
  assert.deepEqual(drive(p, 5500, 8000, 10_000), []);
});

test('up only after the estimate held for upHoldMs, one step at a time', () => {
  const p = new BandwidthLayerSelection({ upHoldMs: 2000, upUtilization: 0.9 });
  assert.equal(layers(drive(p, 0, 250, 120_000)[0]), 'S0T0');
  // 2 Mbit/s carries the top, but each step up waits its own 2 s hold.
  const ups = drive(p, 250, 250 + 8 * 2000 + 250, 2_000_000);
  assert.deepEqual(ups.map(layers), ['S0T1', 'S0T3', 'S1T0', 'S1T1', 'S1T3', 'S2T0', 'S2T1', 'S2T3']);
  for (let i = 1; i < ups.length; i++) assert.ok(ups[i]!.bitrateBps >= ups[i - 1]!.bitrateBps);
  assert.ok(ups.every((c) => c.reason === 'estimate'));
});

test('an estimate that flickers above the next layer does not move up', () => {
  const p = new BandwidthLayerSelection({ upHoldMs: 2000 });
  assert.equal(layers(drive(p, 0, 250, 500_000)[0]), 'S1T1');
  const changes: LayerSelectionChange[] = [];
  // 700k would carry S1T3 (600k / 0.9 = 667k) but never for 2 s in a row.
  for (let i = 0; i < 20; i++) changes.push(...drive(p, 250 + i * 1000, 250 + i * 1000 + 1000, i % 2 === 0 ? 700_000 : 500_000));
  assert.deepEqual(changes, []);
});

test('the current layer stays while it fits the whole estimate; a higher one must fit upUtilization of it', () => {
  const p = new BandwidthLayerSelection({ upHoldMs: 1000, upUtilization: 0.9 });
  assert.equal(layers(drive(p, 0, 250, 620_000)[0]), 'S1T3', '600k fits 620k');
  assert.deepEqual(drive(p, 250, 10_000, 620_000), []);
  // 850k: S2T0 (800k) fits 850k but not 0.9 × 850k = 765k: no move up.
  assert.deepEqual(drive(p, 10_000, 20_000, 850_000), []);
});

test('loss: one step down per report at or above lossDownFraction, and no move up while loss is above lossHoldFraction', () => {
  const p = new BandwidthLayerSelection({ upHoldMs: 1000, lossStepMs: 1000 });
  assert.deepEqual(drive(p, 0, 1000, 5_000_000), []);
  const down = drive(p, 1000, 3000, 5_000_000, { lossFraction: 0.2 });
  assert.deepEqual(down.map(layers), ['S2T1', 'S2T0'], 'one step per second of reports');
  assert.ok(down.every((c) => c.reason === 'loss'));
  assert.deepEqual(drive(p, 3000, 8000, 5_000_000, { lossFraction: 0.05 }), [], 'held by 5 % loss');
  assert.deepEqual(drive(p, 8000, 8000 + 2 * 1000 + 250, 5_000_000, { lossFraction: 0 }).map(layers), ['S2T1', 'S2T3'], 'up again without loss');
});

test('a lower cap moves the target under it at once; a layer that stops arriving is left', () => {
  const p = new BandwidthLayerSelection();
  assert.deepEqual(drive(p, 0, 1000, 5_000_000), []);
  const capped = drive(p, 1000, 1250, 5_000_000, { cap: { spatialLayer: 1, temporalLayer: 0 } });
  assert.equal(layers(capped[0]), 'S1T0');
  assert.equal(capped[0]!.reason, 'cap');
  const stopped = drive(p, 1250, 1500, 5_000_000, {
    cap: { spatialLayer: 1, temporalLayer: 0 },
    bitrates: [THREE_BY_THREE[0]!, [0, 0, 0, 0], THREE_BY_THREE[2]!],
  });
  assert.equal(layers(stopped[0]), 'S0T3');
  assert.equal(stopped[0]!.reason, 'layer-stopped');
});

test('consumers of one connection share its estimate', () => {
  const p = new BandwidthLayerSelection();
  const two = (estimateBps: number, now: number): readonly LayerSelectionChange[] => p.update(now, {
    estimateBps,
    reservedBps: 50_000,
    consumers: [{ id: 1, bitrates: THREE_BY_THREE, cap: ALL }, { id: 2, bitrates: THREE_BY_THREE, cap: ALL }],
  });
  const changes = two(1_250_000, 0);
  const byId = new Map(changes.map((c) => [c.id, c]));
  // 1.2M for two: S1T3 (600k) each.
  assert.equal(layers(byId.get(1)), 'S1T3');
  assert.equal(layers(byId.get(2)), 'S1T3');
});

test('consumers that together send more than the estimate move down at once, even when each alone fits', () => {
  const p = new BandwidthLayerSelection();
  const two = (estimateBps: number, now: number): readonly LayerSelectionChange[] => p.update(now, {
    estimateBps,
    consumers: [{ id: 1, bitrates: THREE_BY_THREE, cap: ALL }, { id: 2, bitrates: THREE_BY_THREE, cap: ALL }],
  });
  const start = new Map(two(1_250_000, 0).map((c) => [c.id, c]));
  assert.equal(layers(start.get(1)), 'S1T3');
  assert.equal(layers(start.get(2)), 'S1T3');
  // 2 × 600k = 1.2M over 800k, though neither 600k alone is: both move at the first look.
  const down = two(800_000, 250);
  assert.equal(down.length, 2, `both move down: ${down.map(layers).join(', ')}`);
  assert.ok(down.every((c) => c.reason === 'estimate'));
  const sum = down.reduce((total, c) => total + c.bitrateBps, 0);
  assert.ok(sum <= 800_000, `the pair now fits the estimate: ${sum}`);
  assert.deepEqual(down.map(layers).sort(), ['S1T0', 'S1T1'], 'the largest shares that fit together');
  // Fitting now, they stay (no move up without the hold, none down).
  assert.deepEqual(two(800_000, 500), []);
});

test('a policy ignores an older now', () => {
  const p = new BandwidthLayerSelection();
  drive(p, 0, 1000, 5_000_000);
  assert.deepEqual(p.update(500, { estimateBps: 10_000, consumers: [{ id: 1, bitrates: THREE_BY_THREE, cap: ALL }] }), []);
});

test('meter: cumulative bitrates over the window from byte counters; a counter that restarts counts from 0', () => {
  const m = new LayerBitrateMeter({ windowMs: 1000 });
  assert.deepEqual(m.update(0, [[0, 0, 0, 0]]), [[0, 0, 0, 0]]);
  // 500 ms later: 10 000 B in TID 0, 5 000 B in TID 1 → 160k and 240k cumulative.
  assert.deepEqual(m.update(500, [[10_000, 5_000, 0, 0]]), [[160_000, 240_000, 240_000, 240_000]]);
  // After the window, the base moves: from 500 ms to 1500 ms, 12 500 B more in TID 0.
  assert.deepEqual(m.update(1500, [[22_500, 5_000, 0, 0]]).map((r) => r.map(Math.round)), [[100_000, 100_000, 100_000, 100_000]]);
  assert.deepEqual(m.update(1400, [[0, 0, 0, 0]]), m.bitrates, 'an older now is ignored');
  const restarted = m.update(2500, [[1000, 0, 0, 0]]);
  assert.equal(Math.round(restarted[0]![0]!), 8000);
});
