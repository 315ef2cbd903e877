// Packaging: the npm tarball (the release artifact) holds both prebuilds, the ESM and CommonJS
// entry points with types, and the sources for the fallback; it installs with no compiler on PATH
// and passes the peer-connection smoke test (SRTP media + data channel) through `import` and
// `require`, which load one instance of the package (entry-points.mjs, docs/release.md); without
// a fitting prebuild the install fails with one message naming what is missing. `npm run test:packaging` (PWT_PACKAGING=full) adds the Node 18/20/22/24 matrix, arm64
// under qemu-user and the compile-from-source branch (docs/native-build.md).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  NODE_MATRIX, PREBUILD_NAME, TARBALL_BUDGET, compilerFreePath, emulatedPath, compilerVisible, contentProblems, floorProblems,
  installInto, loadPrebuild, nodeBinary, pack, prebuild, root, runNode, smoke, treeHash, userEnv, writeTypeConsumers, type Packed,
} from './packaging-harness.js';

const full = process.env.PWT_PACKAGING === 'full';
const LONG = full ? false : 'long form: npm run test:packaging';
const arches = full ? ['x64', 'arm64'] : [process.arch];
const linux = process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64');

let work = '';
let packed: Packed;
let noCompiler: NodeJS.ProcessEnv;

/**
 * test/packaging/entry-points.mjs in the installed `app` on `node`: every export path imported and
 * required gives the same values (one instance of every class), the bin answers, a worker starts.
 */
function entryPoints(app: string, node: string, env: NodeJS.ProcessEnv): void {
  const r = runNode(node, process.arch, ['entry-points.mjs'], { cwd: app, env, timeout: 120_000 });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  assert.equal(r.status, 0, `entry-points.mjs on ${node}: ${line}\n${r.stderr}`);
  const result = JSON.parse(line) as { ok: boolean; problems: string[]; entries: Array<{ specifier: string }> };
  assert.deepEqual(result.problems, []);
  assert.deepEqual(result.entries.map((e) => e.specifier), ['pure-webrtc-transport', 'pure-webrtc-transport/media']);
}

/** The tarball with prebuilds/ taken out: what a platform without a prebuild gets. */
function withoutPrebuilds(tarball: string): string {
  const dir = join(work, 'strip');
  mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['xzf', tarball, '-C', dir]);
  rmSync(join(dir, 'package', 'prebuilds'), { recursive: true, force: true });
  const out = join(work, 'no-prebuilds.tgz');
  execFileSync('tar', ['czf', out, '-C', dir, 'package']);
  return out;
}

before(() => {
  if (!linux) return;
  work = mkdtempSync(join(tmpdir(), 'pwt-pack-'));
  // Only the arches under test: a stale prebuild of another arch must not ride along.
  for (const d of existsSync(join(root, 'prebuilds')) ? readdirSync(join(root, 'prebuilds')) : []) {
    if (d.startsWith('linux-') && !arches.includes(d.slice(6))) rmSync(join(root, 'prebuilds', d), { recursive: true, force: true });
  }
  for (const a of arches) prebuild(a);
  packed = pack(work);
  noCompiler = userEnv({ PATH: compilerFreePath(work), npm_config_nodedir: join(work, 'no-node-headers') });
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the tarball lists what users need and nothing else, within its size budget', { skip: !linux && 'prebuilds are made on linux x64/arm64' }, () => {
  assert.deepEqual(contentProblems(packed.files, arches), []);
  assert.ok(packed.size <= TARBALL_BUDGET, `tarball ${packed.size} B over the ${TARBALL_BUDGET} B budget`);
  for (const a of arches) {
    assert.deepEqual(floorProblems(join(root, 'prebuilds', `linux-${a}`, PREBUILD_NAME), a), [], `linux-${a} prebuild within the glibc floor`);
  }
  const pkg = createRequire(import.meta.url)(join(root, 'package.json')) as { dependencies: Record<string, string> };
  assert.deepEqual(Object.keys(pkg.dependencies).sort(), ['node-gyp-build'], 'build tools and sdp-transform (tests and benchmarks only) are not runtime dependencies');
});

