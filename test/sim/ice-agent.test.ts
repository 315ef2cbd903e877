// ICE agent simulations on a virtual clock over a seeded network (RFC 8445, 8838, 7675):
// full↔full, full↔lite, roles and role conflict, loss, restart, consent loss, trickle order, NAT/mDNS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IceSim, type SimPeer } from './ice-harness.js';
import { MDNS_QUERY_TIMEOUT_MS, type IceAgentOptions } from '../../lib/ice/ice-agent.js';
import { StunMessage } from '../../lib/ice/stun-message.js';
import { StunAttr, StunClass, StunMethod } from '../../lib/ice/stun-constants.js';
import { addressKey } from '../../lib/ice/transport-address.js';

const A_HOST = { address: '10.0.0.1', port: 1000 };
const B_HOST = { address: '10.0.0.2', port: 2000 };

type PeerOpts = Omit<IceAgentOptions, 'rng'> & { seed: number };

function pair(seed: number, link: ConstructorParameters<typeof IceSim>[1], a: PeerOpts, b: PeerOpts): { sim: IceSim; a: SimPeer; b: SimPeer } {
  const sim = new IceSim(seed, link);
  return { sim, a: sim.addPeer('a', a, [A_HOST]), b: sim.addPeer('b', b, [B_HOST]) };
}

function connected(p: SimPeer): boolean {
  return p.agent.state === 'connected' || p.agent.state === 'completed';
}

/** Full signaling in the usual order: descriptions, then trickled candidates both ways. */
function signalAll(sim: IceSim, a: SimPeer, b: SimPeer, bLite = false): void {
  sim.gather(a);
  sim.gather(b);
  sim.describe(a, b);
  sim.describe(b, a, bLite);
  sim.trickle(a, b);
  sim.trickle(b, a);
}

function sameSelected(a: SimPeer, b: SimPeer): void {
  const sa = a.agent.selectedPair!;
  const sb = b.agent.selectedPair!;
  assert.ok(sa && sb, 'both sides selected a pair');
  assert.equal(addressKey(sa.remoteAddress), addressKey(sb.localBase));
  assert.equal(addressKey(sb.remoteAddress), addressKey(sa.localBase));
}

test('full ↔ full: controlling nominates, both select the same pair, states new→checking→connected→completed', () => {
  const { sim, a, b } = pair(1, {}, { seed: 11, role: 'controlling' }, { seed: 12, role: 'controlled' });
  signalAll(sim, a, b);
  sim.run(10_000, () => a.agent.state === 'completed' && b.agent.state === 'completed');
  assert.equal(a.agent.state, 'completed');
  assert.equal(b.agent.state, 'completed');
  sameSelected(a, b);
  assert.deepEqual(a.states, ['checking', 'connected', 'completed']);
  assert.equal(a.agent.role, 'controlling');
  assert.equal(b.agent.role, 'controlled');
  assert.ok(sim.now < 2000, `connected after ${sim.now} ms of virtual time`);
  assert.equal(a.agent.gathering, 'complete');
});

test('roles swapped: the controlled side may be the first one described', () => {
  const { sim, a, b } = pair(2, {}, { seed: 21, role: 'controlled' }, { seed: 22, role: 'controlling' });
  signalAll(sim, a, b);
  sim.run(10_000, () => connected(a) && connected(b));
  sameSelected(a, b);
  assert.equal(b.agent.selectedPair!.local.type, 'host');
});

test('full ↔ lite: the full agent controls, the lite agent answers and selects the nominated pair', () => {
  const { sim, a, b } = pair(3, {}, { seed: 31, role: 'controlled' }, { seed: 32, mode: 'lite' });
  signalAll(sim, a, b, true);
  sim.run(10_000, () => connected(a) && connected(b));
  assert.ok(connected(a) && connected(b));
  assert.equal(a.agent.role, 'controlling', 'full agent took control facing a lite peer');
  assert.equal(b.agent.role, 'controlled');
  assert.equal(b.agent.stats.checksSent, 0, 'lite agents send no checks');
  sameSelected(a, b);
  // Keep running: consent checks from the full side keep the lite side alive for a minute.
  sim.run(sim.now + 60_000);
  assert.ok(connected(a) && connected(b));
  assert.ok(a.agent.stats.consentChecksSent >= 10);
});

