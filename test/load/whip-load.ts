// Load of the echo server: N concurrent WHIP sessions (the load generator below: audio at 50
// packets/s + a data channel with ten messages) against an echo server in its own process with
// every session on one shared UdpMux port. Every session must echo (RTP and every message); while
// they run the page is fetched every 50 ms (from a worker thread, page-prober.ts), its latency
// reported as p50/p99/max beside the server's own event-loop delay. While the measured sessions
// run, the generator's threads run below the server's priority (lowerGeneratorThreads). GC is
// forced only for the two memory samples (the baseline after a warm-up round, and after the
// sessions end), never while they run. Short form in npm test (whip-load.test.ts), long form
// (500 sessions) in `npm run soak`.
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { LocalStreamTrack, RTCPeerConnection } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { whipConnect, type WhipSession } from '../../lib/signaling/whip-client.js';
import { startPageProber } from './page-prober.js';

const MESSAGES = 10;
/** How much lower than the server the generator's threads run while the sessions are measured (nice steps). */
export const GENERATOR_NICE = 10;

/** What one generated session saw. */
interface SessionResult {
  connected: boolean;
  audioSent: number;
  audioEchoed: number;
  messagesSent: number;
  messagesEchoed: number;
  errors: string[];
}

/**
 * One session of the load generator: WHIP offer with Opus-sized audio (50 packets/s) and a data
 * channel, `seconds` of media, ten short messages that must come back intact, then DELETE.
 */
async function session(whipUrl: string, seconds: number, i: number): Promise<SessionResult> {
  const r: SessionResult = { connected: false, audioSent: 0, audioEchoed: 0, messagesSent: 0, messagesEchoed: 0, errors: [] };
  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  let whip: WhipSession | undefined;
  let pacer: NodeJS.Timeout | undefined;
  try {
    const audio = new LocalStreamTrack({ kind: 'audio' });
    pc.addTransceiver(audio, { direction: 'sendrecv' });
    pc.on('track', (e) => void (async () => {
      for await (const _p of e.track) r.audioEchoed++;
    })().catch(() => undefined));
    const dc = pc.createDataChannel('load');
    const echoed = new Set<string>();
    dc.on('message', (e) => {
      if (typeof e.data === 'string' && e.data.startsWith(`s${i}m`)) echoed.add(e.data);
    });
    whip = await whipConnect(whipUrl, pc, { timeoutMs: 60_000 });
    await pc.connected(60_000);
    r.connected = true;
    pacer = setInterval(() => {
      audio.send(new RtpPacket({ payloadType: 111, timestamp: r.audioSent * 960, payload: Buffer.alloc(80, i & 0xff) }));
      r.audioSent++;
    }, 20);
    if (dc.readyState !== 'open') await new Promise((res, rej) => { dc.once('open', res); setTimeout(() => rej(new Error('data channel did not open')), 30_000); });
    for (let m = 0; m < MESSAGES; m++) {
      dc.send(`s${i}m${m}:${'x'.repeat(100 + m * 50)}`);
      r.messagesSent++;
    }
    await new Promise((res) => setTimeout(res, seconds * 1000));
    clearInterval(pacer);
    pacer = undefined;
    for (let w = 0; w < 100 && echoed.size < MESSAGES; w++) await new Promise((res) => setTimeout(res, 100));
    r.messagesEchoed = echoed.size;
  } catch (err) {
    r.errors.push(err instanceof Error ? err.message : String(err));
  } finally {
    if (pacer) clearInterval(pacer);
    if (whip) await whip.end().catch((err: unknown) => r.errors.push(`DELETE: ${String(err)}`));
    pc.close();
  }
  return r;
}

/** What one load run measured. */
export interface WhipLoadReport {
  sessions: number;
  ok: number;
  failures: string[];
  /** Page fetches while the sessions ran and their latency, ms. */
  pageFetches: number;
  pageP50Ms: number;
  pageP99Ms: number;
  pageMaxMs: number;
  /** The server's event-loop delay while the sessions ran (monitorEventLoopDelay), ms. */
  serverLoopP50Ms: number;
  serverLoopP99Ms: number;
  serverLoopMaxMs: number;
  baselineRss: number;
  peakRss: number;
  afterRss: number;
  baselineHeap: number;
  afterHeap: number;
  /** V8's committed heap and memory outside it (Buffers, native objects), baseline and after. */
  baselineHeapTotal: number;
  afterHeapTotal: number;
  baselineExternal: number;
  afterExternal: number;
  /** How many nice steps below the server the generator ran while measured (0: same priority, or refused). */
  generatorNice: number;
  /** How long after the sessions ended the after sample was taken, ms (see settleMemory). */
  settleMs: number;
  afterSessions: number;
  afterMuxTransports: number;
}

