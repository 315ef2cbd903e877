// `npm run bench -- logging`: what a disabled debug log costs on a hot path (docs/logging.md):
// a drop counter bumped per packet with no log call, with our disabled logger, and with Node's
// disabled util.debuglog, side by side in one run. Logging must be off in the environment.
import { debuglog } from 'node:util';
import { configureLogging, createLogger, loggedDropCounters } from '../../lib/common/log.js';
import { printHeader, type BenchOptions, type BenchSeries } from '../lib/report.js';

/** Ratios are printed against the loop without any log call. */
export const baseline = 'no log call';

// Spends roughly `ms` in `body()` calls and returns operations per second.
function measure(ms: number, ops: number, body: () => void): number {
  let n = 0;
  const start = process.hrtime.bigint();
  const limit = BigInt(ms) * 1_000_000n;
  let elapsed = 0n;
  while (elapsed < limit) {
    body();
    n += ops;
    elapsed = process.hrtime.bigint() - start;
  }
  return n / (Number(elapsed) / 1e9);
}

/** Runs every case and returns the samples. */
export async function run(opts: BenchOptions): Promise<BenchSeries[]> {
  printHeader('logging', { node: process.version });
  configureLogging({ namespaces: '' });
  const ms = opts.quick ? 150 : 400;
  const batch = 1000;
  const ours = createLogger('bench');
  const node = debuglog('pwt-bench-off');
  const plain = { malformed: 0 };
  const counted = loggedDropCounters('bench', { malformed: 0 });
  const reason = 'malformed';
  const port = 5004;
  const cases: { subject: string; body: () => void }[] = [
    { subject: 'no log call', body: () => { for (let i = 0; i < batch; i++) plain.malformed++; } },
    { subject: 'ours (off)', body: () => { for (let i = 0; i < batch; i++) { counted.malformed++; ours('%s from port %d', reason, port); } } },
    { subject: 'ours (off, guarded)', body: () => { for (let i = 0; i < batch; i++) { counted.malformed++; if (ours.enabled) ours('%s from port %d', reason, port); } } },
    { subject: 'util.debuglog (off)', body: () => { for (let i = 0; i < batch; i++) { plain.malformed++; node('%s from port %d', reason, port); } } },
  ];
  const label = 'drop counted per packet';
  const series = new Map<string, BenchSeries>();
  for (const c of cases) measure(Math.min(ms, 100), batch, c.body); // warm up every path first
  for (let r = 0; r < opts.rounds; r++) {
    for (const c of cases) {
      let s = series.get(c.subject);
      if (!s) {
        s = { suite: 'logging', case: label, subject: c.subject, unit: 'packets/s', higherIsBetter: true, samples: [] };
        series.set(c.subject, s);
      }
      s.samples.push(measure(ms, batch, c.body));
    }
  }
  if (plain.malformed + counted.malformed === -1) console.log(plain);
  return [...series.values()];
}
