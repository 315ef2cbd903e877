// `npm run bench -- [suite ...] [--quick] [--rounds N] [--workers N] [--no-floor]`: runs bench/suites/<suite>.ts (all suites
// when none is named), each in its own child process so that a crash or hang in one library costs
// only its suite. Each suite exports `run(options): Promise<BenchSeries[]>` (and optionally
// `baseline`); its table goes to stdout, every sample to .bench-out/<suite>.json (all of the
// run in .bench-out/results.json) and a chart to docs/bench/<suite>.svg (.bench-out/charts/ with
// --quick, so a smoke run never overwrites the published charts).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { libraryVersions, machineInfo, printTable, writeJson, type BenchOptions, type BenchSeries } from './lib/report.js';
import { writeChart } from './lib/chart.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const childIdx = args.indexOf('--suite-child');
const roundsIdx = args.indexOf('--rounds');
// `fanout --workers N` (and `scale --workers N`): 1 router worker against N (bench/suites/scale.ts).
const workersIdx = args.indexOf('--workers');
const workers = workersIdx >= 0 ? Number(args[workersIdx + 1]) : undefined;
// A --quick run is a smoke run (CI): one round per case; real runs take the median of five.
const rounds = roundsIdx >= 0 ? Number(args[roundsIdx + 1]) : quick ? 1 : 5;
const available = readdirSync(join(here, 'suites')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
const valueOf = (i: number): boolean => (roundsIdx >= 0 && i === roundsIdx + 1) || (childIdx >= 0 && i === childIdx + 1) || (workersIdx >= 0 && i === workersIdx + 1);
const named = args.filter((a, i) => !a.startsWith('--') && !valueOf(i));
const unknown = named.filter((n) => !available.includes(n));
if (unknown.length) {
  console.error(`unknown suite(s): ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error('--rounds needs a positive integer');
  process.exit(2);
}
if (workers !== undefined && (!Number.isInteger(workers) || workers < 2 || workers > 16)) {
  console.error('--workers needs an integer in 2..16');
  process.exit(2);
}
const options: BenchOptions = { quick, rounds, ...(workers !== undefined ? { workers } : {}) };

/** Child mode: run one suite in this process, print, write JSON and chart, exit. */
async function runOne(suite: string): Promise<never> {
  const mod = (await import(pathToFileURL(join(here, 'suites', `${suite}.ts`)).href)) as {
    run(options: BenchOptions): Promise<BenchSeries[]>;
    baseline?: string;
  };
  try {
    const series = await mod.run(options);
    printTable(series, mod.baseline);
    console.log(`samples: ${writeJson(suite, series, { libraries: libraryVersions(), options, baseline: mod.baseline })}`);
    const m = machineInfo();
    const subtitle = `${m.cpu}, ${m.cores} cores, Linux ${m.kernel}, Node ${m.node}, ${rounds} rounds${quick ? ' (--quick smoke run)' : ''}`;
    console.log(`chart: ${writeChart(quick ? join(process.cwd(), '.bench-out', 'charts') : join(root, 'docs', 'bench'), suite, series, subtitle)}`);
    process.exit(0);
  } catch (err) {
    console.error(`suite ${suite} failed:`, err);
    process.exit(1);
  }
}

/** Parent mode: each suite in a child process, bounded in time; a summary at the end. */
async function runAll(suites: string[]): Promise<never> {
  const m = machineInfo();
  console.log(`pure-webrtc-transport benchmarks${quick ? ' (--quick)' : ''}, ${rounds} rounds`);
  console.log(Object.entries(m).map(([k, v]) => `${k}: ${v}`).join(' | '));
  console.log(Object.entries(libraryVersions()).map(([k, v]) => `${k} ${v}`).join(' | '));
  const limitMs = quick ? 120_000 : 3_600_000;
  const summary: { suite: string; seconds: number; status: string }[] = [];
  const started = Date.now();
  for (const suite of suites) {
    const t0 = performance.now();
    const childArgs = ['--import', 'tsx', fileURLToPath(import.meta.url), '--suite-child', suite, '--rounds', String(rounds)];
    if (quick) childArgs.push('--quick');
    if (workers !== undefined) childArgs.push('--workers', String(workers));
    if (args.includes('--no-floor')) childArgs.push('--no-floor'); // the fanout suite's loopback floor rows
    const status = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, childArgs, { stdio: 'inherit' });
      const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve(code === 0 ? 'ok' : signal ? `killed (${signal})` : `failed (exit ${code})`);
      });
    });
    summary.push({ suite, seconds: (performance.now() - t0) / 1000, status });
  }
  // One file with every sample of this run, from the suites' own files.
  const results = suites
    .map((s) => join(process.cwd(), '.bench-out', `${s}.json`))
    .filter((f) => existsSync(f))
    .map((f) => JSON.parse(readFileSync(f, 'utf8')) as { date: string })
    .filter((r) => Date.parse(r.date) >= started - 1000);
  const all = join(process.cwd(), '.bench-out', 'results.json');
  writeFileSync(all, JSON.stringify({ machine: m, libraries: libraryVersions(), options, suites: results }, null, 2));
  console.log(`\nsuite times: ${summary.map((s) => `${s.suite} ${s.seconds.toFixed(1)} s${s.status === 'ok' ? '' : ` ${s.status}`}`).join(', ')}`);
  console.log(`all samples: ${all}`);
  process.exit(summary.some((s) => s.status !== 'ok') ? 1 : 0);
}

if (childIdx >= 0) await runOne(args[childIdx + 1]!);
else await runAll(named.length ? named : available);
