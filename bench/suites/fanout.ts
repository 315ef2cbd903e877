// `npm run bench -- fanout`: the smallest SFU (examples/relay.ts) in its own server process,
// one publisher and N subscribers in a client process (always ours, so the load generator is the
// same whatever relays). The publisher sends 1000 B packets at min(2000, offered/N) packets/s; the server's
// own CPU between two marks gives forwarded packets per CPU-second (per core) and CPU per
// forwarded packet. Ours (own sockets, and every connection on one shared UdpMux port) vs werift
// (the same forwarding loop written with werift's API).
import { runFanout } from '../peers/fanout-run.js';
import type { FanoutRound } from '../peers/fanout-protocol.js';
import { libraryVersions, printHeader, printTarget, ratioOf, type BenchOptions, type BenchSeries } from '../lib/report.js';

/** Ratios in the table are against werift. */
export const baseline = 'werift';

const SUITE = 'fanout';

/** For each N, both relays; each measurement is a fresh pair of processes. */
export async function run(opts: BenchOptions): Promise<BenchSeries[]> {
  printHeader(SUITE, libraryVersions());
  const ns = opts.quick ? [10] : [1, 10, 50, 200];
  const offeredPps = opts.quick ? 20_000 : 30_000;
  const seconds = opts.quick ? 0.5 : 2;
  // One publisher above a few thousand packets/s is not a real stream, and werift's receive path
  // collapses (forwards nothing) when offered 30k packets/s from one publisher.
  const maxPublisherPps = 2000;
  console.log(`offered load: ${offeredPps} forwarded packets/s in all, publisher rate = min(${maxPublisherPps}, offered / N) packets/s, 1000 B payloads`);
  const series: BenchSeries[] = [];
  for (const n of ns) {
    for (const server of ['ours', 'ours-udpmux', 'werift'] as const) {
      const outcome = await runFanout(server, { subscribers: n, offeredPps, maxPublisherPps, payload: 1000, seconds, rounds: opts.rounds }, opts.quick ? 40_000 : 60_000 + n * 3000);
      if (!outcome.ok) {
        console.log(`${server} N=${n}: no result (${outcome.error})`);
        continue;
      }
      const add = (what: string, unit: string, higherIsBetter: boolean, pick: (r: FanoutRound) => number): void => {
        series.push({ suite: SUITE, case: `N=${n} ${what}`, subject: server, unit, higherIsBetter, samples: outcome.result.map(pick) });
      };
      add('forwarded per core', 'pkt/CPU-s', true, (r) => r.forwarded / (r.serverCpuUs / 1e6));
      add('forwarded', 'pkt/s', true, (r) => r.forwarded / (r.wallMs / 1000));
      add('CPU per forwarded packet', 'µs', false, (r) => r.serverCpuUs / r.forwarded);
      add('delivered of offered', '%', true, (r) => (100 * r.delivered) / r.offered);
    }
  }
  console.log('\ntargets (issue 11: fanout >= 10x werift, per core):');
  for (const n of ns) printTarget(`N=${n} forwarded per core, ours / werift`, ratioOf(series, `N=${n} forwarded per core`, 'ours', 'werift'), 10);
  console.log('\ntargets (issue 14: the relay on one shared UdpMux port within 10 % of own sockets):');
  for (const n of ns) printTarget(`N=${n} forwarded per core, ours-udpmux / ours`, ratioOf(series, `N=${n} forwarded per core`, 'ours-udpmux', 'ours'), 0.9);
  return series;
}
