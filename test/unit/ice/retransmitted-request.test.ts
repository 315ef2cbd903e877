// A retransmission of a request (the same transaction, RFC 8489 §6.2.1) that reaches the agent while the
// triggered check it caused is in flight is answered again but checks the pair no second time
// (RFC 8445 §7.3.1.4 acted on that transaction already; docs/ice.md "Agent behaviour"). A new request
// (another transaction) on the pair in that state still cancels and re-triggers, as §7.3.1.4 says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../../lib/common/rng.js';
import { IceAgent, type IceTransmit } from '../../../lib/ice/ice-agent.js';
import { StunMessage } from '../../../lib/ice/stun-message.js';
import { StunAttr, StunClass, StunMethod } from '../../../lib/ice/stun-constants.js';

const A = { address: '10.0.0.1', port: 1000 };
const B = { address: '10.0.0.2', port: 2000 };

function drain(agent: IceAgent): { requests: IceTransmit[]; responses: IceTransmit[] } {
  const requests: IceTransmit[] = [];
  const responses: IceTransmit[] = [];
  for (let t = agent.pollTransmit(); t; t = agent.pollTransmit()) {
    const d = StunMessage.decode(t.data);
    assert.ok(d.ok);
    (d.message.messageClass === StunClass.Request ? requests : responses).push(t);
  }
  return { requests, responses };
}

function agents(): { a: IceAgent; b: IceAgent } {
  const a = new IceAgent({ rng: new SeededRng(1), role: 'controlling' });
  const b = new IceAgent({ rng: new SeededRng(2), role: 'controlled' });
  a.addLocalCandidate(0, { type: 'host', address: A.address, port: A.port });
  a.endOfLocalCandidates(0);
  b.addLocalCandidate(0, { type: 'host', address: B.address, port: B.port });
  b.endOfLocalCandidates(0);
  a.setRemoteCredentials(0, b.localCredentials);
  b.setRemoteCredentials(0, a.localCredentials);
  a.addRemoteCandidate(0, `candidate:1 1 udp 2130706431 ${B.address} ${B.port} typ host`);
  a.addRemoteCandidate(0, null);
  b.addRemoteCandidate(0, `candidate:1 1 udp 2130706431 ${A.address} ${A.port} typ host`);
  b.addRemoteCandidate(0, null);
  return { a, b };
}

test("a retransmitted request finds its triggered check in flight: answered again, no second check", () => {
  const { a, b } = agents();
  // B checks; its request reaches A, which has not checked yet: A answers and its first check is the triggered one.
  b.handleTimeout(0);
  const check = drain(b).requests;
  assert.equal(check.length, 1);
  a.handleInput(1, { local: A, remote: B, data: check[0]!.data });
  a.handleTimeout(1);
  const first = drain(a);
  assert.equal(first.responses.length, 1);
  assert.equal(first.requests.length, 1, 'the triggered check');
  // B did not get the answer in time and retransmits: same bytes, same transaction.
  a.handleInput(300, { local: A, remote: B, data: check[0]!.data });
  a.handleTimeout(300);
  const again = drain(a);
  assert.equal(again.responses.length, 1, 'the retransmission is answered');
  assert.equal(again.requests.length, 0, 'no second triggered check');
  assert.equal(a.stats.checksSent, 1);
  // The triggered check's answer completes the pair; nothing comes back to no transaction.
  b.handleInput(301, { local: B, remote: A, data: first.requests[0]!.data });
  const answer = drain(b).responses;
  assert.equal(answer.length, 1);
  a.handleInput(302, { local: A, remote: B, data: answer[0]!.data });
  assert.equal(a.stats.drops['unmatched-response'], 0);
  assert.equal(a.stats.responsesReceived, 1);
});

/** A check from B to A with transaction id bytes `id` (what B's agent sends for a new transaction). */
function checkFromB(a: IceAgent, b: IceAgent, id: number): Buffer {
  return new StunMessage(StunMethod.Binding, StunClass.Request, Buffer.alloc(12, id))
    .addString(StunAttr.Username, `${a.localCredentials.ufrag}:${b.localCredentials.ufrag}`)
    .addUint32(StunAttr.Priority, 0x6e0001ff)
    .addUint64(StunAttr.IceControlled, 1n)
    .encode({ integrityKey: Buffer.from(a.localCredentials.password), fingerprint: true });
}

