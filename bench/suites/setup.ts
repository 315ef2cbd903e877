// `npm run bench -- setup`: time from createOffer to `connected` (ICE + DTLS done on both PCs)
// for one pair (median and p90 of pairs connected one after another), and the rate at which N pairs opened all at once connect (pairs per second of
// wall time), one library per child process. Every pair: one audio m-line, in-process signaling,
// host candidates on loopback only, no STUN server. Ours, werift, @roamhq/wrtc, node-datachannel.
// The many-pairs cases also report process CPU (every thread) per connected pair, and the CPU of
// the main (JavaScript) thread alone. 1,000 pairs run up to three bursts (--rounds, at most 3), 200 ms apart: the case (and
// its target) is the first, where V8 first optimizes a JavaScript library's per-pair code; the
// other two are "later bursts" (a server that has had one before). `ours-in-thread` is ours with PWT_DTLS_HANDSHAKE_THREAD=0
// (every DTLS handshake on the JavaScript thread; docs/dtls.md "Handshake thread"), same run.
// Ours runs as the compiled package (dist/lib), as users run it, not from the TypeScript sources
// under tsx. Each child may open as many descriptors as NOFILE_WANTED where the machine allows it
// (wrtc holds ~64 per pair); a count that would still need more is a "skipped" row, and the pairs
// that failed to connect are the table's `failed` column.
import { runChild } from '../peers/spawn.js';
import { descriptorLimit, raisedDescriptorLimit } from '../peers/descriptor-limit.js';
import { ensureBuiltPackage } from '../lib/built-package.js';
import { LIBRARIES } from '../peers/registry.js';
import { ONE_PAIR_REPEATS, type SetupResult } from '../peers/measure.js';
import { libraryVersions, median, printHeader, printTarget, ratioOf, type BenchOptions, type BenchSeries } from '../lib/report.js';

/** Ratios in the table are against werift. */
export const baseline = 'werift';

const SUITE = 'setup';
const ONE_PAIR_CASE = '1 pair createOffer→connected';
/** The many-pairs case the issue's target names. */
const MANY_PAIRS = 1000;
/** RLIMIT_NOFILE asked for each child: 1,000 wrtc pairs at ~64 descriptors each, four times over. */
const NOFILE_WANTED = 262_144;

/** The `q` quantile of a non-empty list (nearest rank). */
function percentile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}

/** Pairs that did not connect, of those attempted, over some rounds (the table's `failed` column). */
function failedOf(rounds: SetupResult['rounds']): { count: number; of: number } {
  return { count: rounds.reduce((n, r) => n + r.failed, 0), of: rounds.reduce((n, r) => n + r.times.length + r.failed, 0) };
}