for (const role of ['controlling', 'controlled'] as const) {
  test(`role conflict (both ${role}) is resolved by 487 and tie-breakers`, () => {
    const { sim, a, b } = pair(4, {}, { seed: 41, role }, { seed: 42, role });
    signalAll(sim, a, b);
    sim.run(20_000, () => connected(a) && connected(b));
    assert.ok(connected(a) && connected(b));
    assert.notEqual(a.agent.role, b.agent.role);
    assert.ok(a.agent.stats.roleConflicts + b.agent.stats.roleConflicts > 0);
    sameSelected(a, b);
  });
}

test('20 % loss: ten seeds all connect and agree on the pair', () => {
  for (let seed = 100; seed < 110; seed++) {
    const { sim, a, b } = pair(seed, { loss: 0.2, jitterMs: 20 }, { seed: seed * 3, role: 'controlling' }, { seed: seed * 7, role: 'controlled' });
    signalAll(sim, a, b);
    sim.run(30_000, () => connected(a) && connected(b));
    assert.ok(connected(a) && connected(b), `seed ${seed}: ${a.agent.state}/${b.agent.state}`);
    sameSelected(a, b);
    assert.ok(sim.net.stats.lost > 0);
  }
});

test('burst loss, reordering and duplication do not prevent connection', () => {
  const { sim, a, b } = pair(7, { burstLoss: 0.1, burstLength: 4, reorder: 0.3, duplicate: 0.2, jitterMs: 30 }, { seed: 71 }, { seed: 72, role: 'controlled' });
  signalAll(sim, a, b);
  sim.run(30_000, () => connected(a) && connected(b));
  sameSelected(a, b);
});

test('ICE restart: new credentials, new checks, no failure, data pair kept until re-selection', () => {
  const { sim, a, b } = pair(5, {}, { seed: 51 }, { seed: 52, role: 'controlled' });
  signalAll(sim, a, b);
  sim.run(10_000, () => connected(a) && connected(b));
  const oldUfrag = a.agent.localCredentials.ufrag;
  const selectedBefore = a.events.filter((e) => e.type === 'selected-pair').length;
  a.agent.restart(sim.now);
  b.agent.restart(sim.now);
  assert.notEqual(a.agent.localCredentials.ufrag, oldUfrag);
  assert.ok(a.agent.selectedPair, 'old selected pair still carries data during the restart');
  sim.drain();
  sim.describe(a, b);
  sim.describe(b, a);
  sim.trickle(a, b);
  sim.trickle(b, a);
  sim.run(sim.now + 10_000, () => a.events.filter((e) => e.type === 'selected-pair').length > selectedBefore && connected(b));
  assert.ok(connected(a) && connected(b));
  assert.ok(a.events.filter((e) => e.type === 'selected-pair').length > selectedBefore, 're-selected after restart');
  assert.ok(!a.states.includes('failed') && !b.states.includes('failed'));
  sameSelected(a, b);
});

test('consent lost (RFC 7675): disconnected, then failed 30 s after the last response', () => {
  const { sim, a, b } = pair(6, {}, { seed: 61 }, { seed: 62, role: 'controlled' });
  signalAll(sim, a, b);
  sim.run(10_000, () => connected(a) && connected(b));
  sim.run(sim.now + 20_000);
  assert.ok(connected(a));
  // The peer vanishes: close it so that nothing answers any more.
  b.agent.close();
  const vanishedAt = sim.now;
  let disconnectedAt = -1;
  let failedAt = -1;
  sim.run(vanishedAt + 60_000, () => {
    if (disconnectedAt < 0 && a.agent.state === 'disconnected') disconnectedAt = sim.now;
    if (a.agent.state === 'failed') failedAt = sim.now;
    return failedAt >= 0;
  });
  assert.ok(disconnectedAt > vanishedAt, 'went disconnected first');
  assert.ok(failedAt > disconnectedAt);
  // The last response came at most one consent interval (+20 %) before the peer vanished.
  assert.ok(failedAt - vanishedAt <= 30_000, `failed ${failedAt - vanishedAt} ms after vanishing`);
  assert.ok(failedAt - vanishedAt >= 30_000 - 6_000 - 10);
  const last = a.events.at(-1);
  assert.deepEqual(last, { type: 'connection-state', state: 'failed', reason: 'consent-lost' });
  // No consent checks after failure.
  const sent = a.agent.stats.consentChecksSent;
  sim.run(sim.now + 30_000);
  assert.equal(a.agent.stats.consentChecksSent, sent);
});

