// Candidate attribute grammar (RFC 8839 §5.1), candidate priorities (RFC 8445 §5.1.2.1); pair
// priorities (§6.1.2.3) are tested in pair-priority.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { candidatePriority, formatCandidate, parseCandidate, IceCandidateSyntaxError } from '../../../lib/ice/candidate.js';

test('parses Chromium host, srflx, relay and mDNS lines, and formats them back', () => {
  const host = parseCandidate('a=candidate:842163049 1 udp 1677729535 192.0.2.7 54400 typ host generation 0 ufrag EsAw network-cost 999');
  assert.equal(host.foundation, '842163049');
  assert.equal(host.priority, 1677729535);
  assert.equal(host.ufrag, 'EsAw');
  assert.equal(formatCandidate(host), 'candidate:842163049 1 udp 1677729535 192.0.2.7 54400 typ host ufrag EsAw');
  const srflx = parseCandidate('candidate:1 1 UDP 1686052607 203.0.113.4 61000 typ srflx raddr 10.0.0.2 rport 61000');
  assert.equal(srflx.protocol, 'udp');
  assert.equal(srflx.relatedAddress, '10.0.0.2');
  assert.equal(srflx.relatedPort, 61000);
  const v6 = parseCandidate('candidate:2 1 udp 2122262783 2001:DB8:0:0::1 5000 typ host');
  assert.equal(v6.address, '2001:db8::1');
  const mdns = parseCandidate('candidate:3 1 udp 2122260223 1f2e3d4c-aaaa-bbbb-cccc-0123456789ab.local 49152 typ host');
  assert.equal(mdns.address.endsWith('.local'), true);
  const tcp = parseCandidate('candidate:4 1 tcp 1518280447 192.0.2.7 9 typ host tcptype active');
  assert.equal(tcp.tcpType, 'active');
});

test('malformed lines throw a typed SyntaxError', () => {
  for (const bad of ['', 'candidate:', 'candidate:1 1 udp x 1.2.3.4 5 typ host', 'candidate:1 1 sctp 1 1.2.3.4 5 typ host',
    'candidate:1 1 udp 1 1.2.3.4 70000 typ host', 'candidate:1 1 udp 1 1.2.3.4 5 typ bogus', 'candidate:1 1 udp 1 evil.example.com 5 typ host',
    'foo', 'candidate:1 0 udp 1 1.2.3.4 5 typ host']) {
    assert.throws(() => parseCandidate(bad), (e: unknown) => e instanceof IceCandidateSyntaxError && e.code === 'ERR_ICE_CANDIDATE_SYNTAX' && e.name === 'SyntaxError', bad);
  }
});

test('candidate priorities follow the RFC 8445 formula', () => {
  assert.equal(candidatePriority('host', 65535), 126 * 2 ** 24 + 65535 * 256 + 255);
  assert.equal(candidatePriority('relay', 0), 255);
});

test('property: format → parse round trip; arbitrary text never escapes as a non-typed error', () => {
  fc.assert(fc.property(
    fc.record({ foundation: fc.stringMatching(/^[a-z0-9]{1,10}$/), priority: fc.integer({ min: 1, max: 0xffffffff }), port: fc.integer({ min: 0, max: 65535 }),
      a: fc.ipV4(), type: fc.constantFrom('host', 'srflx', 'prflx', 'relay' as const) }),
    (r) => {
      const c = { foundation: r.foundation, component: 1, protocol: 'udp' as const, priority: r.priority, address: r.a, port: r.port, type: r.type };
      // Port 0, 0.0.0.0/8, multicast and the broadcast address are no peer's transport address.
      const first = Number(r.a.split('.')[0]);
      const unicast = r.port !== 0 && first !== 0 && (first < 224 || first > 239) && r.a !== '255.255.255.255';
      if (unicast) assert.deepEqual(parseCandidate(formatCandidate(c)), c);
      else assert.throws(() => parseCandidate(formatCandidate(c)), IceCandidateSyntaxError);
    }), { numRuns: 300 });
  fc.assert(fc.property(fc.string({ maxLength: 80 }), (s) => {
    try { parseCandidate(`candidate:${s}`); } catch (e) { assert.ok(e instanceof IceCandidateSyntaxError); }
  }), { numRuns: 1000 });
});
