// close() while media waits for SRTP keys the DTLS handshake thread is deriving (docs/dtls.md
// "Handshake thread"): the held packets are counted as `srtpNotReady` drops and let go, never kept
// past close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('close while media is held for SRTP keys: the held packets are counted and let go', { timeout: 150_000 }, (t) => {
  const child = fileURLToPath(new URL('./peer-close-holding-media-child.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', child], {
    encoding: 'utf8',
    timeout: 140_000,
    env: { ...process.env, PWT_DTLS_HANDSHAKE_THREAD: '1', PWT_TEST_HANDSHAKE_THREAD_DELAY_MS: '900' },
  });
  assert.equal(r.signal, null, `the child did not exit by itself: ${r.stderr.slice(-2000)}`);
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  assert.ok(line, r.stdout);
  const { rounds } = JSON.parse(line) as { rounds: { held: number; counted: number; heldAfterClose: number }[] };
  t.diagnostic(JSON.stringify(rounds));
  assert.ok(rounds.length >= 1 && rounds.length <= 10, `rounds: ${rounds.length}`);
  for (const round of rounds) {
    assert.equal(round.heldAfterClose, 0);
    assert.equal(round.counted, round.held, 'each held packet counted once as srtpNotReady');
  }
  assert.ok(rounds.some((x) => x.held > 0), 'no round closed while media was held');
});
