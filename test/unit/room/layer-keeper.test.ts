// The room's simulcast layer policy (lib/room/layer-keeper.ts): live layers from packet counters,
// and the layer a subscriber gets for the one it asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseLayer, LiveLayers } from '../../../lib/room/layer-keeper.js';

test('LiveLayers: a layer is live while its counter moved within holdMs; unknown streams never are', () => {
  const l = new LiveLayers({ holdMs: 1500 });
  assert.deepEqual(l.update(0, [10, undefined, undefined]), [0]);
  assert.deepEqual(l.update(1000, [20, 5, undefined]), [0, 1]);
  assert.deepEqual(l.update(2000, [30, 5, 1]), [0, 1, 2], 'layer 1 still for one look: kept (1000 ms < holdMs)');
  assert.deepEqual(l.update(3000, [40, 5, 2]), [0, 2], 'layer 1 still for two looks: given up');
  assert.deepEqual(l.update(4000, [40, 5, 2]), [0, 2], 'one still look keeps every layer that moved before');
  assert.deepEqual(l.update(5000, [40, 5, 2]), [], 'nothing moved for two looks');
  assert.deepEqual(l.live, []);
  assert.deepEqual(l.update(6000, [41, 6, 3]), [0, 1, 2], 'a layer that comes back is live at once');
  assert.deepEqual(l.update(6100, [41, undefined, 3]), [0, 2], 'a stream that is unknown again is not live');
  assert.deepEqual(l.update(6200, [41, 7, 3]), [0, 1, 2], 'known again and moving');
});

test('LiveLayers: a late look (a busy event loop) longer than holdMs after the last gives up only what stayed still', () => {
  const l = new LiveLayers();
  l.update(0, [1, 1, 1]);
  assert.deepEqual(l.update(1000, [2, 2, 2]), [0, 1, 2]);
  assert.deepEqual(l.update(4000, [3, 3, 2]), [0, 1]);
});

test('chooseLayer: the highest live layer not above the wish, else the lowest live, else the wish', () => {
  assert.equal(chooseLayer(2, [0, 1, 2]), 2);
  assert.equal(chooseLayer(2, [0, 1]), 1, 'the top layer is off: one below');
  assert.equal(chooseLayer(1, [0, 2]), 0);
  assert.equal(chooseLayer(0, [1, 2]), 1, 'nothing at or below the wish: the lowest live layer');
  assert.equal(chooseLayer(0, [0, 1, 2]), 0);
  assert.equal(chooseLayer(2, []), 2, 'nothing live: keep the wish');
});
