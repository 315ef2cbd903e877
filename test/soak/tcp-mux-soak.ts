// Soak of the ICE-TCP path: create → connect over TCP only (audio + data channel, both checked) →
// close cycles through ONE passive TcpMux port (the client with active TCP candidates); snapshots
// of descriptors, handles, the JS heap (after GC) and the port's counters to compare.
// Short form in `npm test` (tcp-mux-soak.test.ts), long form `npm run soak:tcp`.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { gc, soakCycle } from './soak-cycle.js';
import { TcpMux } from '../../lib/transport/source/tcp-mux.js';


const CONCURRENCY = 10;


/** One cycle (see the file header); throws when something did not arrive. */
export function cycle(mux: TcpMux, n: number): Promise<void> {
  return soakCycle({ hostAddresses: ['127.0.0.1'], iceTcpActive: true }, { hostAddresses: [], tcpMux: mux }, n);
}

/** Runs cycles `from` .. `to` - 1, ten at a time. */
export async function runCycles(mux: TcpMux, from: number, to: number): Promise<void> {
  let next = from;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < to) await cycle(mux, next++);
  }));
}

/** What accumulates if anything leaks. */
export interface TcpSoakSnapshot {
  fds: number;
  heap: number;
  rss: number;
  handles: Record<string, number>;
  open: number;
  transports: number;
}

/** A snapshot after the closed connections' sockets went and two GCs. */
export async function snapshot(mux: TcpMux): Promise<TcpSoakSnapshot> {
  // Closed connections let their sockets go within a few turns.
  for (let i = 0; i < 10 && mux.stats.connectionsOpen > 0; i++) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 50));
  gc();
  gc();
  const handles: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) handles[r] = (handles[r] ?? 0) + 1;
  return { fds: readdirSync('/proc/self/fd').length, heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss, handles, open: mux.stats.connectionsOpen, transports: mux.stats.transports };
}

/** Fails when anything grew between `b` and `f`; `heapTolerance` is the allowed relative JS heap growth. */
export function assertNothingAccumulated(mux: TcpMux, b: TcpSoakSnapshot, f: TcpSoakSnapshot, heapTolerance: number): void {
  assert.equal(f.open, 0, 'TCP connections left on the port');
  assert.equal(f.transports, 0, 'transports left on the port');
  assert.ok(f.fds <= b.fds, `open descriptors grew: ${b.fds} → ${f.fds}`);
  for (const kind of ['Timeout', 'Immediate', 'TCPSocketWrap', 'UDPWrap']) {
    assert.ok((f.handles[kind] ?? 0) <= (b.handles[kind] ?? 0), `${kind} handles grew: ${b.handles[kind] ?? 0} → ${f.handles[kind] ?? 0}`);
  }
  assert.ok(f.heap < b.heap * (1 + heapTolerance), `JS heap grew: ${(b.heap / 2 ** 20).toFixed(1)} → ${(f.heap / 2 ** 20).toFixed(1)} MiB`);
  assert.deepEqual(Object.entries(mux.stats.drops).filter(([, n]) => n > 0), [], 'drops on the port');
}

/** One line for logs. */
export function describe(label: string, b: TcpSoakSnapshot, f: TcpSoakSnapshot): string {
  const mb = (x: number): string => (x / 2 ** 20).toFixed(1);
  return `${label}: heap ${mb(b.heap)} → ${mb(f.heap)} MiB, RSS ${mb(b.rss)} → ${mb(f.rss)} MiB, fds ${b.fds} → ${f.fds}, handles ${JSON.stringify(f.handles)}`;
}
