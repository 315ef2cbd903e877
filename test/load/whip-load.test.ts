// Short form of the echo-server load (whip-load.ts): 40 concurrent WHIP sessions against one
// server on one shared UdpMux port. Every session echoes, the server ends every session and its
// memory (JS heap and RSS, after GC) returns to its baseline (+ 10 % slack for the allocator).
// It found the echo server's connect timer keeping every ended session for 30 s. The page latency is reported
// here and asserted in the long form (`npm run soak`: 500 sessions); in both the generator runs
// below the server's priority (whip-load.ts, lowerGeneratorThreads).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeLoad, runWhipLoad } from './whip-load.js';

test('40 concurrent WHIP sessions against the echo server on one shared port: all echo, memory returns', { timeout: 180_000 }, async () => {
  const r = await runWhipLoad({ sessions: 40, seconds: 2 });
  console.log(describeLoad(r));
  assert.deepEqual(r.failures, [], 'sessions that did not echo');
  assert.ok(r.pageFetches > 0, 'the page was fetched while the sessions ran');
  assert.equal(r.afterSessions, 0, 'sessions left on the server');
  assert.equal(r.afterMuxTransports, 0, 'transports left on the shared port');
  assert.ok(r.afterHeap <= r.baselineHeap * 1.1, `server JS heap did not return: ${r.baselineHeap} → ${r.afterHeap}`);
  assert.ok(r.afterRss <= r.baselineRss * 1.1, `server RSS did not return: ${r.baselineRss} → ${r.afterRss}`);
});
