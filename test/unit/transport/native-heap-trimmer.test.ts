// The C-heap trim schedule (lib/transport/native-heap-trimmer.ts) on a virtual clock: a quiet
// delay after the last freeing event, a bound on how long a burst postpones it, a gap after each
// trim that grows with its cost; and the thread's trimmer over the real addon: a connected pair's
// handshakes and closes lead to a trim that gives pages back (glibc), without keeping the process alive.
// The JS-heap relief before a trim: only once a burst is quiet, only with a grown young generation,
// rate-limited (one held back by the limit comes once it has passed), and after a long quiet once
// bursts come soon after a relief; and V8's memory-pressure call really shrinks a grown young
// generation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { getHeapSpaceStatistics } from 'node:v8';
import { NativeHeapTrimSchedule, NativeHeapTrimmer, nativeHeapTrimmer, type JsHeapReliefPolicy, type NativeHeapTrimPolicy } from '../../../lib/transport/native-heap-trimmer.js';
import { trimNativeHeap } from '../../../lib/native/native-heap-trim.js';
import { relieveJsHeap } from '../../../lib/native/relieve-js-heap.js';
import { RTCPeerConnection } from '../../../lib/peer/peer-connection.js';
import { negotiate, within } from '../../integration/peer-helpers.js';

const policy: NativeHeapTrimPolicy = { delayMs: 100, maxWaitMs: 2000, minIntervalMs: 250, maxShare: 0.05 };

test('schedule: nothing due until memory is freed; then the quiet delay after the last event', () => {
  const s = new NativeHeapTrimSchedule(policy);
  assert.equal(s.dueAt(), undefined);
  assert.equal(s.note(1000), 1100);
  assert.equal(s.note(1050), 1150);
  assert.equal(s.dueAt(), 1150);
});

test('schedule: a burst that never goes quiet is trimmed maxWaitMs after its first event', () => {
  const s = new NativeHeapTrimSchedule(policy);
  s.note(0);
  for (let t = 10; t < 5000; t += 10) s.note(t);
  assert.equal(s.dueAt(), 2000);
});

test('schedule: a trim serves what was freed before it; the next waits minIntervalMs, or cost / maxShare', () => {
  const s = new NativeHeapTrimSchedule(policy);
  s.note(0);
  s.trimmed(100, 2);
  assert.equal(s.dueAt(), undefined);
  // Cheap trim: the minimum interval (250 ms after its end).
  assert.equal(s.note(110), 352);
  s.trimmed(352, 30);
  // A 30 ms trim may run at most 5 % of the time: 600 ms of gap after its end.
  assert.equal(s.note(400), 382 + 600);
  // Events at the trim's own start are served by it.
  const t = new NativeHeapTrimSchedule(policy);
  t.note(50);
  t.trimmed(50, 1);
  assert.equal(t.dueAt(), undefined);
});

test("schedule: a burst's end awaited for a quiet time is one trim that long after the last event; later events move it", () => {
  const s = new NativeHeapTrimSchedule(policy);
  s.note(0);
  s.note(90);
  s.trimmed(190, 1);
  s.awaitQuiet(190, 5000);
  // One trim at the quiet's end, not one every minimum interval until then.
  assert.equal(s.dueAt(), 5090);
  // An event meanwhile: a trim after its delay, then the quiet counts from that event.
  assert.equal(s.note(1000), 1100);
  s.trimmed(1100, 1);
  s.awaitQuiet(1100, 5000);
  assert.equal(s.dueAt(), 6000);
  // The trim at the quiet's end serves it: nothing more is due.
  s.trimmed(6000, 1);
  assert.equal(s.dueAt(), undefined);
  // Already quiet when asked: nothing to await.
  s.awaitQuiet(6000, 5000);
  assert.equal(s.dueAt(), undefined);
});

test('schedule: a trim awaited at a time is due then (not before the gap after the last trim), and served by a trim at it', () => {
  const s = new NativeHeapTrimSchedule(policy);
  s.note(0);
  s.trimmed(100, 1);
  s.awaitTime(3000);
  assert.equal(s.dueAt(), 3000);
  // Events meanwhile bring a trim sooner; the awaited one stays due after it.
  assert.equal(s.note(1000), 1100);
  s.trimmed(1100, 1);
  assert.equal(s.dueAt(), 3000);
  // At most 1 ms early, as a timer may fire by performance.now(): served.
  s.trimmed(2999.5, 1);
  assert.equal(s.dueAt(), undefined);
  // Awaited before the gap after a trim ends: due at the gap's end.
  s.awaitTime(3100);
  assert.equal(s.dueAt(), 3000.5 + 250);
  s.trimmed(3250.5, 1);
  // A new burst's trim before its quiet end drops an awaited time: the quiet end decides again.
  s.awaitTime(6000);
  s.note(3400);
  s.trimmed(3500, 1);
  s.awaitQuiet(3500, 5000);
  assert.equal(s.dueAt(), 8400);
});

