// The measurements the full-stack suites make inside one library's child process: RTP
// throughput at the highest sustainable rate, connection setup time, idle memory per PC.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from 'node:v8';
import { nativeHeapStats } from '../../lib/native/native-heap-stats.js';
import { trimNativeHeap } from '../../lib/native/native-heap-trim.js';
import { nativeHeapTrimmer } from '../../lib/transport/native-heap-trimmer.js';
import { descriptorLimit, openDescriptors } from './descriptor-limit.js';
import type { IdlePeers, MediaPair, PeerAdapter } from './types.js';

/** One e2e-rtp round. */
export interface RtpRound {
  /** Packets delivered per second of wall time. */
  pps: number;
  /** Fraction of sent packets that never arrived. */
  loss: number;
  /** Process CPU time (user + system, all threads) per delivered packet, µs. */
  cpuUsPerPacket: number;
}

const MIN_WINDOW = 8;
/**
 * At most 128 packets in flight: 128 × 1.2 kB stays inside Linux's default 208 KiB socket
 * receive buffer, so no library loses packets to a buffer the benchmark itself overfills.
 */
const MAX_WINDOW = 128;
/** No delivery for this long with packets in flight means they were lost. */
const STALL_MS = 30;

/**
 * Sends RTP from a to b for `seconds` at the highest rate the pair sustains: a window of packets
 * in flight (sent, not yet delivered) grows by 8 per window delivered and halves when packets
 * stall (AIMD, as a congestion-controlled sender would), so every library runs at its own limit
 * with little loss. The sender refills the window from the receive callback (no busy loop that
 * would bill idle spinning as CPU per packet); a 5 ms timer only detects stalls. Delivery and
 * process CPU are counted over the whole round.
 */
export function rtpRound(pair: MediaPair, payload: Buffer, seconds: number): Promise<RtpRound> {
  return new Promise((resolve) => {
    let sent = 0;
    let delivered = 0;
    let writtenOff = 0;
    let window = 32;
    let sinceGrow = 0;
    let lastProgress = performance.now();
    let lastDelivered = 0;
    let running = true;
    const refill = (): void => {
      for (let i = sent - delivered - writtenOff; i < window; i++) {
        pair.send(payload);
        sent++;
      }
    };
    pair.onReceive(() => {
      delivered++;
      if (++sinceGrow >= window) {
        sinceGrow = 0;
        window = Math.min(MAX_WINDOW, window + 8);
      }
      if (running && sent - delivered - writtenOff <= window >> 1) refill();
    });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const watchdog = setInterval(() => {
      const now = performance.now();
      if (now - t0 >= seconds * 1000) {
        running = false;
        clearInterval(watchdog);
        const cpu = process.cpuUsage(cpu0);
        const wall = (now - t0) / 1000;
        const deliveredInRound = delivered;
        // Late packets still count as delivered for the loss figure: a short drain first.
        setTimeout(() => {
          pair.onReceive(() => {});
          resolve({
            pps: deliveredInRound / wall,
            loss: sent ? Math.max(0, sent - delivered) / sent : 0,
            cpuUsPerPacket: deliveredInRound ? (cpu.user + cpu.system) / deliveredInRound : Infinity,
          });
        }, 100);
        return;
      }
      if (delivered !== lastDelivered) {
        lastDelivered = delivered;
        lastProgress = now;
      } else if (now - lastProgress > STALL_MS) {
        writtenOff = sent - delivered;
        window = Math.max(MIN_WINDOW, window >> 1);
        lastProgress = now;
        refill();
      }
    }, 5);
    refill();
  });
}

/** e2e-rtp in one process: per payload size, a warm-up then `rounds` measured rounds. */
export async function measureRtp(adapter: PeerAdapter, payloads: number[], seconds: number, rounds: number): Promise<Record<string, RtpRound[]>> {
  if (!adapter.mediaPair) throw new Error(`${adapter.name} cannot send application RTP`);
  const pair = await adapter.mediaPair();
  const out: Record<string, RtpRound[]> = {};
  for (const size of payloads) {
    const payload = Buffer.alloc(size, 0xab);
    // Warm-up: long enough that the JIT has compiled the send and receive paths (its background
    // compilation counts in the process CPU) before a measured round starts.
    await rtpRound(pair, payload, Math.min(1, seconds));
    out[size] = [];
    for (let r = 0; r < rounds; r++) out[size].push(await rtpRound(pair, payload, seconds));
  }
  await pair.close();
  return out;
}

