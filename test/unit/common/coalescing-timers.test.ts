// CoalescingTimers (lib/common/coalescing-timers.ts): on Node's mock timers (a fake clock), far
// deadlines that fall within each other's allowance run in one callback, near ones keep their order,
// a stalled loop runs what is due; with real Node timers none runs before its time or twice,
// rescheduling replaces, cancel stops, and a throwing callback is reported without stopping the
// others. The heap is checked with 200 timers in random order. A keepAlive
// group (the ICE transports') keeps a process alive until its timer ran; the default one does not.
import { test, type TestContext } from 'node:test';
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

/**
 * Runs `body` with Node's mock timers (setTimeout and Date on one fake clock that moves only by
 * `tick`), counting the mock timer's wakes, so which callback ran a timer is known exactly and no
 * wall time or loop stall enters the result.
 */
function withFakeClock(t: TestContext, body: (wakes: () => number) => void): void {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const mockSetTimeout = globalThis.setTimeout;
  let wakes = 0;
  const counting = ((fn: () => void, ms?: number) =>
    mockSetTimeout(() => {
      wakes++;
      fn();
    }, ms)) as unknown as typeof setTimeout;
  globalThis.setTimeout = counting;
  try {
    body(() => wakes);
  } finally {
    globalThis.setTimeout = mockSetTimeout;
  }
}

/** A group on the fake clock with timers a (200 ms), b (205 ms) and c (20 ms) that log when and in which wake they ran. */
function threeTimers(wakes: () => number): { group: CoalescingTimers; log: { name: string; at: number; wake: number }[] } {
  const group = new CoalescingTimers(() => Date.now());
  const log: { name: string; at: number; wake: number }[] = [];
  const mark = (name: string) => () => log.push({ name, at: Date.now(), wake: wakes() });
  const a = group.create(mark('a'));
  const b = group.create(mark('b'));
  const c = group.create(mark('c'));
  group.schedule(a, 200); // may run until 210
  group.schedule(b, 205); // due by then: runs in the same callback
  group.schedule(c, 20); // 1 ms allowance: alone, first
  return { group, log };
}

test('deadlines within the allowance run in one callback; a near one keeps its order', (t) => {
  withFakeClock(t, (wakes) => {
    const { group, log } = threeTimers(wakes);
    for (let ms = 0; ms < 300 && group.size > 0; ms++) t.mock.timers.tick(1);
    assert.deepEqual(
      log.map((e) => e.name),
      ['c', 'a', 'b'],
    );
    const [c, a, b] = log as [(typeof log)[0], (typeof log)[0], (typeof log)[0]];
    assert.equal(c.at, 21, 'c ran at its latest time (20 ms + 1 ms allowance)');
    assert.equal(a.at, 210, 'a ran at its latest time (200 ms + 10 ms allowance)');
    assert.equal(b.at, 210, 'b, due by then, ran with a');
    assert.equal(a.wake, b.wake, 'a and b ran in one callback');
    assert.notEqual(c.wake, a.wake, 'c ran in a callback of its own');
    assert.equal(group.size, 0);
  });
});

test('a loop stalled past every deadline runs them in one callback, in order, none early', (t) => {
  withFakeClock(t, (wakes) => {
    const { group, log } = threeTimers(wakes);
    t.mock.timers.tick(300); // one long tick: the first wake comes at 300 ms
    assert.deepEqual(
      log.map((e) => e.name),
      ['c', 'a', 'b'],
    );
    assert.ok(log.every((e) => e.at === 300 && e.wake === log[0]!.wake));
    assert.equal(group.size, 0);
  });
});

test('a stall between two deadlines runs what is due and leaves the rest for its own time', (t) => {
  withFakeClock(t, (wakes) => {
    const { group, log } = threeTimers(wakes);
    t.mock.timers.tick(202); // c's wake comes at 202 ms: a (200) is due, b (205) is not
    assert.deepEqual(
      log.map((e) => e.name),
      ['c', 'a'],
    );
    assert.equal(log[0]!.wake, log[1]!.wake);
    for (let ms = 202; ms < 300 && group.size > 0; ms++) t.mock.timers.tick(1);
    assert.equal(log[2]?.name, 'b');
    assert.ok(log[2]!.at >= 205 && log[2]!.at <= 216, `b ran within its allowance (at ${log[2]!.at})`);
    assert.equal(group.size, 0);
  });
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
