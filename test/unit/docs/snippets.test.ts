// Every TypeScript snippet a user reads (README.md, docs/**/*.md, examples/README.md) and every
// example (examples/*.ts) typechecks against the package's public entry points, imported the way a
// user imports them ('pure-webrtc-transport', 'pure-webrtc-transport/media'; tsconfig.json maps
// them to lib/index.ts and lib/media/index.ts), in ONE TypeScript program.
//
// Markers, an HTML comment on the line(s) right above a ```ts fence (invisible once rendered):
//   <!-- snippet-context: declare const pc: RTCPeerConnection; -->   code prepended to the snippet
//       (what the surrounding prose supplies: variables, imports); may span several lines.
//   <!-- snippet: fragment (reason) -->   not compiled (pseudo-code such as an interface sketch);
//       the reason is required.
//   <!-- snippet: same as examples/NAME.ts -->   the snippet must equal that example's code (the
//       example itself is compiled here and run by its own test).
// docs/api-report.md is generated declarations, checked by test/unit/api/api-report.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const ENTRY_POINTS = new Set(['pure-webrtc-transport', 'pure-webrtc-transport/media']);
const CODE_LANGS = new Set(['ts', 'typescript', 'js', 'javascript', 'mts', 'mjs', 'cjs', 'tsx']);

/** One fenced TypeScript block of a Markdown file, with its markers. */
export interface Snippet {
  readonly doc: string;
  readonly line: number;
  readonly code: string;
  readonly context: string;
  readonly fragment?: string;
  readonly sameAs?: string;
}

/** Fenced code blocks of `text` in one of CODE_LANGS, with the marker comments right above them. */
export function extractSnippets(doc: string, text: string): Snippet[] {
  const lines = text.split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(```+)\s*([A-Za-z]*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[2]!;
    let end = i + 1;
    while (end < lines.length && !new RegExp(`^\\s*${fence}\\s*$`).test(lines[end]!)) end++;
    const lang = open[3]!.toLowerCase();
    if (CODE_LANGS.has(lang)) {
      // Collect the HTML comments directly above the fence (blank lines between are not allowed).
      let j = i - 1;
      let comments = '';
      while (j >= 0 && lines[j]!.trimEnd().endsWith('-->')) {
        let k = j;
        while (k >= 0 && !lines[k]!.includes('<!--')) k--;
        assert.ok(k >= 0, `${doc}:${j + 1}: unterminated marker comment`);
        comments = `${lines.slice(k, j + 1).join('\n')}\n${comments}`;
        j = k - 1;
      }
      let context = '';
      let fragment: string | undefined;
      let sameAs: string | undefined;
      for (const m of comments.matchAll(/<!--\s*snippet(-context)?:([\s\S]*?)-->/g)) {
        const body = m[2]!.trim();
        if (m[1]) context += `${body}\n`;
        else if (/^fragment\b/.test(body)) fragment = /^fragment\s*\((.+)\)$/s.exec(body)?.[1]?.trim() ?? '';
        else if (/^same as /.test(body)) sameAs = body.slice('same as '.length).trim();
        else assert.fail(`${doc}:${i + 1}: unknown snippet marker "${body}"`);
      }
      assert.notEqual(fragment, '', `${doc}:${i + 1}: a fragment marker needs a reason: <!-- snippet: fragment (why) -->`);
      out.push({ doc, line: i + 2, code: lines.slice(i + 1, end).join('\n'), context, fragment, sameAs });
    }
    i = end;
  }
  return out;
}

function markdownFiles(): string[] {
  const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md') && f !== 'api-report.md').map((f) => `docs/${f}`);
  const bench = readdirSync(join(root, 'docs', 'bench')).filter((f) => f.endsWith('.md')).map((f) => `docs/bench/${f}`);
  return ['README.md', 'examples/README.md', ...docs.sort(), ...bench.sort()];
}

function exampleFiles(): string[] {
  return readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.ts')).sort().map((f) => join(root, 'examples', f));
}

/** Code without comments, blank lines and trailing spaces: what two copies of a sample must share. */
function codeOnly(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .split('\n')
    .map((l) => l.replace(/(^|\s)\/\/.*$/, '').trimEnd())
    .filter((l) => l.trim() !== '')
    .join('\n');
}

function compilerOptions(): ts.CompilerOptions {
  const configPath = join(root, 'tsconfig.json');
  const read = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  assert.equal(read.error, undefined);
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, root, undefined, configPath);
  const paths = parsed.options.paths ?? {};
  for (const entry of ENTRY_POINTS) assert.ok(paths[entry], `tsconfig.json maps "${entry}" to its source (compilerOptions.paths)`);
  // A snippet shows a call, not a finished program: unused names are not an error there.
  return { ...parsed.options, noEmit: true, noUnusedLocals: false, noUnusedParameters: false, sourceMap: false, declaration: false };
}

const snippets = markdownFiles().flatMap((doc) => extractSnippets(doc, readFileSync(join(root, doc), 'utf8')));

test('the marker syntax: context, fragments with a reason, same-as', () => {
  const md = [
    'text',
    '<!-- snippet-context: declare const pc: RTCPeerConnection;',
    'declare const t: number; -->',
    '```ts',
    'pc.close();',
    '```',
    '<!-- snippet: fragment (an interface sketch) -->',
    '```ts',
    'interface X { f?(kind): void }',
    '```',
    '```sh',
    'npm test',
    '```',
    '<!-- snippet: same as examples/seed-sample.ts -->',
    '```typescript',
    'let a = 1;',
    '```',
  ].join('\n');
  const s = extractSnippets('x.md', md);
  assert.equal(s.length, 3);
  assert.equal(s[0]!.line, 5);
  assert.equal(s[0]!.code, 'pc.close();');
  assert.match(s[0]!.context, /declare const pc: RTCPeerConnection;\ndeclare const t: number;/);
  assert.equal(s[1]!.fragment, 'an interface sketch');
  assert.equal(s[2]!.sameAs, 'examples/seed-sample.ts');
  assert.throws(() => extractSnippets('y.md', '<!-- snippet: fragment -->\n```ts\nx\n```'), /needs a reason/);
  assert.throws(() => extractSnippets('y.md', '<!-- snippet: frgament (typo) -->\n```ts\nx\n```'), /unknown snippet marker/);
});

