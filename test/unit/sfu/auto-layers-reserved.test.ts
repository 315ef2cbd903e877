// lib/sfu/auto-layers.ts (docs/sfu.md "Automatic layer selection"): what a subscriber connection's
// other consumers receive (audio, layers not chosen automatically) is measured and passed to its
// policy as reservedBps. Synthetic byte counters on a virtual clock; the policy records its input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AutoLayerDriver } from '../../../lib/sfu/auto-layers.js';
import type { Consumer } from '../../../lib/sfu/consumer.js';
import type { Producer } from '../../../lib/sfu/producer.js';
import type { LayerSelectionInput, LayerSelectionPolicy } from '../../../lib/policy/layer-selection.js';

/** A single-stream producer whose receive counter grows `bytesPerMs` per ms of `clock.now`. */
function producer(bytesPerMs: number, clock: { now: number }): { p: Producer; read(out: Float64Array): void } {
  const p = { closed: false, layerCount: 1 } as unknown as Producer;
  return { p, read: (out) => { out.fill(0); out[1] = bytesPerMs * clock.now; } };
}

function consumer(id: number, p: Producer): Consumer {
  return {
    id, producer: p, closed: false, paused: false, currentLayers: null,
    targetLayers: { spatialLayer: 0, temporalLayer: 3 }, preferredLayers: { spatialLayer: 0 },
    applyAutoTarget: () => undefined,
  } as unknown as Consumer;
}

test('auto layers: the connection\'s audio and non-automatic consumers are measured and taken off as reservedBps', () => {
  const clock = { now: 0 };
  const video = producer(100, clock); // 800 kbit/s
  const audio = producer(8, clock); // 64 kbit/s
  const other = producer(50, clock); // 400 kbit/s, received by another connection only
  const readers = new Map([[video.p, video.read], [audio.p, audio.read], [other.p, other.read]]);
  const inputs: LayerSelectionInput[] = [];
  const policy: LayerSelectionPolicy = { update: (_now, input) => (inputs.push(input), []), remove: () => undefined };
  const auto = consumer(1, video.p);
  const audioConsumer = consumer(2, audio.p);
  const elsewhere = consumer(3, other.p);
  const leg = {};
  const connections = new Map<object, Consumer[]>([[leg, [auto, audioConsumer]], [{}, [elsewhere]]]);
  const driver = new AutoLayerDriver(() => policy, (p, _layer, out) => (readers.get(p)!(out), true), undefined, (key) => connections.get(key) ?? []);
  try {
    driver.add(auto, leg);
    for (clock.now = 0; clock.now <= 3000; clock.now += 250) driver.look(clock.now);
    const last = inputs[inputs.length - 1]!;
    assert.equal(last.consumers.length, 1, 'only the automatic consumer is chosen for');
    assert.equal(last.reservedBps, 64_000, 'the audio consumer of the same connection, nothing of another one');
    // Paused, it receives nothing: nothing is taken off.
    (audioConsumer as unknown as { paused: boolean }).paused = true;
    clock.now += 250;
    driver.look(clock.now);
    assert.equal(inputs[inputs.length - 1]!.reservedBps, 0);
  } finally {
    driver.stop();
  }
});
