// The agent's passive ICE-TCP rules (RFC 6544 §6.2, §7.2): a passive candidate sends no ordinary
// checks and pairs with no announced remote candidate (UDP, or TCP active on port 9); a check that
// arrives on it makes a TCP peer-reflexive remote, answered and checked back on the same base; a
// connection that closes fails its pairs at once (another valid pair takes over, else disconnected, failed);
// our active side checks the selected pair again over a new connection, within the same grace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../../lib/common/rng.js';
import { IceAgent } from '../../../lib/ice/ice-agent.js';
import { formatCandidate } from '../../../lib/ice/candidate.js';
import { StunMessage } from '../../../lib/ice/stun-message.js';
import { StunAttr, StunClass, StunMethod } from '../../../lib/ice/stun-constants.js';
import { encodeBindingSuccess } from '../../../lib/ice/binding-encoder.js';

const UDP = { address: '10.0.0.1', port: 4000 };
const TCP = { address: '10.0.0.1', port: 4443 };
const PEER = { ufrag: 'peer', password: 'peerpasswordpeerpassword' };

function agent(): IceAgent {
  const a = new IceAgent({ rng: new SeededRng(3), role: 'controlled' });
  a.addLocalCandidate(0, { type: 'host', address: UDP.address, port: UDP.port });
  a.addLocalCandidate(0, { type: 'host', protocol: 'tcp', address: TCP.address, port: TCP.port });
  a.endOfLocalCandidates(0);
  a.setRemoteCredentials(0, PEER);
  return a;
}

test('the passive candidate line carries tcptype passive and its own foundation', () => {
  const a = agent();
  const [udp, tcp] = a.localCandidates;
  assert.match(formatCandidate(tcp!), /^candidate:\d+ 1 tcp \d+ 10\.0\.0\.1 4443 typ host tcptype passive$/);
  assert.notEqual(udp!.foundation, tcp!.foundation);
  assert.ok(tcp!.priority < udp!.priority);
});

test('announced remote candidates (UDP, TCP active port 9) never get checks from the passive base', () => {
  const a = agent();
  a.addRemoteCandidate(0, 'candidate:1 1 udp 2122260223 10.0.0.2 5000 typ host');
  a.addRemoteCandidate(0, 'candidate:2 1 tcp 1518280447 10.0.0.2 9 typ host tcptype active');
  a.addRemoteCandidate(0, null);
  const sent: string[] = [];
  for (let now = 0; now < 2000; now += 10) {
    a.handleTimeout(now);
    for (let t = a.pollTransmit(); t; t = a.pollTransmit()) sent.push(`${t.local.port}->${t.remote.address}:${t.remote.port}`);
  }
  assert.ok(sent.length > 0);
  assert.ok(sent.every((s) => s === '4000->10.0.0.2:5000'), sent.join(' '));
});

test('a check arriving on the passive base is answered there and makes a TCP peer-reflexive remote', () => {
  const a = agent();
  const remote = { address: '10.0.0.2', port: 51234 };
  const check = new StunMessage(StunMethod.Binding, StunClass.Request, Buffer.alloc(12, 9))
    .addString(StunAttr.Username, `${a.localCredentials.ufrag}:${PEER.ufrag}`)
    .addUint32(StunAttr.Priority, 1518280447)
    .addUint64(StunAttr.IceControlling, 1n)
    .addFlag(StunAttr.UseCandidate)
    .encode({ integrityKey: Buffer.from(a.localCredentials.password), fingerprint: true });
  a.handleInput(1, { local: TCP, remote, data: check });
  const out: { local: number; remote: number }[] = [];
  for (let now = 1; now < 200; now += 5) {
    a.handleTimeout(now);
    for (let t = a.pollTransmit(); t; t = a.pollTransmit()) out.push({ local: t.local.port, remote: t.remote.port });
  }
  // The response and the triggered check both leave on the TCP base towards the connection's address.
  assert.ok(out.filter((o) => o.remote === remote.port).length >= 2, JSON.stringify(out));
  assert.ok(out.filter((o) => o.remote === remote.port).every((o) => o.local === TCP.port));
  const prflx = a.remoteCandidateList.find((c) => c.port === remote.port);
  assert.equal(prflx?.protocol, 'tcp');
  assert.equal(prflx?.type, 'prflx');
});

