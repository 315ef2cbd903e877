// The room's simulcast layer policy (lib/room/layer-keeper.ts): live layers from packet counters,
// and the layer a subscriber gets for the one it asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseLayer, LiveLayers } from '../../../lib/room/layer-keeper.js';

test('LiveLayers: a layer is live when its counter moved since the last look; unknown streams never are', () => {
  const l = new LiveLayers();
  assert.deepEqual(l.update([10, undefined, undefined]), [0]);
  assert.deepEqual(l.update([20, 5, undefined]), [0, 1]);
  assert.deepEqual(l.update([30, 5, 1]), [0, 2], 'layer 1 stopped, layer 2 started');
  assert.deepEqual(l.update([30, 5, 1]), [], 'nothing moved');
  assert.deepEqual(l.live, []);
  assert.deepEqual(l.update([31, 6, 2]), [0, 1, 2]);
});

test('chooseLayer: the highest live layer not above the wish, else the lowest live, else the wish', () => {
  assert.equal(chooseLayer(2, [0, 1, 2]), 2);
  assert.equal(chooseLayer(2, [0, 1]), 1, 'the top layer is off: one below');
  assert.equal(chooseLayer(1, [0, 2]), 0);
  assert.equal(chooseLayer(0, [1, 2]), 1, 'nothing at or below the wish: the lowest live layer');
  assert.equal(chooseLayer(0, [0, 1, 2]), 0);
  assert.equal(chooseLayer(2, []), 2, 'nothing live: keep the wish');
});
