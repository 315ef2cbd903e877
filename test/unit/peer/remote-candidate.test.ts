// iceCandidateOf (lib/peer/remote-candidate.ts) gives what lib/ice's parseCandidate gives for the
// line lib/sdp parsed (RFC 8839 §5.1 fields, RFC 6544 tcptype, the ufrag extension, mDNS names),
// and rejects what it rejects. setRemoteDescription and addIceCandidate ignore and count such a
// candidate (RFC 8839 §5.1; getStats `pwtRemoteCandidatesIgnored`) and use the others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCandidate as parseIceCandidate, IceCandidateSyntaxError } from '../../../lib/ice/candidate.js';
import { parseCandidate as parseSdpCandidate } from '../../../lib/sdp/candidate.js';
import { iceCandidateOf, usableIceCandidateOf } from '../../../lib/peer/remote-candidate.js';
import { RTCPeerConnection } from '../../../lib/peer/index.js';

const ACCEPTED = [
  'candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host',
  'candidate:1 1 UDP 2130706431 127.0.0.1 40000 typ host generation 0 network-id 1',
  'candidate:a+/9 1 udp 1694498815 192.0.2.7 40001 typ srflx raddr 0.0.0.0 rport 0',
  'candidate:3 1 udp 16777215 2001:DB8:0:0::1 3478 typ relay raddr 2001:db8::7 rport 40001 ufrag abcd',
  'candidate:4 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active',
  'candidate:5 1 tcp 1518214911 127.0.0.1 4443 typ host tcptype passive ufrag wxyz ufrag last',
  'candidate:6 2 udp 1 10.0.0.1 1 typ prflx raddr 10.0.0.2',
  'candidate:7 1 udp 2122260223 4f0b7bd5-3c5c-4d51-a2d5-1b1d1c9a2a11.local 5000 typ host',
  'candidate:8 1 udp 4294967295 ::ffff:10.0.0.1 65535 typ host rport 7',
  // ABNF literals and DNS names in any case (RFC 5234 §2.3): the same candidates as in lower case.
  'candidate:9 1 UDP 2130706431 127.0.0.1 40000 TYP HOST',
  'candidate:10 1 TCP 1518214911 127.0.0.1 4443 Typ Host TCPTYPE PASSIVE',
  'candidate:11 1 udp 2122260223 4F0B7BD5-3C5C-4D51-A2D5-1B1D1C9A2A11.LOCAL 5000 typ host',
];

/** Lines lib/sdp accepts and lib/ice does not. */
const REJECTED_BY_ICE = [
  'candidate:1 1 udp 0 127.0.0.1 40000 typ host',
  'candidate:1 1 udp 5 127.0.0.1 40000 typ foo',
  'candidate:1 1 sctp 5 127.0.0.1 40000 typ host',
  'candidate:1 1 udp 5 not_an_address 40000 typ host',
  'candidate:1 1 udp 5 example.com 40000 typ host',
  'candidate:1 1 udp 5 fe80::1%eth0 40000 typ host',
];

/** One of each kind ICE cannot use, each in a form lib/sdp hands to ICE (component 1, UDP). */
const UNUSABLE = {
  fqdn: 'candidate:91 1 udp 2130706431 media.example.com 9 typ host',
  unknownType: 'candidate:92 1 udp 2130706431 192.0.2.9 9 typ relayed-v2',
  priorityZero: 'candidate:93 1 udp 0 192.0.2.9 9 typ host',
  ipv6ZoneId: 'candidate:94 1 udp 2130706431 fe80::1%eth0 9 typ host',
  badAddress: 'candidate:95 1 udp 2130706431 not_an_address 9 typ host',
  // Not one peer's transport address: checks must not go to a group, to everyone or to port 0.
  multicast: 'candidate:96 1 udp 2130706431 224.0.0.1 9 typ host',
  broadcast: 'candidate:97 1 udp 2130706431 255.255.255.255 9 typ host',
  unspecified: 'candidate:98 1 udp 2130706431 0.0.0.0 9 typ host',
  ipv6Unspecified: 'candidate:99 1 udp 2130706431 :: 9 typ host',
  ipv6Multicast: 'candidate:100 1 udp 2130706431 ff02::1 9 typ host',
  mappedMulticast: 'candidate:101 1 udp 2130706431 ::ffff:239.1.2.3 9 typ host',
  portZero: 'candidate:102 1 udp 2130706431 192.0.2.10 0 typ host',
};

test('ICE reads candidate literals in any case and lowercases names', () => {
  const upper = parseIceCandidate('candidate:10 1 TCP 1518214911 127.0.0.1 4443 Typ Host TCPTYPE PASSIVE');
  assert.deepStrictEqual([upper.protocol, upper.type, upper.tcpType], ['tcp', 'host', 'passive']);
  const mdns = parseIceCandidate('candidate:11 1 udp 2122260223 4F0B7BD5-3C5C-4D51-A2D5-1B1D1C9A2A11.LOCAL 5000 typ host');
  assert.equal(mdns.address, '4f0b7bd5-3c5c-4d51-a2d5-1b1d1c9a2a11.local');
  const sdp = parseSdpCandidate('candidate:10 1 TCP 1518214911 127.0.0.1 4443 Typ Host TCPTYPE PASSIVE');
  assert.deepStrictEqual([sdp.transport, sdp.type, sdp.tcpType], ['tcp', 'host', 'passive']);
});