/**
 * setup results of one pair count: each round's per-pair times, pairs that failed, wall time and
 * process CPU time (user + system, every thread: a library's native threads count too), or why it
 * failed; `skipped` says why the count did not run (the descriptors it needs, the limit).
 */
export type SetupResult = {
  rounds: { times: number[]; failed: number; wallMs: number; cpuMs: number; jsThreadCpuMs?: number }[];
  error?: string;
  skipped?: string;
};

/** Pairs held open at once to measure a library's descriptors per connected pair. */
const DESCRIPTOR_PROBE_PAIRS = 10;

/**
 * Descriptors one connected pair of `adapter` holds open (DESCRIPTOR_PROBE_PAIRS pairs held at once,
 * then closed), or undefined where /proc cannot tell or nothing connected.
 */
async function descriptorsPerPair(adapter: PeerAdapter): Promise<number | undefined> {
  const before = openDescriptors();
  const probe = await adapter.connectPairs(DESCRIPTOR_PROBE_PAIRS, true);
  const after = openDescriptors();
  await probe.peers.close();
  await new Promise((r) => setTimeout(r, 200)); // let closed sockets go
  if (before === undefined || after === undefined || probe.times.length === 0) return undefined;
  return Math.max(0, after - before) / probe.times.length;
}

/**
 * CPU time (user + system, ms) of this process's main thread alone, the one that runs
 * JavaScript, from /proc/self/task/<pid>/stat (Linux; 10 ms ticks), or undefined elsewhere.
 */
export function jsThreadCpuMs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** Pairs connected one after another in each round of the one-pair case (its median and p90 per round). */
export const ONE_PAIR_REPEATS = 10;

/**
 * setup: per pair count, `rounds` times (fewer for 100+ pairs): each pair's createOffer→connected
 * ms and the wall time of all. A count that fails (a library error, pairs that never connect)
 * keeps the rounds measured so far and the error, and the larger counts after it do not run (a
 * library that failed at fewer pairs would spend the child's time failing at more). A count
 * whose pairs would need more open descriptors than the process may have (measured per pair
 * first, twice that) is skipped with the figures, rather than left to fail on EMFILE half-way
 * (wrtc aborts).
 * `progress` gets the results after every round (the child reports them in case the library then crashes).
 */
export async function measureSetup(
  adapter: PeerAdapter,
  counts: number[],
  rounds: number,
  progress: (soFar: Record<string, SetupResult>) => void = () => {},
): Promise<Record<string, SetupResult>> {
  await adapter.connectPairs(1, false); // loads the library, its certificates and code paths
  const out: Record<string, SetupResult> = {};
  const limit = descriptorLimit();
  const perPair = counts.some((c) => c > 1) ? await descriptorsPerPair(adapter) : undefined;
  for (const count of counts) {
    const result: SetupResult = { rounds: [] };
    out[count] = result;
    const base = openDescriptors();
    if (perPair !== undefined && limit !== undefined && base !== undefined) {
      // Twice what was measured: pairs in the middle of their handshake hold more than idle ones,
      // and a library may open more per pair the more it holds (wrtc: ~41 per pair at 10, ~64 at 20).
      const needed = base + Math.ceil(count * perPair * 2);
      if (needed > limit) {
        result.skipped = `needs ~${needed} descriptors (${perPair.toFixed(1)} per pair), limit ${limit}`;
        progress(out);
        continue;
      }
    }
    // Hundreds of pairs take the slowest library minutes: at most three rounds of 100 or more.
    // The setup suite reports the first round of 1,000 on its own (a first burst: V8 optimizes the
    // per-pair code of a JavaScript library during it) and the later ones as a server's later bursts.
    const n = count >= 100 ? Math.min(rounds, 3) : rounds;
    // One pair: ONE_PAIR_REPEATS pairs one after another per round, so each round has a p90.
    const repeats = count === 1 ? ONE_PAIR_REPEATS : 1;
    try {
      for (let r = 0; r < n; r++) {
        const t0 = performance.now();
        const cpu0 = process.cpuUsage();
        const js0 = jsThreadCpuMs();
        const times: number[] = [];
        let failed = 0;
        for (let k = 0; k < repeats; k++) {
          const one = await adapter.connectPairs(count, false);
          times.push(...one.times);
          failed += one.failed;
        }
        const cpu = process.cpuUsage(cpu0);
        const js1 = jsThreadCpuMs();
        result.rounds.push({
          times,
          failed,
          wallMs: performance.now() - t0,
          cpuMs: (cpu.user + cpu.system) / 1000,
          ...(js0 !== undefined && js1 !== undefined ? { jsThreadCpuMs: js1 - js0 } : {}),
        });
        progress(out);
        await new Promise((r) => setTimeout(r, 200)); // let closed sockets and timers go
      }
    } catch (err) {
      result.error = String(err);
      break;
    }
  }
  return out;
}