test('trickle: candidates before the remote description, reversed order, end-of-candidates first', () => {
  const { sim, a, b } = pair(8, { jitterMs: 10 }, { seed: 81 }, { seed: 82, role: 'controlled' });
  sim.gather(a);
  sim.gather(b);
  // b learns a's candidates (reversed, end-of-candidates first) before a's description.
  sim.trickle(a, b, 'reversed');
  assert.equal(b.agent.state, 'checking');
  assert.equal(b.agent.stats.checksSent, 0, 'no checks without remote credentials');
  sim.run(1000);
  sim.describe(b, a);
  sim.trickle(b, a);
  // a already checks b; b answers a's checks (learning a prflx or matching a known candidate).
  sim.run(sim.now + 500);
  sim.describe(a, b);
  sim.run(sim.now + 10_000, () => connected(a) && connected(b));
  sameSelected(a, b);
});

test('failure: unreachable peer with end-of-candidates fails once every pair failed', () => {
  const { sim, a, b } = pair(9, { loss: 1 }, { seed: 91 }, { seed: 92, role: 'controlled' });
  signalAll(sim, a, b);
  sim.run(60_000, () => a.agent.state === 'failed');
  assert.equal(a.agent.state, 'failed');
  assert.equal(a.events.at(-1)?.type, 'connection-state');
  assert.ok(a.agent.stats.retransmissions > 0);
});

test('NAT + mDNS: an unresolvable .local candidate is ignored and the peer-reflexive path takes over', () => {
  const sim = new IceSim(10, {});
  const a = sim.addPeer('a', { seed: 101, role: 'controlling' }, [A_HOST]);
  const b = sim.addPeer('b', { seed: 102, role: 'controlled' }, [{ address: '192.168.1.2', port: 3000 }], [{ address: '203.0.113.9', port: 40000 }]);
  sim.gather(a);
  sim.gather(b);
  sim.describe(a, b);
  sim.describe(b, a);
  sim.trickle(a, b);
  b.outbox.length = 0;
  a.agent.addRemoteCandidate(sim.now, 'candidate:1 1 udp 2122260223 0b1c9a5e-1111-4c2e-9d55-0123456789ab.local 3000 typ host');
  a.agent.addRemoteCandidate(sim.now, null);
  sim.drain();
  const q = a.events.find((e) => e.type === 'mdns-query');
  assert.ok(q && q.type === 'mdns-query');
  a.agent.resolveMdns(sim.now, q.name, undefined);
  sim.run(10_000, () => connected(a) && connected(b));
  assert.ok(connected(a) && connected(b));
  assert.equal(a.agent.selectedPair!.remote.type, 'prflx');
  assert.deepEqual(a.agent.selectedPair!.remoteAddress, { address: '203.0.113.9', port: 40000 });
  // b's check response tells it its public mapping: a peer-reflexive local candidate.
  assert.equal(b.agent.selectedPair!.local.type, 'prflx');
  assert.deepEqual(b.agent.selectedPair!.localBase, { address: '192.168.1.2', port: 3000 });
});

