// bench/ndc-setup-modes.ts (`npm run bench:ndc-setup-modes`, docs/bench/README.md): a short run of
// node-datachannel pairs with trickle and with full SDP prints one complete line per mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PAIRS = 3;
const MS = '(?:[\\d.]+|-)';

test('node-datachannel setup modes: each mode reports every pair, connected or failed', { timeout: 200_000 }, () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', 'ndc-setup-modes.ts'), '--pairs', String(PAIRS)], {
    cwd: root,
    encoding: 'utf8',
    timeout: 190_000,
  });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  for (const mode of ['trickle', 'full SDP']) {
    const line = new RegExp(
      `^${mode}: ICE connected median ${MS} ms \\(max ${MS}\\); PC connected median ${MS} ms; (\\d+) of (\\d+) pairs waited > 500 ms after ICE connected \\(median wait ${MS} ms\\); the other pairs' median ${MS} ms; (\\d+) failed$`,
      'm',
    ).exec(r.stdout);
    assert.ok(line, `no ${mode} line in:\n${r.stdout}`);
    const [slow, connected, failed] = [Number(line[1]), Number(line[2]), Number(line[3])];
    assert.equal(connected + failed, PAIRS);
    assert.ok(connected >= 1, `no ${mode} pair connected`);
    assert.ok(slow <= connected);
  }
});
