// Which remote addresses are proven to be the peer (RFC 8445 §7.2.5.2-§7.2.5.3): only the remote
// of a pair whose check WE sent got a success response with valid MESSAGE-INTEGRITY from that
// address, or of the selected pair. An authenticated inbound request replayed by a stranger from
// its own address is answered (RFC 8445 §7.3) but never makes the stranger proven.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../../lib/common/rng.js';
import { IceAgent, type IceAgentEvent, type IceTransmit } from '../../../lib/ice/ice-agent.js';
import { StunMessage } from '../../../lib/ice/stun-message.js';
import { StunAttr, StunClass, StunMethod } from '../../../lib/ice/stun-constants.js';
import type { TransportAddress } from '../../../lib/ice/transport-address.js';

const A = { address: '10.0.0.1', port: 1000 };
const B = { address: '10.0.0.2', port: 2000 };
const STRANGER = { address: '10.6.6.6', port: 666 };

interface Side {
  agent: IceAgent;
  lite: boolean;
  events: IceAgentEvent[];
}

function side(seed: number, role: 'controlling' | 'controlled', addr: TransportAddress, mode: 'full' | 'lite' = 'full'): Side {
  const agent = new IceAgent({ rng: new SeededRng(seed), role, mode });
  agent.addLocalCandidate(0, { type: 'host', address: addr.address, port: addr.port });
  agent.endOfLocalCandidates(0);
  return { agent, lite: mode === 'lite', events: [] };
}

function drain(s: Side): void {
  for (let e = s.agent.pollEvent(); e; e = s.agent.pollEvent()) s.events.push(e);
}

function validated(s: Side): string[] {
  return s.events.flatMap((e) => (e.type === 'remote-validated' ? [`${e.local.address}:${e.local.port}>${e.remote.address}:${e.remote.port}`] : []));
}

function authenticated(s: Side): string[] {
  return s.events.flatMap((e) => (e.type === 'remote-authenticated' ? [`${e.remote.address}:${e.remote.port}`] : []));
}

/** Connects a and b (only a learns a candidate; b learns a peer-reflexive one), capturing what a sends. */
function connect(a: Side, b: Side, captured: IceTransmit[]): number {
  a.agent.setRemoteCredentials(0, b.agent.localCredentials, { lite: b.lite });
  b.agent.setRemoteCredentials(0, a.agent.localCredentials);
  a.agent.addRemoteCandidate(0, `candidate:1 1 udp 2130706431 ${B.address} ${B.port} typ host`);
  a.agent.addRemoteCandidate(0, null);
  let now = 0;
  for (let step = 0; step < 400 && !(a.agent.selectedPair && b.agent.selectedPair); step++) {
    for (const [from, to] of [[a, b], [b, a]] as const) {
      for (let t = from.agent.pollTransmit(); t; t = from.agent.pollTransmit()) {
        if (from === a) captured.push(t);
        to.agent.handleInput(now, { local: t.remote, remote: t.local, data: t.data });
      }
    }
    drain(a);
    drain(b);
    now += 10;
    a.agent.handleTimeout(now);
    b.agent.handleTimeout(now);
  }
  assert.ok(a.agent.selectedPair && b.agent.selectedPair, 'the agents did not connect');
  return now;
}

function isRequest(t: IceTransmit): boolean {
  const d = StunMessage.decode(t.data);
  return d.ok && d.message.messageClass === StunClass.Request && d.message.has(StunAttr.Username);
}

test('both agents prove each other through their own checks', () => {
  const a = side(1, 'controlling', A);
  const b = side(2, 'controlled', B);
  connect(a, b, []);
  assert.deepEqual(validated(a), ['10.0.0.1:1000>10.0.0.2:2000']);
  assert.deepEqual(validated(b), ['10.0.0.2:2000>10.0.0.1:1000']);
  assert.ok(a.agent.isValidatedRemote(B));
  assert.ok(a.agent.isValidatedRemote(B, A));
  assert.ok(!a.agent.isValidatedRemote(B, STRANGER));
  assert.ok(b.agent.isValidatedRemote(A));
});

test("a stranger replaying the peer's request from its own address is answered but never proven", () => {
  const a = side(3, 'controlling', A);
  const b = side(4, 'controlled', B);
  const captured: IceTransmit[] = [];
  let now = connect(a, b, captured);
  const request = captured.filter(isRequest).at(-1)!;
  assert.ok(request, 'no request captured');
  const answeredBefore = b.agent.stats.responsesSent;
  const toStranger: IceTransmit[] = [];
  for (let i = 0; i < 5; i++) {
    b.agent.handleInput(now, { local: B, remote: STRANGER, data: request.data });
    for (let t = b.agent.pollTransmit(); t; t = b.agent.pollTransmit()) if (t.remote.address === STRANGER.address) toStranger.push(t);
    drain(b);
  }
  // Answered (RFC 8445 §7.3 allows it) and reported as authenticated: that event is not trust.
  assert.ok(b.agent.stats.responsesSent > answeredBefore);
  assert.ok(authenticated(b).includes('10.6.6.6:666'));
  // The stranger answers b's triggered check, but without the password it can only forge.
  for (let step = 0; step < 100; step++) {
    now += 50;
    b.agent.handleTimeout(now);
    for (let t = b.agent.pollTransmit(); t; t = b.agent.pollTransmit()) {
      if (t.remote.address !== STRANGER.address) continue;
      const d = StunMessage.decode(t.data);
      if (!d.ok || d.message.messageClass !== StunClass.Request) continue;
      const forged = new StunMessage(StunMethod.Binding, StunClass.SuccessResponse, d.message.transactionId)
        .addAddress(StunAttr.XorMappedAddress, STRANGER)
        .encode({ integrityKey: Buffer.from('not-the-password-0123456'), fingerprint: true });
      b.agent.handleInput(now, { local: B, remote: STRANGER, data: forged });
    }
    drain(b);
  }
  assert.ok(b.agent.stats.drops['response-bad-integrity'] > 0, 'the forged responses were not seen');
  assert.deepEqual(validated(b), ['10.0.0.2:2000>10.0.0.1:1000']);
  assert.equal(b.agent.isValidatedRemote(STRANGER), false);
  assert.ok(b.agent.isValidatedRemote(A));
  assert.ok(!b.agent.checkList.some((p) => p.valid && p.remote.address === STRANGER.address));
});

test('an ICE-lite agent (no checks of its own) proves the selected pair only', () => {
  const a = side(5, 'controlling', A);
  const b = side(6, 'controlled', B, 'lite');
  connect(a, b, []);
  assert.deepEqual(validated(b), ['10.0.0.2:2000>10.0.0.1:1000']);
  assert.ok(b.agent.isValidatedRemote(A));
  assert.equal(b.agent.isValidatedRemote(STRANGER), false);
});

test('an ICE restart forgets proven addresses except the still-selected pair', () => {
  const a = side(7, 'controlling', A);
  const b = side(8, 'controlled', B);
  connect(a, b, []);
  a.agent.restart(1000);
  assert.ok(a.agent.isValidatedRemote(B), 'the selected pair keeps carrying data until a new one is selected');
});
