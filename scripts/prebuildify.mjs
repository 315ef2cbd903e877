// `npm run prebuildify`: writes prebuilds/<platform>-<arch>/pure-webrtc-transport.node, one N-API
// binary for every Node version. prebuildify 6 only knows node-gyp, so it is given a shim that
// turns its `node-gyp rebuild --arch=X` call into our cmake-js build.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const shim = join(root, 'scripts', 'prebuildify-node-gyp-shim.mjs');
chmodSync(shim, 0o755);
const require = createRequire(import.meta.url);
const bin = join(dirname(require.resolve('prebuildify/package.json')), 'bin.js');
const r = spawnSync(process.execPath, [bin, '--napi', '--strip', '--node-gyp', shim, ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
const out = join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'pure-webrtc-transport.node');
if (r.status !== 0 || !existsSync(out)) {
  console.error('prebuildify failed');
  process.exit(r.status || 1);
}
// prebuildify moves build/Release/*.node away; put the (identical-source) binary back so the
// development build keeps working and node-gyp-build keeps preferring it.
const devBuild = join(root, 'build', 'Release', 'pure-webrtc-transport.node');
if (!existsSync(devBuild)) {
  mkdirSync(dirname(devBuild), { recursive: true });
  copyFileSync(out, devBuild);
}
console.log(`wrote ${out}`);
