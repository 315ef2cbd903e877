// Fetches a page every 50 ms from a worker thread of its own and records each answer's latency.
// The load generator's own event loop is busy with hundreds of client sessions; probing from it
// measured that loop's delays as well as the server's (docs/architecture.md "Soak and load").
import { Worker } from 'node:worker_threads';

// Plain JavaScript (no tsx in the worker): one unrecorded fetch (loads fetch's code and opens the
// connection), 'ready' with its kernel thread id, then fetch, wait for the whole body, record,
// sleep 50 ms until told to stop.
const PROBER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const latencies = [];
let running = true;
parentPort.on('message', () => { running = false; });
(async () => {
  try {
    await (await fetch(workerData.url)).text();
  } catch {}
  let tid;
  try {
    const n = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(n) && n > 0) tid = n;
  } catch {}
  parentPort.postMessage({ ready: true, tid });
  while (running) {
    const t0 = performance.now();
    try {
      const res = await fetch(workerData.url);
      await res.text();
      latencies.push(performance.now() - t0);
    } catch (err) {
      latencies.push(Infinity);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  parentPort.postMessage(latencies);
})();
`;

/** A running prober: `stop()` ends it and resolves with every fetch's latency in ms (Infinity: failed). */
export interface PageProber {
  /** The prober thread's kernel thread id (Linux), which whip-load.ts leaves at its priority. */
  threadId: number | undefined;
  stop(): Promise<number[]>;
}

/** Starts fetching `url` every 50 ms on a worker thread; resolves once its first (warm-up) fetch is done. */
export async function startPageProber(url: string): Promise<PageProber> {
  const worker = new Worker(PROBER_SOURCE, { eval: true, workerData: { url } });
  const messages: unknown[] = [];
  let wake: (() => void) | undefined;
  let failed: unknown;
  worker.on('message', (m: unknown) => {
    messages.push(m);
    wake?.();
  });
  worker.once('error', (err) => {
    failed = err;
    wake?.();
  });
  const next = async (): Promise<unknown> => {
    while (messages.length === 0) {
      if (failed) throw failed;
      await new Promise<void>((r) => (wake = r));
    }
    return messages.shift();
  };
  const ready = (await next()) as { tid?: number };
  const done = next() as Promise<number[]>;
  return {
    threadId: ready.tid,
    async stop() {
      worker.postMessage('stop');
      const latencies = await done;
      await worker.terminate();
      return latencies;
    },
  };
}
