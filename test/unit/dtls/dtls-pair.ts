// Test helper: two DtlsTransports wired back to back (lossless, in order), or over a seeded
// SimNetwork with loss and reordering, driven step by step until both are connected.
import { setTimeout as sleep } from 'node:timers/promises';
import { DtlsCertificate } from '../../../lib/dtls/dtls-certificate.js';
import { DtlsTransport, type DtlsEvent, type DtlsTransportOptions } from '../../../lib/dtls/dtls-transport.js';
import { SimNetwork, type SimLinkOptions } from '../../sim/sim-network.js';

/** A client and a server transport with each other's fingerprints. */
export interface DtlsPair {
  client: DtlsTransport;
  server: DtlsTransport;
  clientCert: DtlsCertificate;
  serverCert: DtlsCertificate;
  clientEvents: DtlsEvent[];
  serverEvents: DtlsEvent[];
  /** Largest datagram seen on the wire. */
  maxDatagram: number;
}

let cachedCerts: [DtlsCertificate, DtlsCertificate] | undefined;

/** Two ECDSA certificates generated once per test file. */
export function testCertificates(): [DtlsCertificate, DtlsCertificate] {
  cachedCerts ??= [DtlsCertificate.generate(), DtlsCertificate.generate()];
  return cachedCerts;
}

/** Builds a pair; `extra` options apply to both ends (fingerprints set unless `noFingerprints`). */
export function makePair(
  extra: Partial<DtlsTransportOptions> = {},
  clientExtra: Partial<DtlsTransportOptions> = {},
  noFingerprints = false,
): DtlsPair {
  const [clientCert, serverCert] = testCertificates();
  const client = new DtlsTransport({
    certificate: clientCert,
    role: 'client',
    ...(noFingerprints ? {} : { remoteFingerprints: serverCert.getFingerprints() }),
    ...extra,
    ...clientExtra,
  });
  const server = new DtlsTransport({
    certificate: serverCert,
    role: 'server',
    ...(noFingerprints ? {} : { remoteFingerprints: clientCert.getFingerprints() }),
    ...extra,
  });
  return { client, server, clientCert, serverCert, clientEvents: [], serverEvents: [], maxDatagram: 0 };
}

function drainEvents(t: DtlsTransport, into: DtlsEvent[]): void {
  for (let e = t.pollEvent(); e; e = t.pollEvent()) into.push(e);
}

/** Moves every queued datagram from one end to the other until quiet (bounded rounds). */
export function pumpLossless(p: DtlsPair, now = 0, rounds = 20): void {
  for (let i = 0; i < rounds; i++) {
    let moved = 0;
    for (const [from, to] of [
      [p.client, p.server],
      [p.server, p.client],
    ] as const) {
      const batch: Buffer[] = [];
      for (let d = from.pollTransmit(); d; d = from.pollTransmit()) {
        p.maxDatagram = Math.max(p.maxDatagram, d.length);
        batch.push(d);
      }
      if (batch.length) to.handleInput(now, batch);
      moved += batch.length;
    }
    drainEvents(p.client, p.clientEvents);
    drainEvents(p.server, p.serverEvents);
    if (moved === 0) return;
  }
}

/** Outcome of a lossy handshake. */
export interface LossyResult {
  connected: boolean;
  steps: number;
  virtualMs: number;
  timeouts: number;
  clientState: string;
  serverState: string;
  reason?: string;
}

/**
 * Runs a handshake over a seeded SimNetwork. Network delays are virtual; when nothing is in
 * flight the loop sleeps (really) until OpenSSL's retransmission timer expires, because that
 * timer reads the real clock. Bounded by `maxSteps`, never by wall-clock asserts.
 */
export async function lossyHandshake(seed: number, link: SimLinkOptions, options: Partial<DtlsTransportOptions>, maxSteps: number): Promise<LossyResult> {
  const p = makePair(options);
  const net = new SimNetwork(seed, link);
  let now = 0;
  let timeouts = 0;
  p.client.start(now);
  p.server.start(now);
  const ends = { c: p.client, s: p.server } as const;
  let steps = 0;
  for (; steps < maxSteps; steps++) {
    for (const [name, t] of Object.entries(ends)) {
      for (let d = t.pollTransmit(); d; d = t.pollTransmit()) net.send(now, name, name === 'c' ? 's' : 'c', d);
    }
    drainEvents(p.client, p.clientEvents);
    drainEvents(p.server, p.serverEvents);
    if (p.client.state === 'connected' && p.server.state === 'connected') break;
    if (p.client.state === 'failed' || p.server.state === 'failed') break;
    const delivery = net.nextDeliveryAt();
    const timers = [p.client.pollTimeout(), p.server.pollTimeout()].filter((x): x is number => x !== undefined);
    const timer = timers.length ? Math.min(...timers) : undefined;
    if (delivery !== undefined && (timer === undefined || delivery <= timer)) {
      now = Math.max(now, delivery);
      for (const d of net.deliverDue(now)) ends[d.to as 'c' | 's'].handleInput(now, d.data);
      continue;
    }
    if (timer === undefined) break;  // nothing in flight and no timer: stuck
    const waitMs = Math.max(0, timer - now);
    await sleep(Math.ceil(waitMs) + 1);
    now += Math.ceil(waitMs) + 1;
    timeouts++;
    p.client.handleTimeout(now);
    p.server.handleTimeout(now);
  }
  return {
    connected: p.client.state === 'connected' && p.server.state === 'connected',
    steps,
    virtualMs: now,
    timeouts,
    clientState: p.client.state,
    serverState: p.server.state,
    reason: p.client.failureReason ?? p.server.failureReason,
  };
}