test('every TypeScript snippet in README.md and docs/ and every example typechecks against the public entry points', { timeout: 120_000 }, () => {
  assert.ok(snippets.length >= 16, `found only ${snippets.length} snippets`);
  const options = compilerOptions();
  const virtual = new Map<string, { text: string; origin: string; contextLines: number }>();
  for (const s of snippets) {
    if (s.fragment !== undefined) continue;
    const name = join(root, '.snippets', `${s.doc.replace(/[/.]/g, '_')}_L${s.line}.ts`);
    const context = s.context;
    virtual.set(name, { text: `${context}${s.code}\nexport {};\n`, origin: `${s.doc}:${s.line}`, contextLines: context.split('\n').length - 1 });
  }
  const host = ts.createCompilerHost(options, true);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => virtual.has(f) || fileExists.call(host, f);
  host.readFile = (f) => virtual.get(f)?.text ?? readFile.call(host, f);
  host.getSourceFile = (f, lang, onError, create) => {
    const v = virtual.get(f);
    return v ? ts.createSourceFile(f, v.text, lang, true) : getSourceFile.call(host, f, lang, onError, create);
  };
  const examples = exampleFiles();
  const program = ts.createProgram({ rootNames: [...virtual.keys(), ...examples], options, host });

  const problems: string[] = [];
  const where = (sf: ts.SourceFile, pos: number): string => {
    const { line, character } = sf.getLineAndCharacterOfPosition(pos);
    const v = virtual.get(sf.fileName);
    if (!v) return `${relative(root, sf.fileName)}:${line + 1}:${character + 1}`;
    return line < v.contextLines ? `${v.origin} (snippet-context line ${line + 1})` : `${v.origin.split(':')[0]}:${Number(v.origin.split(':')[1]) + line - v.contextLines}:${character + 1}`;
  };
  for (const sf of [...virtual.keys(), ...examples].map((f) => program.getSourceFile(f)!)) {
    for (const d of [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]) {
      problems.push(`${where(sf, d.start ?? 0)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    }
    // Imports: the package by its name, Node's built-ins, or (examples) a sibling example.
    for (const st of sf.statements) {
      if (!(ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) || !st.moduleSpecifier || !ts.isStringLiteral(st.moduleSpecifier)) continue;
      const spec = st.moduleSpecifier.text;
      const ok = ENTRY_POINTS.has(spec) || spec.startsWith('node:') || (!virtual.has(sf.fileName) && /^\.\/[\w-]+\.js$/.test(spec));
      if (!ok) problems.push(`${where(sf, st.getStart())}: imports '${spec}', not one of the package's entry points a user can import`);
    }
  }
  assert.deepEqual(problems, [], `\n${problems.join('\n')}`);
});

test('a snippet marked "same as" an example is that example\'s code', () => {
  const marked = snippets.filter((s) => s.sameAs);
  assert.ok(marked.some((s) => s.doc === 'README.md'), 'the README\'s sample names the example it is');
  for (const s of marked) {
    const example = readFileSync(join(root, s.sameAs!), 'utf8');
    assert.equal(codeOnly(s.code), codeOnly(example), `${s.doc}:${s.line} differs from ${s.sameAs}`);
  }
});

test('fragments are few and each says why it is not compiled', () => {
  const fragments = snippets.filter((s) => s.fragment !== undefined);
  for (const f of fragments) assert.ok(f.fragment!.length >= 8, `${f.doc}:${f.line}: give a reason`);
  assert.ok(fragments.length <= Math.ceil(snippets.length / 5), `${fragments.length} of ${snippets.length} snippets are fragments`);
});

test('every relative link in README.md, examples/README.md and docs/ names a file of the repository', () => {
  const docs = [...markdownFiles(), 'docs/api-report.md'];
  const broken: string[] = [];
  let links = 0;
  for (const doc of docs) {
    const text = readFileSync(join(root, doc), 'utf8');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
      links++;
      const path = join(root, dirname(doc), decodeURIComponent(target.split('#')[0]!));
      if (!existsSync(path)) broken.push(`${doc}: ${target}`);
    }
  }
  assert.ok(links >= 40, `found only ${links} links`);
  assert.deepEqual(broken, []);
});
