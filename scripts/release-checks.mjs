// The release tarball's checks, shared by scripts/release-pack.mjs and test/packaging: pack,
// list and budget the contents, load each prebuild (arm64 under qemu-user), install the tarball
// into an empty project with no compiler on PATH, and run the peer-connection smoke test there.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PREBUILD_NAME } from './prebuildify.mjs';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/**
 * Largest tarball we publish (bytes): the JS (one CommonJS build with ESM entry files and one set
 * of declarations), both prebuilds and the C++ sources for the fallback. 1,424,845 B on 2026-12-06
 * (docs/release.md), so about 15 % headroom.
 */
export const TARBALL_BUDGET = 1_640_000;
/** Newest glibc / libstdc++ symbol versions a prebuild may need (docs/native-build.md). */
export const SYMBOL_FLOOR = { GLIBC: '2.34', GLIBCXX: '3.4.29' };
/** Where qemu-user finds the aarch64 loader and libraries (Debian's cross toolchain). */
export const QEMU_SYSROOT = '/usr/aarch64-linux-gnu';

/** Files the tarball must hold. */
export function requiredFiles(arches) {
  return [
    'package.json', 'README.md', 'CMakeLists.txt',
    // One CommonJS build with ESM entry files and one set of declarations (docs/release.md).
    'dist/lib/package.json', 'dist/lib/index.js', 'dist/lib/index.mjs', 'dist/lib/index.d.ts',
    'dist/lib/media/index.js', 'dist/lib/media/index.mjs', 'dist/lib/media/index.d.ts',
    'dist/lib/cli/main.js', 'dist/lib/sfu/worker/router-worker.js',
    // whip-client's default media (lib/cli/media-source.ts).
    'assets/default-vp8.ivf', 'assets/default-opus.ogg',
    'scripts/install.mjs', 'scripts/build-native.mjs', 'scripts/build-tools.mjs', 'scripts/node-dir.mjs', 'scripts/source-hash.mjs',
    'scripts/walk-files.mjs',
    'binding/addon.cpp',
    ...arches.map((a) => `prebuilds/linux-${a}/${PREBUILD_NAME}`),
  ];
}

/** Path prefixes that must never be published. */
export const FORBIDDEN = [/^build/, /^test\//, /^bench\//, /^\.cache\//, /^node_modules\//, /^examples\//, /\.tgz$/, /\.map$/, /^lib\//, /^dist\/(?!lib\/)/];

/** `npm pack` into `dest`; returns the tarball path, its size and its file list. */
export function pack(dest) {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dest], {
    cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
  const info = JSON.parse(out.slice(out.indexOf('[')))[0];
  const tarball = join(dest, info.filename);
  return { tarball, size: statSync(tarball).size, unpackedSize: info.unpackedSize, files: info.files.map((f) => f.path) };
}

/** Problems with a packed file list (empty when fine). */
export function contentProblems(files, arches) {
  const problems = [];
  for (const f of requiredFiles(arches)) if (!files.includes(f)) problems.push(`missing ${f}`);
  for (const f of files) if (FORBIDDEN.some((re) => re.test(f))) problems.push(`must not ship ${f}`);
  const prebuilds = files.filter((f) => f.startsWith('prebuilds/'));
  // Linux prebuilds are exactly the arches built here; other platforms' come from the
  // (untested) release workflow as <platform>-<arch>/pure-webrtc-transport.napi.node.
  for (const f of prebuilds) {
    const linuxOk = arches.some((a) => f === `prebuilds/linux-${a}/${PREBUILD_NAME}`);
    const otherOk = !f.startsWith('prebuilds/linux-') && /^prebuilds\/(darwin|win32)-(x64|arm64)\/pure-webrtc-transport\.napi\.node$/.test(f);
    if (!linuxOk && !otherOk) problems.push(`unexpected prebuild ${f}`);
  }
  return problems;
}

function versionGreater(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) > (pb[i] ?? 0);
  }
  return false;
}

