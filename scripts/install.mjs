// The package's `install` script: nothing to do when a binary loads here (a prebuild from
// prebuilds/ or an existing build/); otherwise compile from source with build-native.mjs, which
// fails with one message naming the missing tools (docs/native-build.md, "Fallback").
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
let reason;
try {
  const file = require('node-gyp-build').path(root);
  require(file);
  process.exit(0);
} catch (err) {
  reason = String(err && err.message ? err.message : err).split('\n')[0];
}
const libc = process.env.LIBC || (process.report?.getReport?.().header?.glibcVersionRuntime ? 'glibc' : 'non-glibc');
console.error(`pure-webrtc-transport: no prebuilt binary loads on ${process.platform}-${process.arch} (${libc}, Node ${process.version}): ${reason}`);
console.error('pure-webrtc-transport: compiling the native addon from source');
const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
