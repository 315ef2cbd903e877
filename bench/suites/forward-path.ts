// `npm run bench -- forward-path`: the native forwarding engine's own cost per forwarded packet, the
// kernel left out (bench/forward/path_bench.cpp: ForwardEngine::process_batch with a sink that sends
// nothing: copy, rewrite, SRTP protect per consumer; 1000 B audio packets; per-leg state evicted from
// the caches between receive batches, as a server's sends and event loop do). Subjects: the two SRTP
// profiles a leg may negotiate, AES-GCM-128 (RFC 7714) and AES-CM-128 + HMAC-SHA1-80 (RFC 3711), at
// N = 1, 50, 200 consumers, for one packet per receive batch (what a 150 packets/s publisher gives)
// and eight (a burst read with one recvmmsg). Rounds interleave the subjects so that load from other
// processes spreads evenly.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, printHeader, type BenchOptions, type BenchSeries } from '../lib/report.js';

/** Ratios in the table are against AES-GCM legs. */
export const baseline = 'aes-gcm';

const SUITE = 'forward-path';
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const buildDir = join(here, '..', '.build');
const bin = join(buildDir, 'forward_path_bench');
const PROFILES = [
  ['aes-gcm', 'gcm'],
  ['aes-cm-hmac', 'cm'],
] as const;

function compile(): void {
  mkdirSync(buildDir, { recursive: true });
  // The engine with everything it links: every source of the forward, srtp and udp layers.
  const sources = ['native/forward', 'native/srtp', 'native/udp']
    .flatMap((dir) => readdirSync(join(root, dir)).filter((f) => f.endsWith('.cpp')).sort().map((f) => `${dir}/${f}`));
  const r = spawnSync('g++', ['-std=c++17', '-O2', '-I', root, '-o', bin, join(here, '..', 'forward', 'path_bench.cpp'),
    ...sources.map((s) => join(root, s)), '-lcrypto'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('could not compile bench/forward/path_bench.cpp (needs g++ and libssl-dev)');
}

export async function run(opts: BenchOptions): Promise<BenchSeries[]> {
  printHeader(SUITE, {});
  compile();
  const ns = opts.quick ? [50] : [1, 50, 200];
  const perBatch = opts.quick ? [1] : [1, 8];
  const packets = opts.quick ? 20_000 : 100_000; // forwarded copies per round and subject...
  // ...in at most 2000 batches: each is preceded by an 8 MiB walk (about 1 ms), and at N = 1 the
  // per-batch cost is what is measured, so 2000 samples of it suffice.
  const maxBatches = 2000;
  const series: BenchSeries[] = [];
  for (const n of ns) {
    for (const batch of perBatch) {
      const batches = Math.min(maxBatches, Math.max(10, Math.round(packets / (batch * n))));
      const us = new Map<string, number[]>(PROFILES.map(([name]) => [name, []]));
      const rates = new Map<string, number[]>(PROFILES.map(([name]) => [name, []]));
      for (let round = 0; round < opts.rounds; round++) {
        for (const [name, arg] of PROFILES) {
          const [forwarded, cpuUs] = execFileSync(bin, [arg, String(n), String(batch), String(batches)], { encoding: 'utf8' }).trim().split(' ').map(Number);
          us.get(name)!.push(cpuUs! / forwarded!);
          rates.get(name)!.push(forwarded! / (cpuUs! / 1e6));
        }
      }
      const at = `N=${n}, ${batch} per batch`;
      for (const [name] of PROFILES) {
        series.push({ suite: SUITE, case: `${at}: CPU per forwarded packet`, subject: name, unit: 'µs', higherIsBetter: false, samples: us.get(name)! });
        series.push({ suite: SUITE, case: `${at}: forwarded per core`, subject: name, unit: 'pkt/CPU-s', higherIsBetter: true, samples: rates.get(name)! });
        console.log(`${at} ${name}: ${median(us.get(name)!).toFixed(3)} µs per forwarded packet`);
      }
    }
  }
  return series;
}
