// `npm run bench -- pipe`: the cost of a pipe transport (docs/scaling.md). The fanout setup
// (bench/suites/fanout.ts: a server process, one publisher and N subscribers in a client process, the
// native load generator) with two relays in the same run: ours-native (publisher and subscribers on one router) and
// ours-native-pipe-srtp / ours-native-pipe (publisher on router A, subscribers on router B, an SRTP
// or clear pipe between them, both routers in the server process). Per server CPU-second: packets
// delivered to subscribers, and forwarded legs (the pipe leg counts: forwarded x (1 + 1/N)).
import { buildFanoutLoadgen } from '../peers/fanout-loadgen-build.js';
import { runFanout, type FanoutServer } from '../peers/fanout-run.js';
import type { FanoutRound } from '../peers/fanout-protocol.js';
import { libraryVersions, printHeader, printTarget, ratioOf, type BenchOptions, type BenchSeries } from '../lib/report.js';

/** Ratios in the table are against the same-router relay. */
export const baseline = 'ours-native';

const SUITE = 'pipe';

export async function run(opts: BenchOptions): Promise<BenchSeries[]> {
  printHeader(SUITE, libraryVersions());
  buildFanoutLoadgen(); // before the first measurement, whose time limit should not include the compile
  const ns = opts.quick ? [10] : [1, 10, 50];
  const offeredPps = opts.quick ? 20_000 : 30_000;
  const seconds = opts.quick ? 0.5 : 2;
  const maxPublisherPps = 2000;
  console.log(`offered load: ${offeredPps} forwarded packets/s in all, publisher rate = min(${maxPublisherPps}, offered / N) packets/s, 1000 B payloads`);
  const series: BenchSeries[] = [];
  for (const n of ns) {
    for (const server of ['ours-native', 'ours-native-pipe-srtp', 'ours-native-pipe'] as const satisfies readonly FanoutServer[]) {
      const outcome = await runFanout(server, { subscribers: n, offeredPps, maxPublisherPps, payload: 1000, seconds, rounds: opts.rounds }, opts.quick ? 40_000 : 60_000 + n * 3000);
      if (!outcome.ok) {
        console.log(`${server} N=${n}: no result (${outcome.error})`);
        continue;
      }
      const legs = server === 'ours-native' ? 1 : 1 + 1 / n;
      const add = (what: string, unit: string, higherIsBetter: boolean, pick: (r: FanoutRound) => number): void => {
        series.push({ suite: SUITE, case: `N=${n} ${what}`, subject: server, unit, higherIsBetter, samples: outcome.result.map(pick) });
      };
      add('delivered per core', 'pkt/CPU-s', true, (r) => r.forwarded / (r.serverCpuUs / 1e6));
      add('forwarded legs per core', 'pkt/CPU-s', true, (r) => (r.forwarded * legs) / (r.serverCpuUs / 1e6));
      add('CPU per delivered packet', 'µs', false, (r) => r.serverCpuUs / r.forwarded);
      add('delivered of offered', '%', true, (r) => (100 * r.delivered) / r.offered);
    }
  }
  console.log('\ntargets (issue 18: the pipe forwards at >= 0.9x a same-router consumer, per CPU-second):');
  for (const n of ns) {
    for (const pipe of ['ours-native-pipe-srtp', 'ours-native-pipe']) {
      printTarget(`N=${n} forwarded legs per core, ${pipe} / ours-native`, ratioOf(series, `N=${n} forwarded legs per core`, pipe, 'ours-native'), 0.9);
      const d = ratioOf(series, `N=${n} delivered per core`, pipe, 'ours-native');
      if (d !== undefined) console.log(`      N=${n} delivered per core, ${pipe} / ours-native: ${d.toFixed(2)}x (no target: the extra hop's whole cost)`);
    }
  }
  return series;
}
