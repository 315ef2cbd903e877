// 200 RTCPeerConnections closed at seeded random points of their DTLS handshakes, which run on
// the handshake thread (docs/dtls.md, "Handshake thread"), and the same on the in-thread path
// (PWT_DTLS_HANDSHAKE_THREAD=0): no crash, no extra active handle, bounded JS and C heap (a
// leaked engine per PC would add about 75 KiB each), and the process exits by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface Figures {
  resources: Record<string, number>;
  heap: number;
  native: number;
}

for (const threaded of [true, false]) {
  test(`200 PCs closed mid-handshake (${threaded ? 'handshake thread' : 'in-thread path'}): no crash, leak or stuck handle`, { timeout: 150_000 }, (t) => {
    const child = fileURLToPath(new URL('./peer-close-mid-handshake-child.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', child, '100'], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, PWT_DTLS_HANDSHAKE_THREAD: threaded ? '1' : '0' },
    });
    assert.equal(r.signal, null, `the child did not exit by itself: ${r.stderr.slice(-2000)}`);
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    assert.doesNotMatch(r.stderr, /PWT_LISTENER_ERROR|Warning/, r.stderr.slice(-2000));
    const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
    assert.ok(line, r.stdout);
    const { before, after, outcomes } = JSON.parse(line) as { before: Figures; after: Figures; outcomes: Record<string, number> };
    t.diagnostic(`close points: ${JSON.stringify(outcomes)}`);
    assert.equal(Object.values(outcomes).reduce((a, b) => a + b, 0), 100);
    for (const [kind, n] of Object.entries(after.resources)) {
      assert.ok(n <= (before.resources[kind] ?? 0), `${kind}: ${before.resources[kind] ?? 0} before, ${n} after`);
    }
    assert.ok(after.heap - before.heap < 16 * 1024 * 1024, `JS heap grew by ${after.heap - before.heap} bytes`);
    assert.ok(after.native - before.native < 8 * 1024 * 1024, `C heap grew by ${after.native - before.native} bytes`);
  });
}
