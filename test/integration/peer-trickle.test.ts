// Trickle ICE (RFC 8838, webrtc-pc §4.4.1.7): descriptions without candidates, candidates sent
// one by one through `icecandidate` events and `addIceCandidate`, end-of-candidates as null.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection, RTCIceCandidate, type MediaStreamTrack } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { within } from './peer-helpers.js';

/** Forwards a's candidates to b once b has a remote description (as a signaling server would). */
function trickle(a: RTCPeerConnection, b: RTCPeerConnection): { ready(): void; count(): number } {
  const queue: (RTCIceCandidate | null)[] = [];
  let ready = false;
  let n = 0;
  const deliver = (c: RTCIceCandidate | null): void => {
    // Through JSON, as over a real signaling channel.
    const init = c === null ? null : (JSON.parse(JSON.stringify(c)) as ReturnType<RTCIceCandidate['toJSON']>);
    if (init) n++;
    void b.addIceCandidate(init);
  };
  a.onicecandidate = (e) => (ready ? deliver(e.candidate) : queue.push(e.candidate));
  return {
    ready: () => {
      ready = true;
      for (const c of queue.splice(0)) deliver(c);
    },
    count: () => n,
  };
}

test('trickle: candidate-free descriptions, candidates through addIceCandidate', { timeout: 20_000 }, async () => {
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const audio = new LocalStreamTrack({ kind: 'audio' });
    pc1.addTransceiver(audio);
    const remote = new Promise<MediaStreamTrack>((r) => pc2.once('track', (e) => r(e.track)));
    const to2 = trickle(pc1, pc2);
    const to1 = trickle(pc2, pc1);
    const offer = await pc1.createOffer();
    assert.doesNotMatch(offer.sdp, /a=candidate/);
    await pc1.setLocalDescription(offer);
    await pc2.setRemoteDescription(offer);
    to2.ready();
    const answer = await pc2.createAnswer();
    assert.doesNotMatch(answer.sdp, /a=candidate/);
    await pc2.setLocalDescription(answer);
    await pc1.setRemoteDescription(answer);
    to1.ready();
    await within(Promise.all([pc1.connected(), pc2.connected()]), 10_000, 'connected');
    assert.ok(to2.count() >= 1 && to1.count() >= 1);
    audio.send(new RtpPacket({ timestamp: 1, payload: Buffer.from('trickled') }));
    const p = await within((await within(remote, 5000, 'track')).recv(), 5000, 'rtp');
    assert.equal(p.payload.toString(), 'trickled');
    const remoteCandidates = [...(await pc1.getStats()).values()].filter((s) => s.type === 'remote-candidate');
    assert.ok(remoteCandidates.length >= 1);
  } finally {
    pc1.close();
    pc2.close();
  }
});
