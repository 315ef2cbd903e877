// TURN server lists across ICE restarts (lib/transport/ice-transport.ts restart/gatherAgain; docs/peer.md
// "setConfiguration") with two real coturns: a list going A -> B -> A while the relayed pair on A is
// still selected (the peer has not taken the new credentials) reuses the allocation on A, announced
// again in the third generation with the same relayed address, instead of allocating a second time.
// A runs with --total-quota 1, so a second allocation on it would fail (486) and leave no relay
// candidate from A. And an allocation that failed is made again by a restart whose list still names
// its server, also by a plain restart (no setConfiguration), which keeps the live allocations, and
// a TURN server whose name did not resolve is looked up again by a plain restart.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dnsPromises from 'node:dns/promises';
import { syncBuiltinESMExports } from 'node:module';
import { IceTransport } from '../../lib/transport/ice-transport.js';
import { coturnSkip, startCoturn, type Coturn } from './coturn.js';
import { until } from './peer-helpers.js';

let serverA: Coturn | undefined;
let serverB: Coturn | undefined;
before(async () => {
  if (coturnSkip) return;
  serverA = await startCoturn(['--total-quota', '1']);
  serverB = await startCoturn();
});
after(() => {
  serverA?.close();
  serverB?.close();
});

const up = (t: IceTransport): boolean => t.state === 'connected' || t.state === 'completed';

/** A controlling transport that gathers relayed candidates only, through `servers`. */
function relayOnly(servers: { urls: string; username: string; credential: string }[]): IceTransport {
  return new IceTransport({ role: 'controlling', iceTransportPolicy: 'relay', iceServers: servers, gather: { addresses: ['127.0.0.1'] } });
}

/** The relayed addresses `t` gathered, as address:port. */
function relaysOf(t: IceTransport): string[] {
  return t.localCandidates.filter((c) => c.type === 'relay').map((c) => `${c.address}:${c.port}`);
}

test('servers A -> B -> A while the pair on A is selected: the allocation on A is reused, not made twice', { timeout: 60_000, skip: coturnSkip }, async () => {
  const A = serverA!.iceServer('udp');
  const B = serverB!.iceServer('udp');
  const a = relayOnly([A]);
  const b = new IceTransport({ role: 'controlled', gather: { addresses: ['127.0.0.1'] } });
  const errors: string[] = [];
  a.on('turnerror', (url, reason) => errors.push(`${url}: ${reason}`));
  try {
    // Trickle for the first generation only; later ones are handed over when the test says so.
    let trickle = true;
    a.on('icecandidate', (c) => trickle && b.addRemoteCandidate(c));
    b.on('icecandidate', (c) => trickle && a.addRemoteCandidate(c));
    a.setRemoteParameters(b.localParameters);
    b.setRemoteParameters(a.localParameters);
    await Promise.all([a.gather(), b.gather()]);
    await until(() => up(a) && up(b), 20_000, 'connected over the relay on A');
    const relayA = a.selectedPair!.localBase;
    assert.equal(a.selectedPair!.local.type, 'relay');
    const relays = (): string[] => relaysOf(a);
    const onA = `${relayA.address}:${relayA.port}`;
    assert.deepEqual(relays(), [onA]);

    trickle = false;
    // B: a new generation with B's relay only; b is not told, so the pair on A stays selected.
    a.setConfiguration({ iceServers: [B], iceTransportPolicy: 'relay' });
    a.restart();
    await until(() => a.gatheringState === 'complete', 20_000, 'gathered on B');
    assert.equal(relays().length, 1);
    assert.notEqual(relays()[0], onA, "A's relay is not in B's generation, B's is");
    assert.deepEqual(a.selectedPair!.localBase, relayA, 'still on the pair relayed by A');

    // A again: the allocation on A is alive and serves the new generation.
    a.setConfiguration({ iceServers: [A], iceTransportPolicy: 'relay' });
    a.restart();
    await until(() => a.gatheringState === 'complete', 20_000, 'gathered on A again');
    assert.deepEqual(relays(), [onA], 'the same relayed address: the first allocation');
    assert.deepEqual(errors, [], 'no TURN error (a second allocation on A would exceed its quota)');

    // b takes the new credentials and candidates: ICE reconnects over A's allocation.
    b.restart();
    b.setRemoteParameters(a.localParameters);
    a.setRemoteParameters(b.localParameters);
    for (const c of a.localCandidates) b.addRemoteCandidate(c);
    for (const c of b.localCandidates) a.addRemoteCandidate(c);
    await until(() => up(a) && up(b) && a.selectedPair?.local.type === 'relay', 20_000, 'connected again');
    assert.deepEqual(a.selectedPair!.localBase, relayA);
  } finally {
    a.close();
    b.close();
  }
});

