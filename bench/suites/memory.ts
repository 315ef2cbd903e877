// `npm run bench -- memory`: resident memory and JS heap per idle connected peer connection.
// Each library in a fresh child process: a warm-up pair, GC, then N PCs (N/2 pairs, opened in waves of 500,
// with one audio m-line each) held open and idle for 0.5 s (ours: then until its own memory work
// after the burst, the trim and the JS-heap relief before it, has finished, at most 5 s more: the
// forced collections would cut V8's incremental relief short; the wait is printed;
// PWT_BENCH_MEMORY_NO_WAIT=1 reads at 0.5 s regardless), GC, and the growth divided by the
// connected PCs (pairs that did not connect are closed first and reported next to the figure).
// RSS includes native memory (OpenSSL, libwebrtc, libdatachannel threads and buffers); with glibc
// each child also prints where it went (C heap in use and free, from mallinfo2; V8's committed heap).
// Ours also reports the figures after calling releaseIdleMemory() (V8's young generation grown by
// the burst of set-ups given back, the C heap trimmed), labelled apart from the main figures.
// `ours-udpmux` puts every answering PC on one shared UdpMux port (the offerers keep own sockets);
// 10,000 PCs are measured for ours only (the peers take minutes or run out of threads there).
// From 1,000 PCs on, every child also reads the growth again after the PCs stayed idle 30 s and
// 60 s (no releaseIdleMemory(); V8's young generation as committed then is printed too): whether
// V8 gives back by itself what the burst of set-ups grew (docs/architecture.md, idle allocation).
// Ours is measured as installed: the compiled package (dist/lib, rebuilt here from the sources),
// not the sources under tsx, whose keepNames wrappers add about 8 KiB of heap per PC.
import { ensureBuiltPackage } from '../lib/built-package.js';
import { runChild } from '../peers/spawn.js';
import { LIBRARIES } from '../peers/registry.js';
import type { MemoryResult } from '../peers/measure.js';
import { libraryVersions, median, printHeader, printTarget, ratioOf, type BenchOptions, type BenchSeries } from '../lib/report.js';

/** Ratios in the table are against werift. */
export const baseline = 'werift';

const SUITE = 'memory';
/** Longer idle readings from this many PCs on (they add a minute per child). */
const IDLE_READINGS_FROM = 1000;
const IDLE_READINGS_MS = [30_000, 60_000];