/** The newest GLIBC_ and GLIBCXX_ symbol versions `file` needs, from its dynamic symbol table. */
export function symbolVersions(file, arch) {
  const objdump = arch === process.arch ? 'objdump' : `${arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu-objdump`;
  const text = execFileSync(objdump, ['-T', file], { encoding: 'utf8' });
  const newest = {};
  for (const m of text.matchAll(/\((GLIBC|GLIBCXX)_([0-9.]+)\)/g)) {
    if (!newest[m[1]] || versionGreater(m[2], newest[m[1]])) newest[m[1]] = m[2];
  }
  return newest;
}

/** Problems with `file`'s symbol versions against SYMBOL_FLOOR (empty when fine). */
export function floorProblems(file, arch) {
  const v = symbolVersions(file, arch);
  return Object.entries(SYMBOL_FLOOR).filter(([k, max]) => v[k] && versionGreater(v[k], max)).map(([k, max]) => `${file} needs ${k}_${v[k]} (floor ${max})`);
}

/** argv prefix that runs a linux-`arch` binary here (qemu-user for arm64 on x64). */
export function runner(arch) {
  if (arch === process.arch) return [];
  if (arch === 'arm64') {
    // Absolute, so that it is found under a reduced PATH too.
    const qemu = spawnSync('sh', ['-c', 'command -v qemu-aarch64 || command -v qemu-aarch64-static'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
    if (!qemu) throw new Error('qemu-user (qemu-aarch64) is not installed');
    return [qemu, '-L', QEMU_SYSROOT];
  }
  throw new Error(`no way to run ${arch} binaries here`);
}

/** Runs `node` (of `arch`) with `args` in `cwd`; returns status/stdout/stderr. */
export function runNode(node, arch, args, { cwd, env, timeout = 120_000 } = {}) {
  const [cmd, ...pre] = [...runner(arch), node, ...args];
  return spawnSync(cmd, pre, { cwd, env, encoding: 'utf8', timeout });
}

/** Loads a .node file with `node` (of `arch`); returns its sourceHash and the OpenSSL versions. */
export function loadPrebuild(file, node, arch) {
  const code = `const a = require(${JSON.stringify(file)}); console.log(JSON.stringify({ sourceHash: a.sourceHash, opensslHeaders: a.opensslHeaders, openssl: process.versions.openssl, node: process.version, arch: process.arch }))`;
  const r = runNode(node, arch, ['-e', code]);
  if (r.status !== 0) throw new Error(`loading ${file} on ${node} (${arch}) failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim());
}

/** A directory of symlinks to what npm and node need, without cc, g++, cmake, make or ninja. */
export function compilerFreePath(dir) {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const tools = ['sh', 'bash', 'env', 'cat', 'ls', 'rm', 'mkdir', 'cp', 'mv', 'uname', 'tar', 'gzip', 'git', 'chmod', 'ln', 'sed', 'grep', 'du', 'npm'];
  for (const t of tools) {
    const found = spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim();
    if (found && !existsSync(join(bin, t))) symlinkSync(found, join(bin, t));
  }
  if (!existsSync(join(bin, 'node'))) symlinkSync(process.execPath, join(bin, 'node'));
  return bin;
}

/** Whether a compiler or cmake can be found on `env.PATH`. */
export function compilerVisible(env) {
  return spawnSync('sh', ['-c', 'command -v g++ || command -v c++ || command -v clang++ || command -v cmake || command -v cc'], { env }).status === 0;
}

/** The environment of a user's shell: inherited, minus this checkout's addon override. */
export function userEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  delete env.PWT_ADDON_PATH;
  return env;
}

/**
 * How long one `npm install` of the tarball may take by default: below the packaging tests' 300 s,
 * so that a stuck install is reported with its npm log rather than as the test's time-out.
 */
export const INSTALL_TIMEOUT_MS = 240_000;

/**
 * npm's flags for installing the tarball (docs/native-build.md "Tests: test/packaging"):
 * `--prefer-offline`: what the npm cache holds is used without asking the registry, and only what
 * it lacks is fetched. `npm ci` caches tarballs but not packuments, and npm 11 needs the full
 * packument to resolve the tarball's `^` range of node-gyp-build (and the source fallback's build
 * tools), so `--offline` failed with ENOTCACHED on a machine whose cache no earlier online install
 * had filled. A registry request is bounded (60 s, one retry) so that a slow registry fails the
 * install below its 240 s stop, with npm's reason. No audit, fund or update-notifier requests. The
 * nested install of the source fallback's build tools inherits these settings (npm passes
 * npm_config_prefer_offline and the fetch settings; scripts/build-tools.mjs).
 */
export const INSTALL_FLAGS = ['--prefer-offline', '--fetch-timeout=60000', '--fetch-retries=1', '--no-audit', '--no-fund', '--no-update-notifier', '--foreground-scripts', '--loglevel=error'];

/** The last `lines` lines of the newest npm debug log in `dir` (its phases with their timings), or ''. */
function npmLogTail(dir, lines = 40) {
  if (!existsSync(dir)) return '';
  const logs = readdirSync(dir).filter((f) => f.endsWith('-debug-0.log')).sort();
  if (logs.length === 0) return '';
  const text = readFileSync(join(dir, logs[logs.length - 1]), 'utf8').trimEnd().split('\n');
  return text.slice(-lines).join('\n');
}

/**
 * Makes an empty project in `app` (`type`: 'module' or 'commonjs'), copies the smoke test and
 * the entry-point check (test/packaging/entry-points.mjs) into it and installs `tarball` with `env` (stopped after `timeoutMs`); returns the npm result, the elapsed milliseconds, the
 * installed footprint (KiB of node_modules) and, when npm failed or was stopped, the tail of its
 * debug log (kept in `app`/npm-logs with timings).
 */
export function installInto(app, tarball, env, type = 'commonjs', timeoutMs = INSTALL_TIMEOUT_MS) {
  mkdirSync(app, { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type }));
  for (const f of ['smoke-run.cjs', 'smoke.mjs', 'smoke.cjs', 'entry-points.mjs']) copyFileSync(join(root, 'test', 'packaging', f), join(app, f));
  const logs = join(app, 'npm-logs');
  const t0 = process.hrtime.bigint();
  const r = spawnSync('npm', ['install', ...INSTALL_FLAGS, '--timing', `--logs-dir=${logs}`, tarball], { cwd: app, env, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const du = spawnSync('du', ['-sk', join(app, 'node_modules')], { encoding: 'utf8' });
  const footprintKiB = du.status === 0 ? Number(du.stdout.split(/\s/)[0]) : NaN;
  const packages = existsSync(join(app, 'node_modules')) ? readdirSync(join(app, 'node_modules')).filter((n) => !n.startsWith('.')) : [];
  const stopped = r.error ? `npm did not finish: ${r.error.message} after ${Math.round(ms)} ms\n` : '';
  const log = r.status === 0 ? '' : `${stopped}npm debug log (tail):\n${npmLogTail(logs)}`;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms, footprintKiB, packages, log };
}

/** Runs smoke.mjs or smoke.cjs in `app` with `node` (of `arch`); returns the parsed JSON line. */
export function smoke(app, node, arch, file, env) {
  const r = runNode(node, arch, [file], { cwd: app, env, timeout: 120_000 });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  let result;
  try {
    result = JSON.parse(line);
  } catch {
    result = { ok: false, error: `no JSON from ${file}` };
  }
  return { status: r.status, result, stderr: r.stderr, stdout: r.stdout };
}

/**
 * A PATH directory (no compiler) whose `node` and `npm` run on `node`, a linux-`arch` binary
 * (under qemu-user when `arch` is not this machine's), so npm and the install scripts it starts
 * run on that Node; the rest is compilerFreePath's.
 */
export function emulatedPath(dir, node, arch) {
  const bin = compilerFreePath(dir);
  const npmCli = realpathSync(spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim());
  const run = runner(arch).map((a) => JSON.stringify(a)).join(' ');
  for (const [name, target] of [['node', `${JSON.stringify(node)}`], ['npm', `${JSON.stringify(node)} ${JSON.stringify(npmCli)}`]]) {
    rmSync(join(bin, name), { force: true });
    writeFileSync(join(bin, name), `#!/bin/sh\nexec ${run} ${target} "$@"\n`, { mode: 0o755 });
  }
  return bin;
}
