// `npm run bench -- memory`: resident memory and JS heap per idle connected peer connection.
// Each library in a fresh child process: a warm-up pair, GC, then N PCs (N/2 connected pairs
// with one audio m-line each) held open and idle for 0.5 s, GC, and the growth divided by N.
// RSS includes native memory (OpenSSL, libwebrtc, libdatachannel threads and buffers).
import { runChild } from '../peers/spawn.js';
import { LIBRARIES } from '../peers/registry.js';
import type { MemoryResult } from '../peers/measure.js';
import { libraryVersions, printHeader, printTarget, ratioOf, type BenchOptions, type BenchSeries } from '../lib/report.js';

/** Ratios in the table are against werift. */
export const baseline = 'werift';

const SUITE = 'memory';

/** One child per library and PC count and round (memory is measured in a fresh process). */
export async function run(opts: BenchOptions): Promise<BenchSeries[]> {
  printHeader(SUITE, libraryVersions());
  const sizes = opts.quick ? [20] : [100, 1000];
  const series: BenchSeries[] = [];
  for (const pcs of sizes) {
    // A fresh process per round; 1000 PCs take the slowest library minutes to open, so one round.
    const rounds = opts.quick || pcs >= 1000 ? 1 : Math.min(opts.rounds, 2);
    for (const lib of LIBRARIES) {
      const rss: number[] = [];
      const heap: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const outcome = await runChild<MemoryResult>('child.ts', { task: 'memory', lib, pcs }, opts.quick ? 40_000 : 300_000);
        if (!outcome.ok) {
          console.log(`${lib} ${pcs} PCs: no result (${outcome.error})`);
          break;
        }
        if (outcome.result.failedPairs) console.log(`${lib} ${pcs} PCs: ${outcome.result.failedPairs} of ${pcs / 2} pairs did not connect (still counted)`);
        rss.push(outcome.result.rssPerPc / 1024);
        heap.push(outcome.result.heapPerPc / 1024);
      }
      if (!rss.length) continue;
      series.push({ suite: SUITE, case: `${pcs} PCs, RSS per PC`, subject: lib, unit: 'KiB', higherIsBetter: false, samples: rss });
      series.push({ suite: SUITE, case: `${pcs} PCs, JS heap per PC`, subject: lib, unit: 'KiB', higherIsBetter: false, samples: heap });
    }
  }
  console.log('\ntargets (issue 11: RSS per idle PC <= 0.5x the lightest peer, i.e. >= 2x lighter):');
  for (const pcs of sizes) {
    const c = `${pcs} PCs, RSS per PC`;
    const peers = series.filter((s) => s.case === c && s.subject !== 'ours');
    const lightest = peers.map((p) => ({ p, r: ratioOf(series, c, 'ours', p.subject) ?? Infinity })).sort((a, b) => a.r - b.r)[0];
    if (lightest) printTarget(`${c}, ours vs lightest peer (${lightest.p.subject})`, lightest.r, 2);
  }
  return series;
}
