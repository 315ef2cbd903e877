// The echo server's offer queue (lib/echo/offer-queue.ts): one job at a time, in order, each in a
// later event-loop turn than the previous one's end, errors going to their own caller only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OfferQueue } from '../../../lib/echo/offer-queue.js';

test('jobs run one at a time in order, another callback runs between two jobs, a failing job rejects only its own caller', async () => {
  const q = new OfferQueue();
  const log: string[] = [];
  let running = 0;
  const job = (name: string, fail = false) => async (): Promise<string> => {
    running++;
    assert.equal(running, 1, 'two jobs ran at once');
    log.push(`start ${name}`);
    await Promise.resolve();
    log.push(`end ${name}`);
    running--;
    if (fail) throw new Error(`${name} failed`);
    return name;
  };
  const a = q.run(job('a'));
  const b = q.run(job('b', true));
  const c = q.run(job('c'));
  assert.equal(q.pending, 3);
  // Queued after a's turn: it runs once a has ended and before b starts (b waits for a later turn).
  setImmediate(() => log.push('between'));
  assert.equal(await a, 'a');
  await assert.rejects(b, /b failed/);
  assert.equal(await c, 'c');
  assert.equal(q.pending, 0);
  assert.deepEqual(log, ['start a', 'end a', 'between', 'start b', 'end b', 'start c', 'end c']);
  // Empty again: a new job starts on its own.
  assert.equal(await q.run(job('d')), 'd');
});
