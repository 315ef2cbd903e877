// `npm run bench -- [suite ...] [--quick] [--rounds N]`: runs bench/suites/<suite>.ts
// (all suites when none is named). Each suite exports `run(options): Promise<BenchSeries[]>`.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { printTable, writeJson, type BenchOptions, type BenchSeries } from './lib/report.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const roundsIdx = args.indexOf('--rounds');
const rounds = roundsIdx >= 0 ? Number(args[roundsIdx + 1]) : quick ? 2 : 5;
const available = readdirSync(join(here, 'suites')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
const named = args.filter((a, i) => !a.startsWith('--') && !(roundsIdx >= 0 && i === roundsIdx + 1));
const unknown = named.filter((n) => !available.includes(n));
if (unknown.length) {
  console.error(`unknown suite(s): ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
const options: BenchOptions = { quick, rounds };
let failedSuites = 0;
for (const suite of named.length ? named : available) {
  const mod = (await import(pathToFileURL(join(here, 'suites', `${suite}.ts`)).href)) as {
    run(options: BenchOptions): Promise<BenchSeries[]>;
    baseline?: string;
  };
  try {
    const series = await mod.run(options);
    printTable(series, mod.baseline);
    console.log(`samples: ${writeJson(suite, series)}`);
  } catch (err) {
    failedSuites++;
    console.error(`suite ${suite} failed:`, err);
  }
}
process.exit(failedSuites ? 1 : 0);
