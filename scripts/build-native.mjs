// Builds the addon with cmake-js against Node's local headers (never downloads them).
// Usage: node scripts/build-native.mjs [--debug] [--arch x64] [--if-stale]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { findNodeDir } from './node-dir.mjs';
import { nativeSourceHash } from './source-hash.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const debug = args.includes('--debug');
const ifStale = args.includes('--if-stale');
const archIdx = args.indexOf('--arch');
const arch = archIdx >= 0 ? args[archIdx + 1] : process.arch;
// --out lets several builds (e.g. parallel developers) use separate trees; PWT_ADDON_PATH
// then points the loader at the binary.
const outIdx = args.indexOf('--out');
const out = outIdx >= 0 ? args[outIdx + 1] : 'build';

const hash = nativeSourceHash(root);
const stamp = join(root, out, 'source-hash.txt');
const addon = join(root, out, 'Release', 'pure-webrtc-transport.node');
if (ifStale && existsSync(addon) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash) {
  process.exit(0);
}

const nodeDir = findNodeDir();
if (!nodeDir) {
  console.error('pure-webrtc-transport: Node headers (include/node/node.h) not found; set npm_config_nodedir.');
  process.exit(1);
}
const require = createRequire(import.meta.url);
let cmakeJs;
try {
  cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
} catch {
  console.error('pure-webrtc-transport: no prebuilt binary fits this platform and cmake-js is missing to compile one.');
  process.exit(1);
}
const cmd = [
  cmakeJs, 'compile', '--arch', arch, '--out', out,
  ...(debug ? ['--debug'] : []),
  `--CDPWT_SOURCE_HASH=${hash}`,
];
const res = spawnSync(process.execPath, cmd, {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, npm_config_nodedir: nodeDir },
});
if (res.status !== 0) {
  console.error('pure-webrtc-transport: native build failed (needs cmake, a C++17 compiler and Node headers).');
  process.exit(res.status ?? 1);
}
mkdirSync(join(root, out), { recursive: true });
writeFileSync(stamp, hash + '\n');