test('mDNS: a lookup still pending keeps the agent from failing once every other pair failed; its answer connects', () => {
  const sim = new IceSim(13, {});
  // Short checks: the unreachable pair fails (1.3 s) well within the lookup's life (MDNS_QUERY_TIMEOUT_MS).
  const a = sim.addPeer('a', { seed: 131, role: 'controlling', checkRtoMs: 100, checkMaxRtoMs: 200, noPairTimeoutMs: 500 }, [A_HOST]);
  const b = sim.addPeer('b', { seed: 132, role: 'controlled' }, [B_HOST]);
  sim.gather(a);
  sim.gather(b);
  sim.describe(a, b);
  sim.describe(b, a);
  b.outbox.length = 0; // b learns nothing of a: only a's checks can connect them
  const name = '0b1c9a5e-2222-4c2e-9d55-0123456789ab.local';
  a.agent.addRemoteCandidate(sim.now, 'candidate:1 1 udp 2122260223 10.9.9.9 4000 typ host'); // never answers
  a.agent.addRemoteCandidate(sim.now, `candidate:2 1 udp 2122260222 ${name} ${B_HOST.port} typ host`);
  a.agent.addRemoteCandidate(sim.now, null);
  sim.drain();
  assert.ok(a.events.some((e) => e.type === 'mdns-query'));
  assert.equal(a.agent.mdnsPending, true);
  // 4 s: the unreachable pair failed long ago (and the no-pair grace would have passed too).
  sim.run(4_000);
  assert.ok(sim.now < MDNS_QUERY_TIMEOUT_MS);
  assert.ok(a.agent.checkList.every((p) => p.state === 'failed'), 'the only pair failed');
  assert.notEqual(a.agent.state, 'failed', 'not failed while the name is still being looked up');
  assert.equal(a.agent.resolveMdns(sim.now, name, B_HOST.address), 0);
  sim.run(sim.now + 10_000, () => connected(a) && connected(b));
  assert.ok(connected(a) && connected(b));
  assert.equal(a.agent.selectedPair!.remoteAddress.address, B_HOST.address);
});

test('mDNS: an unresolved name is ignored and counted by the caller; the agent fails only after that', () => {
  const sim = new IceSim(14, {});
  const a = sim.addPeer('a', { seed: 141, role: 'controlling', noPairTimeoutMs: 2000 }, [A_HOST]);
  sim.gather(a);
  const b = sim.addPeer('b', { seed: 142, role: 'controlled' }, [B_HOST]);
  sim.describe(b, a);
  const name = '0b1c9a5e-3333-4c2e-9d55-0123456789ab.local';
  a.agent.addRemoteCandidate(sim.now, `candidate:1 1 udp 2122260223 ${name} 3000 typ host`);
  a.agent.addRemoteCandidate(sim.now, `candidate:2 1 tcp 1518280447 ${name} 3001 typ host tcptype passive`);
  a.agent.addRemoteCandidate(sim.now, null);
  sim.run(4_000);
  assert.notEqual(a.agent.state, 'failed', 'no pair, but the lookup is pending: no-pair grace not started');
  assert.equal(a.agent.resolveMdns(sim.now, name, 'not-an-ip'), 2, 'both candidates of the name ignored');
  assert.equal(a.agent.mdnsPending, false);
  assert.equal(a.agent.resolveMdns(sim.now, name, undefined), 0, 'a second answer for the name is a no-op');
  const started = sim.now;
  sim.run(sim.now + 10_000, () => a.agent.state === 'failed');
  assert.equal(a.agent.state, 'failed');
  assert.ok(sim.now - started >= 2000, `failed ${sim.now - started} ms after the lookup ended (no-pair grace)`);
});

