// `npm run release:pack [-- --out DIR]`: the release artifact. Builds both prebuilds (linux-x64,
// linux-arm64 cross-built), runs `npm pack`, then checks the tarball: contents, size budget,
// glibc floor, both .node files load (arm64 under qemu-user), and `npm install <tarball>` in an
// empty project with no compiler on PATH passes the peer-connection smoke test. Prints a report.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_MATRIX, nodeBinary } from './node-binaries.mjs';
import { PREBUILD_NAME, prebuild } from './prebuildify.mjs';
import {
  TARBALL_BUDGET, compilerFreePath, compilerVisible, contentProblems, floorProblems, installInto, loadPrebuild, pack,
  root, smoke, userEnv,
} from './release-checks.mjs';
import { nativeSourceHash } from './source-hash.mjs';

const ARCHES = ['x64', 'arm64'];
const outIdx = process.argv.indexOf('--out');
const outDir = outIdx >= 0 ? process.argv[outIdx + 1] : join(root, '.cache', 'release');
const problems = [];
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) problems.push(what);
};

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error('release:pack runs on linux-x64 (it cross-builds arm64 and runs it under qemu-user)');
  process.exit(1);
}
for (const d of readdirSync(join(root, 'prebuilds'), { withFileTypes: true })) {
  if (d.name.startsWith('linux-') && !ARCHES.includes(d.name.slice(6))) rmSync(join(root, 'prebuilds', d.name), { recursive: true, force: true });
}
for (const arch of ARCHES) console.log(`prebuild ${prebuild(arch)}`);

const work = mkdtempSync(join(tmpdir(), 'pwt-release-'));
try {
  const packed = pack(work);
  const hash = nativeSourceHash(root);
  const cp = contentProblems(packed.files, ARCHES);
  check(cp.length === 0, `contents (${packed.files.length} files)${cp.length ? `: ${cp.join('; ')}` : ''}`);
  check(packed.size <= TARBALL_BUDGET, `size ${packed.size} B <= budget ${TARBALL_BUDGET} B (unpacked ${packed.unpackedSize} B)`);
  for (const arch of ARCHES) {
    const file = join(root, 'prebuilds', `linux-${arch}`, PREBUILD_NAME);
    const fp = floorProblems(file, arch);
    check(fp.length === 0, `linux-${arch} symbol versions within glibc 2.34 / GLIBCXX 3.4.29${fp.length ? `: ${fp.join('; ')}` : ''}`);
    const node = arch === process.arch ? process.execPath : nodeBinary(arch, NODE_MATRIX[arch][0]);
    try {
      const l = loadPrebuild(file, node, arch);
      check(l.sourceHash === hash && l.arch === arch, `linux-${arch} prebuild loads on Node ${l.node} ${arch}${arch === process.arch ? '' : ' (qemu-user)'}, OpenSSL ${l.openssl}`);
    } catch (err) {
      check(false, `linux-${arch} prebuild loads: ${err.message}`);
    }
  }
  const env = userEnv({ PATH: compilerFreePath(work), npm_config_nodedir: join(work, 'no-node-headers') });
  check(!compilerVisible(env), 'no compiler or cmake on the install PATH');
  const app = join(work, 'app');
  const ins = installInto(app, packed.tarball, env);
  check(ins.status === 0, `npm install <tarball> with no compiler: ${Math.round(ins.ms)} ms, node_modules ${ins.footprintKiB} KiB (${ins.packages.join(', ')})${ins.status === 0 ? '' : `\n${ins.stderr}`}`);
  if (ins.status === 0) {
    for (const file of ['smoke.mjs', 'smoke.cjs']) {
      const s = smoke(app, process.execPath, process.arch, file, env);
      check(s.status === 0 && s.result.ok && s.result.sourceHash === hash,
        `${file}: ${s.result.rtpReceived}/${s.result.rtpSent} SRTP packets, data channel ${s.result.messages}${s.status === 0 ? '' : `\n${s.stderr}`}`);
    }
  }
  mkdirSync(outDir, { recursive: true });
  const dest = join(outDir, packed.tarball.split('/').pop());
  copyFileSync(packed.tarball, dest);
  console.log(JSON.stringify({ tarball: dest, size: packed.size, unpackedSize: packed.unpackedSize, files: packed.files.length,
    installMs: Math.round(ins.ms), footprintKiB: ins.footprintKiB, problems }));
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(problems.length ? 1 : 0);
