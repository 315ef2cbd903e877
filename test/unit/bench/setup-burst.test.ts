// bench/setup-burst.ts (`npm run bench:setup-burst`, docs/peer.md "Setup cost"): a short burst on own
// sockets and on a shared UdpMux port connects every pair and prints the milestones, CPU per pair,
// retransmissions and drops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PAIRS = 5;
const PATHS = /^ {2}DTLS handshakes of the burst by path: in-thread (\d+) \(adaptive choice\), on the handshake threads (\d+) \(adaptive choice\)$/m;

function burst(shared: boolean, env: Record<string, string> = {}): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', 'setup-burst.ts'), '--pairs', String(PAIRS), ...(shared ? ['--shared'] : [])], {
    cwd: root,
    encoding: 'utf8',
    timeout: 90_000,
    env: { ...process.env, ...env },
  });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

for (const shared of [false, true]) {
  test(`setup burst (${shared ? 'answerers on a shared port' : 'own sockets'}): every pair connects and the report is complete`, { timeout: 100_000 }, () => {
    const out = burst(shared);
    assert.match(out, new RegExp(`^${PAIRS} pairs at once \\(${shared ? 'answerers on one UdpMux port' : 'own sockets'}\\): ${PAIRS} connected in \\d+ ms, [\\d.]+ pairs/s; process CPU \\d+ ms, [\\d.]+ ms per pair$`, 'm'));
    assert.match(out, /^ {2}JS thread CPU \d+ ms, [\d.]+ ms per pair \(DTLS handshakes adaptive\)$/m);
    // The adaptive choice (docs/dtls.md "Handshake thread"): every handshake of the burst took one
    // path. A handshake runs in place while fewer than 2 are in flight when it starts, so the first
    // two to start always do (the warm-up pair's are over); how many more do depends on how the
    // pairs' starts and ends interleave (all 10 when each pair is done before the next starts), so
    // only those bounds hold on every schedule. The exact policy is tested deterministically in
    // test/unit/dtls/dtls-handshake-adaptive.test.ts and below with the limit set.
    const paths = PATHS.exec(out);
    assert.ok(paths, out);
    assert.equal(Number(paths[1]) + Number(paths[2]), 2 * PAIRS);
    assert.ok(Number(paths[1]) >= 2, `the first two handshakes ran in place:\n${out}`);
    assert.match(out, new RegExp(`^  negotiated +${PAIRS} pairs +first \\d+, median \\d+, last \\d+ ms$`, 'm'));
    assert.match(out, new RegExp(`^  ICE connected +${2 * PAIRS} PCs +first`, 'm'));
    assert.match(out, new RegExp(`^  connected +${2 * PAIRS} PCs +first`, 'm'));
    assert.match(out, /^ {2}retransmissions: DTLS flights \d+, ICE checks \d+$/m);
    assert.match(out, /^ {2}drops: /m);
    assert.doesNotMatch(out, /did not connect/);
  });
}

// The printed counts are the paths the handshakes took: with the adaptive limit at 0 every handshake
// goes to the handshake threads, with it above the burst's 10 handshakes every one runs in place,
// whatever the schedule (PWT_DTLS_ADAPTIVE_IN_THREAD, docs/dtls.md "Handshake thread").
test('setup burst: the by-path counts follow the adaptive limit (0: all on the threads; 10: all in place)', { timeout: 200_000 }, () => {
  for (const [limit, inThread] of [[0, 0], [2 * PAIRS, 2 * PAIRS]] as const) {
    const out = burst(false, { PWT_DTLS_ADAPTIVE_IN_THREAD: String(limit) });
    const paths = PATHS.exec(out);
    assert.ok(paths, out);
    assert.deepEqual([Number(paths[1]), Number(paths[2])], [inThread, 2 * PAIRS - inThread], `limit ${limit}:\n${out}`);
    assert.doesNotMatch(out, /did not connect/);
  }
});