test('installs with no compiler on PATH; import and require both pass the peer-connection smoke test, with types', { skip: !linux && 'prebuilds are made on linux x64/arm64', timeout: 300_000 }, (t) => {
  assert.equal(compilerVisible(noCompiler), false, 'compilers are hidden');
  const app = join(work, 'app');
  const ins = installInto(app, packed.tarball, noCompiler, 'commonjs');
  assert.equal(ins.status, 0, `npm install failed:\n${ins.stdout}\n${ins.stderr}\n${ins.log}`);
  assert.deepEqual(ins.packages.sort(), ['node-gyp-build', 'pure-webrtc-transport'], 'no build tools or test-only packages installed');
  const installed = join(app, 'node_modules', 'pure-webrtc-transport');
  assert.ok(!existsSync(join(installed, 'build')), 'nothing was compiled at install');
  t.diagnostic(`tarball ${packed.size} B (${packed.files.length} files, ${packed.unpackedSize} B unpacked); install without a compiler ${Math.round(ins.ms)} ms; node_modules ${ins.footprintKiB} KiB`);

  for (const file of ['smoke.mjs', 'smoke.cjs'] as const) {
    const s = smoke(app, process.execPath, process.arch, file, noCompiler);
    assert.equal(s.status, 0, `${file}: ${JSON.stringify(s.result)}\n${s.stderr}`);
    assert.equal(s.result.ok, true);
    assert.equal(s.result.rtpReceived, s.result.rtpSent);
    assert.deepEqual(s.result.messages, [5, 5]);
    assert.equal(s.result.sourceHash, treeHash(), 'the installed prebuild is the one built from this tree');
    // One build: require gets dist/lib's CommonJS files, import the ESM entry files beside them.
    const ext = file === 'smoke.cjs' ? '.js' : '.mjs';
    assert.ok(s.result.entries.every((e) => e.includes('pure-webrtc-transport/dist/lib/') && e.endsWith(ext)), `${file} resolved ${s.result.entries.join(', ')}`);
  }
  entryPoints(app, process.execPath, noCompiler);

  // Types: one set of declarations serves a CommonJS and an ESM TypeScript consumer under node16 and
  // nodenext resolution, and an ESM one under bundler resolution.
  const files = writeTypeConsumers(app);
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  for (const [mod, resolution, consumers] of [['node16', 'node16', files.node], ['nodenext', 'nodenext', files.node], ['esnext', 'bundler', files.bundler]] as const) {
    const r = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', mod, '--moduleResolution', resolution, '--target', 'es2022',
      '--skipLibCheck', 'false', '--typeRoots', join(root, 'node_modules', '@types'), '--types', 'node', ...consumers], { cwd: app, encoding: 'utf8' });
    assert.equal(r.status, 0, `consumer type check (--module ${mod} --moduleResolution ${resolution}) failed:\n${r.stdout}${r.stderr}`);
  }
  // The declarations resolved are the one set in dist/lib, for require and for import.
  const trace = spawnSync(process.execPath, [tsc, '--noEmit', '--module', 'node16', '--moduleResolution', 'node16', '--traceResolution', '--skipLibCheck',
    '--typeRoots', join(root, 'node_modules', '@types'), '--types', 'node', ...files.node], { cwd: app, encoding: 'utf8' });
  for (const spec of ['pure-webrtc-transport', 'pure-webrtc-transport/media']) {
    const resolved = [...trace.stdout.matchAll(new RegExp(`======== Module name '${spec}' was successfully resolved to '([^']+)'`, 'g'))].map((m) => m[1]!);
    assert.ok(resolved.length >= 2, `${spec} resolved for both consumers: ${resolved.join(', ')}`);
    const expected = spec.endsWith('/media') ? '/dist/lib/media/index.d.ts' : '/dist/lib/index.d.ts';
    assert.ok(resolved.every((f) => f.endsWith(`pure-webrtc-transport${expected}`)), `${spec} types: ${[...new Set(resolved)].join(', ')}`);
  }
});

test('no fitting prebuild and no compiler: the install fails with one message naming what is missing', { skip: !linux && 'prebuilds are made on linux x64/arm64', timeout: 300_000 }, () => {
  // musl: node-gyp-build skips the glibc-tagged prebuild, as on Alpine.
  for (const [name, tarball, extra] of [['musl', packed.tarball, { LIBC: 'musl' }], ['no prebuild', withoutPrebuilds(packed.tarball), {}]] as const) {
    const app = join(work, `fail-${name.replace(' ', '-')}`);
    const ins = installInto(app, tarball, { ...noCompiler, ...extra });
    assert.notEqual(ins.status, 0, `${name}: install must fail`);
    const lines = ins.stderr.split('\n').filter((l) => l.includes('pure-webrtc-transport: cannot compile'));
    assert.equal(lines.length, 1, `${name}: one message\n${ins.stderr}\n${ins.log}`);
    assert.match(lines[0]!, /missing cmake, a C\+\+17 compiler \(g\+\+ or clang\+\+\), make or ninja/);
    assert.match(lines[0]!, /Prebuilt binaries exist for linux-x64 and linux-arm64 \(glibc\)/);
  }
});

