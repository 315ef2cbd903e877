// The hostile-input suite (stranger, spoofed, flood), unchanged, against the shared-port path: each
// connection on a UdpMux port whose native session table unprotects SRTP (PWT_HOSTILE_PATH=udp-mux,
// see session.ts). Runs the files in a child process so they keep their own before/after hooks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const FILES = ['stranger.test.ts', 'spoofed.test.ts', 'flood.test.ts'];

test('the hostile-input suite passes against connections on shared UdpMux ports', { timeout: 280_000 }, async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, PWT_HOSTILE_PATH: 'udp-mux' };
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-timeout=120000',
    ...FILES.map((f) => join(here, f))], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  const passed = Number(/ℹ pass (\d+)/.exec(out)?.[1] ?? 0);
  const failed = Number(/ℹ fail (\d+)/.exec(out)?.[1] ?? 1);
  // Without raw sockets the spoofed classes skip themselves (with a message); the rest must pass.
  const skipped = Number(/ℹ skipped (\d+)/.exec(out)?.[1] ?? 0);
  const failures = out.split('\n').filter((l) => l.startsWith('✖')).join('\n');
  assert.equal(failed, 0, `hostile suite on the udp-mux path failed:\n${failures}\n${out.slice(-3000)}`);
  assert.equal(code, 0, out.slice(-3000));
  assert.ok(passed + skipped >= 15 && passed >= 4, `only ${passed} hostile tests passed on the udp-mux path (${skipped} skipped)`);
  console.log(`udp-mux path: ${passed} hostile tests passed`);
});