// ---- a connection that closes under its pairs (RFC 6544 §7.2) ---------------------------------

/** The peer's check from `remote` on the passive base (USE-CANDIDATE: it nominates, we are controlled). */
function peerCheck(a: IceAgent, id: number): Buffer {
  return new StunMessage(StunMethod.Binding, StunClass.Request, Buffer.alloc(12, id))
    .addString(StunAttr.Username, `${a.localCredentials.ufrag}:${PEER.ufrag}`)
    .addUint32(StunAttr.Priority, 1518280447)
    .addUint64(StunAttr.IceControlling, 1n)
    .addFlag(StunAttr.UseCandidate)
    .encode({ integrityKey: Buffer.from(a.localCredentials.password), fingerprint: true });
}

/** Answers every check the agent sends to `remote` as the peer would: the pair becomes valid, and selected. */
function answerChecks(a: IceAgent, remote: { address: string; port: number }, now: number): void {
  for (let t = a.pollTransmit(); t; t = a.pollTransmit()) {
    const m = StunMessage.decode(t.data);
    if (!m.ok || m.message.messageClass !== StunClass.Request || t.remote.port !== remote.port) continue;
    const response = encodeBindingSuccess(m.message, t.local, Buffer.from(PEER.password));
    a.handleInput(now, { local: t.local, remote: t.remote, data: response! });
  }
}

/** A controlled agent whose selected pair is the passive base ↔ `remote` (a connection of the peer). */
function connectedOverTcp(remote: { address: string; port: number }): { a: IceAgent; states: string[] } {
  const a = agent();
  a.addRemoteCandidate(0, null);
  const states: string[] = [];
  a.handleInput(1, { local: TCP, remote, data: peerCheck(a, 1) });
  for (let now = 1; now < 200 && !a.selectedPair; now += 5) {
    a.handleTimeout(now);
    answerChecks(a, remote, now);
  }
  for (let e = a.pollEvent(); e; e = a.pollEvent()) if (e.type === 'connection-state') states.push(e.state);
  assert.equal(a.selectedPair?.local.protocol, 'tcp');
  assert.ok(a.state === 'connected' || a.state === 'completed', a.state);
  return { a, states };
}

function drainStates(a: IceAgent): string[] {
  const out: string[] = [];
  for (let e = a.pollEvent(); e; e = a.pollEvent()) if (e.type === 'connection-state') out.push(`${e.state}:${e.reason ?? ''}`);
  return out;
}

test('the selected TCP connection closes with nothing else valid: disconnected at once, failed after the grace', () => {
  const remote = { address: '10.0.0.2', port: 51234 };
  const { a } = connectedOverTcp(remote);
  // A connection under no pair changes nothing.
  a.connectionClosed(300, TCP, { address: '10.0.0.2', port: 60000 });
  assert.deepEqual(drainStates(a), []);
  a.connectionClosed(300, TCP, remote);
  assert.deepEqual(drainStates(a), ['disconnected:tcp-connection-closed']);
  assert.equal(a.stateReason, 'tcp-connection-closed');
  assert.equal(a.selectedPair, undefined);
  assert.ok(a.checkList.filter((p) => p.local.protocol === 'tcp').every((p) => p.state === 'failed' && !p.valid));
  // Every pair failed and the peer's candidates ended: the grace (disconnectedTimeoutMs, 7500) is the deadline.
  assert.equal(a.pollTimeout(), 300 + 7500);
  a.handleTimeout(300 + 7499);
  assert.equal(a.state, 'disconnected');
  a.handleTimeout(300 + 7500);
  assert.deepEqual(drainStates(a), ['failed:tcp-connection-closed']);
  assert.equal(a.pollTimeout(), undefined);
  // An ICE restart starts over (RFC 8445 §9): checking, and the lost connection no longer fails it.
  a.restart(8000);
  a.handleTimeout(60_000);
  assert.equal(a.state, 'checking');
});

