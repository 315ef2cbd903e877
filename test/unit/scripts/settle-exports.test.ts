// scripts/settle-exports.mjs: the CommonJS build's exports become read-only data properties once a
// module has run, and an export that cannot be read yet (a load cycle: a re-exported class still in
// its temporal dead zone) keeps its getter instead of failing the require().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error: a plain .mjs script without types
import { settleExports } from '../../../scripts/settle-exports.mjs';

const require = createRequire(import.meta.url);
const esbuild = require('esbuild') as { transformSync(code: string, o: object): { code: string } };

/** Builds each TypeScript source as scripts/build-js.mjs does (esbuild to CommonJS, then settled). */
function build(dir: string, sources: Record<string, string>): void {
  for (const [name, code] of Object.entries(sources)) {
    const { code: js } = esbuild.transformSync(code, { loader: 'ts', format: 'cjs', platform: 'node', target: 'node18' });
    writeFileSync(join(dir, `${name}.js`), (settleExports as (js: string, src: string, rel: string) => string)(js, code, `${name}.js`));
  }
}

const isData = (o: object, k: string): boolean => 'value' in (Object.getOwnPropertyDescriptor(o, k) ?? {});

test('settleExports: exports become read-only data properties after the module ran', () => {
  const dir = mkdtempSync(join(tmpdir(), 'settle-'));
  try {
    build(dir, {
      a: 'export class A {}\nexport const aConst = 2;\nexport function f(): number { return aConst; }',
      index: "export { A, aConst, f } from './a.js';",
    });
    const index = require(join(dir, 'index.js')) as Record<string, unknown>;
    for (const k of ['A', 'aConst', 'f']) assert.ok(isData(index, k), `${k} is a data property`);
    assert.equal(index.aConst, 2);
    assert.throws(() => {
      'use strict';
      (index as { aConst: number }).aConst = 3;
    }, TypeError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('settleExports: a load cycle through a re-exporting index loads, and the export read too early keeps its getter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'settle-cycle-'));
  try {
    build(dir, {
      // a.js imports from the index that re-exports it: required first, a.js runs while index.js
      // has not finished, so index's re-export of B (b.js not yet run) is still in its TDZ.
      a: "import { B } from './index.js';\nexport class A {}\nexport const aConst = 2;\nexport function makeB(): unknown { return new B(); }",
      b: 'export class B {}',
      index: "export { A, aConst, makeB } from './a.js';\nexport { B } from './b.js';",
    });
    const a = require(join(dir, 'a.js')) as { makeB(): unknown; aConst: number };
    assert.equal(a.aConst, 2);
    const index = require(join(dir, 'index.js')) as Record<string, unknown>;
    assert.ok(a.makeB() instanceof (index.B as new () => unknown));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