test('mDNS: a driver that never answers the query still gets an agent that fails on time (the lookup expires)', () => {
  const sim = new IceSim(15, {});
  const a = sim.addPeer('a', { seed: 151, role: 'controlling', noPairTimeoutMs: 2000 }, [A_HOST]);
  sim.gather(a);
  const b = sim.addPeer('b', { seed: 152, role: 'controlled' }, [B_HOST]);
  sim.describe(b, a);
  const name = '0b1c9a5e-4444-4c2e-9d55-0123456789ab.local';
  const t0 = sim.now;
  a.agent.addRemoteCandidate(sim.now, `candidate:1 1 udp 2122260223 ${name} 3000 typ host`);
  a.agent.addRemoteCandidate(sim.now, `candidate:2 1 udp 2122260222 ${name} 3002 typ host`);
  a.agent.addRemoteCandidate(sim.now, null);
  assert.equal(a.agent.pollTimeout(), t0 + MDNS_QUERY_TIMEOUT_MS, 'the lookup\'s expiry is the next timeout');
  // resolveMdns is never called.
  sim.run(t0 + 20_000, () => a.agent.state === 'failed');
  assert.equal(a.agent.state, 'failed');
  assert.equal(a.agent.stateReason, 'no-candidate-pair');
  assert.equal(a.agent.mdnsPending, false);
  const expired = a.events.filter((e) => e.type === 'mdns-expired');
  assert.deepEqual(expired, [{ type: 'mdns-expired', name, candidatesIgnored: 2 }]);
  const failedAfter = sim.now - t0;
  assert.ok(failedAfter >= MDNS_QUERY_TIMEOUT_MS + 2000 && failedAfter < MDNS_QUERY_TIMEOUT_MS + 2000 + 500, `failed after ${failedAfter} ms (expiry + no-pair grace)`);
  assert.equal(a.agent.resolveMdns(sim.now, name, B_HOST.address), 0, 'a late answer is a no-op');
});

test('mDNS across an ICE restart: lookups of the old generation are dropped; their answers add no candidate to the new one', () => {
  // The peer restarts (new ufrag): a name of its old candidates answered after that adds nothing,
  // while a new-generation candidate of the same name is still looked up and added.
  const { sim, a, b } = pair(16, {}, { seed: 161, role: 'controlling' }, { seed: 162, role: 'controlled' });
  sim.gather(a);
  sim.gather(b);
  sim.describe(a, b);
  sim.describe(b, a);
  b.outbox.length = 0;
  const oldUfrag = b.agent.localCredentials.ufrag;
  const name = '0b1c9a5e-5555-4c2e-9d55-0123456789ab.local';
  const other = '0b1c9a5e-6666-4c2e-9d55-0123456789ab.local';
  a.agent.addRemoteCandidate(sim.now, `candidate:1 1 udp 2122260223 ${name} 3000 typ host ufrag ${oldUfrag}`);
  a.agent.addRemoteCandidate(sim.now, `candidate:2 1 udp 2122260222 ${other} 3001 typ host`);
  sim.drain();
  assert.equal(a.events.filter((e) => e.type === 'mdns-query').length, 2);
  assert.equal(a.agent.mdnsPending, true);
  b.agent.restart(sim.now);
  sim.drain();
  b.outbox.length = 0;
  sim.describe(b, a);
  assert.equal(a.agent.mdnsPending, false, "the old generation's lookups are gone");
  // The driver is told which lookups went (it counts their late answers as stale, docs/ice.md "mDNS").
  assert.deepEqual(a.events.filter((e) => e.type === 'mdns-dropped'), [
    { type: 'mdns-dropped', name, candidatesDropped: 1 },
    { type: 'mdns-dropped', name: other, candidatesDropped: 1 },
  ]);
  // Answers for the old names arrive late: nothing is added. (resolveMdns returns how many candidates
  // it ignored, 0 on success too, so the evidence is the candidate list and the check list.)
  const remotesBefore = a.agent.remoteCandidateList.map((c) => `${c.address}:${c.port}`);
  const pairsBefore = a.agent.checkList.length;
  a.agent.resolveMdns(sim.now, name, B_HOST.address);
  a.agent.resolveMdns(sim.now, other, B_HOST.address);
  sim.drain();
  assert.deepEqual(a.agent.remoteCandidateList.map((c) => `${c.address}:${c.port}`), remotesBefore, 'no remote candidate added');
  assert.ok(a.agent.remoteCandidateList.every((c) => c.address !== B_HOST.address), 'no old candidate resolved');
  assert.equal(a.agent.checkList.length, pairsBefore, 'no pair added');
  assert.ok(a.agent.checkList.every((p) => p.remote.address !== B_HOST.address), 'no pair with an old candidate');
  // The new generation names the same host: a new lookup, and its answer adds only the new candidate.
  const newUfrag = b.agent.localCredentials.ufrag;
  a.agent.addRemoteCandidate(sim.now, `candidate:3 1 udp 2122260223 ${name} ${B_HOST.port} typ host ufrag ${newUfrag}`);
  sim.drain();
  assert.equal(a.events.filter((e) => e.type === 'mdns-query').length, 3);
  assert.equal(a.agent.resolveMdns(sim.now, name, B_HOST.address), 0, 'the new candidate is not ignored');
  assert.deepEqual(a.agent.remoteCandidateList.filter((c) => c.address === B_HOST.address).map((c) => c.port), [B_HOST.port], 'only the new candidate added');
  const remotes = a.agent.checkList.map((p) => `${p.remote.address}:${p.remote.port}`);
  assert.ok(remotes.length > 0 && remotes.every((r) => r === `${B_HOST.address}:${B_HOST.port}`), `pairs: ${remotes.join(', ')}`);
});

