// Handshake under a seeded 30 % loss + reordering network (RFC 6347 section 4.2.4 timeout and
// retransmission): 100 of 100 seeds must connect. Bounded by step count, not wall clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lossyHandshake } from './dtls-pair.js';

test('handshake completes in 100 of 100 seeded runs with 30 % loss and reordering', { timeout: 240_000 }, async () => {
  const failures: string[] = [];
  let totalTimeouts = 0;
  for (let seed = 1; seed <= 100; seed++) {
    const r = await lossyHandshake(
      seed,
      { loss: 0.3, reorder: 0.25, reorderDelayMs: 15, delayMs: 5, jitterMs: 10, duplicate: 0.05 },
      // A short first timeout keeps the suite quick; the doubling is the RFC's.
      { initialRetransmitTimeoutMs: 5, maxRetransmitTimeoutMs: 80 },
      5000,
    );
    totalTimeouts += r.timeouts;
    if (!r.connected) failures.push(`seed ${seed}: ${r.clientState}/${r.serverState} after ${r.steps} steps ${r.reason ?? ''}`);
  }
  assert.deepEqual(failures, []);
  // The loss really bit: retransmission timers had to fire across the runs.
  assert.ok(totalTimeouts > 50, `only ${totalTimeouts} timeouts`);
});
