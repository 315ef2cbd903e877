// Node 20 defines the global `performance` as an accessor that stays one: every
// `performance.now()` through the global runs a JavaScript getter first (about 35 ns a call here,
// 110 against 75 ns), and the coalescing timers, policies and TCP framing read the clock per
// packet or per timer. The library reads it through the `node:perf_hooks` binding instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs script without types
import { walkFiles } from '../../../scripts/walk-files.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
// The echo page's script runs in the browser, where the global is the only `performance`.
const BROWSER_SCRIPTS = new Set(['lib/echo/page.ts']);
const USES_PERFORMANCE = /(?<![\w.])performance\.(now|timeOrigin|mark|measure)\b/;
const IMPORTS_PERFORMANCE = /^import \{[^}]*\bperformance\b[^}]*\} from 'node:perf_hooks';$/m;

test('lib/ reads performance through node:perf_hooks, never the global accessor', () => {
  const files = (walkFiles(join(root, 'lib'), (p: string) => p.endsWith('.ts')) as string[]).map((p) => relative(root, p).split('\\').join('/'));
  assert.ok(files.length > 100, `lib/ has ${files.length} TypeScript files`);
  const offenders = files.filter((f) => {
    if (BROWSER_SCRIPTS.has(f)) return false;
    const text = readFileSync(join(root, f), 'utf8');
    return USES_PERFORMANCE.test(text) && !IMPORTS_PERFORMANCE.test(text);
  });
  assert.deepEqual(offenders, []);
});
