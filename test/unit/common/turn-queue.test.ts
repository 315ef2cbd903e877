// TurnQueue (lib/common/turn-queue.ts): one setImmediate per queue and turn, callbacks in queuing
// order, a callback queued while the queue runs waits for the next turn, and a throwing callback is
// reported as a warning while the ones after it still run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TurnQueue } from '../../../lib/common/turn-queue.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('TurnQueue', () => {
  it('runs the callbacks of a turn in queuing order, after the turn, in one immediate', async () => {
    const q = new TurnQueue();
    const log: string[] = [];
    q.push(() => log.push('a'));
    q.push(() => log.push('b'));
    setImmediate(() => log.push('other immediate'));
    q.push(() => log.push('c'));
    assert.deepEqual(log, []);
    assert.equal(q.size, 3);
    await nextTurn();
    await nextTurn();
    // One immediate for the queue, made by the first push: it runs before the one made after it.
    assert.deepEqual(log, ['a', 'b', 'c', 'other immediate']);
    assert.equal(q.size, 0);
  });

  it('a callback queued while the queue runs waits for the next turn', async () => {
    const q = new TurnQueue();
    const log: string[] = [];
    q.push(() => {
      log.push('first');
      q.push(() => log.push('queued during the run'));
      setImmediate(() => log.push('immediate made during the run'));
    });
    q.push(() => log.push('second'));
    await nextTurn();
    assert.deepEqual(log, ['first', 'second']);
    assert.equal(q.size, 1);
    await nextTurn();
    await nextTurn();
    assert.deepEqual(log, ['first', 'second', 'queued during the run', 'immediate made during the run']);
  });

  it('a throwing callback is reported as a warning and the callbacks after it still run', async () => {
    const q = new TurnQueue();
    const log: string[] = [];
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    try {
      q.push(() => log.push('before'));
      q.push(() => {
        throw new Error('listener bug');
      });
      q.push(() => log.push('after'));
      await nextTurn();
      await nextTurn();
      assert.deepEqual(log, ['before', 'after']);
      assert.equal(warnings.length, 1);
      assert.equal((warnings[0] as Error & { code?: string }).code, 'PWT_LISTENER_ERROR');
      assert.match(warnings[0]!.message, /listener bug/);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
