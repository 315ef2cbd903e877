// The local description's text is made once and made again only when it changes (docs/peer.md
// "Setup cost"): a candidate gathered after createOffer (RFC 8829 §5.2.1, §4.1.9; RFC 8840
// end-of-candidates) is in localDescription while the offer is pending, and an ICE restart (RFC 8445
// §9) gives the next local description new credentials. The server-reflexive candidate comes from a
// STUN Binding server in this test that maps every request to 192.0.2.7 (RFC 5737).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { RTCPeerConnection } from '../../../lib/peer/index.js';
import { parseSdp, serializeSdp } from '../../../lib/sdp/index.js';
import { StunAttr, StunClass, StunMethod } from '../../../lib/ice/stun-constants.js';
import { StunMessage } from '../../../lib/ice/stun-message.js';

const MAPPED = '192.0.2.7';

async function stunServer(): Promise<Socket> {
  const stun = createSocket('udp4');
  stun.on('message', (msg, rinfo) => {
    const decoded = StunMessage.decode(msg);
    if (!decoded.ok || decoded.message.method !== StunMethod.Binding || decoded.message.messageClass !== StunClass.Request) return;
    const reply = new StunMessage(StunMethod.Binding, StunClass.SuccessResponse, decoded.message.transactionId)
      .addAddress(StunAttr.XorMappedAddress, { address: MAPPED, port: 40000 });
    stun.send(reply.encode({ fingerprint: true }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => stun.bind(0, '127.0.0.1', resolve));
  return stun;
}

/** Resolves at the end-of-candidates event (bounded: 10 s). */
function gatheringDone(pc: RTCPeerConnection): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('gathering did not complete within 10 s')), 10_000);
    pc.addEventListener('icecandidate', (e) => {
      if (e.candidate === null) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

/** The lines of `sdp` that gathering does not touch (everything but m=, c=, candidates, end-of-candidates). */
function untouchedLines(sdp: string): string[] {
  return sdp.split('\r\n').filter((l) => !/^(m=|c=|a=candidate:|a=end-of-candidates)/.test(l));
}

test('a candidate gathered after createOffer is in localDescription while the offer is pending', async () => {
  const stun = await stunServer();
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceServers: [{ urls: `stun:127.0.0.1:${stun.address().port}` }] });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const done = gatheringDone(a);
    a.addTransceiver('audio');
    a.createDataChannel('x');
    const offer = await a.createOffer();
    assert.doesNotMatch(offer.sdp!, /a=candidate:/, 'createOffer comes before gathering');
    await a.setLocalDescription(offer);
    const first = a.localDescription!.sdp;
    assert.match(first, /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/, 'host candidates are gathered in setLocalDescription');
    assert.doesNotMatch(first, /typ srflx/, 'the STUN answer cannot have arrived yet');
    assert.equal(a.localDescription!.sdp, first, 'reading it again without a change gives the same text');
    await done;
    assert.equal(a.signalingState, 'have-local-offer');
    const sdp = a.localDescription!.sdp;
    assert.match(sdp, new RegExp(`a=candidate:\\S+ 1 udp \\d+ ${MAPPED.replace(/\./g, '\\.')} 40000 typ srflx raddr 127\\.0\\.0\\.1 rport \\d+`));
    assert.match(sdp, /a=end-of-candidates/);
    assert.equal(a.pendingLocalDescription!.sdp, sdp);
    assert.equal(a.currentLocalDescription, null);
    // Only the transport lines changed, and the text is what the whole description serializes to.
    assert.deepEqual(untouchedLines(sdp), untouchedLines(offer.sdp!));
    assert.equal(serializeSdp(parseSdp(sdp)), sdp);
    await b.setRemoteDescription(a.localDescription!);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription!);
    assert.equal(a.currentLocalDescription!.sdp, sdp, 'the applied offer keeps its candidates');
    await Promise.all([a.connected(30_000), b.connected(30_000)]);
  } finally {
    a.close();
    b.close();
    stun.close();
  }
});

test('an ICE restart gives the next local descriptions new credentials and their own candidates', async () => {
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const credentials = (sdp: string): string => `${/a=ice-ufrag:(\S+)/.exec(sdp)?.[1]} ${/a=ice-pwd:(\S+)/.exec(sdp)?.[1]}`;
  try {
    a.addTransceiver('audio');
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription!);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription!);
    await Promise.all([a.connected(30_000), b.connected(30_000)]);
    const before = { a: credentials(a.localDescription!.sdp), b: credentials(b.localDescription!.sdp) };

    const restart = await a.createOffer({ iceRestart: true });
    assert.notEqual(credentials(restart.sdp!), before.a, 'the restart offer has new credentials');
    await a.setLocalDescription(restart);
    const offered = a.localDescription!.sdp;
    assert.equal(credentials(offered), credentials(restart.sdp!));
    assert.match(offered, /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/, 'candidates of the new generation are written in');
    assert.equal(serializeSdp(parseSdp(offered)), offered);
    await b.setRemoteDescription(a.localDescription!);
    await b.setLocalDescription(await b.createAnswer());
    const answered = b.localDescription!.sdp;
    assert.notEqual(credentials(answered), before.b, 'the answer to a restart has new credentials (RFC 8445 §9)');
    assert.match(answered, /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/);
    await a.setRemoteDescription(b.localDescription!);
    assert.equal(credentials(a.currentLocalDescription!.sdp), credentials(restart.sdp!));
    assert.equal(credentials(b.currentLocalDescription!.sdp), credentials(answered));
    assert.equal(a.signalingState, 'stable');
  } finally {
    a.close();
    b.close();
  }
});