test('mDNS across our own ICE restart: every pending lookup is dropped; a later answer adds nothing', () => {
  const { sim, a, b } = pair(17, {}, { seed: 171, role: 'controlling' }, { seed: 172, role: 'controlled' });
  sim.gather(a);
  sim.gather(b);
  sim.describe(b, a);
  const name = '0b1c9a5e-7777-4c2e-9d55-0123456789ab.local';
  a.agent.addRemoteCandidate(sim.now, `candidate:1 1 udp 2122260223 ${name} ${B_HOST.port} typ host`);
  sim.drain();
  assert.equal(a.agent.mdnsPending, true);
  const t0 = sim.now;
  a.agent.addRemoteCandidate(sim.now, `candidate:2 1 udp 2122260222 ${name} ${B_HOST.port + 1} typ host`);
  sim.drain();
  a.agent.restart(sim.now);
  sim.drain();
  assert.equal(a.agent.mdnsPending, false);
  assert.deepEqual(a.events.filter((e) => e.type === 'mdns-dropped'), [{ type: 'mdns-dropped', name, candidatesDropped: 2 }], 'one event for the name, with both its candidates');
  assert.notEqual(a.agent.pollTimeout(), t0 + MDNS_QUERY_TIMEOUT_MS, 'no expiry timer left for the dropped lookup');
  assert.equal(a.agent.resolveMdns(sim.now, name, B_HOST.address), 0);
  assert.equal(a.agent.checkList.length, 0, 'no pair from the old candidate');
});

test('dual stack: the IPv6 pair wins when both work; IPv4-only peers never pair across families', () => {
  const sim = new IceSim(12, {});
  const a = sim.addPeer('a', { seed: 121 }, [A_HOST, { address: '2001:db8::1', port: 1000 }]);
  const b = sim.addPeer('b', { seed: 122, role: 'controlled' }, [B_HOST, { address: '2001:db8::2', port: 2000 }]);
  a.agent.addLocalCandidate(0, { type: 'host', address: A_HOST.address, port: A_HOST.port, localPreference: 40000 });
  a.agent.addLocalCandidate(0, { type: 'host', address: '2001:db8::1', port: 1000, localPreference: 60000 });
  a.agent.endOfLocalCandidates(0);
  b.agent.addLocalCandidate(0, { type: 'host', address: B_HOST.address, port: B_HOST.port, localPreference: 40000 });
  b.agent.addLocalCandidate(0, { type: 'host', address: '2001:db8::2', port: 2000, localPreference: 60000 });
  b.agent.endOfLocalCandidates(0);
  sim.drain();
  sim.describe(a, b);
  sim.describe(b, a);
  sim.trickle(a, b);
  sim.trickle(b, a);
  assert.equal(a.agent.checkList.length, 2, 'only same-family pairs');
  sim.run(10_000, () => a.agent.state === 'completed' && connected(b));
  assert.equal(a.agent.selectedPair!.remoteAddress.address, '2001:db8::2');
  sameSelected(a, b);
});

