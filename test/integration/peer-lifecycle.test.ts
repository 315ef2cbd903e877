// close() releases everything: 100 RTCPeerConnections (50 connected pairs, some with data
// channels) opened and closed in a loop leave no extra active handle and no heap growth beyond
// noise, and the process then exits by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('100 PCs opened, connected and closed: no handle growth, bounded heap, the process exits by itself', { timeout: 120_000 }, () => {
  const child = fileURLToPath(new URL('./peer-lifecycle-child.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', child, '50'], { encoding: 'utf8', timeout: 100_000 });
  assert.equal(r.signal, null, `the child did not exit by itself: ${r.stderr.slice(-2000)}`);
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  assert.ok(line, r.stdout);
  const { before, after } = JSON.parse(line) as { before: { resources: Record<string, number>; heap: number }; after: { resources: Record<string, number>; heap: number } };
  for (const [kind, n] of Object.entries(after.resources)) {
    assert.ok(n <= (before.resources[kind] ?? 0), `${kind}: ${before.resources[kind] ?? 0} before, ${n} after`);
  }
  assert.ok(after.heap - before.heap < 16 * 1024 * 1024, `heap grew by ${after.heap - before.heap} bytes`);
});