test('iceCandidateOf equals lib/ice parseCandidate of the line lib/sdp parsed', () => {
  for (const line of ACCEPTED) assert.deepStrictEqual(iceCandidateOf(parseSdpCandidate(line)), parseIceCandidate(line), line);
});

test('iceCandidateOf rejects, with IceCandidateSyntaxError, every line lib/ice rejects', () => {
  for (const line of REJECTED_BY_ICE) {
    const sdp = parseSdpCandidate(line);
    assert.throws(() => parseIceCandidate(line), IceCandidateSyntaxError, line);
    assert.throws(() => iceCandidateOf(sdp), IceCandidateSyntaxError, line);
    assert.ok(usableIceCandidateOf(sdp) instanceof IceCandidateSyntaxError, line);
  }
  for (const line of ACCEPTED) assert.deepStrictEqual(usableIceCandidateOf(parseSdpCandidate(line)), parseIceCandidate(line), line);
});

function ignoredCount(stats: Map<string, { [k: string]: unknown }>): number {
  return stats.get('P')!['pwtRemoteCandidatesIgnored'] as number;
}

/** The description with `lines` put before its first candidate line, in every m-section. */
function withCandidates(sdp: string, lines: readonly string[]): string {
  const extra = lines.map((l) => `a=${l}\r\n`).join('');
  const out = sdp.replace(/(a=candidate:)/g, `${extra}$1`);
  assert.notEqual(out, sdp);
  return out;
}

test('candidates ICE cannot use are ignored and counted in offer and answer; the others connect', async () => {
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const bad = Object.values(UNUSABLE);
  try {
    a.addTransceiver('audio');
    await a.setLocalDescription(await a.createOffer());
    const offer = withCandidates(a.localDescription!.sdp, bad);
    await b.setRemoteDescription({ type: 'offer', sdp: offer });
    assert.equal(b.signalingState, 'have-remote-offer');
    assert.equal(b.remoteDescription!.sdp, offer, 'the description is applied as given');
    assert.equal(ignoredCount(await b.getStats()), bad.length);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription({ type: 'answer', sdp: withCandidates(b.localDescription!.sdp, bad) });
    assert.equal(a.signalingState, 'stable');
    assert.equal(ignoredCount(await a.getStats()), bad.length);
    await Promise.all([a.connected(15_000), b.connected(15_000)]);
    const statsB = await b.getStats();
    const remote = [...statsB.values()].filter((s) => s.type === 'remote-candidate').map((s) => s['address']);
    assert.ok(remote.length > 0);
    const refused = ['media.example.com', 'fe80::1%eth0', 'not_an_address', '224.0.0.1', '255.255.255.255', '0.0.0.0', '::', 'ff02::1', '192.0.2.10'];
    for (const addr of remote) assert.ok(!refused.includes(addr as string) && !String(addr).includes('239.1.2.3'), String(addr));
    assert.ok(!remote.includes('192.0.2.9'), 'neither the unknown type nor priority 0 reaches ICE');
  } finally {
    a.close();
    b.close();
  }
});

test('addIceCandidate resolves for a candidate ICE cannot use and counts it; unparsable text still rejects', async () => {
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    a.addTransceiver('audio');
    await a.setLocalDescription(await a.createOffer());
    const offer = a.localDescription!.sdp;
    // The offer without its candidates: b learns a's only by trickle.
    await b.setRemoteDescription({ type: 'offer', sdp: offer.replace(/a=candidate:[^\r]*\r\n/g, '').replace(/a=end-of-candidates\r\n/g, '') });
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription!);
    let n = 0;
    for (const [kind, line] of Object.entries(UNUSABLE)) {
      await b.addIceCandidate({ candidate: line, sdpMid: '0' });
      n++;
      assert.equal(ignoredCount(await b.getStats()), n, kind);
    }
    await assert.rejects(b.addIceCandidate({ candidate: 'candidate:9 1 udp', sdpMid: '0' }), (err: Error) => err.name === 'OperationError');
    // Not an ICE candidate lib/ice is asked about (component 2; active TCP): ignored as in a description, not counted.
    await b.addIceCandidate({ candidate: 'candidate:9 2 udp 5 192.0.2.9 9 typ host', sdpMid: '0' });
    await b.addIceCandidate({ candidate: 'candidate:9 1 tcp 5 192.0.2.9 9 typ host tcptype active', sdpMid: '0' });
    assert.equal(ignoredCount(await b.getStats()), n);
    for (const m of offer.matchAll(/a=(candidate:[^\r]*)\r\n/g)) await b.addIceCandidate({ candidate: m[1]!, sdpMid: '0' });
    await Promise.all([a.connected(15_000), b.connected(15_000)]);
    assert.equal(ignoredCount(await b.getStats()), n, 'the usable ones are not counted');
    assert.equal(ignoredCount(await a.getStats()), 0);
  } finally {
    a.close();
    b.close();
  }
});
