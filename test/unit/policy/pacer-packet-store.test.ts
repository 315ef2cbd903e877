// The pacer module's hold store (lib/policy/pacer-packet-store.ts): a pool of fixed-size slots;
// checked against a plain array over random pushes and releases, growth, the bound and clear.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketStore } from '../../../lib/policy/pacer-packet-store.js';
import { SeededRng } from '../../../lib/common/rng.js';

test('random pushes and releases keep every held packet intact; the bound refuses, never overwrites', () => {
  for (const seed of [1, 2, 3]) {
    const rng = new SeededRng(seed);
    const store = new PacketStore(1500, 16, 256);
    const held: { slot: number; data: Buffer }[] = [];
    let refused = 0;
    for (let step = 0; step < 20_000; step++) {
      if (rng.float() < 0.6) {
        const data = Buffer.alloc(1 + (rng.uint32() % 1500), step & 0xff);
        const slot = store.push(data);
        if (slot < 0) refused++;
        else held.push({ slot, data });
      } else if (held.length > 0) {
        // Release in any order (the pacer releases by priority, not by arrival).
        const [e] = held.splice(rng.uint32() % held.length, 1);
        assert.deepEqual(store.view(e!.slot, e!.data.length), e!.data, `seed ${seed} step ${step}`);
        store.release(e!.slot);
      }
      assert.equal(store.size, held.length);
    }
    for (const e of held) assert.deepEqual(store.view(e.slot, e.data.length), e.data);
    assert.ok(refused > 0, 'the bound of 256 slots was reached');
    store.clear();
    assert.equal(store.size, 0);
    assert.equal(store.push(Buffer.alloc(1501)), -1, 'larger than a slot: refused');
  }
});