test('trimNativeHeap reports released, nothing-released or unsupported and never throws', () => {
  for (let i = 0; i < 3; i++) assert.ok(['released', 'nothing-released', 'unsupported'].includes(trimNativeHeap()));
});

test('a disabled trimmer ignores freeing events', async () => {
  const off = new NativeHeapTrimmer(policy, false);
  off.noteFreed();
  await sleep(policy.delayMs + 50);
  assert.equal(off.stats.trims, 0);
  assert.equal(off.stats.active, false);
});

test("the thread's trimmer trims after a pair connects and closes", { timeout: 30_000 }, async () => {
  const before = nativeHeapTrimmer.stats.trims;
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    a.createDataChannel('x');
    const connected = (pc: RTCPeerConnection): Promise<void> =>
      new Promise((resolve) => {
        if (pc.connectionState === 'connected') resolve();
        pc.addEventListener('connectionstatechange', () => pc.connectionState === 'connected' && resolve());
      });
    const both = Promise.all([connected(a), connected(b)]);
    await negotiate(a, b);
    await within(both, 20_000, 'the pair to connect');
  } finally {
    a.close();
    b.close();
  }
  if (!nativeHeapTrimmer.stats.active) return; // not glibc (or PWT_NATIVE_HEAP_TRIM=0): nothing to trim
  const deadline = Date.now() + 20_000;
  while (nativeHeapTrimmer.stats.trims === before && Date.now() < deadline) await sleep(50);
  assert.ok(nativeHeapTrimmer.stats.trims > before, 'no trim within 20 s of the handshakes and closes');
  assert.ok(nativeHeapTrimmer.stats.longestMs >= 0);
});

const MiB = 1048576;
const relief: JsHeapReliefPolicy = { level: 'critical', minYoungBytes: 8 * MiB, minIntervalMs: 30_000, maxShare: 0.05, quietMs: 150, minEvents: 3, maxCriticalHeapBytes: 48 * MiB, maxCriticalPauseMs: Infinity, reburstMs: 0, reburstQuietMs: 0 };

/** `n` freeing events at once. */
function burst(t: NativeHeapTrimmer, n = 3): void {
  for (let i = 0; i < n; i++) t.noteFreed();
}

