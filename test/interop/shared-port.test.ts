// The interop suite's server-role tests (Chromium, libwebrtc via wrtc, werift as clients of our
// echo server) again with every server session on ONE shared UdpMux port (PWT_INTEROP_PATH=udp-mux,
// server-path.ts): the path an SFU takes, with SRTP in the port's native session table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const FILES = ['chromium.test.ts', 'wrtc.test.ts', 'werift.test.ts'];

test('interop server-role tests pass with every echo session on one shared UdpMux port', { timeout: 280_000 }, async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, PWT_INTEROP_PATH: 'udp-mux' };
  delete env.NODE_TEST_CONTEXT;
  // Server-role tests only (our echo server answers); the peers' library handles may outlive
  // their tests, hence --test-force-exit as scripts/run-tests.mjs does.
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-timeout=120000',
    '--test-force-exit', '--test-name-pattern=echo server', '--test-name-pattern=our server', '--test-name-pattern=does not accept',
    ...FILES.map((f) => join(here, f))], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  const passed = Number(/ℹ pass (\d+)/.exec(out)?.[1] ?? 0);
  const failed = Number(/ℹ fail (\d+)/.exec(out)?.[1] ?? 1);
  const failures = out.split('\n').filter((l) => l.startsWith('✖')).join('\n');
  assert.equal(failed, 0, `interop on the shared-port path failed:\n${failures}\n${out.slice(-3000)}`);
  assert.equal(code, 0, out.slice(-3000));
  // 7 Chromium server-role cases (full ICE, ICE-lite, three SRTP profiles, the refused one, mDNS), wrtc and werift.
  assert.ok(passed >= 9, `only ${passed} server-role interop tests passed on the shared-port path`);
  console.log(`udp-mux path: ${passed} interop server-role tests passed`);
});
