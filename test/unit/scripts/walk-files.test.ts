// scripts/walk-files.mjs: sorted depth-first listing that follows symbolic links like the first
// source-hash walk (statSync), so a linked directory under native/ is hashed, not read as a file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
// @ts-expect-error: a plain .mjs script without types
import { walkFiles } from '../../../scripts/walk-files.mjs';

const list = (dir: string, keep?: (p: string) => boolean): string[] =>
  (walkFiles(dir, keep) as string[]).map((p) => relative(dir, p).split('\\').join('/'));

test('walkFiles: sorted depth first, links to directories walked under the link, links to files listed', () => {
  const root = mkdtempSync(join(tmpdir(), 'walk-files-'));
  try {
    const tree = join(root, 'tree');
    mkdirSync(join(tree, 'b', 'c'), { recursive: true });
    writeFileSync(join(tree, 'b', 'c', 'x.cpp'), 'x');
    writeFileSync(join(tree, 'b', 'a.hpp'), 'a');
    writeFileSync(join(tree, 'Z.cpp'), 'z');
    mkdirSync(join(root, 'outside'));
    writeFileSync(join(root, 'outside', 'o.cpp'), 'o');
    symlinkSync(join(root, 'outside'), join(tree, 'linked'), 'dir');
    symlinkSync(join(tree, 'Z.cpp'), join(tree, 'y.cpp'));
    // A cycle (a link to an ancestor) is skipped rather than walked forever.
    symlinkSync(tree, join(tree, 'b', 'loop'), 'dir');
    // UTF-16 code unit order: 'Z' < 'b' < 'l' < 'y'.
    assert.deepEqual(list(tree), ['Z.cpp', 'b/a.hpp', 'b/c/x.cpp', 'linked/o.cpp', 'y.cpp']);
    assert.deepEqual(list(tree, (p) => p.endsWith('.hpp')), ['b/a.hpp']);
    // A broken link is listed as a file (reading it fails later, with the link's name).
    rmSync(join(root, 'outside'), { recursive: true });
    assert.deepEqual(list(tree), ['Z.cpp', 'b/a.hpp', 'b/c/x.cpp', 'linked', 'y.cpp']);
    assert.deepEqual(list(join(root, 'missing')), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
