// `npm test`: rebuilds the addon if its sources changed, runs the TypeScript tests with
// Node's test runner, then the C++ core's tests with ctest (plain and ASan/UBSan builds).
// Usage: node scripts/run-tests.mjs [--only ts|native] [test files or folders...]
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args[onlyIdx + 1] : undefined;
const paths = args.filter((a, i) => !a.startsWith('--') && (onlyIdx < 0 || i !== onlyIdx + 1));

function collect(p, out) {
  const st = statSync(p);
  if (st.isDirectory()) {
    for (const name of readdirSync(p).sort()) {
      if (name === 'node_modules' || name === 'fixtures') continue;
      collect(join(p, name), out);
    }
  } else if (/\.test\.ts$/.test(p)) out.push(p);
}

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit', ...opts });
  return r.status ?? 1;
}

let passed = 0;
let failed = 0;
const failureReport = [];
const CI_NO_RETRY = process.env.PWT_TEST_NO_RETRY === '1';
// Node's runner applies --test-timeout to each test file as a whole as well as to each test
// without its own. A suite whose tests declare longer bounds (scripts/test-packaging.mjs) sets
// PWT_TEST_FILE_TIMEOUT_MS so that the file's bound is not below theirs.
const FILE_TIMEOUT_MS = Number(process.env.PWT_TEST_FILE_TIMEOUT_MS) > 0 ? Number(process.env.PWT_TEST_FILE_TIMEOUT_MS) : 300_000;

