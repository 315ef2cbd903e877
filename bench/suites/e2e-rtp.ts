// `npm run bench -- e2e-rtp`: two peer connections of one library on loopback (ICE, DTLS-SRTP),
// one sends application-made RTP at the highest rate the pair sustains, the other receives.
// Delivered packets/s, loss, and process CPU per delivered packet (both PCs live in the one
// child process, so the CPU covers send + receive). Subjects: ours, werift, node-datachannel
// (its Track API sends raw RTP). @roamhq/wrtc is absent: libwebrtc only sends media it encodes
// itself (RTCAudioSource/RTCVideoSource), it has no way to send application RTP packets.
import { runChild } from '../peers/spawn.js';
import type { RtpRound } from '../peers/measure.js';
import type { LibraryName } from '../peers/registry.js';
import { coturnSkip } from '../../test/integration/coturn.js';
import { libraryVersions, printHeader, printTarget, ratioOf, type BenchOptions, type BenchSeries } from '../lib/report.js';

/** Ratios in the table are against werift. */
export const baseline = 'werift';

const SUITE = 'e2e-rtp';
const PAYLOADS = [1200, 200];
/** `ours` runs with the default policy modules, `ours-bare` without (their cost, side by side). */
/**
 * `ours-udpmux`: the receiving PC on a shared UdpMux port; `ours-turn`: the receiving PC relay-only
 * through a coturn on loopback (TURN/UDP, ChannelData framed natively; coturn's CPU is its own
 * process's and not counted, its forwarding can cap the rate). Skipped where coturn is missing.
 * `ours-tcp`: the receiving PC on a passive ICE-TCP port only (RFC 6544, RFC 4571 framing, split and
 * unprotected natively per read), the sending PC on active ICE-TCP (framed in JavaScript).
 */
const SUBJECTS: LibraryName[] = ['ours', 'ours-bare', 'ours-udpmux', 'ours-turn', 'ours-tcp', 'werift', 'node-datachannel'];

/** Runs each library in its own child process and returns delivered rate, CPU and loss series. */
export async function run(opts: BenchOptions): Promise<BenchSeries[]> {
  printHeader(SUITE, libraryVersions());
  const seconds = opts.quick ? 0.5 : 2;
  const series: BenchSeries[] = [];
  // Rounds outside, subjects inside: each round runs every subject once, in its own child, one
  // after the other, so a machine whose load drifts during the run (it is shared) weighs on every
  // subject alike and the ratios (ours / ours-bare above all) compare neighbours in time.
  const collected = new Map<LibraryName, Record<string, RtpRound[]>>();
  const failed = new Set<LibraryName>();
  for (let round = 0; round < opts.rounds; round++) {
    for (const lib of SUBJECTS) {
      if (failed.has(lib)) continue;
      if (lib === 'ours-turn' && coturnSkip) {
        console.log(`ours-turn: skipped (${coturnSkip})`);
        failed.add(lib);
        continue;
      }
      const outcome = await runChild<Record<string, RtpRound[]>>('child.ts', { task: 'e2e', lib, payloads: PAYLOADS, seconds, rounds: 1 }, 60_000 + seconds * 4000);
      if (!outcome.ok) {
        console.log(`${lib}: no result in round ${round + 1} (${outcome.error})`);
        failed.add(lib);
        continue;
      }
      const into = collected.get(lib) ?? {};
      for (const size of PAYLOADS) (into[size] ??= []).push(...(outcome.result[size] ?? []));
      collected.set(lib, into);
    }
  }
  for (const lib of SUBJECTS) {
    const result = collected.get(lib);
    if (!result) continue;
    for (const size of PAYLOADS) {
      const rounds = result[size] ?? [];
      const add = (what: string, unit: string, higherIsBetter: boolean, pick: (r: RtpRound) => number): void => {
        series.push({ suite: SUITE, case: `${size}B ${what}`, subject: lib, unit, higherIsBetter, samples: rounds.map(pick) });
      };
      add('delivered', 'pkt/s', true, (r) => r.pps);
      add('per core', 'pkt/CPU-s', true, (r) => 1e6 / r.cpuUsPerPacket);
      add('CPU per packet', 'µs', false, (r) => r.cpuUsPerPacket);
      add('loss', '%', false, (r) => r.loss * 100);
    }
  }
  console.log('\ntargets (medians of this run; issue 11: >= 10x werift delivered at equal or lower CPU per packet):');
  for (const size of PAYLOADS) {
    printTarget(`${size}B delivered pkt/s, ours / werift`, ratioOf(series, `${size}B delivered`, 'ours', 'werift'), 10);
    printTarget(`${size}B CPU per packet, werift / ours`, ratioOf(series, `${size}B CPU per packet`, 'ours', 'werift'), 1);
    const vsNdc = ratioOf(series, `${size}B delivered`, 'ours', 'node-datachannel');
    const bare = ratioOf(series, `${size}B CPU per packet`, 'ours', 'ours-bare');
    if (bare !== undefined) console.log(`      ${size}B CPU per packet with the default policy modules / without: ${(1 / bare).toFixed(3)}x (target <= 1.15)`);
    if (vsNdc !== undefined) console.log(`      ${size}B delivered pkt/s, ours / node-datachannel: ${vsNdc.toFixed(2)}x; per core: ${ratioOf(series, `${size}B per core`, 'ours', 'node-datachannel')?.toFixed(2)}x`);
    // Issue 14: the receiver on a shared UdpMux port within 10 % of its own socket.
    printTarget(`${size}B delivered pkt/s, ours-udpmux / ours`, ratioOf(series, `${size}B delivered`, 'ours-udpmux', 'ours'), 0.9);
    printTarget(`${size}B per core, ours-udpmux / ours`, ratioOf(series, `${size}B per core`, 'ours-udpmux', 'ours'), 0.9);
    // Issue 14: the relayed receiver (TURN/UDP through coturn) beside the own-socket one, same run.
    const turnRate = ratioOf(series, `${size}B delivered`, 'ours-turn', 'ours');
    const turnCore = ratioOf(series, `${size}B per core`, 'ours-turn', 'ours');
    if (turnRate !== undefined) console.log(`      ${size}B delivered pkt/s, ours-turn / ours: ${turnRate.toFixed(2)}x; per core: ${turnCore?.toFixed(2)}x`);
    // Issue 14: the ICE-TCP receiver (passive port, native framing) beside the others, same run.
    const tcpRate = ratioOf(series, `${size}B delivered`, 'ours-tcp', 'ours');
    const tcpCore = ratioOf(series, `${size}B per core`, 'ours-tcp', 'ours');
    if (tcpRate !== undefined) console.log(`      ${size}B delivered pkt/s, ours-tcp / ours: ${tcpRate.toFixed(2)}x; per core: ${tcpCore?.toFixed(2)}x`);
  }
  return series;
}