test('the peer reconnects during the grace: the new connection is selected and the agent is connected again', () => {
  const first = { address: '10.0.0.2', port: 51234 };
  const { a } = connectedOverTcp(first);
  a.connectionClosed(300, TCP, first);
  assert.deepEqual(drainStates(a), ['disconnected:tcp-connection-closed']);
  const second = { address: '10.0.0.2', port: 51235 };
  a.handleInput(2000, { local: TCP, remote: second, data: peerCheck(a, 2) });
  for (let now = 2000; now < 2300 && a.selectedPair?.remoteAddress.port !== second.port; now += 5) {
    a.handleTimeout(now);
    answerChecks(a, second, now);
  }
  assert.equal(a.selectedPair?.remoteAddress.port, second.port);
  assert.equal(drainStates(a)[0], 'connected:');
  a.handleTimeout(300 + 7500);
  assert.ok(a.state === 'connected' || a.state === 'completed', a.state);
});

test('the selected TCP connection closes while a UDP pair is valid: the UDP pair is selected at once, the state does not change', () => {
  const tcpRemote = { address: '10.0.0.2', port: 51234 };
  const udpRemote = { address: '10.0.0.2', port: 5000 };
  const { a } = connectedOverTcp(tcpRemote);
  // A valid UDP pair besides (the peer checked it without nominating it).
  a.addRemoteCandidate(300, 'candidate:1 1 udp 1 10.0.0.2 5000 typ host');
  for (let now = 300; now < 1000 && !a.checkList.some((p) => p.local.protocol === 'udp' && p.valid); now += 5) {
    a.handleTimeout(now);
    answerChecks(a, udpRemote, now);
  }
  assert.equal(a.selectedPair?.local.protocol, 'tcp');
  for (let e = a.pollEvent(); e; e = a.pollEvent());
  a.connectionClosed(1000, TCP, tcpRemote);
  const events: string[] = [];
  for (let e = a.pollEvent(); e; e = a.pollEvent()) events.push(e.type === 'selected-pair' ? `selected:${e.pair.local.protocol}` : e.type === 'connection-state' ? `state:${e.state}` : e.type);
  assert.ok(events.includes('selected:udp'), events.join(' '));
  assert.ok(!events.some((e) => e.startsWith('state:')), events.join(' '));
  assert.equal(a.selectedPair?.remoteAddress.port, udpRemote.port);
  assert.ok(a.state === 'connected' || a.state === 'completed', a.state);
  // The pair it chose by itself is a stopgap (docs/ice.md "ICE-TCP"): the peer's later nomination
  // (here over a new TCP connection) is followed, as RFC 8445 §8.1.1 leaves selection to it.
  const again = { address: '10.0.0.2', port: 51236 };
  a.handleInput(1100, { local: TCP, remote: again, data: peerCheck(a, 3) });
  for (let now = 1100; now < 1400 && a.selectedPair?.remoteAddress.port !== again.port; now += 5) {
    a.handleTimeout(now);
    answerChecks(a, again, now);
  }
  assert.equal(a.selectedPair?.remoteAddress.port, again.port);
  assert.equal(a.selectedPair?.local.protocol, 'tcp');
});

test('a new connection from the same address as the closed one revives its failed pair: checked, selected, connected again', () => {
  // The peer's new connection may come from the port of the closed one (the kernel may hand the
  // same ephemeral port out again once the old socket is gone): the failed pair is checked again.
  const remote = { address: '10.0.0.2', port: 51234 };
  const { a } = connectedOverTcp(remote);
  const pairsBefore = a.checkList.length;
  a.connectionClosed(300, TCP, remote);
  assert.deepEqual(drainStates(a), ['disconnected:tcp-connection-closed']);
  assert.ok(a.checkList.every((p) => p.local.protocol !== 'tcp' || p.state === 'failed'));
  a.handleInput(2000, { local: TCP, remote, data: peerCheck(a, 4) });
  for (let now = 2000; now < 2300 && !a.selectedPair; now += 5) {
    a.handleTimeout(now);
    answerChecks(a, remote, now);
  }
  assert.equal(a.selectedPair?.remoteAddress.port, remote.port);
  assert.equal(a.selectedPair?.local.protocol, 'tcp');
  // The same pair, not a second one, and no longer failed.
  assert.equal(a.checkList.length, pairsBefore);
  assert.equal(a.checkList.find((p) => p.local.protocol === 'tcp')?.state, 'succeeded');
  assert.equal(drainStates(a)[0], 'connected:');
  assert.equal(a.stateReason, undefined);
  // The grace is over (consent answered meanwhile): the deadline it set no longer applies.
  for (let now = 2300; now <= 300 + 7500; now += 100) {
    a.handleTimeout(now);
    answerChecks(a, remote, now);
  }
  assert.ok(a.state === 'connected' || a.state === 'completed', a.state);
  drainStates(a);
  // The revived connection can close again, like the first one.
  a.connectionClosed(8000, TCP, remote);
  assert.deepEqual(drainStates(a), ['disconnected:tcp-connection-closed']);
});

