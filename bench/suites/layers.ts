// `npm run bench -- layers`: what simulcast and temporal-layer selection cost the native forwarding
// engine (docs/sfu.md "Simulcast and temporal layers"), per forwarded packet, in one C++ run of
// ForwardEngine::process_batch (bench/forward/layer_bench.cpp: 64-packet batches of 1000 B VP8
// packets to N consumers, a sink that sends nothing, the thread's CPU time around process_batch).
// Subjects: `whole` (one stream, consumers forward it whole: the baseline), `temporal` (consumers
// select TL2 of a TID 0,2,1,2 stream: all forwarded, every packet inspected and renumbered) and
// `simulcast` (three layers, consumers spread over them: each packet examined by all, sent to a third).
// Rounds interleave the subjects so load from other processes spreads evenly.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, printHeader, type BenchOptions, type BenchSeries } from '../lib/report.js';

/** Ratios in the table are against consumers that select no layers. */
export const baseline = 'whole';

const SUITE = 'layers';
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const buildDir = join(here, '..', '.build');
const bin = join(buildDir, 'forward_layer_bench');
const MODES = ['whole', 'temporal', 'simulcast'] as const;

function compile(): void {
  mkdirSync(buildDir, { recursive: true });
  // The engine with everything it links: every source of the forward, srtp and udp layers, so a
  // new file there needs no change here.
  const sources = ['native/forward', 'native/srtp', 'native/udp']
    .flatMap((dir) => readdirSync(join(root, dir)).filter((f) => f.endsWith('.cpp')).sort().map((f) => `${dir}/${f}`));
  const r = spawnSync('g++', ['-std=c++17', '-O2', '-I', root, '-o', bin, join(here, '..', 'forward', 'layer_bench.cpp'),
    ...sources.map((s) => join(root, s)), '-lcrypto'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('could not compile bench/forward/layer_bench.cpp (needs g++ and libssl-dev)');
}

export async function run(opts: BenchOptions): Promise<BenchSeries[]> {
  printHeader(SUITE, {});
  compile();
  const ns = opts.quick ? [10] : [10, 50, 200];
  const packets = opts.quick ? 200_000 : 1_600_000; // forwarded copies per round at the baseline
  const series: BenchSeries[] = [];
  for (const n of ns) {
    const batches = Math.max(10, Math.round(packets / (64 * n)));
    const samples = new Map<string, number[]>(MODES.map((m) => [m, []]));
    const rates = new Map<string, number[]>(MODES.map((m) => [m, []]));
    for (let round = 0; round < opts.rounds; round++) {
      for (const mode of MODES) {
        const [forwarded, cpuUs] = execFileSync(bin, [mode, String(n), String(batches)], { encoding: 'utf8' }).trim().split(' ').map(Number);
        samples.get(mode)!.push(cpuUs! / forwarded!);
        rates.get(mode)!.push(forwarded! / (cpuUs! / 1e6));
      }
    }
    for (const mode of MODES) {
      series.push({ suite: SUITE, case: `N=${n} CPU per forwarded packet`, subject: mode, unit: 'µs', higherIsBetter: false, samples: samples.get(mode)! });
      series.push({ suite: SUITE, case: `N=${n} forwarded per core`, subject: mode, unit: 'pkt/CPU-s', higherIsBetter: true, samples: rates.get(mode)! });
      console.log(`N=${n} ${mode}: ${median(samples.get(mode)!).toFixed(3)} µs per forwarded packet`);
    }
  }
  return series;
}
