// Candidates gathered after a negotiation ended (signaling stable, the description compacted to
// its text) are written into the local description when it is read (RFC 8829 §4.1.9, §5.2.1:
// localDescription carries every candidate gathered so far and a=end-of-candidates once gathering
// is complete). The server-reflexive candidate comes from a STUN Binding server in this test that
// maps every request to 192.0.2.7 (RFC 5737 documentation address), so it differs from the host one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { RTCPeerConnection } from '../../../lib/peer/index.js';
import { StunAttr, StunClass, StunMethod } from '../../../lib/ice/stun-constants.js';
import { StunMessage } from '../../../lib/ice/stun-message.js';

const MAPPED = '192.0.2.7';

test('a server-reflexive candidate gathered after the negotiation is in localDescription and currentLocalDescription', async () => {
  const stun = createSocket('udp4');
  stun.on('message', (msg, rinfo) => {
    const decoded = StunMessage.decode(msg);
    if (!decoded.ok || decoded.message.method !== StunMethod.Binding || decoded.message.messageClass !== StunClass.Request) return;
    const reply = new StunMessage(StunMethod.Binding, StunClass.SuccessResponse, decoded.message.transactionId)
      .addAddress(StunAttr.XorMappedAddress, { address: MAPPED, port: 40000 });
    stun.send(reply.encode({ fingerprint: true }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => stun.bind(0, '127.0.0.1', resolve));
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceServers: [{ urls: `stun:127.0.0.1:${stun.address().port}` }] });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    let signalingAtSrflx: string | undefined;
    const gathered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('gathering did not complete within 10 s')), 10_000);
      a.onicecandidate = (e) => {
        if (e.candidate?.candidate.includes(' typ srflx')) signalingAtSrflx ??= a.signalingState;
        if (e.candidate === null) {
          clearTimeout(timer);
          resolve();
        }
      };
    });
    a.addTransceiver('audio');
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription!);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription!);
    assert.equal(a.signalingState, 'stable');
    assert.doesNotMatch(a.localDescription!.sdp, /typ srflx/, 'the STUN answer cannot have arrived during the in-process negotiation');
    await gathered;
    assert.equal(signalingAtSrflx, 'stable', 'the srflx candidate was gathered after the negotiation');
    const sdp = a.localDescription!.sdp;
    assert.match(sdp, new RegExp(`a=candidate:\\S+ 1 udp \\d+ ${MAPPED.replace(/\./g, '\\.')} 40000 typ srflx raddr 127\\.0\\.0\\.1 rport \\d+`));
    assert.match(sdp, /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/);
    assert.match(sdp, /a=end-of-candidates/);
    assert.equal(a.currentLocalDescription!.sdp, sdp);
    assert.equal(a.localDescription!.sdp, sdp, 'reading it again gives the same text');
    // The peer takes the description as it is now, a re-offer included.
    await a.setLocalDescription(await a.createOffer());
    assert.match(a.localDescription!.sdp, /typ srflx/);
    await b.setRemoteDescription(a.localDescription!);
  } finally {
    a.close();
    b.close();
    stun.close();
  }
});