/** One child per library: a warm-up pair, then each pair count for several rounds. */
export async function run(opts: BenchOptions): Promise<BenchSeries[]> {
  printHeader(SUITE, libraryVersions());
  const built = ensureBuiltPackage();
  console.log(`ours: the compiled package (dist/lib${built ? ', built now' : ''}), as an installed package runs`);
  const counts = opts.quick ? [1, 10] : [1, 100, MANY_PAIRS];
  const nofile = raisedDescriptorLimit(NOFILE_WANTED);
  console.log(`open-descriptor limit of each child: ${nofile.limit ?? 'unknown'}${nofile.prefix.length ? ` (raised with prlimit from ${descriptorLimit()})` : ''}`);
  const series: BenchSeries[] = [];
  const runs: { subject: string; lib: (typeof LIBRARIES)[number]; env?: Record<string, string> }[] = LIBRARIES.map((lib) => ({ subject: lib, lib }));
  runs.splice(1, 0, { subject: 'ours-in-thread', lib: 'ours', env: { PWT_DTLS_HANDSHAKE_THREAD: '0' } });
  for (const { subject: lib, lib: adapter, env } of runs) {
    const outcome = await runChild<Record<string, SetupResult>>(
      'child.ts',
      { task: 'setup', lib: adapter, counts, rounds: opts.rounds },
      opts.quick ? 45_000 : 600_000,
      { builtLibrary: true, nofile: NOFILE_WANTED, ...(env ? { env } : {}) },
    );
    if (!outcome.ok) {
      console.log(`${lib}: no result (${outcome.error})`);
      continue;
    }
    if (outcome.partial) console.log(`${lib}: crashed after partial results (${outcome.partial})`);
    for (const count of counts) {
      if (!outcome.result[count] && outcome.partial) {
        // The child died before this count reported anything (e.g. a library abort on EMFILE).
        series.push({ suite: SUITE, case: count === 1 ? ONE_PAIR_CASE : `${count} pairs at once`, subject: lib, unit: count === 1 ? 'ms' : 'pairs/s', higherIsBetter: count !== 1, samples: [], note: `crashed: ${outcome.partial.slice(0, 80)}` });
        continue;
      }
      const result = outcome.result[count] ?? { rounds: [] };
      let rounds = result.rounds;
      const { error, skipped } = result;
      if (error) console.log(`${lib} ${count} pairs: ${rounds.length ? 'stopped early' : 'no result'} (${error})`);
      if (skipped) {
        console.log(`${lib} ${count} pairs: skipped, ${skipped}`);
        const note = `skipped: ${skipped}`;
        if (count === 1) series.push({ suite: SUITE, case: ONE_PAIR_CASE, subject: lib, unit: 'ms', higherIsBetter: false, samples: [], note });
        else series.push({ suite: SUITE, case: `${count} pairs at once`, subject: lib, unit: 'pairs/s', higherIsBetter: true, samples: [], note });
        continue;
      }
      if (!rounds.length) continue;
      // 1,000 pairs: the case (and its target) is the first burst, as it always was; the later
      // bursts of the same child are a case of their own (a server that has had a burst before).
      const later = count === MANY_PAIRS ? rounds.slice(1) : [];
      if (count === MANY_PAIRS) rounds = rounds.slice(0, 1);
      const failed = failedOf(rounds);
      if (count === 1) {
        // Each round connects ONE_PAIR_REPEATS pairs one after another: every pair is a sample of
        // the median row, each round's 90th percentile a sample of the p90 row.
        series.push({ suite: SUITE, case: ONE_PAIR_CASE, subject: lib, unit: 'ms', higherIsBetter: false, samples: rounds.flatMap((r) => r.times), failed });
        series.push({ suite: SUITE, case: `${ONE_PAIR_CASE}, p90 of ${ONE_PAIR_REPEATS}`, subject: lib, unit: 'ms', higherIsBetter: false, samples: rounds.filter((r) => r.times.length).map((r) => percentile(r.times, 0.9)) });
      } else {
        // Pairs per second counts connected pairs only; the failed ones are the `failed` column.
        // A round that threw came after the rounds kept: with 1,000 pairs (whose first round is
        // kept, or nothing was) that is a later burst, and the note goes on that row.
        const note = error ? `stopped early: ${error.slice(0, 80)}` : undefined;
        const laterNote = count === MANY_PAIRS ? note : undefined;
        const firstNote = count === MANY_PAIRS ? undefined : note;
        const pairsPerSecond = (r: SetupResult['rounds'][number]): number => r.times.length / (r.wallMs / 1000);
        series.push({ suite: SUITE, case: `${count} pairs at once`, subject: lib, unit: 'pairs/s', higherIsBetter: true, samples: rounds.map(pairsPerSecond), failed, ...(firstNote ? { note: firstNote } : {}) });
        const laterConnected = later.filter((r) => r.times.length);
        if (laterConnected.length || laterNote) {
          series.push({ suite: SUITE, case: `${count} pairs at once, later bursts`, subject: lib, unit: 'pairs/s', higherIsBetter: true, samples: laterConnected.map(pairsPerSecond), ...(later.length ? { failed: failedOf(later) } : {}), ...(laterNote ? { note: laterNote } : {}) });
          if (laterConnected.length) series.push({ suite: SUITE, case: `${count} pairs at once, later bursts, CPU per pair`, subject: lib, unit: 'ms', higherIsBetter: false, samples: laterConnected.map((r) => r.cpuMs / r.times.length) });
        }
        const connected = rounds.filter((r) => r.times.length);
        if (connected.length) series.push({ suite: SUITE, case: `${count} pairs at once, median pair`, subject: lib, unit: 'ms', higherIsBetter: false, samples: connected.map((r) => median(r.times)) });
        // Less load-dependent than pairs/s on a shared machine: process CPU (all threads) per connected pair.
        if (connected.length) series.push({ suite: SUITE, case: `${count} pairs at once, CPU per pair`, subject: lib, unit: 'ms', higherIsBetter: false, samples: connected.map((r) => r.cpuMs / r.times.length) });
        // The main thread alone (the one running JavaScript): what the event loop of the process paid.
        const js = connected.filter((r) => r.jsThreadCpuMs !== undefined);
        if (js.length) series.push({ suite: SUITE, case: `${count} pairs at once, JS-thread CPU per pair`, subject: lib, unit: 'ms', higherIsBetter: false, samples: js.map((r) => r.jsThreadCpuMs! / r.times.length) });
      }
    }
  }
  console.log('\ntargets (issue 14: one pair ours <= the fastest peer\'s time, aim 0.5x; 1000 pairs >= 2x node-datachannel\'s pairs/s; ratios > 1 mean ours is better):');
  for (const c of [...new Set(series.map((s) => s.case))]) {
    const peers = series.filter((s) => s.case === c && !s.subject.startsWith('ours'));
    if (c.endsWith('CPU per pair')) {
      // No target: where a pairs/s ratio comes from (ratios > 1: ours uses less CPU per pair).
      for (const subject of ['ours', 'ours-in-thread', 'ours-udpmux']) {
        for (const p of peers) {
          const r = ratioOf(series, c, subject, p.subject);
          if (r !== undefined) console.log(`      ${c}, ${subject} vs ${p.subject}: ${r.toFixed(2)}x`);
        }
      }
      continue;
    }
    if (c === `${MANY_PAIRS} pairs at once, later bursts`) {
      // No target of its own: the issue's target is the first burst's (the case above).
      for (const subject of ['ours', 'ours-in-thread', 'ours-udpmux']) {
        const r = ratioOf(series, c, subject, 'node-datachannel');
        if (r !== undefined) console.log(`      ${c}, ${subject} vs node-datachannel: ${r.toFixed(2)}x (no target: the target is the first burst's)`);
      }
      continue;
    }
    for (const subject of ['ours', 'ours-in-thread', 'ours-udpmux']) {
      const best = peers.map((p) => ({ p, r: ratioOf(series, c, subject, p.subject) ?? Infinity })).sort((a, b) => a.r - b.r)[0];
      if (best) printTarget(`${c}, ${subject} vs fastest peer (${best.p.subject})`, ratioOf(series, c, subject, best.p.subject), 1);
      if (c === ONE_PAIR_CASE && best) printTarget(`${c}, ${subject} vs fastest peer (${best.p.subject}), the aim`, ratioOf(series, c, subject, best.p.subject), 2);
      if (c === `${MANY_PAIRS} pairs at once`) printTarget(`${c}, ${subject} vs node-datachannel`, ratioOf(series, c, subject, 'node-datachannel'), 2);
    }
    const shared = ratioOf(series, c, 'ours-udpmux', 'ours');
    if (shared !== undefined) console.log(`      ${c}: shared port / own sockets ${shared.toFixed(2)}x`);
    const thread = ratioOf(series, c, 'ours', 'ours-in-thread');
    if (thread !== undefined) console.log(`      ${c}: handshake thread / in-thread ${thread.toFixed(2)}x`);
  }
  return series;
}