/** One child per library and PC count and round (memory is measured in a fresh process). */
export async function run(opts: BenchOptions): Promise<BenchSeries[]> {
  printHeader(SUITE, libraryVersions());
  const built = ensureBuiltPackage();
  console.log(`ours: the compiled package (dist/lib${built ? ', built now' : ''}), as an installed package runs`);
  const sizes = opts.quick ? [20] : [100, 1000, 10_000];
  const series: BenchSeries[] = [];
  for (const pcs of sizes) {
    // A fresh process per round; 1000 PCs take the slowest library minutes to open, so one round.
    const rounds = opts.quick || pcs >= 1000 ? 1 : Math.min(opts.rounds, 2);
    for (const lib of LIBRARIES) {
      if (pcs > 1000 && !lib.startsWith('ours')) continue;
      const rss: number[] = [];
      const heap: number[] = [];
      const rssReleased: number[] = [];
      const rssIdle: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const idleMs = !opts.quick && pcs >= IDLE_READINGS_FROM ? IDLE_READINGS_MS : [];
        const outcome = await runChild<MemoryResult>('child.ts', { task: 'memory', lib, pcs, idleMs }, (opts.quick ? 40_000 : pcs > 1000 ? 900_000 : 300_000) + 60_000 * idleMs.length, { builtLibrary: true });
        if (!outcome.ok) {
          console.log(`${lib} ${pcs} PCs: no result (${outcome.error})`);
          break;
        }
        if (outcome.result.failedPairs) console.log(`${lib} ${pcs} PCs: ${outcome.result.failedPairs} of ${pcs / 2} pairs did not connect (closed first; per-PC figures over the ${outcome.result.connectedPcs} connected PCs)`);
        const b = outcome.result.breakdown;
        if (b) {
          const k = (v: number): string => (v / 1024).toFixed(1);
          const own = outcome.result.settleWaitMs !== undefined ? `; its own memory work after the burst took ${outcome.result.settleWaitMs.toFixed(0)} ms of it` : '';
          const wait = ` (read ${(outcome.result.settleMs / 1000).toFixed(1)} s after the 0.5 s, as every library${own})`;
          console.log(`${lib} ${pcs} PCs, per PC${wait}: RSS ${k(outcome.result.rssPerPc)} KiB; C heap in use ${k(b.nativeInUse)} (V8's external memory, ArrayBuffers, ${k(b.external)} of it), C heap free ${k(b.nativeFree)} (resident until trimmed), V8 committed ${k(b.v8Committed)} (JS heap used ${k(outcome.result.heapPerPc)})`);
        }
        for (const r of outcome.result.idle ?? []) {
          console.log(`${lib} ${pcs} PCs, per PC, after ${r.afterMs / 1000} s idle: RSS ${(r.rssPerPc / 1024).toFixed(1)} KiB, JS heap ${(r.heapPerPc / 1024).toFixed(1)} KiB; V8's young generation ${(r.newSpace / 1048576).toFixed(1)} MiB (no releaseIdleMemory())`);
        }
        const longest = outcome.result.idle?.at(-1);
        if (longest) rssIdle.push(longest.rssPerPc / 1024);
        const released = outcome.result.afterRelease;
        if (released) {
          const k = (v: number): string => (v / 1024).toFixed(1);
          console.log(`${lib} ${pcs} PCs, per PC, after releaseIdleMemory(): RSS ${k(released.rssPerPc)} KiB, JS heap ${k(released.heapPerPc)} KiB, V8 committed ${k(released.v8Committed)} KiB (before the call: RSS ${k(outcome.result.rssPerPc)}, JS heap ${k(outcome.result.heapPerPc)})`);
          rssReleased.push(released.rssPerPc / 1024);
        }
        rss.push(outcome.result.rssPerPc / 1024);
        heap.push(outcome.result.heapPerPc / 1024);
      }
      if (!rss.length) continue;
      series.push({ suite: SUITE, case: `${pcs} PCs, RSS per PC`, subject: lib, unit: 'KiB', higherIsBetter: false, samples: rss });
      series.push({ suite: SUITE, case: `${pcs} PCs, JS heap per PC`, subject: lib, unit: 'KiB', higherIsBetter: false, samples: heap });
      if (rssIdle.length) series.push({ suite: SUITE, case: `${pcs} PCs, RSS per PC after ${IDLE_READINGS_MS.at(-1)! / 1000} s idle`, subject: lib, unit: 'KiB', higherIsBetter: false, samples: rssIdle });
      if (rssReleased.length) series.push({ suite: SUITE, case: `${pcs} PCs, RSS per PC after releaseIdleMemory()`, subject: lib, unit: 'KiB', higherIsBetter: false, samples: rssReleased });
    }
  }
  console.log('\ntargets (issue 14: RSS per idle PC <= 48 KiB and <= 1/3 of node-datachannel; JS heap <= 24 KiB):');
  for (const pcs of sizes) {
    const c = `${pcs} PCs, RSS per PC`;
    const h = `${pcs} PCs, JS heap per PC`;
    for (const subject of ['ours', 'ours-udpmux']) {
      const rss = series.find((s) => s.case === c && s.subject === subject);
      const heap = series.find((s) => s.case === h && s.subject === subject);
      if (rss) console.log(`${median(rss.samples) <= 48 ? 'MET ' : 'MISS'}  ${c}, ${subject}: ${median(rss.samples).toFixed(1)} KiB (target <= 48 KiB)`);
      const idle = series.find((s) => s.case === `${c} after ${IDLE_READINGS_MS.at(-1)! / 1000} s idle` && s.subject === subject);
      if (idle) console.log(`${median(idle.samples) <= 48 ? 'MET ' : 'MISS'}  ${c} after ${IDLE_READINGS_MS.at(-1)! / 1000} s idle, ${subject}: ${median(idle.samples).toFixed(1)} KiB (target <= 48 KiB; no releaseIdleMemory())`);
      const idleNdc = ratioOf(series, `${c} after ${IDLE_READINGS_MS.at(-1)! / 1000} s idle`, subject, 'node-datachannel');
      if (idleNdc !== undefined) printTarget(`${c} after ${IDLE_READINGS_MS.at(-1)! / 1000} s idle, ${subject} vs node-datachannel`, idleNdc, 3);
      const released = series.find((s) => s.case === `${c} after releaseIdleMemory()` && s.subject === subject);
      if (released) console.log(`${median(released.samples) <= 48 ? 'MET ' : 'MISS'}  ${c} after releaseIdleMemory(), ${subject}: ${median(released.samples).toFixed(1)} KiB (target <= 48 KiB; the application's call, docs/architecture.md)`);
      if (heap) console.log(`${median(heap.samples) <= 24 ? 'MET ' : 'MISS'}  ${h}, ${subject}: ${median(heap.samples).toFixed(1)} KiB (target <= 24 KiB)`);
      const ndc = ratioOf(series, c, subject, 'node-datachannel');
      if (ndc !== undefined) printTarget(`${c}, ${subject} vs node-datachannel`, ndc, 3);
    }
  }
  return series;
}
