// `npm run prebuildify [-- --arch x64,arm64]`: writes
// prebuilds/linux-<arch>/pure-webrtc-transport.napi.glibc.node, one stripped N-API binary per
// arch for every Node version >= 18 (docs/native-build.md). The host arch is the development
// build (build/); other arches are cross-built into build-<arch>/ with Debian's toolchains.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CROSS_TRIPLES } from './build-tools.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** File name node-gyp-build matches on any Node with N-API, glibc only (not musl). */
export const PREBUILD_NAME = 'pure-webrtc-transport.napi.glibc.node';

/** Builds (when stale) and writes the prebuild for `arch`; returns its path. */
export function prebuild(arch) {
  // Other platforms (the untested release workflow, docs/native-build.md): host arch, no libc tag.
  if (process.platform !== 'linux' && arch !== process.arch) throw new Error(`cross-builds are made on Linux only, not ${process.platform}`);
  const out = arch === process.arch ? 'build' : `build-${arch}`;
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs'), '--arch', arch, '--out', out, '--if-stale'], {
    cwd: root, stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error(`native build for ${arch} failed`);
  const dir = join(root, 'prebuilds', `${process.platform}-${arch}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const dest = join(dir, process.platform === 'linux' ? PREBUILD_NAME : 'pure-webrtc-transport.napi.node');
  copyFileSync(join(root, out, 'Release', 'pure-webrtc-transport.node'), dest);
  if (process.platform === 'linux') execFileSync(arch === process.arch ? 'strip' : `${CROSS_TRIPLES[arch]}-strip`, ['--strip-unneeded', dest]);
  else if (process.platform === 'darwin') execFileSync('strip', ['-x', dest]);
  return dest;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--arch');
  const arches = i >= 0 ? process.argv[i + 1].split(',') : [process.arch];
  for (const arch of arches) console.log(`wrote ${prebuild(arch)}`);
  const stray = readdirSync(join(root, 'prebuilds')).filter((d) => !arches.some((a) => d === `${process.platform}-${a}`));
  if (stray.length) console.log(`also in prebuilds/: ${stray.join(', ')} (not rebuilt)`);
}
