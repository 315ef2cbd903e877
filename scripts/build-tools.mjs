// What a source build of the addon needs, found or fetched only when a build runs: the system
// tools (cmake, a C++17 compiler, make or ninja) and the npm build tools (cmake-js,
// node-addon-api), which are devDependencies, not runtime ones (docs/native-build.md).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

/** The GNU cross toolchain prefix Debian uses for each Node arch we cross-build. */
export const CROSS_TRIPLES = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };

function onPath(cmd, env = process.env) {
  if (cmd.includes('/')) return existsSync(cmd);
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, cmd))) return true;
  }
  return false;
}

/** The C++ compiler a build for `arch` uses: $CXX, or the cross g++, or g++/clang++/c++. */
export function cxxFor(arch, env = process.env) {
  if (arch !== process.arch) {
    const triple = CROSS_TRIPLES[arch];
    return triple ? `${triple}-g++` : undefined;
  }
  if (env.CXX) return env.CXX.split(' ')[0];
  return ['g++', 'clang++', 'c++'].find((c) => onPath(c, env));
}

/** Names of the system tools missing for a source build for `arch` (empty when all exist). */
export function missingSystemTools(arch, env = process.env) {
  const missing = [];
  if (!onPath('cmake', env)) missing.push('cmake');
  const cxx = cxxFor(arch, env);
  if (!cxx || !onPath(cxx, env)) missing.push(arch === process.arch ? 'a C++17 compiler (g++ or clang++)' : `the cross compiler ${cxx ?? `for ${arch}`}`);
  if (!onPath('ninja', env) && !onPath('make', env)) missing.push('make or ninja');
  return missing;
}

/** npm's own settings worth passing to a nested `npm install` (registry, cache, proxies). */
function npmEnv() {
  const keep = /^npm_config_(registry|cache|offline|prefer_offline|fetch_timeout|fetch_retries|proxy|https_proxy|noproxy|strict_ssl|cafile|userconfig|globalconfig)$/;
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) && !keep.test(k)) continue;
    env[k] = v;
  }
  return env;
}

/**
 * cmake-js and node-addon-api for a build of the package at `root`: resolved from the package
 * (a development checkout, or a project that has them), else installed into a temporary folder
 * at the versions package.json's devDependencies name. `cleanup()` removes that folder.
 */
export function locateBuildTools(root) {
  const require = createRequire(join(root, 'package.json'));
  try {
    const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
    const addonApi = dirname(require.resolve('node-addon-api/package.json'));
    return { cmakeJs, nodePath: dirname(addonApi), cleanup() {}, installed: false };
  } catch {
    // not here: fetch them below
  }
  const dev = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies ?? {};
  const specs = ['cmake-js', 'node-addon-api'].map((n) => `${n}@${dev[n] ?? 'latest'}`);
  const dir = mkdtempSync(join(tmpdir(), 'pwt-build-tools-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  console.error(`pure-webrtc-transport: installing the build tools ${specs.join(', ')} into a temporary folder`);
  const r = spawnSync('npm', ['install', '--prefix', dir, '--no-save', '--no-package-lock', '--no-audit', '--no-fund',
    '--ignore-scripts', '--loglevel=error', ...specs], { stdio: ['ignore', 'inherit', 'inherit'], env: npmEnv() });
  const cmakeJs = join(dir, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
  if (r.status !== 0 || !existsSync(cmakeJs)) {
    cleanup();
    return undefined;
  }
  return { cmakeJs, nodePath: join(dir, 'node_modules'), cleanup, installed: true };
}
