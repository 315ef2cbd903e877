// close() while the DTLS handshake thread still holds posted work (docs/dtls.md "Handshake
// thread"): the socket stays until the thread's results are back and sends them, so the peer (a
// PC of ours) gets the DTLS close_notify (RFC 6347 section 4.1, RFC 5246 section 7.2.1) instead of
// finding out by consent expiry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('close while the handshake thread holds the last flight: the peer gets the close_notify', { timeout: 150_000 }, (t) => {
  const child = fileURLToPath(new URL('./peer-close-while-threaded-child.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', child], {
    encoding: 'utf8',
    timeout: 140_000,
    env: { ...process.env, PWT_DTLS_HANDSHAKE_THREAD: '1', PWT_TEST_HANDSHAKE_THREAD_DELAY_MS: '300' },
  });
  assert.equal(r.signal, null, `the child did not exit by itself: ${r.stderr.slice(-2000)}`);
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  assert.ok(line, r.stdout);
  const { rounds } = JSON.parse(line) as { rounds: { closedWhileAwaiting: boolean }[] };
  t.diagnostic(JSON.stringify(rounds));
  assert.equal(rounds.length, 3);
  assert.ok(rounds.some((x) => x.closedWhileAwaiting), 'no round closed while the thread held work');
});
