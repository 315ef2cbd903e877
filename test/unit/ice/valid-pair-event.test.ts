// The `valid-pair` event (RFC 8445 §12.1: data MAY go on any valid pair before a pair is selected;
// docs/ice.md "Data before the nomination"): the controlled agent announces its first valid pair
// before the controlling agent's nomination selects one, once per ICE session, and only once it
// has also answered the peer's check on that path (so that its data does not overtake the peer's
// own proof of the path); again after a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../../lib/common/rng.js';
import { IceAgent, type IceAgentEvent } from '../../../lib/ice/ice-agent.js';
import { StunMessage } from '../../../lib/ice/stun-message.js';
import { StunClass } from '../../../lib/ice/stun-constants.js';

const A = { address: '10.0.0.1', port: 1000 };
const B = { address: '10.0.0.2', port: 2000 };

function agent(seed: number, role: 'controlling' | 'controlled', addr: { address: string; port: number }): IceAgent {
  const a = new IceAgent({ rng: new SeededRng(seed), role });
  a.addLocalCandidate(0, { type: 'host', address: addr.address, port: addr.port });
  a.endOfLocalCandidates(0);
  return a;
}

function pairUp(a: IceAgent, b: IceAgent): void {
  a.setRemoteCredentials(0, b.localCredentials);
  b.setRemoteCredentials(0, a.localCredentials);
  a.addRemoteCandidate(0, `candidate:1 1 udp 2130706431 ${B.address} ${B.port} typ host`);
  a.addRemoteCandidate(0, null);
  b.addRemoteCandidate(0, `candidate:1 1 udp 2130706431 ${A.address} ${A.port} typ host`);
  b.addRemoteCandidate(0, null);
}

const isRequest = (data: Uint8Array): boolean => {
  const d = StunMessage.decode(data);
  return d.ok && d.message.messageClass === StunClass.Request;
};

/**
 * Runs both agents on simulated time (from `start` ms) until both selected a pair, at least
 * `minSteps` steps of 5 ms. Returns the events of each, in order.
 */
function run(a: IceAgent, b: IceAgent, start = 0, minSteps = 0): { a: IceAgentEvent[]; b: IceAgentEvent[] } {
  const events = { a: [] as IceAgentEvent[], b: [] as IceAgentEvent[] };
  let now = start;
  for (let step = 0; step < 600 && (step < minSteps || !(a.selectedPair && b.selectedPair)); step++) {
    for (const [from, to] of [[a, b], [b, a]] as const) {
      for (let t = from.pollTransmit(); t; t = from.pollTransmit()) {
        to.handleInput(now, { local: t.remote, remote: t.local, data: t.data });
      }
    }
    for (let e = a.pollEvent(); e; e = a.pollEvent()) events.a.push(e);
    for (let e = b.pollEvent(); e; e = b.pollEvent()) events.b.push(e);
    now += 5;
    a.handleTimeout(now);
    b.handleTimeout(now);
  }
  assert.ok(a.selectedPair && b.selectedPair, 'the agents did not connect');
  return events;
}

const types = (es: IceAgentEvent[]): string[] => es.map((e) => e.type).filter((t) => t === 'valid-pair' || t === 'selected-pair');

test('the controlled agent announces its first valid pair before the nomination selects it, once', () => {
  const a = agent(1, 'controlling', A);
  const b = agent(2, 'controlled', B);
  pairUp(a, b);
  const events = run(a, b);
  assert.deepEqual(types(events.b), ['valid-pair', 'selected-pair']);
  const valid = events.b.find((e) => e.type === 'valid-pair');
  assert.ok(valid && valid.type === 'valid-pair');
  assert.deepEqual(valid.pair.remoteAddress, A);
  assert.deepEqual(valid.pair.localBase, B);
});

test('no announcement while the peer has not had our answer on that path; it comes with our first answer', () => {
  const a = agent(3, 'controlling', A);
  const b = agent(4, 'controlled', B);
  pairUp(a, b);
  // The controlling agent's checks reach the controlled one only from the 20th step of 5 ms on, so
  // the controlled agent's own check succeeds long before it has answered one.
  let now = 0;
  const held: Uint8Array[] = [];
  const eventsB: IceAgentEvent[] = [];
  for (let step = 0; step < 600 && !(a.selectedPair && b.selectedPair); step++) {
    for (const [from, to] of [[a, b], [b, a]] as const) {
      for (let t = from.pollTransmit(); t; t = from.pollTransmit()) {
        if (from === a && isRequest(t.data) && step < 20) {
          held.push(t.data);
          continue;
        }
        to.handleInput(now, { local: t.remote, remote: t.local, data: t.data });
      }
    }
    for (let e = a.pollEvent(); e; e = a.pollEvent());
    for (let e = b.pollEvent(); e; e = b.pollEvent()) eventsB.push({ ...e, at: step } as unknown as IceAgentEvent);
    now += 5;
    a.handleTimeout(now);
    b.handleTimeout(now);
    if (step === 19) {
      // By now the controlled agent's check has its answer: a valid pair, but nothing announced.
      assert.ok(b.isValidatedRemote(A), 'the controlled agent validated the path');
      assert.deepEqual(types(eventsB), []);
    }
  }
  assert.ok(held.length > 0, 'requests were held back');
  assert.deepEqual(types(eventsB), ['valid-pair', 'selected-pair']);
  const at = (eventsB.find((e) => e.type === 'valid-pair') as unknown as { at: number }).at;
  assert.ok(at >= 20, `announced at step ${at}, after the first answer`);
});

test('after an ICE restart that keeps the selected pair, nothing is announced (data stays on the selected pair)', () => {
  const a = agent(5, 'controlling', A);
  const b = agent(6, 'controlled', B);
  pairUp(a, b);
  run(a, b);
  const credsA = a.restart(1000);
  const credsB = b.restart(1000);
  a.setRemoteCredentials(0, credsB);
  b.setRemoteCredentials(0, credsA);
  a.addRemoteCandidate(0, `candidate:1 1 udp 2130706431 ${B.address} ${B.port} typ host`);
  a.addRemoteCandidate(0, null);
  b.addRemoteCandidate(0, `candidate:1 1 udp 2130706431 ${A.address} ${A.port} typ host`);
  b.addRemoteCandidate(0, null);
  const events = run(a, b, 1000, 200);
  // The new session's checks ran and validated the path again, with the old pair still selected.
  assert.ok(events.b.some((e) => e.type === 'remote-validated'));
  assert.ok(!events.b.some((e) => e.type === 'valid-pair'));
});
