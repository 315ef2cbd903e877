// The first checks after the peer's credentials wait for the loop to read the sockets once (docs/ice.md
// "Driver"): a check of the peer's already waiting unread in the socket (a busy loop) is answered
// first and makes our first check of the pair the triggered one (RFC 8445 §7.3.1.4), instead of an
// ordinary check that the peer's request then finds In-Progress and checks a second time, whose
// answer comes back to no transaction (`unmatched-response`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IceTransport } from '../../../lib/transport/ice-transport.js';
import { until } from '../../integration/peer-helpers.js';

test("a peer's check waiting unread when the answer's credentials arrive: one check per side, no wasted round trip", async () => {
  const a = new IceTransport({ role: 'controlling', gather: { addresses: ['127.0.0.1'] } });
  const b = new IceTransport({ role: 'controlled', gather: { addresses: ['127.0.0.1'] } });
  try {
    await a.gather();
    await until(() => a.gatheringState === 'complete', 10_000, "A's gathering");
    // B is the answerer: it knows A before it gathers, so its first check leaves as soon as it has a socket.
    b.setRemoteParameters(a.localParameters);
    for (const c of a.localCandidates) b.addRemoteCandidate(c);
    b.addRemoteCandidate(null);
    void b.gather();
    assert.equal(b.agent.stats.checksSent, 1, "B's first check is queued with its host candidate");
    // It reaches A's socket now; A does not read it before the answer's credentials arrive (in a
    // burst of set-ups the loop is busy negotiating other connections at that moment).
    for (const s of b.localSockets) s.socket.flush();
    a.setRemoteParameters(b.localParameters);
    for (const c of b.localCandidates) a.addRemoteCandidate(c);
    a.addRemoteCandidate(null);
    assert.equal(a.agent.stats.checksSent, 0, "A's first check waits for the sockets to be read");
    const up = (t: IceTransport): boolean => t.state === 'connected' || t.state === 'completed';
    await until(() => up(a) && up(b), 10_000, 'both connected');
    // A answered B's check, then checked the pair once (triggered) and nominated it once.
    assert.equal(a.agent.stats.checksSent, 2);
    assert.equal(a.agent.stats.requestsReceived >= 1, true);
    assert.equal(a.agent.stats.drops['unmatched-response'], 0);
    assert.equal(b.agent.stats.drops['unmatched-response'], 0);
    assert.equal(b.agent.stats.checksSent, 1);
  } finally {
    a.close();
    b.close();
  }
});

test('a transport closed while its first checks wait for input sends nothing and stays closed', async () => {
  const a = new IceTransport({ role: 'controlling', gather: { addresses: ['127.0.0.1'] } });
  const b = new IceTransport({ role: 'controlled', gather: { addresses: ['127.0.0.1'] } });
  try {
    await a.gather();
    await b.gather();
    await until(() => a.gatheringState === 'complete' && b.gatheringState === 'complete', 10_000, 'gathering');
    a.setRemoteParameters(b.localParameters);
    for (const c of b.localCandidates) a.addRemoteCandidate(c);
    a.close();
    // Two turns: the hold would have ended by then.
    for (let i = 0; i < 4; i++) await new Promise((r) => setImmediate(r));
    assert.equal(a.agent.stats.checksSent, 0);
    assert.equal(a.state, 'closed');
  } finally {
    a.close();
    b.close();
  }
});