test('a new request on the pair whose check is in flight still cancels and re-triggers (RFC 8445 §7.3.1.4)', () => {
  const { a, b } = agents();
  a.handleInput(1, { local: A, remote: B, data: checkFromB(a, b, 1) });
  a.handleTimeout(1);
  assert.equal(drain(a).requests.length, 1, 'the triggered check');
  // The same transaction again: answered, no check.
  a.handleInput(2, { local: A, remote: B, data: checkFromB(a, b, 1) });
  a.handleTimeout(100);
  assert.deepEqual([drain(a)].map((d) => [d.responses.length, d.requests.length]), [[1, 0]]);
  // Another transaction: answered, and the pair is checked again.
  a.handleInput(101, { local: A, remote: B, data: checkFromB(a, b, 2) });
  a.handleTimeout(200);
  assert.deepEqual([drain(a)].map((d) => [d.responses.length, d.requests.length]), [[1, 1]]);
  assert.equal(a.stats.checksSent, 2);
  assert.equal(a.stats.requestsReceived, 3);
});

test("both agents check at once: the request that finds our check In-Progress re-triggers it at the next Ta tick, and an answer first makes that check unneeded", () => {
  for (const answerFirst of [true, false]) {
    const { a, b } = agents();
    // A checks first (its ordinary check is In-Progress), then B's check of the same pair arrives.
    a.handleTimeout(0);
    const ours = drain(a).requests;
    assert.equal(ours.length, 1);
    b.handleTimeout(0);
    const theirs = drain(b).requests;
    a.handleInput(1, { local: A, remote: B, data: theirs[0]!.data });
    a.handleTimeout(1);
    const now = drain(a);
    assert.equal(now.responses.length, 1, "B's check is answered at once");
    assert.equal(now.requests.length, 0, 'the new check waits for the next Ta tick (20 ms by default)');
    assert.ok(a.pollTimeout()! >= 20, `next timeout ${a.pollTimeout()}`);
    if (answerFirst) {
      // B's answer to A's check arrives before the tick: the pair succeeds; nothing more is sent for it.
      b.handleInput(2, { local: B, remote: A, data: ours[0]!.data });
      const answer = drain(b).responses;
      a.handleInput(3, { local: A, remote: B, data: answer[0]!.data });
      a.handleTimeout(25);
      const later = drain(a).requests;
      // Only the nominating check (USE-CANDIDATE) of the controlling agent, no second ordinary check.
      assert.equal(later.length, 1);
      const d = StunMessage.decode(later[0]!.data);
      assert.ok(d.ok && d.message.has(StunAttr.UseCandidate));
      assert.equal(a.stats.checksSent, 2);
    } else {
      // No answer yet at the tick: the triggered check leaves (RFC 8445 §7.3.1.4).
      a.handleTimeout(21);
      const later = drain(a).requests;
      assert.equal(later.length, 1);
      const d = StunMessage.decode(later[0]!.data);
      assert.ok(d.ok && !d.message.has(StunAttr.UseCandidate));
      assert.equal(a.stats.checksSent, 2);
    }
    assert.equal(a.stats.drops['unmatched-response'], 0);
  }
});

test("requests arriving faster than Ta on a pair whose own check goes unanswered do not hold back the agent's other checks", () => {
  // A has three remote candidates; its check to B goes unanswered (loss one way), while B's new
  // checks of that pair arrive every 3 ms (Ta is 20 ms). The re-trigger waits for the next tick
  // but must not push that tick away each time: A still checks every Ta.
  const a = new IceAgent({ rng: new SeededRng(1), role: 'controlling' });
  const b = new IceAgent({ rng: new SeededRng(2), role: 'controlled' });
  a.addLocalCandidate(0, { type: 'host', address: A.address, port: A.port });
  a.endOfLocalCandidates(0);
  a.setRemoteCredentials(0, b.localCredentials);
  for (const port of [2000, 2001, 2002]) a.addRemoteCandidate(0, `candidate:${port} 1 udp ${2130706431 - port} ${B.address} ${port} typ host`);
  a.addRemoteCandidate(0, null);
  let id = 1;
  let sent = 0;
  for (let now = 0; now <= 2000; now++) {
    if (now % 3 === 1) a.handleInput(now, { local: A, remote: B, data: checkFromB(a, b, id++ & 0xff) });
    a.handleTimeout(now);
    sent += drain(a).requests.length;
  }
  // At one check per Ta (20 ms) for 2 s: about 100; the starved agent sent 3 (its first check and
  // two retransmissions).
  assert.ok(sent >= 50, `checks sent in 2 s: ${sent}`);
});
