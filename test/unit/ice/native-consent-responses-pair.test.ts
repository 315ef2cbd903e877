// Verified answers to natively sent consent checks refresh only the pair they answered (RFC 7675 §5.1:
// consent is per 5-tuple; docs/ice.md "Consent checks sent natively"): counts handed over for a pair
// the agent has switched away from are dropped and counted, and a due check the driver could not send
// natively leaves from the agent instead of being counted as sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StunMessage } from '../../../lib/ice/stun-message.js';
import { StunClass, StunMethod } from '../../../lib/ice/stun-constants.js';
import type { TransportAddress } from '../../../lib/ice/transport-address.js';
import { connectTwoHostAgents, R1, R2, SERVER, useCandidateCheck } from './two-host-agents.js';

const DISCONNECTED_MS = 3000;

const key = (r: TransportAddress | undefined): string => `${r?.address}:${r?.port}`;

test('verified native consent answers for the old pair do not refresh the newly selected one', () => {
  const c = connectTwoHostAgents({ disconnectedTimeoutMs: DISCONNECTED_MS, consentTimeoutMs: 30_000 });
  const { server, client } = c;
  let now = c.now;
  const old = key(server.selectedPair?.remote) === key(R1) ? R1 : R2;
  const next = old === R1 ? R2 : R1;
  server.delegateConsentChecks(true);
  // The peer switches pairs: the server follows the nomination.
  now += 10;
  server.handleInput(now, { local: SERVER, remote: next, data: useCandidateCheck(server, client, 90) });
  assert.equal(key(server.selectedPair?.remote), key(next));
  while (server.pollEvent());
  while (server.pollTransmit());
  const selectedAt = now;
  const received0 = server.stats.responsesReceived;
  // Past the disconnected timeout with nothing heard on the new pair; then the old registration hands
  // over answers that arrived just now: they are not the new pair's.
  now = selectedAt + DISCONNECTED_MS + 500;
  assert.equal(server.noteConsentResponses(now, 2, now - 10, SERVER, old), false);
  assert.equal(server.stats.drops['consent-response-stale-pair'], 2, 'the stale answers are counted as dropped');
  assert.equal(server.stats.responsesReceived, received0, 'and not as received');
  server.handleTimeout(now);
  assert.equal(server.state, 'disconnected', 'the new pair was not refreshed by the old pair\'s answers');
  // An answer from the selected pair's own registration refreshes it.
  assert.equal(server.noteConsentResponses(now, 1, now - 10, SERVER, next), true);
  assert.equal(server.stats.responsesReceived, received0 + 1);
  assert.notEqual(server.state, 'disconnected');
  // So does one for the right remote but another local base: no (a different 5-tuple).
  now += DISCONNECTED_MS + 500;
  assert.equal(server.noteConsentResponses(now, 1, now - 10, { address: '10.0.0.9', port: SERVER.port }, next), false);
  assert.equal(server.stats.drops['consent-response-stale-pair'], 3);
});

test('a due consent check the driver could not send natively is sent by the agent and not counted twice', () => {
  const c = connectTwoHostAgents({ disconnectedTimeoutMs: DISCONNECTED_MS, consentTimeoutMs: 30_000 });
  const { server } = c;
  let now = c.now;
  server.delegateConsentChecks(true);
  while (server.pollTransmit());
  // Run until the agent counts one check as due for the driver (delegated: nothing transmitted).
  const sent0 = server.stats.consentChecksSent;
  for (let i = 0; i < 2000 && server.stats.consentChecksSent === sent0; i++) {
    now += 10;
    server.handleTimeout(now);
  }
  assert.equal(server.takeConsentChecksDue(), 1, 'one check due for the driver');
  const requests: Buffer[] = [];
  for (let t = server.pollTransmit(); t; t = server.pollTransmit()) {
    const m = StunMessage.decode(t.data);
    if (m.ok && m.message.messageClass === StunClass.Request) requests.push(t.data);
  }
  assert.equal(requests.length, 0, 'delegated: the agent built no check');
  // The driver reports it unsent: delegation goes off and the agent sends it now.
  server.delegateConsentChecks(false);
  server.sendUnsentConsentCheck(now);
  let out = 0;
  for (let t = server.pollTransmit(); t; t = server.pollTransmit()) {
    const m = StunMessage.decode(t.data);
    if (m.ok && m.message.messageClass === StunClass.Request && m.message.method === StunMethod.Binding) {
      out++;
      assert.equal(key(t.remote), key(server.selectedPair?.remote), 'on the selected pair');
    }
  }
  assert.equal(out, 1, 'the check left from the agent');
  assert.equal(server.stats.consentChecksSent, sent0 + 1, 'counted once');
});
