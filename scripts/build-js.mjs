// Compiles lib/ twice: ESM with declarations into dist/lib (tsc), and CommonJS into dist/cjs
// (esbuild, file by file, no bundling) with the same declarations, so `import` and `require`
// of the package and of its /media entry both work with types (docs/native-build.md).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function walk(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });

const esbuild = require('esbuild');
const cjs = join(root, 'dist', 'cjs');
// The command-line tool stays ESM only (its bin entry); everything a program imports is dual.
const sources = walk(join(root, 'lib')).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.includes(`${join('lib', 'cli')}`));
for (const file of sources) {
  const rel = relative(join(root, 'lib'), file).replace(/\.ts$/, '.js');
  const code = readFileSync(file, 'utf8');
  // import.meta does not exist in CommonJS: the one module that needs its own location
  // (lib/native/addon.ts) gets it from __filename.
  const usesMeta = code.includes('import.meta');
  const result = esbuild.transformSync(code, {
    loader: 'ts', format: 'cjs', platform: 'node', target: 'node18', sourcefile: relative(root, file),
    tsconfigRaw: readFileSync(join(root, 'tsconfig.json'), 'utf8'),
    ...(usesMeta ? { define: { 'import.meta.url': '__pwtModuleUrl' } } : {}),
  });
  let out = result.code;
  if (usesMeta) {
    if (/import\.meta/.test(out)) throw new Error(`${rel}: import.meta left in the CommonJS build`);
    const decl = "const __pwtModuleUrl = require('node:url').pathToFileURL(__filename).href;\n";
    out = out.startsWith('"use strict";\n') ? out.replace('"use strict";\n', `"use strict";\n${decl}`) : decl + out;
  }
  mkdirSync(dirname(join(cjs, rel)), { recursive: true });
  writeFileSync(join(cjs, rel), out);
}
// Declarations: the same files, read as CommonJS declarations under dist/cjs's package.json.
for (const dts of walk(join(root, 'dist', 'lib')).filter((f) => f.endsWith('.d.ts'))) {
  const rel = relative(join(root, 'dist', 'lib'), dts);
  if (rel.startsWith(`cli`)) continue;
  mkdirSync(dirname(join(cjs, rel)), { recursive: true });
  copyFileSync(dts, join(cjs, rel));
}
writeFileSync(join(cjs, 'package.json'), JSON.stringify({ type: 'commonjs' }, null, 2) + '\n');
console.log(`build-js: dist/lib (ESM) and dist/cjs (CommonJS, ${sources.length} modules)`);