/** Resident set and JS heap per idle connected PC, bytes. */
export interface MemoryResult {
  /** Growth per connected PC (the pairs that did not connect are closed before it is measured). */
  rssPerPc: number;
  heapPerPc: number;
  /** PCs asked for. */
  pcs: number;
  /** PCs connected and held open: what the growth is divided by. */
  connectedPcs: number;
  /** Pairs that did not connect (closed and released before the measurement, not counted). */
  failedPairs: number;
  /**
   * Where the RSS went, bytes per connected PC (glibc only): C heap in use (external memory,
   * i.e. ArrayBuffers, included) and free (freed chunks, resident until trimmed), V8's committed
   * heap (used plus what its spaces keep).
   */
  breakdown?: { nativeInUse: number; nativeFree: number; v8Committed: number; external: number };
  /**
   * The same growth after the library's releaseIdleMemory() (ours only): RSS and JS heap per
   * connected PC, and V8's committed heap, against a baseline sampled after the same call.
   */
  afterRelease?: { rssPerPc: number; heapPerPc: number; v8Committed: number };
  /**
   * The same growth after the PCs stayed idle longer (no releaseIdleMemory() call, a full
   * collection before each reading as for the main figure): per idle time asked for, RSS and JS
   * heap per connected PC and the size of V8's young generation (new space, bytes) then. Shows
   * whether V8 gives back by itself the young generation a burst of set-ups grew.
   */
  idle?: { afterMs: number; rssPerPc: number; heapPerPc: number; newSpace: number }[];
  /** V8's young generation (new space) at the reading, bytes (the whole process, not per PC). */
  newSpace?: number;
  /** How long the library's own memory work after the burst ran past 0.5 s (ours only; the settle time when still running), ms. */
  settleWaitMs?: number;
  /** How long past 0.5 s every adapter's memory was read, ms (the same for all: MEMORY_SETTLE_MS, 0 with PWT_BENCH_MEMORY_NO_WAIT=1). */
  settleMs: number;
  /** With PWT_BENCH_TRIM_PROBE=1: RSS per PC at 0.5 s right after a C-heap trim (what free C heap was resident). */
  rssTrimmedPerPc?: number;
}

/** V8's new space (young generation) as committed now, bytes. */
function newSpaceSize(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/** V8's spaces as committed now, MiB. */
function spaceSizes(): Record<string, number> {
  return Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, Math.round(s.space_size / 104857.6) / 10]));
}

/** Process-wide totals the breakdown is made of. */
function breakdownSample(): { nativeInUse: number; nativeFree: number; v8Committed: number; external: number } | undefined {
  const native = nativeHeapStats();
  if (!native) return undefined;
  return { nativeInUse: native.inUse, nativeFree: native.free, v8Committed: getHeapStatistics().total_physical_size, external: process.memoryUsage().external };
}

/** Asks the preloaded allocation shim for its report (it polls for `<out>.trigger`) and waits for it, at most 120 s. */
async function allocShimReport(out: string): Promise<void> {
  rmSync(`${out}.done`, { force: true });
  writeFileSync(`${out}.trigger`, '');
  for (let i = 0; i < 1200 && !existsSync(`${out}.done`); i++) await new Promise((r) => setTimeout(r, 100));
}

