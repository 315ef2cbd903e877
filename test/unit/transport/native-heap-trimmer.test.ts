// The C-heap trim schedule (lib/transport/native-heap-trimmer.ts) on a virtual clock: a quiet
// delay after the last freeing event, a bound on how long a burst postpones it, a gap after each
// trim that grows with its cost; and the thread's trimmer over the real addon: a connected pair's
// handshakes and closes lead to a trim that gives pages back (glibc), without keeping the process alive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { NativeHeapTrimSchedule, NativeHeapTrimmer, nativeHeapTrimmer, type NativeHeapTrimPolicy } from '../../../lib/transport/native-heap-trimmer.js';
import { trimNativeHeap } from '../../../lib/native/native-heap-trim.js';
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
