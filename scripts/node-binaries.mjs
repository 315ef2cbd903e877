// Official Node binaries for the packaging matrix, taken from the npm registry's
// node-linux-<arch> packages and cached under .cache/node/ (gitignored) so repeated runs do
// not download them again. docs/native-build.md lists the versions and their OpenSSL.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The Node releases the packaging tests run on: one per supported major, pinned. */
export const NODE_MATRIX = {
  x64: ['18.20.8', '20.20.2', '22.23.5', '24.22.3'],
  arm64: ['22.23.5'],
};

/**
 * Path of the `node` executable of release `version` for linux-`arch`, downloading the
 * node-linux-<arch> package with `npm pack` the first time.
 */
export function nodeBinary(arch, version) {
  const dir = join(root, '.cache', 'node', `linux-${arch}-${version}`);
  const bin = join(dir, 'bin', 'node');
  if (existsSync(bin)) return bin;
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const out = execFileSync('npm', ['pack', `node-linux-${arch}@${version}`, '--pack-destination', tmp], {
    cwd: tmp, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tgz = out.trim().split('\n').pop();
  execFileSync('tar', ['xzf', join(tmp, tgz), '-C', tmp]);
  rmSync(join(tmp, tgz));
  const pkg = join(tmp, 'package');
  if (!existsSync(join(pkg, 'bin', 'node'))) {
    throw new Error(`node-linux-${arch}@${version} has no bin/node (has ${readdirSync(pkg).join(', ')})`);
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(pkg, dir);
  rmSync(tmp, { recursive: true, force: true });
  return bin;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [arch, versions] of Object.entries(NODE_MATRIX)) {
    for (const v of versions) console.log(nodeBinary(arch, v));
  }
}
