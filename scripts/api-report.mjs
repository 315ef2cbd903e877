// API report: the names and signatures the package's entry points export, as users see them in
// the published .d.ts (tsconfig.build.json, stripInternal). Writes docs/api-report.md; with
// --check, exits 1 when the file is stale (test/unit/api/api-report.test.ts runs that).
// Usage: node scripts/api-report.mjs [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const reportPath = join(root, 'docs', 'api-report.md');

/** Entry points of package.json "exports" (the types of each). */
function entryPoints() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const out = [];
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    // "types" directly (one set of declarations for import and require), or under "import".
    const types = typeof target === 'object' ? (target.types ?? target.import?.types) : undefined;
    if (typeof types !== 'string') continue;
    const source = types.replace(/^\.\/dist\//, '').replace(/\.d\.ts$/, '.ts');
    out.push({ name: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`, source: join(root, source) });
  }
  return out;
}

/** Emits the declarations of the build config in memory: file name → .d.ts text. */
function emitDeclarations() {
  const configPath = join(root, 'tsconfig.build.json');
  const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); } });
  const options = { ...config.options, declaration: true, emitDeclarationOnly: true, removeComments: true, sourceMap: false, declarationMap: false, noEmit: false };
  const program = ts.createProgram(config.fileNames, options);
  const files = new Map();
  const result = program.emit(undefined, (name, text) => {
    if (name.endsWith('.d.ts')) files.set(resolve(name), text);
  }, undefined, true);
  const errors = ts.getPreEmitDiagnostics(program).concat(result.diagnostics).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) throw new Error(ts.formatDiagnostics(errors, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' }));
  return { files, outDir: resolve(options.outDir ?? join(root, 'dist')), docs: exportDocs(program) };
}

/**
 * The TSDoc summary (first paragraph) of every export of every entry point, read from the source
 * program (the emitted declarations carry no comments): `entry name` → `export name` → text.
 * An export without one is an error: the report is the API reference README.md links to.
 */
function exportDocs(program) {
  const checker = program.getTypeChecker();
  const out = new Map();
  const undocumented = [];
  const walk = (moduleSymbol, prefix, docs) => {
    for (const exp of checker.getExportsOfModule(moduleSymbol)) {
      const target = exp.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exp) : exp;
      const decls = target.declarations ?? [];
      if (decls.some((d) => ts.isSourceFile(d) || ts.isModuleDeclaration(d)) && target.flags & ts.SymbolFlags.ValueModule) {
        walk(target, `${prefix}${exp.name}.`, docs);
        continue;
      }
      const text = ts.displayPartsToString(target.getDocumentationComment(checker)).trim();
      const summary = text.split(/\n\s*\n/)[0].replace(/\s*\n\s*/g, ' ').trim();
      if (summary === '') undocumented.push(`${prefix}${exp.name}`);
      docs.set(`${prefix}${exp.name}`, summary);
    }
  };
  for (const e of entryPoints()) {
    const sf = program.getSourceFile(e.source);
    const symbol = sf && checker.getSymbolAtLocation(sf);
    if (!symbol) throw new Error(`no source for ${e.name} (${e.source})`);
    const docs = new Map();
    walk(symbol, '', docs);
    out.set(e.name, docs);
  }
  if (undocumented.length > 0) throw new Error(`exports without a TSDoc comment (the API reference needs one each): ${undocumented.join(', ')}`);
  return out;
}

/** A program over the emitted .d.ts only, so the report sees exactly what is published. */
function declarationProgram(files, rootNames) {
  const host = ts.createCompilerHost({});
  const base = { ...host };
  const dirs = new Set();
  for (const f of files.keys()) for (let d = dirname(f); d !== dirname(d) && !dirs.has(d); d = dirname(d)) dirs.add(d);
  host.fileExists = (f) => files.has(resolve(f)) || base.fileExists(f);
  host.directoryExists = (d) => dirs.has(resolve(d)) || ts.sys.directoryExists(d);
  host.readFile = (f) => files.get(resolve(f)) ?? base.readFile(f);
  host.getSourceFile = (f, lang) => {
    const text = files.get(resolve(f));
    return text !== undefined ? ts.createSourceFile(f, text, lang, true) : base.getSourceFile(f, lang);
  };
  const options = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, noEmit: true, types: ['node'], skipLibCheck: false };
  const program = ts.createProgram(rootNames, options, host);
  const errors = ts.getPreEmitDiagnostics(program).filter((d) => d.category === ts.DiagnosticCategory.Error && d.file && files.has(resolve(d.file.fileName)));
  if (errors.length > 0) throw new Error(`the published declarations do not compile:\n${ts.formatDiagnostics(errors, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' })}`);
  return program;
}

/** The declaration text, without `export`/`declare` noise and with normalized indentation. */
function declarationText(node) {
  let text = node.getText();
  if (ts.isVariableDeclaration(node)) text = `const ${text}`;
  text = text.replace(/^export\s+/, '').replace(/^declare\s+/, '');
  // Private members are no API (the .d.ts names them without types); leaving them out keeps the
  // report about what users can call.
  return text.split('\n').map((l) => l.replace(/\s+$/, '')).filter((l) => l.trim() !== '' && !/^\s+(private\b|#private;)/.test(l)).join('\n');
}

function describeExports(checker, moduleSymbol, prefix, lines, docs) {
  const exports = checker.getExportsOfModule(moduleSymbol).slice().sort((a, b) => a.name.localeCompare(b.name));
  for (const exp of exports) {
    const target = exp.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exp) : exp;
    const decls = target.declarations ?? [];
    if (decls.some((d) => ts.isSourceFile(d) || ts.isModuleDeclaration(d)) && target.flags & ts.SymbolFlags.ValueModule) {
      lines.push(`### namespace ${prefix}${exp.name}`, '');
      describeExports(checker, target, `${prefix}${exp.name}.`, lines, docs);
      continue;
    }
    lines.push(`### ${prefix}${exp.name}`, '');
    const summary = docs.get(`${prefix}${exp.name}`);
    if (summary) lines.push(summary, '');
    lines.push('```ts');
    for (const d of decls) lines.push(declarationText(d));
    lines.push('```', '');
  }
}

function buildReport() {
  const { files, outDir, docs } = emitDeclarations();
  const entries = entryPoints().map((e) => ({ ...e, dts: join(outDir, e.source.slice(root.length + 1).replace(/\.ts$/, '.d.ts')) }));
  const program = declarationProgram(files, entries.map((e) => e.dts));
  const checker = program.getTypeChecker();
  const lines = [
    '# API report',
    '',
    'Generated by `npm run api-report` (scripts/api-report.mjs) from the declarations `tsc -p',
    'tsconfig.build.json` publishes (`stripInternal`: members marked `@internal` are not part of',
    'the API). Do not edit by hand; `test/unit/api/api-report.test.ts` fails when this file is stale,',
    'so every change of the public surface shows in review. Each name has the first paragraph of its',
    'TSDoc comment (the script fails when an export has none); the rest is in the .d.ts and in the',
    'docs/ page of its area.',
    '',
  ];
  for (const e of entries) {
    const sf = program.getSourceFile(e.dts);
    const symbol = sf && checker.getSymbolAtLocation(sf);
    if (!symbol) throw new Error(`no declarations for ${e.name} (${e.dts})`);
    lines.push(`## ${e.name}`, '');
    describeExports(checker, symbol, '', lines, docs.get(e.name) ?? new Map());
  }
  return `${lines.join('\n').replace(/\n+$/, '')}\n`;
}

/** The report's entries by heading (`## entry point` / `### name`), for naming what changed. */
function sections(text) {
  const out = new Map();
  let entry = '';
  let name = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('## ')) entry = line.slice(3);
    else if (line.startsWith('### ')) {
      name = `${entry} ${line.slice(4)}`;
      out.set(name, '');
    } else if (name) out.set(name, `${out.get(name)}${line}\n`);
  }
  return out;
}

const report = buildReport();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(reportPath, 'utf8');
  } catch {
    // missing: stale
  }
  if (current !== report) {
    const before = sections(current);
    const after = sections(report);
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k));
    console.error('docs/api-report.md is stale: the public API changed. Run `npm run api-report` and review the diff.');
    for (const k of changed.slice(0, 30)) console.error(`  ${!before.has(k) ? 'added' : !after.has(k) ? 'removed' : 'changed'}: ${k}`);
    if (changed.length > 30) console.error(`  ... and ${changed.length - 30} more`);
    process.exit(1);
  }
  console.log('docs/api-report.md is up to date');
} else {
  writeFileSync(reportPath, report);
  console.log(`wrote ${reportPath} (${report.split('\n').length} lines)`);
}
