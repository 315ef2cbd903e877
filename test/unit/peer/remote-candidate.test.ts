// iceCandidateOf (lib/peer/remote-candidate.ts) gives what lib/ice's parseCandidate gives for the
// line lib/sdp parsed (RFC 8839 §5.1 fields, RFC 6544 tcptype, the ufrag extension, mDNS names),
// and rejects what it rejects; setRemoteDescription with such a candidate changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCandidate as parseIceCandidate, IceCandidateSyntaxError } from '../../../lib/ice/candidate.js';
import { parseCandidate as parseSdpCandidate } from '../../../lib/sdp/candidate.js';
import { iceCandidateOf } from '../../../lib/peer/remote-candidate.js';
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
];

/** Lines lib/sdp accepts and lib/ice does not. */
const REJECTED_BY_ICE = [
  'candidate:1 1 udp 0 127.0.0.1 40000 typ host',
  'candidate:1 1 udp 5 127.0.0.1 40000 typ foo',
  'candidate:1 1 sctp 5 127.0.0.1 40000 typ host',
  'candidate:1 1 udp 5 not_an_address 40000 typ host',
  'candidate:1 1 udp 5 example.com 40000 typ host',
];

test('iceCandidateOf equals lib/ice parseCandidate of the line lib/sdp parsed', () => {
  for (const line of ACCEPTED) assert.deepStrictEqual(iceCandidateOf(parseSdpCandidate(line)), parseIceCandidate(line), line);
});

test('iceCandidateOf rejects, with IceCandidateSyntaxError, every line lib/ice rejects', () => {
  for (const line of REJECTED_BY_ICE) {
    const sdp = parseSdpCandidate(line);
    assert.throws(() => parseIceCandidate(line), IceCandidateSyntaxError, line);
    assert.throws(() => iceCandidateOf(sdp), IceCandidateSyntaxError, line);
  }
});

test('a remote description with a candidate ICE rejects throws before anything changes; addIceCandidate throws too', async () => {
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    a.addTransceiver('audio');
    await a.setLocalDescription(await a.createOffer());
    const good = a.localDescription!.sdp;
    const bad = good.replace(/(a=candidate:[^\r]*\r\n)/, '$1a=candidate:9 1 udp 0 192.0.2.9 9 typ host\r\n');
    assert.notEqual(bad, good);
    await assert.rejects(b.setRemoteDescription({ type: 'offer', sdp: bad }), (err: Error) => err.name === 'SyntaxError');
    assert.equal(b.signalingState, 'stable');
    assert.equal(b.remoteDescription, null);
    await b.setRemoteDescription({ type: 'offer', sdp: good });
    assert.equal(b.signalingState, 'have-remote-offer');
    await assert.rejects(b.addIceCandidate({ candidate: 'candidate:9 1 udp 5 192.0.2.9 9 typ foo', sdpMid: '0' }), IceCandidateSyntaxError);
    await b.addIceCandidate({ candidate: 'candidate:9 1 udp 5 192.0.2.9 9 typ host', sdpMid: '0' });
  } finally {
    a.close();
    b.close();
  }
});