// ---- our active side reconnects (RFC 6544 §5.1, §7.2; docs/ice.md "ICE-TCP") -------------------

const ACTIVE = { address: '10.0.0.1', port: 9 };
const PASSIVE = { address: '10.0.0.2', port: 443 };

/** An agent whose only candidate is active TCP, connected to the peer's passive candidate. */
function activeConnected(role: 'controlling' | 'controlled'): IceAgent {
  const a = new IceAgent({ rng: new SeededRng(5), role });
  a.addLocalCandidate(0, { type: 'host', protocol: 'tcp', tcpType: 'active', address: ACTIVE.address, port: ACTIVE.port });
  a.endOfLocalCandidates(0);
  a.setRemoteCredentials(0, PEER);
  a.addRemoteCandidate(0, `candidate:1 1 tcp 1518280447 ${PASSIVE.address} ${PASSIVE.port} typ host tcptype passive`);
  a.addRemoteCandidate(0, null);
  for (let now = 1; now < 400 && !a.selectedPair; now += 5) {
    a.handleTimeout(now);
    if (role === 'controlled') a.handleInput(now, { local: ACTIVE, remote: PASSIVE, data: peerCheck(a, 7) });
    answerChecks(a, PASSIVE, now);
  }
  assert.equal(a.selectedPair?.local.protocol, 'tcp');
  drainStates(a);
  return a;
}

/** The Binding requests the agent sends to the passive candidate until `until` (answered when `answer`), and whether they nominate. */
function reconnectChecks(a: IceAgent, from: number, until: number, answer: boolean): boolean[] {
  const nominating: boolean[] = [];
  for (let now = from; now < until; now += 5) {
    a.handleTimeout(now);
    for (let t = a.pollTransmit(); t; t = a.pollTransmit()) {
      const m = StunMessage.decode(t.data);
      if (!m.ok || m.message.messageClass !== StunClass.Request || t.remote.port !== PASSIVE.port) continue;
      nominating.push(m.message.has(StunAttr.UseCandidate));
      if (answer) a.handleInput(now, { local: t.local, remote: t.remote, data: encodeBindingSuccess(m.message, t.local, Buffer.from(PEER.password))! });
    }
    if (answer && a.selectedPair) break;
  }
  return nominating;
}

for (const role of ['controlling', 'controlled'] as const) {
  test(`our active connection closes (${role}): the pair is checked again over a new connection at once and selected again`, () => {
    const a = activeConnected(role);
    a.connectionClosed(1000, ACTIVE, PASSIVE);
    assert.deepEqual(drainStates(a), ['disconnected:tcp-connection-closed']);
    assert.equal(a.stats.tcpReconnects, 1);
    const checks = reconnectChecks(a, 1000, 1500, true);
    assert.ok(checks.length >= 1, 'a check leaves at once (it opens the new connection)');
    // The controlling agent nominates it again (RFC 8445 §8.1.1); the controlled one takes it back by itself.
    assert.equal(checks[0], role === 'controlling');
    assert.equal(a.selectedPair?.remoteAddress.port, PASSIVE.port);
    assert.equal(drainStates(a)[0], 'connected:');
    // Past the grace, consent answered on the new connection: still up.
    for (let now = 1500; now <= 1000 + 7600; now += 50) {
      a.handleTimeout(now);
      answerChecks(a, PASSIVE, now);
    }
    assert.ok(a.state === 'connected' || a.state === 'completed', a.state);
  });
}

test('our active connection closes and the new one gets no answer: failed after the grace (disconnectedTimeoutMs)', () => {
  const a = activeConnected('controlling');
  a.connectionClosed(1000, ACTIVE, PASSIVE);
  assert.deepEqual(drainStates(a), ['disconnected:tcp-connection-closed']);
  const checks = reconnectChecks(a, 1000, 1000 + 7495, false);
  assert.ok(checks.length >= 1);
  assert.equal(a.state, 'disconnected');
  a.handleTimeout(1000 + 7500);
  assert.deepEqual(drainStates(a), ['failed:tcp-connection-closed']);
  assert.ok(a.checkList.every((p) => p.state === 'failed'));
  // Nothing more is sent once failed.
  assert.equal(reconnectChecks(a, 8600, 20_000, false).length, 0);
});

