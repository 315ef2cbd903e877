// Nominations counted by the shared port's native consent answers (docs/ice.md "Consent checks answered
// natively"; RFC 8445 §7.3.1.5) arrive up to a tick late: they may refresh the selected pair, never
// bring back a pair the controlling peer has since switched away from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IceAgent } from '../../../lib/ice/ice-agent.js';
import type { TransportAddress } from '../../../lib/ice/transport-address.js';
import { connectTwoHostAgents, R1, R2, SERVER, useCandidateCheck } from './two-host-agents.js';

const remoteOf = (a: IceAgent): string => `${a.selectedPair?.remote.address}:${a.selectedPair?.remote.port}`;
const key = (r: TransportAddress): string => `${r.address}:${r.port}`;

for (const mode of ['full', 'lite'] as const) {
  test(`${mode} server: late native nominations for the old pair do not flip the selection back`, () => {
    const c = connectTwoHostAgents({ mode });
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
