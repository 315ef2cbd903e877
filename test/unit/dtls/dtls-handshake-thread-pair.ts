// Test helper: DtlsTransport pairs whose handshakes run on the native handshake thread
// (docs/dtls.md, "Handshake thread"), pumped until settled; waits are for the thread's wake,
// bounded by a generous deadline, never by a fixed sleep.
import { DtlsTransport, type DtlsEvent, type DtlsTransportOptions } from '../../../lib/dtls/dtls-transport.js';
import { testCertificates } from './dtls-pair.js';

/** Two transports, each end on the handshake thread unless told otherwise. */
export interface ThreadedPair {
  client: DtlsTransport;
  server: DtlsTransport;
  clientEvents: DtlsEvent[];
  serverEvents: DtlsEvent[];
  /** Wake-ups received from the handshake thread (both ends). */
  wakes: number;
}

let waiters: Array<() => void> = [];
function wakeAll(): void {
  const w = waiters;
  waiters = [];
  for (const f of w) f();
}

/** Resolves at the next wake of any threaded transport made here, or after `ms` (a bound, not a timing). */
export function nextWake(ms = 20_000): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    waiters.push(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** Builds a pair; `threaded` says which ends run their handshake on the thread. */
export function makeThreadedPair(
  threaded: { client: boolean; server: boolean } = { client: true, server: true },
  extra: Partial<DtlsTransportOptions> = {},
): ThreadedPair {
  const [clientCert, serverCert] = testCertificates();
  const pair = { clientEvents: [], serverEvents: [], wakes: 0 } as unknown as ThreadedPair;
  const onAsyncOutput = (): void => {
    pair.wakes++;
    wakeAll();
  };
  pair.client = new DtlsTransport({
    certificate: clientCert,
    role: 'client',
    remoteFingerprints: serverCert.getFingerprints(),
    ...(threaded.client ? { handshakeThread: true, onAsyncOutput } : {}),
    ...extra,
  });
  pair.server = new DtlsTransport({
    certificate: serverCert,
    role: 'server',
    remoteFingerprints: clientCert.getFingerprints(),
    ...(threaded.server ? { handshakeThread: true, onAsyncOutput } : {}),
    ...extra,
  });
  return pair;
}

/** Moves queued datagrams both ways once (through `filter`, which may drop or add); returns how many moved. */
export function moveOnce(p: ThreadedPair, filter: (d: Buffer) => Buffer[] = (d) => [d]): number {
  let moved = 0;
  for (const [from, to] of [
    [p.client, p.server],
    [p.server, p.client],
  ] as const) {
    const batch: Buffer[] = [];
    for (let d = from.pollTransmit(); d; d = from.pollTransmit()) batch.push(...filter(d));
    if (batch.length > 0) to.handleInput(0, batch);
    moved += batch.length;
  }
  for (let e = p.client.pollEvent(); e; e = p.client.pollEvent()) p.clientEvents.push(e);
  for (let e = p.server.pollEvent(); e; e = p.server.pollEvent()) p.serverEvents.push(e);
  return moved;
}

/** Pumps until both ends are settled (connected, closed or failed), waiting for wakes; bounded. */
export async function pumpThreaded(p: ThreadedPair, filter?: (d: Buffer) => Buffer[], rounds = 200): Promise<void> {
  const settled = (s: string): boolean => s === 'connected' || s === 'closed' || s === 'failed';
  for (let i = 0; i < rounds; i++) {
    const moved = moveOnce(p, filter);
    if (settled(p.client.state) && settled(p.server.state) && moved === 0) return;
    if (moved === 0) await nextWake();
  }
}

/**
 * A pumpThreaded filter that sends, with each of the first `count` datagrams, a truncated copy,
 * the datagram itself, a forged handshake record and the datagram again (hostile input during a
 * handshake: each bad one dropped and counted, the duplicates ignored); `injected` says how many.
 */
export function hostileFlightFilter(count = 6): { filter: (d: Buffer) => Buffer[]; readonly injected: number } {
  let injected = 0;
  return {
    filter: (d) => {
      if (injected >= count) return [d];
      injected++;
      const truncated = d.subarray(0, 7);
      const garbage = Buffer.from([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3]);
      return [truncated, d, garbage, d];
    },
    get injected() {
      return injected;
    },
  };
}
