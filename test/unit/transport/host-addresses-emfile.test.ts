// Listing the host's interfaces when the process is out of descriptors: os.networkInterfaces()
// throws Node's untyped SystemError (EMFILE); the library's callers get OperationError
// `ERR_HOST_ADDRESSES`. Run in a child whose descriptor limit is lowered with prlimit(1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = `
import { openSync } from 'node:fs';
import { listHostAddresses } from ${JSON.stringify(fileURLToPath(new URL('../../../lib/transport/source/host-addresses.ts', import.meta.url)))};
const fds = [];
try { for (let i = 0; i < 10000; i++) fds.push(openSync('/dev/null', 'r')); } catch {}
let out;
try { listHostAddresses(); out = { ok: true, fds: fds.length }; } catch (e) { out = { name: e.name, code: e.code, message: e.message, fds: fds.length }; }
console.log(JSON.stringify(out));
`;

test('out of descriptors, listing host addresses throws OperationError ERR_HOST_ADDRESSES', (t) => {
  const r = spawnSync('prlimit', ['--nofile=64:64', process.execPath, '--import', 'tsx', '--input-type=module', '-e', CHILD], { encoding: 'utf8', timeout: 30_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    t.skip('prlimit is not installed');
    return;
  }
  const line = r.stdout.trim().split('\n').pop() ?? '';
  const out = JSON.parse(line) as { ok?: boolean; name?: string; code?: string; message?: string; fds: number };
  assert.ok(out.fds > 0 && out.fds < 64, `the child filled its table (${out.fds} opened)`);
  assert.equal(out.ok, undefined, 'networkInterfaces failed as expected without descriptors');
  assert.equal(out.name, 'OperationError', JSON.stringify(out));
  assert.equal(out.code, 'ERR_HOST_ADDRESSES');
  assert.match(out.message!, /network interfaces/);
});
