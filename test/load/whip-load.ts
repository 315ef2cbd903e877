// Load of the echo server: N concurrent WHIP sessions (the load generator below: audio at 50
// packets/s + a data channel with ten messages) against an echo server in its own process with
// every session on one shared UdpMux port. Every session must echo (RTP and every message); while
// they run the page is fetched every 50 ms (from a worker thread, page-prober.ts) and the slowest answer recorded; after they end the
// server's memory (after GC) is compared with its baseline, taken after a warm-up round. Short form in npm test (whip-load.test.ts), long form
// (500 sessions) in `npm run soak`.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LocalStreamTrack, RTCPeerConnection } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { whipConnect, type WhipSession } from '../../lib/signaling/whip-client.js';
import { startPageProber } from './page-prober.js';

const MESSAGES = 10;

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
  /** Page fetches while the sessions ran, and the slowest, in ms. */
  pageFetches: number;
  pageMaxMs: number;
  pageP99Ms: number;
  /** The server's event-loop delay while the sessions ran (monitorEventLoopDelay), ms. */
  serverLoopMaxMs: number;
  serverLoopP99Ms: number;
  baselineRss: number;
  peakRss: number;
  afterRss: number;
  baselineHeap: number;
  afterHeap: number;
  afterSessions: number;
  afterMuxTransports: number;
}

interface MemReply { op: 'mem'; rss: number; heapUsed: number; muxTransports: number; sessions: number }
interface LoopReply { op: 'loop'; maxMs: number; p99Ms: number }

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
export async function runWhipLoad(o: { sessions: number; seconds: number; warmupRounds?: number }): Promise<WhipLoadReport> {
  const child = fork(fileURLToPath(new URL('./echo-server-child.ts', import.meta.url)), [String(o.sessions + 50)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
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
    await request<LoopReply>(child, 'loop');
    let running = true;
    // Peak memory after GC, as before the page moved to a worker (the memory checks were tuned on
    // it); the forced GCs every 50 ms count in the server's loop delay reported below.
    const rssPoller = (async () => {
      while (running) {
        const m = await request<MemReply>(child, 'mem');
        if (m.rss > peakRss) peakRss = m.rss;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const results = await Promise.all(Array.from({ length: o.sessions }, (_, i) => session(ready.whipUrl, o.seconds, i)));
    running = false;
    await rssPoller;
    const latencies = await prober.stop();
    const loop = await request<LoopReply>(child, 'loop');
    await settleServer(child);
    const after = await request<MemReply>(child, 'mem');
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
      pageMaxMs: latencies[latencies.length - 1] ?? 0,
      pageP99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
      serverLoopMaxMs: loop.maxMs,
      serverLoopP99Ms: loop.p99Ms,
      baselineRss: baseline.rss,
      peakRss,
      afterRss: after.rss,
      baselineHeap: baseline.heapUsed,
      afterHeap: after.heapUsed,
      afterSessions: after.sessions,
      afterMuxTransports: after.muxTransports,
    };
  } finally {
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
  return `whip load: ${r.ok}/${r.sessions} sessions echoed; page ${r.pageFetches} fetches, max ${r.pageMaxMs.toFixed(1)} ms, p99 ${r.pageP99Ms.toFixed(1)} ms; server event-loop delay max ${r.serverLoopMaxMs.toFixed(1)} ms, p99 ${r.serverLoopP99Ms.toFixed(1)} ms; server RSS ${mib(r.baselineRss)} → peak ${mib(r.peakRss)} → after ${mib(r.afterRss)} MiB, JS heap ${mib(r.baselineHeap)} → ${mib(r.afterHeap)} MiB; sessions left ${r.afterSessions}, mux transports left ${r.afterMuxTransports}`;
}
