// releaseIdleMemory (lib/native/release-idle-memory.ts) over the real addon in this Node process:
// after a burst of allocations whose objects survive a few scavenges, V8 has grown its young
// generation and keeps it; the call reaches V8's low-memory notification (found at run time) and
// the young generation is back near its minimum. The burst is a fixed allocation pattern, so how
// far V8 grows the young generation does not depend on the machine's speed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getHeapSpaceStatistics } from 'node:v8';
import { nativeHeapStats } from '../../../lib/native/native-heap-stats.js';
import { releaseIdleMemory } from '../../../lib/native/release-idle-memory.js';

function youngGenerationBytes(): number {
  const space = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  assert.ok(space, 'V8 reports a new_space');
  return space.space_size;
}

/** Allocates about 300 MB in objects that live for a while (a ring of 20,000), as a burst of set-ups does. */
function burst(): number {
  const ring: { i: number; pair: number[] }[] = [];
  let kept = 0;
  for (let i = 0; i < 3_000_000; i++) {
    ring[i % 20_000] = { i, pair: [i, i + 1] };
    if (i % 20_000 === 0) kept += ring.length;
  }
  return kept;
}

test('releaseIdleMemory shrinks the young generation a burst grew and trims the C heap', () => {
  releaseIdleMemory(); // whatever loading the test grew is given back first
  const minimum = youngGenerationBytes();
  assert.ok(burst() > 0);
  const grown = youngGenerationBytes();
  assert.ok(grown >= 4 * minimum, `the burst grew the young generation (${minimum} -> ${grown} bytes)`);
  const result = releaseIdleMemory();
  assert.equal(result.jsHeap, 'notified', 'Node exports the V8 API the call looks up');
  // Where the C library can report its heap (glibc, not under a sanitizer) it can also trim it.
  if (nativeHeapStats()) assert.ok(result.nativeHeap === 'released' || result.nativeHeap === 'nothing-released', result.nativeHeap);
  else assert.equal(result.nativeHeap, 'unsupported');
  const after = youngGenerationBytes();
  assert.ok(after <= grown / 4, `the young generation shrank (${grown} -> ${after} bytes)`);
});