// A peer or middlebox that accepts our connection, answers one check and closes it (an idle or
// duplicate-connection killer, a draining load balancer): at most 3 reconnects within consentTimeoutMs
// of the first loss, then the pair fails as any other (review 10 #3).
for (const role of ['controlling', 'controlled'] as const) {
  test(`accept, answer, close, again and again (${role}): 3 reconnects, then failed after the grace`, () => {
    const a = activeConnected(role);
    let t = 1000;
    let reconnected = 0;
    for (let round = 0; round < 10; round++) {
      a.connectionClosed(t, ACTIVE, PASSIVE);
      const checks = reconnectChecks(a, t, t + 500, true);
      if (checks.length === 0) break;
      assert.equal(a.selectedPair?.remoteAddress.port, PASSIVE.port, `round ${round}: selected again`);
      reconnected++;
      t += 100;
    }
    assert.equal(reconnected, 3);
    assert.equal(a.stats.tcpReconnects, 3);
    assert.equal(a.stats.tcpReconnectsRefused, 1);
    assert.equal(a.selectedPair, undefined);
    assert.ok(a.checkList.every((p) => p.state === 'failed'));
    const states = drainStates(a);
    assert.equal(states[states.length - 1], 'disconnected:tcp-connection-closed');
    // The budget spent, the normal grace applies: failed after disconnectedTimeoutMs, nothing sent meanwhile.
    assert.equal(reconnectChecks(a, t, t + 7495, false).length, 0);
    assert.equal(a.state, 'disconnected');
    a.handleTimeout(t + 7500);
    assert.deepEqual(drainStates(a), ['failed:tcp-connection-closed']);
  });
}

test('a reconnected pair that carried consent for 10 s gets its reconnect budget back', () => {
  const a = activeConnected('controlling');
  let t = 1000;
  for (let round = 0; round < 3; round++) {
    a.connectionClosed(t, ACTIVE, PASSIVE);
    assert.ok(reconnectChecks(a, t, t + 500, true).length >= 1);
    t += 100;
  }
  assert.equal(a.stats.tcpReconnects, 3);
  // 15 s of answered consent on the third connection (well within consentTimeoutMs of the first loss).
  for (let now = t; now < t + 15_000; now += 50) {
    a.handleTimeout(now);
    answerChecks(a, PASSIVE, now);
  }
  assert.ok(a.state === 'connected' || a.state === 'completed', a.state);
  t += 15_000;
  a.connectionClosed(t, ACTIVE, PASSIVE);
  assert.ok(reconnectChecks(a, t, t + 500, true).length >= 1);
  assert.equal(a.stats.tcpReconnects, 4);
  assert.equal(a.stats.tcpReconnectsRefused, 0);
  assert.equal(a.selectedPair?.remoteAddress.port, PASSIVE.port);
});

test('the budget is per window of consentTimeoutMs from the first loss: a 4th loss within it is refused, one after it reconnects', () => {
  // Losses 8 s apart, consent unanswered in between (so no pair counts as having carried traffic).
  for (const [fourthAt, allowed] of [[25_000, false], [31_100, true]] as const) {
    const a = activeConnected('controlling');
    let last = 1000;
    for (const at of [1000, 9000, 17_000, fourthAt]) {
      for (let now = last; now < at; now += 50) {
        a.handleTimeout(now);
        while (a.pollTransmit()) { /* unanswered */ }
      }
      a.connectionClosed(at, ACTIVE, PASSIVE);
      const checks = reconnectChecks(a, at, at + 500, true);
      last = at + 500;
      if (at !== fourthAt) assert.ok(checks.length >= 1 && a.selectedPair, `reconnected at ${at}`);
      else assert.equal(checks.length >= 1, allowed, `4th loss at ${at}`);
    }
    assert.equal(a.stats.tcpReconnects, allowed ? 4 : 3);
    assert.equal(a.stats.tcpReconnectsRefused, allowed ? 0 : 1);
  }
});
