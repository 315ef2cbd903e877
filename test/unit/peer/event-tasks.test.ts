// lib/peer/event-tasks.ts: one first-in first-out queue of event tasks; a task that called a
// listener ends its immediate (the microtask checkpoint comes before the next task), the tasks that
// called none share one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { queueEventTask } from '../../../lib/peer/event-tasks.js';

/** Resolves after `n` turns of setImmediate. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('event task queue', () => {
  it('runs tasks without listeners in order, in one immediate', async () => {
    const log: string[] = [];
    for (let i = 0; i < 5; i++) {
      queueEventTask(() => {
        log.push(`t${i}`);
        queueMicrotask(() => log.push(`m${i}`));
        return false;
      }, false);
    }
    // The checkpoint after the one immediate runs every task's microtask after the last task.
    setImmediate(() => log.push('after'));
    await turns(2);
    assert.deepEqual(log, ['t0', 't1', 't2', 't3', 't4', 'm0', 'm1', 'm2', 'm3', 'm4', 'after']);
  });

  it("ends the immediate after a task that called a listener: its microtasks run before the next task", async () => {
    const log: string[] = [];
    for (let i = 0; i < 3; i++) {
      queueEventTask(() => {
        log.push(`t${i}`);
        queueMicrotask(() => log.push(`m${i}`));
        return true;
      }, true);
    }
    // Each listened task had its immediate scheduled when it was queued: all run in this turn, before one queued later.
    setImmediate(() => log.push('after'));
    await turns(2);
    assert.deepEqual(log, ['t0', 'm0', 't1', 'm1', 't2', 'm2', 'after']);
  });

  it('keeps the order when a listener appears after its task was queued', async () => {
    const log: string[] = [];
    queueEventTask(() => {
      log.push('a');
      queueMicrotask(() => log.push('a-micro'));
      return true; // a listener added after queueing
    }, false);
    queueEventTask(() => {
      log.push('b');
      return false;
    }, false);
    queueEventTask(() => {
      log.push('c');
      queueMicrotask(() => log.push('c-micro'));
      return true;
    }, true);
    queueEventTask(() => {
      log.push('d');
      return false;
    }, false);
    await turns(4);
    assert.deepEqual(log, ['a', 'a-micro', 'b', 'c', 'c-micro', 'd']);
  });

  it('runs a task queued by a running task at a later immediate', async () => {
    const log: string[] = [];
    queueEventTask(() => {
      log.push('first');
      queueEventTask(() => {
        log.push('queued-by-first');
        return false;
      }, false);
      return false;
    }, false);
    setImmediate(() => log.push('immediate'));
    await turns(3);
    assert.deepEqual(log, ['first', 'immediate', 'queued-by-first']);
  });

  it('drains a long queue of listened tasks (queue compaction) in order', async () => {
    const seen: number[] = [];
    const N = 3000;
    for (let i = 0; i < N; i++) {
      queueEventTask(() => {
        seen.push(i);
        return i % 2 === 0;
      }, i % 2 === 0);
    }
    for (let t = 0; t < 100 && seen.length < N; t++) await turns(1);
    assert.equal(seen.length, N);
    for (let i = 0; i < N; i++) assert.equal(seen[i], i);
  });
});
