// `node scripts/tarball-contents.mjs [file.tgz]`: what the npm tarball holds, by folder and by kind
// of file: files, unpacked bytes, and packed bytes. A group's packed bytes are what it adds to the
// tarball: the whole package re-tarred in the tarball's own file order and gzipped at npm's level
// (9), minus the same without that group. gzip's 32 KiB window makes neighbours compress together
// (npm orders files by their base name, so that twins such as a dual build's dist/lib/x.js and
// dist/cjs/x.js sit side by side), so a group tarred alone would be over-counted. Without a file it
// packs the checkout first (`npm pack`). docs/release.md keeps the tables this prints.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { walkFiles } from './walk-files.mjs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from './release-checks.mjs';

/** Folder group of a packed path: its first two levels under dist/ and prebuilds/, else the first. */
export function folderOf(path) {
  const parts = path.split('/');
  if ((parts[0] === 'dist' || parts[0] === 'prebuilds') && parts.length > 2) return `${parts[0]}/${parts[1]}`;
  return parts.length > 1 ? parts[0] : '(top-level files)';
}

/** Kind of a packed path: what a user would call it. */
export function kindOf(path) {
  if (/\.d\.(c|m)?ts$/.test(path)) return '.d.ts';
  if (/\.(c|m)?js$/.test(path)) return path.startsWith('scripts/') ? 'scripts (.mjs)' : '.js';
  if (/\.map$/.test(path)) return '.map';
  if (/\.node$/.test(path)) return '.node';
  if (/\.(cpp|cc|h|hpp)$/.test(path) || path === 'CMakeLists.txt' || path.endsWith('.cmake')) return 'C++ sources';
  if (/\.md$/.test(path)) return 'docs (.md)';
  if (path.startsWith('examples/')) return 'examples';
  if (path.startsWith('assets/')) return 'assets';
  if (path.endsWith('.json')) return '.json';
  return 'other';
}

/** Rows {group, files, unpacked, packed} of `tarball`, grouped by `by` (folderOf or kindOf). */
export function measure(tarball) {
  const dir = mkdtempSync(join(tmpdir(), 'pwt-contents-'));
  try {
    execFileSync('tar', ['xzf', tarball, '-C', dir]);
    const pkg = join(dir, 'package');
    // The tarball's own order (npm's), which decides what gzip compresses together.
    const order = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8', maxBuffer: 1 << 28 }).trim().split('\n').filter((p) => !p.endsWith('/'));
    const sizes = new Map(walkFiles(pkg).map((f) => [relative(pkg, f), statSync(f).size]));
    const files = order.map((p) => p.replace(/^package\//, '')).map((path) => ({ path, size: sizes.get(path) ?? 0 }));
    // npm pack gzips at zlib level 9 (pacote's tar options); re-tar the same way.
    const packedSize = (paths) => {
      const list = join(dir, 'list.txt');
      writeFileSync(list, paths.map((p) => `package/${p}`).join('\n') + '\n');
      const tar = execFileSync('tar', ['cf', '-', '--no-recursion', '-C', dir, '-T', list], { maxBuffer: 1 << 30 });
      return gzipSync(tar, { level: 9 }).length;
    };
    const whole = packedSize(files.map((f) => f.path));
    const table = (by) => {
      const groups = new Map();
      for (const f of files) {
        const g = by(f.path);
        if (!groups.has(g)) groups.set(g, []);
        groups.get(g).push(f);
      }
      const rows = [];
      for (const [group, members] of groups) {
        const rest = files.filter((f) => by(f.path) !== group).map((f) => f.path);
        rows.push({ group, files: members.length, unpacked: members.reduce((s, m) => s + m.size, 0), packed: whole - packedSize(rest) });
      }
      return rows.sort((a, b) => b.packed - a.packed);
    };
    return { files: files.length, unpacked: files.reduce((s, f) => s + f.size, 0), retarred: whole, byFolder: table(folderOf), byKind: table(kindOf) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A markdown table of `rows`. */
export function markdown(title, rows) {
  const n = (x) => x.toLocaleString('en-US');
  return [`| ${title} | files | unpacked B | packed B (adds) |`, '| --- | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.group} | ${n(r.files)} | ${n(r.unpacked)} | ${n(r.packed)} |`)].join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const arg = process.argv.slice(2).find((a) => !a.startsWith('--'));
  let work;
  let tarball = arg;
  let size;
  if (!tarball) {
    work = mkdtempSync(join(tmpdir(), 'pwt-contents-pack-'));
    tarball = pack(work).tarball;
  }
  try {
    size = statSync(tarball).size;
    const m = measure(tarball);
    const n = (x) => x.toLocaleString('en-US');
    console.log(`${tarball}: ${n(size)} B packed (${n(m.retarred)} B re-tarred here), ${n(m.unpacked)} B unpacked, ${m.files} files\n`);
    console.log(markdown('folder', m.byFolder));
    console.log();
    console.log(markdown('kind', m.byKind));
  } finally {
    if (work) rmSync(work, { recursive: true, force: true });
  }
}
