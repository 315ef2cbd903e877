// IdList (lib/ice/id-list.ts): the ICE agent's transaction table keeps insertion order, replaces
// by id, and removes in place while it is walked by index.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdList } from '../../../lib/ice/id-list.js';

const ids = (l: IdList<{ id: number; v: string }>): number[] => Array.from({ length: l.size }, (_, i) => l.at(i).id);

test('set appends, replaces an entry of the same id at the end, get/has/delete by id', () => {
  const l = new IdList<{ id: number; v: string }>();
  l.set({ id: 5, v: 'a' });
  l.set({ id: 9, v: 'b' });
  l.set({ id: 2, v: 'c' });
  assert.deepEqual(ids(l), [5, 9, 2]);
  l.set({ id: 9, v: 'd' });
  assert.deepEqual(ids(l), [5, 2, 9]);
  assert.equal(l.get(9)?.v, 'd');
  assert.ok(l.has(2));
  assert.ok(!l.has(7));
  assert.equal(l.delete(5), true);
  assert.equal(l.delete(5), false);
  assert.deepEqual(ids(l), [2, 9]);
  l.clear();
  assert.equal(l.size, 0);
  assert.equal(l.get(2), undefined);
});

test('removing the entry at the walk position while walking by index visits every other entry once', () => {
  const l = new IdList<{ id: number; v: string }>();
  for (let id = 0; id < 10; id++) l.set({ id, v: '' });
  const seen: number[] = [];
  for (let i = 0; i < l.size; ) {
    const e = l.at(i);
    seen.push(e.id);
    if (e.id % 3 === 0) l.delete(e.id);
    else i++;
  }
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(ids(l), [1, 2, 4, 5, 7, 8]);
});