function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 500));
}

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
}

/**
 * Pairs opened at once by the memory task (1,000 PCs are one wave, 10,000 ten).
 * PWT_BENCH_WAVE_PAIRS=N (a probe): smaller waves, e.g. to see what fewer handshakes in flight at
 * once leave behind in the C heap.
 */
const WAVE_PAIRS = Number(process.env.PWT_BENCH_WAVE_PAIRS) > 0 ? Math.floor(Number(process.env.PWT_BENCH_WAVE_PAIRS)) : 500;

/** The warm-up pair, tried up to three times: on a loaded machine one pair may time out. */
async function warmUp(adapter: PeerAdapter): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await adapter.connectPairs(1, false);
      return;
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}

/**
 * How long every adapter's memory is left to settle after the 0.5 s before it is read: the longest
 * the library's own memory work after a burst may take (ours: trim and JS-heap relief, 0–2.3 s
 * measured), the same for all adapters so that their figures are taken at the same moment.
 */
const MEMORY_SETTLE_MS = 5000;

/**
 * memory: `pcs` PCs (pcs/2 pairs, in waves of {@link WAVE_PAIRS}) opened after a warm-up pair;
 * the pairs that did not connect are closed by the adapter, then the growth is divided by the PCs
 * held connected.
 */
export async function measureMemory(adapter: PeerAdapter, pcs: number, idleMs: readonly number[] = []): Promise<MemoryResult> {
  await warmUp(adapter);
  await settle();
  collect();
  const parts0 = breakdownSample();
  const before = process.memoryUsage();
  // The baseline of the figures after releaseIdleMemory(): the same state after the same call
  // (the main figures keep the baseline above, taken without it).
  let released0: { rss: number; heapUsed: number; v8Committed: number } | undefined;
  if (adapter.releaseIdleMemory) {
    adapter.releaseIdleMemory();
    released0 = { ...process.memoryUsage(), v8Committed: getHeapStatistics().total_physical_size };
  }
  // In waves of at most WAVE_PAIRS pairs: 5,000 pairs opened at once on a loaded machine mostly
  // fail their connectivity checks before the event loop gets to them (no result at all).
  const held: IdlePeers[] = [];
  let failed = 0;
  for (let opened = 0; opened < pcs / 2; opened += WAVE_PAIRS) {
    const count = Math.min(WAVE_PAIRS, pcs / 2 - opened);
    try {
      const wave = await adapter.connectPairs(count, true);
      held.push(wave.peers);
      failed += wave.failed;
    } catch {
      failed += count; // none of the wave connected (the adapter closed them)
    }
  }
  const peers = { close: async (): Promise<void> => void (await Promise.all(held.map((p) => p.close()))) };
  const connectedPcs = pcs - 2 * failed;
  if (connectedPcs === 0) throw new Error(`none of the ${pcs / 2} pairs connected`);
  const spacesAtBurstEnd = process.env.PWT_BENCH_RELIEF_PROBE === '1' ? spaceSizes() : undefined;
  await settle();
  // The library's own memory work after the burst (ours: the trim and the JS-heap relief before
  // it) may still be running at 0.5 s; the forced collections below would cut V8's incremental
  // relief short without reducing memory. So every adapter, whether it reports such work or not,
  // is read after the same settle time (MEMORY_SETTLE_MS more), and the time its own work took is
  // reported (settleWaitMs): the ratios compare the same moment.
  const settleStart = performance.now();
  const settleMs = process.env.PWT_BENCH_MEMORY_NO_WAIT === '1' ? 0 : MEMORY_SETTLE_MS; // =1: every adapter read at 0.5 s
  let settleWaitMs: number | undefined;
  for (let i = 0; i < 1000; i++) {
    const elapsed = performance.now() - settleStart;
    if (settleWaitMs === undefined && !adapter.memoryWorkPending?.()) settleWaitMs = elapsed;
    if (elapsed >= settleMs) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  settleWaitMs ??= performance.now() - settleStart; // still pending at the end of the settle time
  // PWT_BENCH_RELIEF_PROBE=1: V8's spaces (MiB) before and after the forced collections, and the wait.
  // Also the spaces when the last pair connected and what the library's trimmer did (its reliefs).
  const probe = process.env.PWT_BENCH_RELIEF_PROBE === '1' ? { settleWaitMs, spacesAtBurstEnd, spaces: spaceSizes(), trimmer: { ...nativeHeapTrimmer.stats } } : undefined;
  collect();
  const after = process.memoryUsage();
  if (probe) console.error('relief probe', JSON.stringify({ ...probe, spacesAfterGc: spaceSizes(), usedHeapMiBAfterGc: Math.round(getHeapStatistics().used_heap_size / 104857.6) / 10 }));
  const parts1 = breakdownSample();
  const newSpaceAtReading = newSpaceSize();
  // PWT_ALLOC_SHIM_OUT=FILE with LD_PRELOAD=bench/.build/alloc_shim.so (a probe, bench/native/alloc_shim.c):
  // the shim's report of the C heap live at the reading, by allocating thread, size class and stack.
  if (process.env.PWT_ALLOC_SHIM_OUT && process.env.LD_PRELOAD?.includes('alloc_shim')) await allocShimReport(process.env.PWT_ALLOC_SHIM_OUT);
  // PWT_BENCH_TRIM_PROBE=1 (a probe, off by default since it changes the later readings): how much
  // of the RSS at 0.5 s is free C heap still resident, by trimming it right now.
  let rssTrimmed: number | undefined;
  if (process.env.PWT_BENCH_TRIM_PROBE === '1' && trimNativeHeap() !== 'unsupported') rssTrimmed = (process.memoryUsage().rss - before.rss) / connectedPcs;
  // PWT_BENCH_HEAP_SNAPSHOT=FILE (a probe, off by default: it takes seconds and grows the heap): a V8
  // heap snapshot of the idle PCs right after the 0.5 s reading, for bench/peers/heap-snapshot-diff.ts.
  if (process.env.PWT_BENCH_HEAP_SNAPSHOT) writeHeapSnapshot(process.env.PWT_BENCH_HEAP_SNAPSHOT);
  const heldAt = performance.now();
  // Longer idle readings come before releaseIdleMemory(), which would give the young generation back.
  const idle: NonNullable<MemoryResult['idle']> = [];
  for (const afterMs of idleMs) {
    const wait = heldAt + afterMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const young = newSpaceSize();
    collect();
    const m = process.memoryUsage();
    idle.push({ afterMs, rssPerPc: (m.rss - before.rss) / connectedPcs, heapPerPc: (m.heapUsed - before.heapUsed) / connectedPcs, newSpace: young });
  }
  let afterRelease: MemoryResult['afterRelease'];
  if (adapter.releaseIdleMemory && released0) {
    adapter.releaseIdleMemory();
    const m = process.memoryUsage();
    afterRelease = {
      rssPerPc: (m.rss - released0.rss) / connectedPcs,
      heapPerPc: (m.heapUsed - released0.heapUsed) / connectedPcs,
      v8Committed: (getHeapStatistics().total_physical_size - released0.v8Committed) / connectedPcs,
    };
  }
  await peers.close();
  const breakdown = parts0 && parts1
    ? {
        nativeInUse: (parts1.nativeInUse - parts0.nativeInUse) / connectedPcs,
        nativeFree: (parts1.nativeFree - parts0.nativeFree) / connectedPcs,
        v8Committed: (parts1.v8Committed - parts0.v8Committed) / connectedPcs,
        external: (parts1.external - parts0.external) / connectedPcs,
      }
    : undefined;
  return {
    ...(rssTrimmed !== undefined ? { rssTrimmedPerPc: rssTrimmed } : {}),
    rssPerPc: (after.rss - before.rss) / connectedPcs,
    heapPerPc: (after.heapUsed - before.heapUsed) / connectedPcs,
    pcs,
    connectedPcs,
    failedPairs: failed,
    settleMs,
    ...(adapter.memoryWorkPending ? { settleWaitMs } : {}),
    ...(breakdown ? { breakdown } : {}),
    newSpace: newSpaceAtReading,
    ...(afterRelease ? { afterRelease } : {}),
    ...(idle.length ? { idle } : {}),
  };
}
