// Nominations counted by the shared port's native consent answers (docs/ice.md "Consent checks answered
// natively"; RFC 8445 §7.3.1.5) arrive up to a tick late: they may refresh the selected pair, never
// bring back a pair the controlling peer has since switched away from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../../lib/common/rng.js';
import { IceAgent } from '../../../lib/ice/ice-agent.js';
import { StunMessage } from '../../../lib/ice/stun-message.js';
import { StunAttr, StunClass, StunMethod } from '../../../lib/ice/stun-constants.js';
import type { TransportAddress } from '../../../lib/ice/transport-address.js';

const SERVER = { address: '10.0.0.2', port: 2000 };
const R1 = { address: '10.0.0.1', port: 1001 };
const R2 = { address: '10.0.0.1', port: 1002 };

/** Connects a controlled server (full or lite) to a controlling client with two host candidates, R1 and R2. */
function connect(mode: 'full' | 'lite'): { server: IceAgent; client: IceAgent; now: number } {
  const server = new IceAgent({ rng: new SeededRng(7), role: 'controlled', mode });
  server.addLocalCandidate(0, { type: 'host', address: SERVER.address, port: SERVER.port });
  server.endOfLocalCandidates(0);
  const client = new IceAgent({ rng: new SeededRng(8), role: 'controlling' });
  client.addLocalCandidate(0, { type: 'host', address: R1.address, port: R1.port });
  client.addLocalCandidate(0, { type: 'host', address: R2.address, port: R2.port });
  client.endOfLocalCandidates(0);
  client.setRemoteCredentials(0, server.localCredentials, { lite: mode === 'lite' });
  server.setRemoteCredentials(0, client.localCredentials);
  client.addRemoteCandidate(0, `candidate:1 1 udp 2130706431 ${SERVER.address} ${SERVER.port} typ host`);
  client.addRemoteCandidate(0, null);
  server.addRemoteCandidate(0, `candidate:1 1 udp 2130706431 ${R1.address} ${R1.port} typ host`);
  server.addRemoteCandidate(0, `candidate:2 1 udp 2130706175 ${R2.address} ${R2.port} typ host`);
  server.addRemoteCandidate(0, null);
  let now = 0;
  // Run until both have selected a pair and every check has settled (both pairs succeeded on the full server).
  for (let step = 0; step < 600; step++) {
    for (const [from, to] of [[client, server], [server, client]] as const) {
      for (let t = from.pollTransmit(); t; t = from.pollTransmit()) to.handleInput(now, { local: t.remote, remote: t.local, data: t.data });
    }
    while (server.pollEvent());
    while (client.pollEvent());
    now += 10;
    client.handleTimeout(now);
    server.handleTimeout(now);
  }
  assert.ok(server.selectedPair && client.selectedPair, 'the agents did not connect');
  return { server, client, now };
}

/** A nominating check from `from`, as libwebrtc sends on its selected pair. */
function useCandidateCheck(server: IceAgent, client: IceAgent, id: number): Buffer {
  return new StunMessage(StunMethod.Binding, StunClass.Request, Buffer.alloc(12, id))
    .addString(StunAttr.Username, `${server.localCredentials.ufrag}:${client.localCredentials.ufrag}`)
    .addUint32(StunAttr.Priority, 0x6e0001ff)
    .addUint64(StunAttr.IceControlling, 1n)
    .addFlag(StunAttr.UseCandidate)
    .encode({ integrityKey: Buffer.from(server.localCredentials.password), fingerprint: true });
}

const remoteOf = (a: IceAgent): string => `${a.selectedPair?.remote.address}:${a.selectedPair?.remote.port}`;
const key = (r: TransportAddress): string => `${r.address}:${r.port}`;

for (const mode of ['full', 'lite'] as const) {
  test(`${mode} server: late native nominations for the old pair do not flip the selection back`, () => {
    const c = connect(mode);
    const { server, client } = c;
    let now = c.now;
    const old = remoteOf(server) === key(R1) ? R1 : R2;
    const next = old === R1 ? R2 : R1;
    assert.equal(remoteOf(server), key(old));
    // The peer switches: a nominating check on the other pair, handled by the agent (not registered natively yet).
    now += 10;
    server.handleInput(now, { local: SERVER, remote: next, data: useCandidateCheck(server, client, 90) });
    assert.equal(remoteOf(server), key(next), 'the server followed the nomination');
    while (server.pollEvent());
    // The old registration is released and hands over its counts, nominations included.
    now += 10;
    server.noteRequestsAnswered(now, 5, 5, SERVER, old);
    const events: string[] = [];
    for (let e = server.pollEvent(); e; e = server.pollEvent()) if (e.type === 'selected-pair') events.push(key(e.pair.remote));
    assert.equal(remoteOf(server), key(next), 'the selected pair stays on the new remote');
    assert.deepEqual(events, [], 'no selected-pair event');
    // Nominations from the selected pair's remote are still applied (they refresh it).
    server.noteRequestsAnswered(now + 10, 3, 3, SERVER, next);
    assert.equal(remoteOf(server), key(next));
  });
}
