// IceTransport's mDNS counters (docs/ice.md "mDNS"): names looked up, resolved and not; candidates
// ignored for an unresolved name; a resolver that never answers is cut off by the transport's
// deadline, and the connection does not fail while the lookup is pending.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IceTransport, MDNS_RESOLVE_DEADLINE_MS } from '../../../lib/transport/ice-transport.js';

const NAME = '0b1c9a5e-4444-4c2e-9d55-0123456789ab.local';
const REMOTE = { usernameFragment: 'abcd', password: 'abcdefghijklmnopqrstuv' };

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

test('a resolver answering with something that is not an IP: the name is unresolved, its candidates ignored and counted', { timeout: 10_000 }, async () => {
  const asked: string[] = [];
  const t = new IceTransport({ gather: { addresses: ['127.0.0.1'] }, resolveMdns: async (n) => { asked.push(n); return 'not an address'; } });
  try {
    await t.gather();
    t.setRemoteParameters(REMOTE);
    t.addRemoteCandidate(`candidate:1 1 udp 2122260223 ${NAME} 3000 typ host`);
    t.addRemoteCandidate(`candidate:2 1 udp 2122260222 ${NAME} 3001 typ host`);
    t.addRemoteCandidate(null);
    await until(() => t.stats.mdns.unresolved > 0, 5000);
    assert.deepEqual(asked, [NAME], 'one lookup per name');
    const m = t.stats.mdns;
    assert.deepEqual({ queries: m.queries, resolved: m.resolved, unresolved: m.unresolved, candidatesIgnored: m.candidatesIgnored }, { queries: 1, resolved: 0, unresolved: 1, candidatesIgnored: 2 });
    assert.equal(t.agent.remoteCandidateList.length, 0);
  } finally {
    t.close();
  }
});

test('a resolver that never answers: cut off at the deadline, counted; the agent was not failed meanwhile', { timeout: 20_000 }, async () => {
  let late: ((a: string) => void) | undefined;
  const t = new IceTransport({ gather: { addresses: ['127.0.0.1'] }, resolveMdns: () => new Promise<string>((r) => { late = r; }), agent: { noPairTimeoutMs: 200 } });
  try {
    await t.gather();
    t.setRemoteParameters(REMOTE);
    t.addRemoteCandidate(`candidate:1 1 udp 2122260223 ${NAME} 3000 typ host`);
    t.addRemoteCandidate(null);
    await new Promise((r) => setTimeout(r, 1000));
    assert.notEqual(t.agent.state, 'failed', 'no pair, but the lookup is pending');
    assert.equal(t.stats.mdns.unresolved, 0);
    await until(() => t.stats.mdns.unresolved > 0, MDNS_RESOLVE_DEADLINE_MS + 2000);
    assert.equal(t.stats.mdns.unresolved, 1);
    assert.equal(t.stats.mdns.candidatesIgnored, 1);
    await until(() => t.agent.state === 'failed', 3000);
    assert.equal(t.agent.state, 'failed', 'fails after the no-pair grace once the lookup ended');
    // The answer after the agent's deadline is not counted again.
    late!('127.0.0.1');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual([t.stats.mdns.resolved, t.stats.mdns.unresolved, t.stats.mdns.candidatesIgnored], [0, 1, 1]);
  } finally {
    t.close();
  }
});

test('a resolver answering with an address: resolved, the candidate is paired', { timeout: 10_000 }, async () => {
  const t = new IceTransport({ gather: { addresses: ['127.0.0.1'] }, resolveMdns: async () => '127.0.0.1' });
  try {
    await t.gather();
    t.setRemoteParameters(REMOTE);
    t.addRemoteCandidate(`candidate:1 1 udp 2122260223 ${NAME} 3000 typ host`);
    await until(() => t.stats.mdns.resolved > 0, 5000);
    assert.equal(t.stats.mdns.resolved, 1);
    assert.equal(t.stats.mdns.candidatesIgnored, 0);
    assert.equal(t.agent.remoteCandidateList[0]?.address, '127.0.0.1');
  } finally {
    t.close();
  }
});

// An ICE restart drops the previous generation's remote candidates, those still waiting for their
// name too (docs/ice.md "mDNS"): the answer that comes after is counted as `stale`, not `resolved`
// (the agent adds nothing for it), and a new-generation candidate of the same name is looked up and
// counted on its own.
for (const who of ['our restart', "the peer's restart"] as const) {
  test(`a late answer for a name ${who} dropped is counted as stale, not resolved; a new lookup of the name counts on its own`, { timeout: 10_000 }, async () => {
    const pending: ((a: string | undefined) => void)[] = [];
    const t = new IceTransport({ gather: { addresses: ['127.0.0.1'] }, resolveMdns: () => new Promise((r) => { pending.push(r); }) });
    try {
      await t.gather();
      t.setRemoteParameters(REMOTE);
      t.addRemoteCandidate(`candidate:1 1 udp 2122260223 ${NAME} 3000 typ host ufrag ${REMOTE.usernameFragment}`);
      await until(() => pending.length === 1, 2000);
      assert.equal(pending.length, 1);
      assert.equal(t.agent.mdnsPending, true);
      const next = { usernameFragment: 'efgh', password: 'bcdefghijklmnopqrstuvw' };
      if (who === 'our restart') t.restart();
      else t.setRemoteParameters(next);
      assert.equal(t.agent.mdnsPending, false, 'the lookup was dropped with its candidate');
      // The answer comes late: the agent adds nothing, the transport counts it stale.
      pending[0]!('127.0.0.1');
      await new Promise((r) => setImmediate(r));
      const m = t.stats.mdns;
      assert.deepEqual({ queries: m.queries, resolved: m.resolved, unresolved: m.unresolved, stale: m.stale, candidatesIgnored: m.candidatesIgnored },
        { queries: 1, resolved: 0, unresolved: 0, stale: 1, candidatesIgnored: 0 });
      assert.equal(t.agent.remoteCandidateList.length, 0, 'no candidate added');
      // A candidate of the new generation with the same name: looked up again, resolved, counted once.
      if (who === 'our restart') t.setRemoteParameters(next);
      t.addRemoteCandidate(`candidate:2 1 udp 2122260223 ${NAME} 3002 typ host ufrag ${next.usernameFragment}`);
      await until(() => pending.length === 2, 2000);
      assert.equal(pending.length, 2, 'the name is looked up again');
      pending[1]!('127.0.0.1');
      await until(() => t.stats.mdns.resolved > 0, 2000);
      assert.deepEqual([t.stats.mdns.queries, t.stats.mdns.resolved, t.stats.mdns.stale], [2, 1, 1]);
      assert.deepEqual(t.agent.remoteCandidateList.map((c) => `${c.address}:${c.port}`), ['127.0.0.1:3002']);
      // A second answer for the settled stale lookup changes nothing.
      pending[0]!(undefined);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual([t.stats.mdns.resolved, t.stats.mdns.unresolved, t.stats.mdns.stale], [1, 0, 1]);
    } finally {
      t.close();
    }
  });
}
