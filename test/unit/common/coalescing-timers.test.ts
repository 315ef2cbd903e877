// CoalescingTimers (lib/common/coalescing-timers.ts) with real Node timers: far deadlines that fall
// within each other's allowance run in one callback, near ones keep their order, none runs before
// its time or twice, rescheduling replaces, cancel stops, and a throwing callback is reported
// without stopping the others. The heap is checked with 200 timers in random order. A keepAlive
// group (the ICE transports') keeps a process alive until its timer ran; the default one does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CoalescingTimers } from '../../../lib/common/coalescing-timers.js';
import { SeededRng } from '../../../lib/common/rng.js';

const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `done()` holds (bounded: 10 s), so a stalled event loop delays the test, never fails it. */
async function until(done: () => boolean): Promise<void> {
  for (const end = performance.now() + 10_000; !done() && performance.now() < end; ) await settle(20);
}

test('deadlines within the allowance run in one callback; a near one keeps its order', async () => {
  const group = new CoalescingTimers();
  const log: string[] = [];
  const turns = new Map<string, number>();
  const ranAt = new Map<string, number>();
  let turn = 0;
  const mark = (name: string) => () => {
    log.push(name);
    turns.set(name, turn);
    ranAt.set(name, performance.now());
    queueMicrotask(() => turn++);
  };
  const a = group.create(mark('a'));
  const b = group.create(mark('b'));
  const c = group.create(mark('c'));
  const start = performance.now();
  group.schedule(a, 200); // may run until 210
  group.schedule(b, 205); // due by then: runs in the same callback
  group.schedule(c, 20); // 1 ms allowance: alone, first
  await until(() => log.length === 3);
  assert.deepEqual(log, ['c', 'a', 'b']);
  assert.equal(turns.get('a'), turns.get('b'), 'a and b ran in one callback');
  // A loop stalled past a's time runs everything due in one callback; otherwise c ran alone.
  if (ranAt.get('c')! < start + 200) assert.ok(turns.get('c')! < turns.get('a')!, 'c ran in a callback of its own');
  assert.ok(ranAt.get('a')! >= start + 200 && ranAt.get('b')! >= start + 205, 'none ran early');
  assert.equal(group.size, 0);
});

test('reschedule replaces, cancel stops, a throwing callback does not stop the others', async () => {
  const group = new CoalescingTimers();
  const ran: string[] = [];
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => {
    warnings.push(w);
  };
  process.on('warning', onWarning);
  try {
    const a = group.create(() => ran.push('a'));
    const b = group.create(() => ran.push('b'));
    const bad = group.create(() => {
      throw new Error('boom');
    });
    group.schedule(a, 500);
    group.schedule(a, 10); // replaces the 500 ms schedule
    group.schedule(b, 10);
    group.cancel(b);
    group.schedule(bad, 5);
    // Waits for the group to empty, not a fixed time: the deadlines are on performance.now, while a
    // test timer counts on Node's loop clock, which lags it after a long tick under load (a fixed
    // 100 ms wait once ended before a's 10 ms deadline). Once empty, nothing can run any more:
    // b was cancelled and a's 500 ms schedule was replaced, so neither may have run.
    await until(() => group.size === 0 && warnings.some((w) => String(w.message).includes('boom')));
    assert.equal(group.size, 0);
    assert.deepEqual(ran, ['a']);
    assert.ok(warnings.some((w) => String(w.message).includes('boom')), 'the error was reported as a warning');
  } finally {
    process.off('warning', onWarning);
  }
});

test('200 timers in random order: each runs once, never before its time', async () => {
  const group = new CoalescingTimers();
  const rng = new SeededRng(7);
  const ran = new Map<number, number>();
  const due = new Map<number, number>();
  for (let i = 0; i < 200; i++) {
    const delay = Math.floor(rng.float() * 150);
    const t = group.create(() => {
      ran.set(i, (ran.get(i) ?? 0) + 1);
      assert.ok(performance.now() >= due.get(i)! - 0.001, `timer ${i} not early`);
    });
    due.set(i, performance.now() + delay);
    group.schedule(t, delay);
  }
  await until(() => ran.size === 200);
  assert.equal(ran.size, 200);
  await settle(50);
  for (const n of ran.values()) assert.equal(n, 1);
});

test('a keepAlive group keeps the process alive until its timer ran; the default group does not', () => {
  const module = fileURLToPath(new URL('../../../lib/common/coalescing-timers.ts', import.meta.url));
  const run = (keepAlive: boolean): string => {
    const script = `import { CoalescingTimers } from ${JSON.stringify(module)};
const group = new CoalescingTimers(undefined, ${keepAlive});
group.schedule(group.create(() => console.log('ran')), 300);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  assert.equal(run(true), 'ran');
  assert.equal(run(false), '');
});