test('an allocation that failed on a server the new list still names is made again by the restart', { timeout: 60_000, skip: coturnSkip }, async (t) => {
  // A coturn of its own with a quota of 1 (the first test's allocations on serverA are released,
  // but coturn deletes them only at its next timer tick).
  const serverQuota = await startCoturn(['--total-quota', '1']);
  t.after(() => serverQuota.close());
  const A = serverQuota.iceServer('udp');
  const B = serverB!.iceServer('udp');
  // `holder` takes A's only allocation, so `b`'s fails with 486.
  const holder = relayOnly([A]);
  const b = relayOnly([A]);
  const errors: string[] = [];
  b.on('turnerror', (_url, reason) => errors.push(reason));
  try {
    await holder.gather();
    await until(() => holder.gatheringState === 'complete', 20_000, 'holder gathered');
    assert.equal(relaysOf(holder).length, 1);
    await b.gather();
    await until(() => b.gatheringState === 'complete', 20_000, 'b gathered');
    assert.deepEqual(relaysOf(b), [], 'no relay: A refused');
    assert.equal(errors.length, 1, `one TURN error (${errors.join('; ')})`);
    // The quota is free again once coturn has deleted the released allocation (its next timer tick).
    holder.close();
    await new Promise((r) => setTimeout(r, 2500));
    // A new list that still names A (B added): the restart allocates on A again instead of keeping
    // the failed link as if A were served.
    b.setConfiguration({ iceServers: [A, B], iceTransportPolicy: 'relay' });
    b.restart();
    await until(() => b.gatheringState === 'complete', 20_000, 'b gathered again');
    const relays = relaysOf(b);
    assert.equal(relays.length, 2, `a relay on A and on B (${relays.join(', ')}; errors: ${errors.join('; ')})`);
  } finally {
    holder.close();
    b.close();
  }
});

test('a plain restart makes a failed allocation again and keeps the live one', { timeout: 60_000, skip: coturnSkip }, async (t) => {
  const serverQuota = await startCoturn(['--total-quota', '1']);
  t.after(() => serverQuota.close());
  const A = serverQuota.iceServer('udp');
  const B = serverB!.iceServer('udp');
  // `holder` takes A's only allocation, so `b`'s on A fails with 486 while its allocation on B succeeds.
  const holder = relayOnly([A]);
  const b = relayOnly([A, B]);
  const errors: string[] = [];
  b.on('turnerror', (_url, reason) => errors.push(reason));
  try {
    await holder.gather();
    await until(() => holder.gatheringState === 'complete', 20_000, 'holder gathered');
    assert.equal(relaysOf(holder).length, 1);
    await b.gather();
    await until(() => b.gatheringState === 'complete', 20_000, 'b gathered');
    const onB = relaysOf(b);
    assert.equal(onB.length, 1, `only B's relay: A refused (${onB.join(', ')})`);
    assert.equal(errors.length, 1, `one TURN error (${errors.join('; ')})`);
    holder.close();
    await new Promise((r) => setTimeout(r, 2500));
    // The same servers and policy: the restart allocates on A again, B's allocation serves on.
    b.restart();
    await until(() => b.gatheringState === 'complete', 20_000, 'b gathered again');
    const relays = relaysOf(b);
    assert.equal(relays.length, 2, `a relay on A and on B (${relays.join(', ')}; errors: ${errors.join('; ')})`);
    assert.ok(relays.includes(onB[0]!), "B's relayed address is the first allocation's");
    assert.equal(errors.length, 1, 'no new TURN error');
  } finally {
    holder.close();
    b.close();
  }
});

test('a plain restart looks up again a TURN server whose name did not resolve', { timeout: 60_000, skip: coturnSkip }, async (t) => {
  // The resolver fails the first lookup of the name and answers the next with the coturn's address.
  const realLookup = dnsPromises.lookup;
  const asked: string[] = [];
  const fake = (async (host: string, options: unknown) => {
    if (host !== 'turn.restart.test') return (realLookup as (h: string, o: unknown) => Promise<unknown>)(host, options);
    asked.push(host);
    if (asked.length === 1) throw Object.assign(new Error('getaddrinfo ENOTFOUND turn.restart.test'), { code: 'ENOTFOUND' });
    return { address: '127.0.0.1', family: 4 };
  }) as typeof dnsPromises.lookup;
  dnsPromises.lookup = fake;
  syncBuiltinESMExports();
  t.after(() => {
    dnsPromises.lookup = realLookup;
    syncBuiltinESMExports();
  });
  const B = serverB!.iceServer('udp');
  const byName = { ...B, urls: B.urls.replace('127.0.0.1', 'turn.restart.test') };
  const a = relayOnly([byName]);
  const errors: string[] = [];
  a.on('turnerror', (_url, reason) => errors.push(reason));
  try {
    await a.gather();
    await until(() => a.gatheringState === 'complete', 20_000, 'gathered');
    assert.deepEqual(errors, ['name resolution failed']);
    assert.deepEqual(relaysOf(a), []);
    a.restart();
    await until(() => a.gatheringState === 'complete', 20_000, 'gathered again');
    assert.equal(asked.length, 2, 'looked up again');
    assert.equal(relaysOf(a).length, 1, `a relay candidate (errors: ${errors.join('; ')})`);
  } finally {
    a.close();
  }
});