interface MemReply { op: 'mem'; rss: number; heapUsed: number; heapTotal: number; external: number; muxTransports: number; sessions: number }
interface RssReply { op: 'rss'; rss: number }
interface LoopReply { op: 'loop'; p50Ms: number; p99Ms: number; maxMs: number }

function request<T>(child: ChildProcess, op: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { op: string }): void => {
      if (m.op !== op) return;
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
    child.send({ op });
  });
}

/** Runs `sessions` concurrent WHIP sessions of `seconds` each (see the file header). */
export async function runWhipLoad(o: { sessions: number; seconds: number; warmupRounds?: number; serverExecArgv?: string[]; generatorNice?: number }): Promise<WhipLoadReport> {
  const child = fork(fileURLToPath(new URL('./echo-server-child.ts', import.meta.url)), [String(o.sessions + 50)], {
    execArgv: ['--import', 'tsx', ...(o.serverExecArgv ?? [])],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let priority: { lowered: number; restore(): void } | undefined;
  try {
    const ready = await new Promise<{ url: string; whipUrl: string }>((resolve, reject) => {
      child.once('message', (m: { op: string; url: string; whipUrl: string }) => resolve(m));
      child.once('exit', (code) => reject(new Error(`echo server exited (${code})`)));
    });
    // A first round of the same size warms the server (code paths, pools, the allocator's arenas);
    // the baseline is taken after it, and the measured round must bring memory back to it.
    for (let w = 0; w < (o.warmupRounds ?? 1); w++) {
      await Promise.all(Array.from({ length: o.sessions }, (_, i) => session(ready.whipUrl, 1, i)));
      await settleServer(child);
      if (process.env.PWT_LOAD_SNAPSHOT) await request(child, 'snap');
    }
    const baseline = await request<MemReply>(child, 'mem');
    let peakRss = baseline.rss;
    // The page is probed from a worker thread: this thread's loop is busy with the sessions.
    const prober = await startPageProber(ready.url);
    priority = lowerGeneratorThreads(o.generatorNice ?? GENERATOR_NICE, prober.threadId);
    await request<LoopReply>(child, 'loop');
    let running = true;
    // Peak RSS as it is (no GC: a forced full GC here would stall the server's loop and count in
    // the delays reported below).
    const rssPoller = (async () => {
      while (running) {
        const m = await request<RssReply>(child, 'rss');
        if (m.rss > peakRss) peakRss = m.rss;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const results = await Promise.all(Array.from({ length: o.sessions }, (_, i) => session(ready.whipUrl, o.seconds, i)));
    priority.restore();
    const lowered = priority.lowered;
    priority = undefined;
    running = false;
    await rssPoller;
    const latencies = await prober.stop();
    const loop = await request<LoopReply>(child, 'loop');
    await settleServer(child);
    const settleStart = performance.now();
    const after = await settleMemory(child, baseline);
    const settleMs = performance.now() - settleStart;
    const failures: string[] = [];
    results.forEach((r, i) => {
      if (!r.connected || r.errors.length > 0 || r.audioEchoed === 0 || r.messagesEchoed !== MESSAGES) {
        failures.push(`session ${i}: connected ${r.connected}, audio echoed ${r.audioEchoed}/${r.audioSent}, messages ${r.messagesEchoed}/${r.messagesSent} ${r.errors.join('; ')}`);
      }
    });
    latencies.sort((a, b) => a - b);
    return {
      sessions: o.sessions,
      ok: o.sessions - failures.length,
      failures,
      pageFetches: latencies.length,
      pageP50Ms: percentile(latencies, 50),
      pageP99Ms: percentile(latencies, 99),
      pageMaxMs: latencies[latencies.length - 1] ?? 0,
      serverLoopP50Ms: loop.p50Ms,
      serverLoopP99Ms: loop.p99Ms,
      serverLoopMaxMs: loop.maxMs,
      baselineRss: baseline.rss,
      peakRss,
      afterRss: after.rss,
      baselineHeap: baseline.heapUsed,
      afterHeap: after.heapUsed,
      baselineHeapTotal: baseline.heapTotal,
      afterHeapTotal: after.heapTotal,
      baselineExternal: baseline.external,
      afterExternal: after.external,
      generatorNice: lowered,
      settleMs,
      afterSessions: after.sessions,
      afterMuxTransports: after.muxTransports,
    };
  } finally {
    priority?.restore();
    child.send({ op: 'close' });
    await new Promise((r) => {
      const t = setTimeout(() => {
        child.kill();
        r(undefined);
      }, 5000);
      child.once('exit', () => {
        clearTimeout(t);
        r(undefined);
      });
    });
  }
}

/**
 * Lowers every thread of this process but `except` (the page prober's) by `steps` nice steps and
 * says by how many its JavaScript thread was lowered. The generator stands in for hundreds of
 * remote clients, whose CPU is not the server's; on a 2-core machine its threads at the server's
 * priority (its JavaScript thread, and its DTLS handshake threads during the burst of joins) took
 * their share of the cores from the server, and the page latency then measured the two processes'
 * competition (docs/architecture.md "Soak and load"). A nice value belongs to one thread on Linux, so the server (another process)
 * and the prober keep theirs, and threads started later inherit the lowered value of the thread
 * that starts them (restore() does not reach those). Raising a priority back needs CAP_SYS_NICE:
 * without it the threads stay lowered, which only matters to a later run in the same process.
 * Elsewhere, or refused, the run goes on at the same priority and reports 0.
 */
function lowerGeneratorThreads(steps: number, except: number | undefined): { lowered: number; restore(): void } {
  const changed: Array<{ tid: number; before: number }> = [];
  let lowered = 0;
  if (process.platform === 'linux' && steps > 0 && except !== undefined) {
    for (const name of readdirSync('/proc/self/task')) {
      const tid = Number(name);
      if (tid === except) continue;
      try {
        const before = getPriority(tid);
        const target = Math.min(19, before + steps);
        setPriority(tid, target);
        changed.push({ tid, before });
        // The report compares the generator's JavaScript thread (tid = pid) with the server.
        if (tid === process.pid) lowered = target - before;
      } catch {
        // The thread ended meanwhile, or the change was refused: it keeps its priority.
      }
    }
  }
  return {
    lowered,
    restore: () => {
      for (const { tid, before } of changed) {
        try {
          setPriority(tid, before);
        } catch {
          // Ended, or raising it back needs CAP_SYS_NICE: only the generator then runs lower.
        }
      }
    },
  };
}

/**
 * Whether memory came back: RSS and the live JS heap each within 10 % of the baseline (the checks
 * of whip-load.test.ts and run-load.ts).
 */
function memoryReturned(baseline: { rss: number; heapUsed: number }, after: { rss: number; heapUsed: number }): boolean {
  return after.heapUsed <= baseline.heapUsed * 1.1 && after.rss <= baseline.rss * 1.1;
}

/**
 * The after sample (GC'd): V8 keeps a grown young generation after a burst (16 MiB committed in a
 * 40-session run, empty after GC) until its memory reducer runs some seconds later, and the
 * allocator hands pages back late too; so the sample is retaken every 500 ms until memory has
 * returned (memoryReturned) or 15 s have passed, and the last one is checked.
 */
async function settleMemory(child: ChildProcess, baseline: MemReply): Promise<MemReply> {
  let m = await request<MemReply>(child, 'mem');
  for (let i = 0; i < 30 && !memoryReturned(baseline, m); i++) {
    await new Promise((r) => setTimeout(r, 500));
    m = await request<MemReply>(child, 'mem');
  }
  return m;
}

/** Nearest-rank percentile of sorted values (0 when empty). */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/** Waits until the server has no session left (they end when the client's DTLS close arrives), at most 10 s. */
async function settleServer(child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const s = await request<{ sessions: number }>(child, 'sessions');
    if (s.sessions === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 300));
}

/** One line for logs. */
export function describeLoad(r: WhipLoadReport): string {
  const mib = (b: number): string => (b / 2 ** 20).toFixed(1);
  return `whip load: ${r.ok}/${r.sessions} sessions echoed; page ${r.pageFetches} fetches, p50/p99/max ${r.pageP50Ms.toFixed(1)}/${r.pageP99Ms.toFixed(1)}/${r.pageMaxMs.toFixed(1)} ms; server event-loop delay p50/p99/max ${r.serverLoopP50Ms.toFixed(1)}/${r.serverLoopP99Ms.toFixed(1)}/${r.serverLoopMaxMs.toFixed(1)} ms (generator ${r.generatorNice > 0 ? `${r.generatorNice} nice steps below` : 'at the same priority as'} the server); server RSS ${mib(r.baselineRss)} → peak ${mib(r.peakRss)} → after ${mib(r.afterRss)} MiB (${(r.settleMs / 1000).toFixed(1)} s after the end), JS heap ${mib(r.baselineHeap)} → ${mib(r.afterHeap)} MiB, V8 committed ${mib(r.baselineHeapTotal)} → ${mib(r.afterHeapTotal)} MiB, external ${mib(r.baselineExternal)} → ${mib(r.afterExternal)} MiB; sessions left ${r.afterSessions}, mux transports left ${r.afterMuxTransports}`;
}