/** Waits until `cond()` or 5 s (a bound, not a timing assert). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !cond(); i++) await sleep(50);
}

test('relief: a quiet burst with a grown young generation asks V8 once; the next waits minIntervalMs', async () => {
  const t = new NativeHeapTrimmer(policy, true, relief, () => 32 * MiB);
  burst(t);
  await until(() => t.stats.jsHeapReliefs >= 1 || !t.stats.active);
  if (!t.stats.active) return; // not glibc: the trimmer (and its relief) stopped
  assert.equal(t.stats.jsHeapReliefs, 1);
  const trims = t.stats.trims;
  burst(t);
  await until(() => t.stats.trims > trims);
  await sleep(relief.quietMs + 100);
  assert.equal(t.stats.jsHeapReliefs, 1, 'a second relief within minIntervalMs');
  t.stop();
});

test('relief: one held back by minIntervalMs when its burst went quiet comes once the interval is over, with no new burst', async () => {
  const spaced = { ...relief, minIntervalMs: 700, maxShare: 1 };
  const t = new NativeHeapTrimmer({ delayMs: 30, maxWaitMs: 300, minIntervalMs: 50, maxShare: 1 }, true, spaced, () => 32 * MiB);
  // Before the first relief, so the bound below holds however late the polling notices it.
  const beforeFirst = performance.now();
  burst(t);
  await until(() => t.stats.jsHeapReliefs >= 1 || !t.stats.active);
  if (!t.stats.active) return; // not glibc: the trimmer (and its relief) stopped
  // A second burst goes quiet 150 ms later, inside the 700 ms interval: that trim has no relief.
  burst(t);
  await until(() => t.stats.jsHeapReliefs >= 2);
  // Before, the held-back relief waited for a next burst (here: for ever) with the young generation grown.
  assert.equal(t.stats.jsHeapReliefs, 2, 'the relief held back by the interval never came');
  // A lower bound only: never before the interval (a loaded machine may bring it later).
  assert.ok(performance.now() - beforeFirst >= spaced.minIntervalMs, 'relieved within minIntervalMs');
  await until(() => !t.pending);
  assert.equal(t.pending, false, 'a trim still pending after the held-back relief');
  t.stop();
});

test('relief: a held-back relief that finds the young generation shrunk when the interval is over is skipped, and nothing stays pending', async () => {
  let young = 32 * MiB;
  const spaced = { ...relief, minIntervalMs: 700, maxShare: 1 };
  const t = new NativeHeapTrimmer({ delayMs: 30, maxWaitMs: 300, minIntervalMs: 50, maxShare: 1 }, true, spaced, () => young);
  burst(t);
  await until(() => t.stats.jsHeapReliefs >= 1 || !t.stats.active);
  if (!t.stats.active) return; // not glibc: the trimmer (and its relief) stopped
  const trims = t.stats.trims;
  burst(t);
  // The burst's quiet-end trim (no relief: inside the interval) is what awaits the interval's end.
  await until(() => t.stats.trims > trims);
  young = 1 * MiB;
  await until(() => !t.pending);
  assert.equal(t.pending, false, 'a trim still pending');
  assert.equal(t.stats.jsHeapReliefs, 1, 'relieved although the young generation had shrunk');
  t.stop();
});

test('relief: a large live heap gets the incremental (moderate) relief, not a full stop of the thread', async () => {
  const big = new NativeHeapTrimmer(policy, true, relief, () => 32 * MiB, () => 200 * MiB);
  const small = new NativeHeapTrimmer(policy, true, relief, () => 32 * MiB, () => 20 * MiB);
  burst(big);
  burst(small);
  await until(() => (big.stats.jsHeapReliefs >= 1 && small.stats.jsHeapReliefs >= 1) || !big.stats.active);
  if (!big.stats.active) return; // not glibc: the trimmer (and its relief) stopped
  assert.equal(big.stats.jsHeapReliefs, 1);
  assert.equal(big.stats.jsHeapReliefsModerated, 1);
  assert.equal(small.stats.jsHeapReliefs, 1);
  assert.equal(small.stats.jsHeapReliefsModerated, 0);
});

test("relief: after a moderate relief the trim waits for V8's collection to end (the young generation shrunk)", async () => {
  let young = 32 * MiB;
  const t = new NativeHeapTrimmer(policy, true, relief, () => young, () => 200 * MiB);
  burst(t);
  await until(() => t.stats.jsHeapReliefs >= 1 || !t.stats.active);
  if (!t.stats.active) return; // not glibc: the trimmer (and its relief) stopped
  assert.equal(t.stats.jsHeapReliefsModerated, 1);
  // (A trim before the burst was quiet may have run; the relief's own trim is the next one.)
  const trims = t.stats.trims;
  // The stub's young generation stays grown: V8 "still marks", so no trim yet, and the work is pending.
  await sleep(300);
  assert.equal(t.stats.trims, trims, 'trimmed before the incremental collection ended');
  assert.equal(t.pending, true);
  young = 1 * MiB;
  await until(() => t.stats.trims > trims);
  assert.equal(t.stats.trims, trims + 1);
  assert.equal(t.pending, false);
});

test('relief: a moderate relief whose marking finds the live heap within the limit is followed by the full collection, then the trim', async () => {
  let young = 32 * MiB;
  let live = 200 * MiB; // the burst's garbage counted in
  const t = new NativeHeapTrimmer(policy, true, relief, () => young, () => live);
  burst(t);
  await until(() => t.stats.jsHeapReliefs >= 1 || !t.stats.active);
  if (!t.stats.active) return; // not glibc: the trimmer (and its relief) stopped
  assert.equal(t.stats.jsHeapReliefsModerated, 1);
  const trims = t.stats.trims;
  // V8's marking ends: the young generation shrank and the heap is its live size, within the limit.
  live = 20 * MiB;
  young = 1 * MiB;
  await until(() => t.stats.trims > trims);
  assert.equal(t.stats.jsHeapReliefsFollowedUp, 1);
  assert.equal(t.stats.jsHeapReliefs, 2);
  assert.equal(t.stats.trims, trims + 1, 'one trim, after the full collection');
  assert.equal(t.pending, false);
});

test('relief: no full collection follows when the live heap is still above the limit once marking ended', async () => {
  let young = 32 * MiB;
  const t = new NativeHeapTrimmer(policy, true, relief, () => young, () => 200 * MiB);
  burst(t);
  await until(() => t.stats.jsHeapReliefs >= 1 || !t.stats.active);
  if (!t.stats.active) return; // not glibc: the trimmer (and its relief) stopped
  const trims = t.stats.trims;
  young = 1 * MiB;
  await until(() => t.stats.trims > trims);
  assert.equal(t.stats.jsHeapReliefsFollowedUp, 0);
  assert.equal(t.stats.jsHeapReliefs, 1);
});

test('stop() during a moderate relief that waits for V8: pending clears, no trim follows, later frees are ignored', async () => {
  const t = new NativeHeapTrimmer(policy, true, relief, () => 32 * MiB, () => 200 * MiB);
  burst(t);
  await until(() => t.stats.jsHeapReliefs >= 1 || !t.stats.active);
  if (!t.stats.active) return; // not glibc: the trimmer (and its relief) stopped
  // The young generation never shrinks (a busy process): the relief's trim waits up to 3 s.
  await sleep(100);
  assert.equal(t.pending, true, 'the relief is waiting for V8');
  const trims = t.stats.trims;
  t.stop();
  assert.equal(t.pending, false, 'a stopped trimmer has nothing pending');
  assert.equal(t.stats.active, false);
  t.noteFreed();
  assert.equal(t.pending, false, 'freeing events after stop() are ignored');
  await sleep(400);
  assert.equal(t.stats.trims, trims, 'no trim after stop()');
  assert.equal(t.pending, false);
});

test('relief: once a full collection took longer than maxCriticalPauseMs, later reliefs are moderate', async () => {
  const quick = { ...relief, minIntervalMs: 0, maxShare: 1, maxCriticalPauseMs: 0 };
  const t = new NativeHeapTrimmer(policy, true, quick, () => 32 * MiB, () => 1 * MiB);
  burst(t);
  await until(() => t.stats.jsHeapReliefs >= 1 || !t.stats.active);
  if (!t.stats.active) return; // not glibc: the trimmer (and its relief) stopped
  assert.equal(t.stats.jsHeapReliefsModerated, 0, 'the first one is the full collection');
  const trims = t.stats.trims;
  await until(() => t.stats.trims > trims); // the trim after the relief serves what was freed before it
  burst(t);
  await until(() => t.stats.jsHeapReliefs >= 2);
  assert.equal(t.stats.jsHeapReliefs, 2, JSON.stringify(t.stats));
  assert.equal(t.stats.jsHeapReliefsModerated, 1, 'the full one took more than 0 ms: the next is moderate');
});

test('relief: not with a small young generation, nor when turned off, nor after fewer than minEvents', async () => {
  const small = new NativeHeapTrimmer(policy, true, relief, () => 1 * MiB);
  const off = new NativeHeapTrimmer(policy, true, { ...relief, level: 'off' }, () => 32 * MiB);
  const lone = new NativeHeapTrimmer(policy, true, relief, () => 32 * MiB);
  burst(small);
  burst(off);
  lone.noteFreed();
  await until(() => small.stats.trims >= 1 && off.stats.trims >= 1 && lone.stats.trims >= 1);
  await sleep(relief.quietMs + 300);
  assert.equal(small.stats.jsHeapReliefs, 0);
  assert.equal(off.stats.jsHeapReliefs, 0);
  assert.equal(lone.stats.jsHeapReliefs, 0);
});

test('relief: not while the burst goes on (trims at a short quiet or forced by maxWaitMs), then once it is quiet', async () => {
  const t = new NativeHeapTrimmer({ delayMs: 30, maxWaitMs: 300, minIntervalMs: 50, maxShare: 0.05 }, true, { ...relief, quietMs: 400 }, () => 32 * MiB);
  // Events every 60 ms for about 1 s: trims come in the 30 ms gaps, none is 400 ms quiet (a
  // loaded machine may stretch a gap, not by that much).
  for (let i = 0; i < 15; i++) {
    t.noteFreed();
    await sleep(60);
  }
  if (!t.stats.active) return;
  const midBurst = t.stats.jsHeapReliefs;
  const trimsMidBurst = t.stats.trims;
  await until(() => t.stats.jsHeapReliefs >= 1);
  assert.ok(trimsMidBurst >= 2, `trims mid-burst ${trimsMidBurst}`);
  assert.equal(midBurst, 0, 'relieved mid-burst');
  assert.equal(t.stats.jsHeapReliefs, 1);
});

test('relief: a burst soon after a relief makes the next relief wait for reburstQuietMs; a burst later than reburstMs does not', async () => {
  // maxShare 1 and no minimum interval: only the quiet times decide when the reliefs come.
  const spaced = { ...relief, minIntervalMs: 0, maxShare: 1, reburstMs: 1500, reburstQuietMs: 900 };
  const t = new NativeHeapTrimmer({ delayMs: 30, maxWaitMs: 300, minIntervalMs: 50, maxShare: 1 }, true, spaced, () => 32 * MiB);
  burst(t);
  await until(() => t.stats.jsHeapReliefs >= 1 || !t.stats.active);
  if (!t.stats.active) return; // not glibc: the trimmer (and its relief) stopped
  // A second burst right after the relief: a reburst, so its relief waits for 900 ms of quiet.
  const secondBurstAt = performance.now();
  burst(t);
  assert.equal(t.stats.jsHeapReburstsAfterRelief, 1);
  await sleep(spaced.quietMs + 300);
  // Only while the sleep did not overrun the longer quiet (a loaded machine may stretch it).
  if (performance.now() - secondBurstAt < spaced.reburstQuietMs - 50) assert.equal(t.stats.jsHeapReliefs, 1, 'relieved after quietMs although the burst came right after a relief');
  await until(() => t.stats.jsHeapReliefs >= 2);
  assert.equal(t.stats.jsHeapReliefs, 2);
  // A lower bound only: the relief may come later on a loaded machine, never before its quiet.
  assert.ok(performance.now() - secondBurstAt >= spaced.reburstQuietMs - 1, 'relieved before reburstQuietMs of quiet');
  // A burst more than reburstMs after the last relief: back to quietMs.
  await sleep(spaced.reburstMs + 100);
  burst(t);
  assert.equal(t.stats.jsHeapReburstsAfterRelief, 1, 'a burst later than reburstMs counted as a reburst');
  await until(() => t.stats.jsHeapReliefs >= 3);
  assert.equal(t.stats.jsHeapReliefs, 3, JSON.stringify(t.stats));
  t.stop();
});

test('relief: every burst is judged, also after a deferred relief that was skipped (the young generation shrank meanwhile)', async () => {
  let young = 32 * MiB;
  const spaced = { ...relief, minIntervalMs: 0, maxShare: 1, reburstMs: 10_000, reburstQuietMs: 300 };
  const t = new NativeHeapTrimmer({ delayMs: 30, maxWaitMs: 300, minIntervalMs: 50, maxShare: 1 }, true, spaced, () => young);
  burst(t);
  await until(() => t.stats.jsHeapReliefs >= 1 || !t.stats.active);
  if (!t.stats.active) return; // not glibc: the trimmer (and its relief) stopped
  // A reburst whose relief, 300 ms of quiet later, finds the young generation small: skipped.
  burst(t);
  assert.equal(t.stats.jsHeapReburstsAfterRelief, 1);
  young = 1 * MiB;
  await until(() => !t.pending);
  assert.equal(t.stats.jsHeapReliefs, 1);
  // The next burst is judged on its own (here again within reburstMs of the relief). Before, the
  // judgement came only at the minEvents-th event since a relief, so a skipped relief kept the
  // last judgement for every later burst, however late.
  burst(t);
  assert.equal(t.stats.jsHeapReburstsAfterRelief, 2, 'the burst after a skipped relief was not judged');
  t.stop();
});

test("relieveJsHeap('critical') shrinks a young generation grown by surviving allocations", () => {
  const young = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
  // Objects that survive a scavenge or two make V8 grow new space (up to 2 x 16 MiB on 64-bit).
  const keep: unknown[] = [];
  for (let i = 0; i < 3_000_000 && young() < 16 * MiB; i++) {
    keep.push({ i, a: [i] });
    if (keep.length > 400_000) keep.splice(0, 200_000);
  }
  const grown = young();
  keep.length = 0;
  if (!relieveJsHeap('critical')) return; // V8's API not found (not Node): nothing to check
  assert.ok(grown >= 16 * MiB, `young generation ${grown} did not grow`);
  assert.ok(young() <= grown / 4, `young generation ${young()} after the relief, ${grown} before`);
});
