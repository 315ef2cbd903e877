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

for (const shared of [false, true]) {
  test(`setup burst (${shared ? 'answerers on a shared port' : 'own sockets'}): every pair connects and the report is complete`, { timeout: 100_000 }, () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', 'setup-burst.ts'), '--pairs', String(PAIRS), ...(shared ? ['--shared'] : [])], {
      cwd: root,
      encoding: 'utf8',
      timeout: 90_000,
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const out = r.stdout;
    assert.match(out, new RegExp(`^${PAIRS} pairs at once \\(${shared ? 'answerers on one UdpMux port' : 'own sockets'}\\): ${PAIRS} connected in \\d+ ms, [\\d.]+ pairs/s; process CPU \\d+ ms, [\\d.]+ ms per pair$`, 'm'));
    assert.match(out, /^ {2}JS thread CPU \d+ ms, [\d.]+ ms per pair \(DTLS handshakes adaptive\)$/m);
    // The adaptive choice (docs/dtls.md "Handshake thread"): every handshake of the burst took one
    // path; the first two clients ran in-thread, the rest went to the handshake threads.
    const paths = /^ {2}DTLS handshakes of the burst by path: in-thread (\d+) \(adaptive choice\), on the handshake threads (\d+) \(adaptive choice\)$/m.exec(out);
    assert.ok(paths, out);
    assert.equal(Number(paths[1]) + Number(paths[2]), 2 * PAIRS);
    assert.equal(Number(paths[1]), 2);
    assert.match(out, new RegExp(`^  negotiated +${PAIRS} pairs +first \\d+, median \\d+, last \\d+ ms$`, 'm'));
    assert.match(out, new RegExp(`^  ICE connected +${2 * PAIRS} PCs +first`, 'm'));
    assert.match(out, new RegExp(`^  connected +${2 * PAIRS} PCs +first`, 'm'));
    assert.match(out, /^ {2}retransmissions: DTLS flights \d+, ICE checks \d+$/m);
    assert.match(out, /^ {2}drops: /m);
    assert.doesNotMatch(out, /did not connect/);
  });
}