test('Node 18, 20, 22 and 24 (x64): npm on each installs the tarball without compiling and the smoke test passes', { skip: LONG || (process.arch !== 'x64' && 'x64 matrix runs on x64'), timeout: 600_000 }, (t) => {
  const opensslSeen = new Set<string>();
  for (const version of NODE_MATRIX.x64) {
    const node = nodeBinary('x64', version);
    const app = join(work, `x64-${version}`);
    // `node` and `npm` on PATH are this Node, so the install script runs on it too.
    const env = { ...noCompiler, PATH: emulatedPath(join(work, `x64-${version}-bin`), node, 'x64') };
    assert.equal(compilerVisible(env), false, 'compilers are hidden');
    const ins = installInto(app, packed.tarball, env);
    assert.equal(ins.status, 0, `npm install on Node ${version} failed:\n${ins.stdout}\n${ins.stderr}\n${ins.log}`);
    assert.ok(!existsSync(join(app, 'node_modules', 'pure-webrtc-transport', 'build')), 'nothing was compiled');
    const loaded = loadPrebuild(join(app, 'node_modules', 'pure-webrtc-transport', 'prebuilds', 'linux-x64', PREBUILD_NAME), node, 'x64');
    assert.equal(loaded.sourceHash, treeHash());
    for (const file of ['smoke.mjs', 'smoke.cjs'] as const) {
      const s = smoke(app, node, 'x64', file, env);
      assert.equal(s.status, 0, `Node ${version} ${file}: ${JSON.stringify(s.result)}\n${s.stderr}`);
      assert.equal(s.result.ok, true);
      assert.equal(s.result.node, `v${version}`);
      opensslSeen.add(s.result.openssl);
    }
    entryPoints(app, node, env);
    t.diagnostic(`Node ${version} (OpenSSL ${loaded.openssl}; prebuild compiled against ${loaded.opensslHeaders}): npm install ${Math.round(ins.ms)} ms, no compile; esm + cjs smoke ok; entry points ok`);
  }
  assert.ok(opensslSeen.size >= 2, `several OpenSSL versions exercised: ${[...opensslSeen].join(', ')}`);
});

test('linux-arm64 under qemu-user: npm installs the tarball without compiling and the smoke test passes', { skip: LONG, timeout: 600_000 }, (t) => {
  for (const version of NODE_MATRIX.arm64) {
    const node = nodeBinary('arm64', version);
    const app = join(work, `arm64-${version}`);
    // npm itself and every node it starts run as arm64 processes; each records its arch and script.
    const log = join(work, `arm64-${version}.log`);
    const hook = join(work, 'record-process.cjs');
    writeFileSync(hook, `require('fs').appendFileSync(${JSON.stringify(log)}, process.arch + ' ' + (process.argv[1] || '') + '\\n');\n`);
    const env = { ...noCompiler, PATH: emulatedPath(join(work, `arm64-${version}-bin`), node, 'arm64'), NODE_OPTIONS: `--require ${hook}` };
    assert.equal(compilerVisible(env), false, 'compilers are hidden');
    const ins = installInto(app, packed.tarball, env);
    assert.equal(ins.status, 0, `npm install under qemu failed:\n${ins.stdout}\n${ins.stderr}\n${ins.log}`);
    const ran = readFileSync(log, 'utf8').trim().split('\n');
    assert.ok(ran.some((l) => /^arm64 .*pure-webrtc-transport\/scripts\/install\.mjs$/.test(l)), `the install script ran on arm64:\n${ran.join('\n')}`);
    assert.ok(ran.every((l) => l.startsWith('arm64 ')), `every process was arm64:\n${ran.join('\n')}`);
    const pkgDir = join(app, 'node_modules', 'pure-webrtc-transport');
    assert.doesNotMatch(ins.stdout + ins.stderr, /compiling/);
    assert.ok(!existsSync(join(pkgDir, 'build')), 'nothing was compiled');
    const loaded = loadPrebuild(join(pkgDir, 'prebuilds', 'linux-arm64', PREBUILD_NAME), node, 'arm64');
    assert.equal(loaded.arch, 'arm64');
    assert.equal(loaded.sourceHash, treeHash());
    for (const file of ['smoke.mjs', 'smoke.cjs'] as const) {
      const s = smoke(app, node, 'arm64', file, noCompiler);
      assert.equal(s.status, 0, `arm64 Node ${version} ${file}: ${JSON.stringify(s.result)}\n${s.stderr}`);
      assert.equal(s.result.ok, true);
      assert.equal(s.result.arch, 'arm64');
    }
    t.diagnostic(`arm64 Node ${version} under qemu (OpenSSL ${loaded.openssl}): npm install ${Math.round(ins.ms)} ms, no compile; esm + cjs smoke ok`);
  }
});

test('no fitting prebuild, compiler present: the install compiles from source and the smoke test passes', { skip: LONG, timeout: 600_000 }, () => {
  const app = join(work, 'compiled');
  // This install compiles the addon (minutes on a loaded machine): its own bound, below the test's.
  const ins = installInto(app, withoutPrebuilds(packed.tarball), userEnv(), 'commonjs', 540_000);
  assert.equal(ins.status, 0, `npm install failed:\n${ins.stdout}\n${ins.stderr}\n${ins.log}`);
  assert.match(ins.stderr, /compiling the native addon from source/);
  assert.ok(existsSync(join(app, 'node_modules', 'pure-webrtc-transport', 'build', 'Release', 'pure-webrtc-transport.node')));
  assert.ok(!existsSync(join(app, 'node_modules', 'cmake-js')), 'build tools were not left in the project');
  const s = smoke(app, process.execPath, process.arch, 'smoke.cjs', userEnv());
  assert.equal(s.status, 0, JSON.stringify(s.result));
  assert.equal(s.result.sourceHash, treeHash());
});