test('hostile: unauthenticated, wrongly signed and unmatched STUN is dropped, counted and never answered', () => {
  const { sim, a, b } = pair(13, {}, { seed: 131 }, { seed: 132, role: 'controlled' });
  signalAll(sim, a, b);
  sim.run(10_000, () => connected(a) && connected(b));
  const ag = b.agent;
  const before = { ...ag.stats.drops };
  const sentBefore = ag.stats.responsesSent;
  const evil = { address: '6.6.6.6', port: 666 };
  const tid = Buffer.alloc(12, 9);
  const feed = (data: Buffer): void => ag.handleInput(sim.now, { local: B_HOST, remote: evil, data });
  const uname = `${ag.localCredentials.ufrag}:x`;
  feed(new StunMessage(StunMethod.Binding, StunClass.Request, tid).encode({ fingerprint: true }));
  feed(new StunMessage(StunMethod.Binding, StunClass.Request, tid).addString(StunAttr.Username, uname).encode({ integrityKey: Buffer.from('wrong-password-xxxxxxxxx') }));
  feed(new StunMessage(StunMethod.Binding, StunClass.Request, tid).addString(StunAttr.Username, 'nope:x').encode({ integrityKey: Buffer.from(ag.localCredentials.password) }));
  feed(new StunMessage(StunMethod.Binding, StunClass.SuccessResponse, tid).encode({ fingerprint: true }));
  feed(new StunMessage(StunMethod.Allocate, StunClass.Request, tid).encode());
  const badFp = new StunMessage(StunMethod.Binding, StunClass.Request, tid).encode({ fingerprint: true });
  badFp[badFp.length - 1]! ^= 0xff;
  feed(badFp);
  feed(Buffer.from([0, 1, 0, 4, 0x21, 0x12]));
  for (let i = 0; i < 1000; i++) feed(Buffer.alloc(20 + (i % 8) * 4, i & 0x3f));
  assert.equal(ag.pollTransmit(), undefined, 'nothing answered');
  assert.equal(ag.stats.responsesSent, sentBefore);
  assert.equal(ag.stats.drops['no-integrity'], before['no-integrity'] + 1);
  assert.equal(ag.stats.drops['bad-integrity'], before['bad-integrity'] + 1);
  assert.equal(ag.stats.drops['unknown-ufrag'], before['unknown-ufrag'] + 1);
  assert.equal(ag.stats.drops['unmatched-response'], before['unmatched-response'] + 1);
  assert.equal(ag.stats.drops['unexpected-method'], before['unexpected-method'] + 1);
  assert.equal(ag.stats.drops['bad-fingerprint'], before['bad-fingerprint'] + 1);
  assert.ok(ag.stats.drops.malformed > before.malformed);
  assert.equal(ag.remoteCandidateList.some((c) => c.address === evil.address), false, 'no candidate learned');
  assert.ok(connected(b));
});

test('deterministic: the same seeds give the same transcript', () => {
  const run = (): string => {
    const { sim, a, b } = pair(14, { loss: 0.2, jitterMs: 15 }, { seed: 141 }, { seed: 142, role: 'controlled' });
    signalAll(sim, a, b);
    sim.run(15_000);
    return JSON.stringify([a.states, b.states, sim.net.stats, a.agent.stats, sim.now]);
  };
  assert.equal(run(), run());
});

test('consent under 10 % loss: an hour of virtual time without failure; lost checks are re-probed quickly', () => {
  const { sim, a, b } = pair(15, { loss: 0.1, jitterMs: 10 }, { seed: 151 }, { seed: 152, role: 'controlled' });
  signalAll(sim, a, b);
  sim.run(30_000, () => connected(a) && connected(b));
  assert.ok(connected(a) && connected(b));
  const start = sim.now;
  sim.run(start + 3_600_000);
  assert.ok(!a.states.includes('failed') && !b.states.includes('failed'));
  assert.ok(connected(a), a.agent.state);
  // About one check per 5 s plus quick re-probes after losses (≈19 % of round trips fail).
  const checks = a.agent.stats.consentChecksSent;
  assert.ok(checks > 720 && checks < 1100, `${checks} consent checks in an hour`);
});

