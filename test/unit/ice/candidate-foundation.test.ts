// The local candidate foundation (RFC 8445 §5.1.1.3): the agent's FNV-1a hash over
// "type|base IP|server|protocol" takes one step per code point (a surrogate pair hashes its high
// half), as the for-of over the string it replaced did; the index loop must give the same values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../../lib/common/rng.js';
import { IceAgent } from '../../../lib/ice/ice-agent.js';

/** The former formula, written out with for-of over the string's code points. */
function foundationByCodePoints(text: string): string {
  let h = 0x811c9dc5;
  for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return String(h);
}

const SERVERS = ['', 'turn.example.org:3478', 'tûrn.exämple:3478', 'relay-😀.example:443', '\ud83d', 'x\udc00y', '\ud83d\ud83d\ude00'];

test('relay foundations hash one step per code point: plain, Latin-1, astral, lone and doubled surrogates', () => {
  for (let i = 0; i < SERVERS.length; i++) {
    const server = SERVERS[i]!;
    const agent = new IceAgent({ rng: new SeededRng(3), role: 'controlling' });
    const c = agent.addLocalCandidate(0, { type: 'relay', address: '203.0.113.9', port: 50000, base: { address: '10.0.0.1', port: 40000 }, server });
    assert.equal(c.foundation, foundationByCodePoints(`relay|10.0.0.1|${server}|udp`), JSON.stringify(server));
  }
});

test('host foundations: same base IP and protocol give one foundation, another IP or protocol another', () => {
  const agent = new IceAgent({ rng: new SeededRng(4), role: 'controlling' });
  const a = agent.addLocalCandidate(0, { type: 'host', address: '10.0.0.1', port: 1000 });
  const b = agent.addLocalCandidate(0, { type: 'host', address: '10.0.0.1', port: 1001 });
  const c = agent.addLocalCandidate(0, { type: 'host', address: '10.0.0.2', port: 1000 });
  assert.equal(a.foundation, foundationByCodePoints('host|10.0.0.1||udp'));
  assert.equal(a.foundation, b.foundation);
  assert.notEqual(a.foundation, c.foundation);
});
