// Connectivity checks when the process could not run on time (a busy event loop: issue 14): a check
// is given up only after its last transmission and the wait after it (RFC 8489 §6.2.1), so a late
// timer retransmits instead of failing the pair, and the answer still queued is taken. On time the
// check gives up exactly when it did before (9.5 s with the default RTOs). Sans-I/O, simulated time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../../lib/common/rng.js';
import { IceAgent } from '../../../lib/ice/ice-agent.js';

const CLIENT = { address: '10.0.0.1', port: 1001 };
const SERVER = { address: '10.0.0.2', port: 2000 };

function agents(): { client: IceAgent; server: IceAgent } {
  const server = new IceAgent({ rng: new SeededRng(3), role: 'controlled' });
  server.addLocalCandidate(0, { type: 'host', ...SERVER });
  server.endOfLocalCandidates(0);
  const client = new IceAgent({ rng: new SeededRng(4), role: 'controlling' });
  client.addLocalCandidate(0, { type: 'host', ...CLIENT });
  client.endOfLocalCandidates(0);
  client.setRemoteCredentials(0, server.localCredentials);
  server.setRemoteCredentials(0, client.localCredentials);
  client.addRemoteCandidate(0, `candidate:1 1 udp 2130706431 ${SERVER.address} ${SERVER.port} typ host`);
  client.addRemoteCandidate(0, null);
  return { client, server };
}

/** The client's transmits so far (checks to the server). */
function sent(client: IceAgent): Buffer[] {
  const out: Buffer[] = [];
  for (let t = client.pollTransmit(); t; t = client.pollTransmit()) out.push(t.data);
  return out;
}

test('a check with no answer, timers on time: 7 transmissions, given up at 9.5 s as before', () => {
  const { client } = agents();
  client.handleTimeout(0);
  let transmissions = sent(client).length;
  let failedAt: number | undefined;
  for (let i = 0; i < 100 && failedAt === undefined; i++) {
    const at = client.pollTimeout();
    assert.ok(at !== undefined, 'the agent stopped timing its check');
    client.handleTimeout(at);
    transmissions += sent(client).length;
    if (client.state === 'failed') failedAt = at;
  }
  assert.equal(transmissions, 7);
  assert.equal(failedAt, 9500);
});

test('timers 20 s late: the check is sent again instead of given up, and the queued answer makes the pair', () => {
  const { client, server } = agents();
  client.handleTimeout(0);
  const [first] = sent(client);
  assert.ok(first, 'no first check');
  // The process could not run for 20 s (twice the whole check time): the timer fires late.
  client.handleTimeout(20_000);
  assert.notEqual(client.state, 'failed');
  assert.equal(sent(client).length, 1, 'the late timer retransmits the check once');
  // The answer to the first transmission was queued unread meanwhile; it arrives now.
  server.handleInput(20_001, { local: SERVER, remote: CLIENT, data: first });
  let answered = false;
  for (let t = server.pollTransmit(); t; t = server.pollTransmit()) {
    client.handleInput(20_002, { local: CLIENT, remote: SERVER, data: t.data });
    answered = true;
  }
  assert.ok(answered, 'the server did not answer');
  assert.equal(client.stats.responsesReceived, 1);
  assert.ok(client.checkList.some((p) => p.state === 'succeeded'), 'the pair did not succeed');
});

test('timers late all along: the check is given up only after all 7 transmissions and the wait after the last', () => {
  const { client } = agents();
  client.handleTimeout(0);
  let transmissions = sent(client).length;
  let now = 0;
  let lastSentAt = 0;
  for (let i = 0; i < 100 && client.state !== 'failed'; i++) {
    // Every timer fires 5 s late.
    now = client.pollTimeout()! + 5000;
    client.handleTimeout(now);
    const n = sent(client).length;
    if (n) lastSentAt = now;
    transmissions += n;
  }
  assert.equal(client.state, 'failed');
  assert.equal(transmissions, 7);
  assert.ok(now >= lastSentAt + 1600, 'given up before the wait after the last transmission');
});