test('server-reflexive gathering through a STUN server; a NATed peer is reached on its srflx candidate', () => {
  const sim = new IceSim(16, {});
  const stun = { address: '198.51.100.1', port: 3478 };
  sim.addStunServer(stun);
  const a = sim.addPeer('a', { seed: 161, role: 'controlling' }, [A_HOST]);
  const b = sim.addPeer('b', { seed: 162, role: 'controlled', stunServers: [stun] }, [{ address: '192.168.1.2', port: 3000 }], [{ address: '203.0.113.9', port: 40000 }]);
  sim.gather(a);
  sim.gather(b);
  assert.equal(b.agent.gathering, 'gathering', 'waits for the STUN answer');
  sim.run(1000, () => b.agent.gathering === 'complete');
  assert.equal(b.agent.gathering, 'complete');
  assert.equal(sim.stunRequests, 1);
  const srflx = b.agent.localCandidates.find((c) => c.type === 'srflx');
  assert.ok(srflx);
  assert.deepEqual({ address: srflx.address, port: srflx.port }, { address: '203.0.113.9', port: 40000 });
  assert.equal(srflx.relatedAddress, '192.168.1.2');
  assert.ok(b.outbox.some((l) => l?.includes('typ srflx raddr 192.168.1.2 rport 3000')));
  sim.describe(a, b);
  sim.describe(b, a);
  sim.trickle(a, b);
  sim.trickle(b, a);
  sim.run(sim.now + 10_000, () => connected(a) && connected(b));
  assert.deepEqual(a.agent.selectedPair!.remoteAddress, { address: '203.0.113.9', port: 40000 });
  assert.equal(a.agent.selectedPair!.remote.type, 'srflx');
  assert.deepEqual(b.agent.selectedPair!.localBase, { address: '192.168.1.2', port: 3000 });
});

test('controlled: a later nomination of a lower-priority pair is followed (libwebrtc switches pairs after nominating)', () => {
  const sim = new IceSim(14, {});
  const A_LOW = { address: '10.0.1.1', port: 1001 };
  const a = sim.addPeer('a', { seed: 141, role: 'controlling' }, [A_HOST, A_LOW]);
  const b = sim.addPeer('b', { seed: 142, role: 'controlled' }, [B_HOST]);
  a.agent.addLocalCandidate(0, { type: 'host', address: A_HOST.address, port: A_HOST.port, localPreference: 60000 });
  a.agent.addLocalCandidate(0, { type: 'host', address: A_LOW.address, port: A_LOW.port, localPreference: 20000 });
  a.agent.endOfLocalCandidates(0);
  b.agent.addLocalCandidate(0, { type: 'host', address: B_HOST.address, port: B_HOST.port, localPreference: 60000 });
  b.agent.endOfLocalCandidates(0);
  sim.drain();
  sim.describe(a, b);
  sim.describe(b, a);
  sim.trickle(a, b);
  sim.trickle(b, a);
  // Let both pairs be checked before and after the nomination.
  sim.run(10_000, () => a.agent.state === 'completed' && connected(b) && b.agent.checkList.every((p) => p.valid));
  assert.equal(b.agent.selectedPair!.remoteAddress.address, A_HOST.address, 'the highest-priority pair first');
  // The controlling agent now prefers its other interface and nominates that pair, as libwebrtc does.
  const low = a.agent.checkList.find((p) => p.local.address === A_LOW.address);
  assert.ok(low);
  const request = new StunMessage(StunMethod.Binding, StunClass.Request, Buffer.alloc(12, 7))
    .addString(StunAttr.Username, `${b.agent.localCredentials.ufrag}:${a.agent.localCredentials.ufrag}`)
    .addUint32(StunAttr.Priority, low.local.priority)
    .addUint64(StunAttr.IceControlling, 1n)
    .addFlag(StunAttr.UseCandidate)
    .encode({ integrityKey: Buffer.from(b.agent.localCredentials.password), fingerprint: true });
  b.agent.handleInput(sim.now, { local: B_HOST, remote: A_LOW, data: request });
  assert.equal(b.agent.selectedPair!.remoteAddress.address, A_LOW.address, 'the controlled agent follows the new nomination');
  assert.ok(connected(b));
});