/** One `node --test` run over files: its counts and its failing tests' details. */
async function nodeTest(testFiles) {
  // Every test is bounded: a test (and a test file) that runs past 5 minutes fails, and handles a
  // broken test left open cannot keep the run alive.
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-timeout=${FILE_TIMEOUT_MS}`,
    '--test-force-exit', ...testFiles], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env },
  });
  // The runner prints its summary and then the failing tests' details; keep everything from the
  // summary on, so the counts are read right however long the details are, and the details can be
  // printed again at the very end, where a CI log's tail shows them.
  let tail = '';
  let fromSummary = '';
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    const text = chunk.toString();
    if (fromSummary) fromSummary = (fromSummary + text).slice(0, 1 << 20);
    else {
      tail = (tail + text).slice(-8000);
      const at = tail.search(/^ℹ tests \d+/m);
      if (at >= 0) fromSummary = tail.slice(at);
    }
  });
  const code = await new Promise((resolve) => child.on('close', resolve));
  const summary = fromSummary || tail;
  const count = (re) => { const m = re.exec(summary); return m ? Number(m[1]) : undefined; };
  const pass = count(/ℹ pass (\d+)/) ?? 0;
  const fail = count(/ℹ fail (\d+)/);
  const cancelled = count(/ℹ cancelled (\d+)/) ?? 0;
  let failures = (fail ?? (code === 0 ? 0 : 1)) + cancelled;
  if (code !== 0 && failures === 0) failures = 1;
  const at = summary.indexOf('✖ failing tests:');
  const details = at >= 0 ? summary.slice(at) : code !== 0 ? `node --test exited with ${code} and printed no failing-tests section` : '';
  return { pass, failures, details };
}

/** The test files the failing-tests section names, or undefined when a failure names none. */
function filesOf(details) {
  const blocks = details.split(/\n(?=test at )/).slice(1);
  const count = (details.match(/^✖ /gm) ?? []).length - 1;
  if (blocks.length === 0 || blocks.length < count) return undefined;
  const files = new Set();
  for (const b of blocks) {
    const m = /^test at (.+?):\d+:\d+/.exec(b);
    if (!m) return undefined;
    files.add(relative(root, join(root, m[1])));
  }
  return [...files];
}

const retried = [];

async function runTs() {
  const files = [];
  for (const p of paths.length ? paths : ['test']) collect(join(root, p), files);
  const testFiles = files.map((f) => relative(root, f)).filter((f) => !f.startsWith(join('test', 'native')));
  if (testFiles.length === 0) return;
  const first = await nodeTest(testFiles);
  passed += first.pass;
  if (first.failures === 0) return;
  // Tests against real browsers and real peers on a shared machine can lose a race the code does
  // not own (a Chromium that stalls for seconds). Failing files run once more, alone; a failure
  // that repeats is a failure, and one that passes the second time is still named at the end.
  const again = filesOf(first.details);
  if (!again || again.length > 3 || CI_NO_RETRY) {
    failed += first.failures;
    failureReport.push(first.details);
    return;
  }
  console.log(`\n=== running again, alone: ${again.join(' ')} ===`);
  const second = await nodeTest(again);
  if (second.failures === 0) {
    passed += first.failures;
    retried.push(...again.map((f) => `${f} (failed the first time, passed alone)`));
    failureReport.push(`passed only when run again: ${again.join(' ')}\nfirst run:\n${first.details}`);
  } else {
    failed += first.failures;
    failureReport.push(first.details, `run again alone: ${second.details}`);
  }
}

function runNative() {
  const builds = [
    { dir: 'build-native/plain', flags: ['-DPWT_SANITIZE=OFF'] },
    { dir: 'build-native/asan', flags: ['-DPWT_SANITIZE=ON', '-DCMAKE_BUILD_TYPE=RelWithDebInfo'] },
  ];
  const gen = spawnSync('ninja', ['--version']).status === 0 ? ['-G', 'Ninja'] : [];
  for (const b of builds) {
    const dir = join(root, b.dir);
    const fresh = !existsSync(join(dir, 'CMakeCache.txt'));
    if (run('cmake', ['-S', '.', '-B', dir, ...(fresh ? gen : []), ...b.flags]) !== 0) {
      failed++;
      failureReport.push(`cmake configure of ${b.dir} failed`);
      continue;
    }
    if (run('cmake', ['--build', dir, '-j2']) !== 0) {
      failed++;
      failureReport.push(`cmake build of ${b.dir} failed`);
      continue;
    }
    // As with the TypeScript files above: a C++ test that fails runs once more (ctest's
    // until-pass); one that fails twice is a failure, and one that passed only the second time is
    // named at the end.
    const r = spawnSync('ctest', ['--test-dir', dir, '--output-on-failure', '-j2', ...(CI_NO_RETRY ? [] : ['--repeat', 'until-pass:2'])], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0', UBSAN_OPTIONS: 'print_stacktrace=1' },
    });
    process.stdout.write(r.stdout ?? '');
    process.stderr.write(r.stderr ?? '');
    const m = /(\d+)% tests passed, (\d+) tests failed out of (\d+)/.exec(r.stdout ?? '');
    if (m) {
      passed += Number(m[3]) - Number(m[2]);
      failed += Number(m[2]);
    } else if (r.status !== 0) failed++;
    const failedOnce = new Set([...(r.stdout ?? '').matchAll(/Test +#\d+: (\S+) [^\n]*?\*\*\*(?:Failed|Exception|Timeout)/g)].map((x) => x[1]));
    const failedList = /The following tests FAILED:[\s\S]*/.exec(r.stdout ?? '');
    for (const name of failedOnce) {
      if (!failedList?.[0].includes(` - ${name} `)) retried.push(`${name} in ${b.dir} (ctest: failed the first time, passed when run again)`);
    }
    if (failedList) failureReport.push(`ctest in ${b.dir}: ${failedList[0].trim()}`);
    else if (!m && r.status !== 0) failureReport.push(`ctest in ${b.dir} exited with ${r.status}`);
  }
}

if (only !== 'native') {
  // PWT_ADDON_PATH points at an explicit binary (a developer's own build tree): use it as is.
  if (!process.env.PWT_ADDON_PATH && run(process.execPath, [join('scripts', 'build-native.mjs'), '--if-stale']) !== 0) {
    console.error('native build failed');
    process.exit(1);
  }
  await runTs();
}
if (only !== 'ts' && paths.length === 0) runNative();
if (failureReport.length > 0) {
  // Repeated here, after the native builds' long output, so the end of a log names what failed.
  const text = failureReport.join('\n');
  const lines = text.split('\n');
  console.log('\n=== what failed ===');
  console.log(lines.length > 150 ? [...lines.slice(0, 150), `... (${lines.length - 150} more lines above in the log)`].join('\n') : text);
  const names = (text.match(/^(test at |✖ ).*$/gm) ?? []).filter((l) => l !== '✖ failing tests:');
  if (names.length > 0) console.log(`\nfailed tests:\n${names.join('\n')}`);
}
if (retried.length > 0) console.log(`\nflaky (passed only on a second run):\n${retried.join('\n')}`);
console.log(`\n${passed} passed, ${failed} failed${retried.length ? `, ${retried.length} file(s) flaky` : ''}`);
process.exit(failed > 0 ? 1 : 0);
