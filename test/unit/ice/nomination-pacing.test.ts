// The controlling agent's nominating check (RFC 8445 §8.1.1, USE-CANDIDATE on the pair whose
// check just succeeded) leaves at once, not after the pacer (docs/ice.md "Agent behaviour"); the
// next new check is paced from it, so other pairs still get one check per Ta.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../../lib/common/rng.js';
import { IceAgent, type IceTransmit } from '../../../lib/ice/ice-agent.js';
import { StunMessage } from '../../../lib/ice/stun-message.js';
import { StunAttr, StunClass } from '../../../lib/ice/stun-constants.js';

const A = { address: '10.0.0.1', port: 1000 };
const B = { address: '10.0.0.2', port: 2000 };
const B2 = { address: '10.0.0.3', port: 3000 };
const TA = 50;

function request(t: IceTransmit): { useCandidate: boolean } | undefined {
  const d = StunMessage.decode(t.data);
  if (!d.ok || d.message.messageClass !== StunClass.Request) return undefined;
  return { useCandidate: d.message.has(StunAttr.UseCandidate) };
}

function drainTransmits(agent: IceAgent): IceTransmit[] {
  const out: IceTransmit[] = [];
  for (let t = agent.pollTransmit(); t; t = agent.pollTransmit()) out.push(t);
  return out;
}

test('the nominating check leaves with the success that allows it; the next new check waits a full Ta', () => {
  const a = new IceAgent({ rng: new SeededRng(1), role: 'controlling', taMs: TA });
  const b = new IceAgent({ rng: new SeededRng(2), role: 'controlled', taMs: TA });
  a.addLocalCandidate(0, { type: 'host', address: A.address, port: A.port });
  a.endOfLocalCandidates(0);
  b.addLocalCandidate(0, { type: 'host', address: B.address, port: B.port });
  b.endOfLocalCandidates(0);
  a.setRemoteCredentials(0, b.localCredentials);
  b.setRemoteCredentials(0, a.localCredentials);
  // B is the better pair; B2 (nobody answers there) is checked after it, one Ta later.
  a.addRemoteCandidate(0, `candidate:1 1 udp 2130706431 ${B.address} ${B.port} typ host`);
  a.addRemoteCandidate(0, `candidate:2 1 udp 2130706000 ${B2.address} ${B2.port} typ host`);
  a.addRemoteCandidate(0, null);
  a.handleTimeout(0);
  const first = drainTransmits(a);
  assert.equal(first.length, 1);
  assert.deepEqual(first[0]!.remote, B);
  assert.deepEqual(request(first[0]!), { useCandidate: false });

  // b answers at t=1; a's success lets it nominate, and the USE-CANDIDATE check leaves in the same call.
  b.handleInput(1, { local: B, remote: A, data: first[0]!.data });
  const responses = drainTransmits(b).filter((t) => request(t) === undefined);
  assert.equal(responses.length, 1);
  a.handleInput(1, { local: A, remote: B, data: responses[0]!.data });
  const afterSuccess = drainTransmits(a).filter((t) => request(t) !== undefined);
  assert.deepEqual(afterSuccess.map((t) => [t.remote.address, request(t)!.useCandidate]), [[B.address, true]]);

  // The ordinary check to B2 is due one Ta after the nominating check, not after the first check.
  a.handleTimeout(TA);
  assert.equal(drainTransmits(a).filter((t) => request(t) !== undefined).length, 0, 'no new check before 1 + Ta');
  a.handleTimeout(1 + TA);
  const paced = drainTransmits(a).filter((t) => request(t) !== undefined);
  assert.deepEqual(paced.map((t) => [t.remote.address, request(t)!.useCandidate]), [[B2.address, false]]);

});
