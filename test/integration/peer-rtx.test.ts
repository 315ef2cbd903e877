// RTX on receive (RFC 4588 §4): a retransmission sent on the announced `ssrc-group:FID` repair
// SSRC with the RTX payload type arrives on the remote track as the original packet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { wrapRtx } from '../../lib/rtp/rtx.js';
import { negotiate, within } from './peer-helpers.js';

test('an RTX retransmission is unwrapped into the original stream', { timeout: 20_000 }, async () => {
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const video = new LocalStreamTrack({ kind: 'video' });
    const t = pc1.addTransceiver(video);
    const remote = new Promise<MediaStreamTrack>((r) => pc2.once('track', (e) => r(e.track)));
    await negotiate(pc1, pc2);
    await within(Promise.all([pc1.connected(), pc2.connected()]), 10_000, 'connected');
    const track = await within(remote, 5000, 'track');
    const params = t.sender.parameters!;
    assert.ok(params.rtxPayloadType !== undefined, 'RTX negotiated for the first video codec');
    const original = new RtpPacket({ timestamp: 3000, sequenceNumber: 500, marker: true, payload: Buffer.from('frame') });
    video.send(original);
    const first = await within(track.recv(), 5000, 'original');
    assert.equal(first.sequenceNumber, 500);
    const rtx = wrapRtx(original, { ssrc: t.sender.rtxSsrc, payloadType: params.rtxPayloadType, sequenceNumber: 77 });
    video.send(rtx);
    const repaired = await within(track.recv(), 5000, 'repaired');
    assert.equal(repaired.ssrc, t.sender.ssrc);
    assert.equal(repaired.payloadType, params.payloadType);
    assert.equal(repaired.sequenceNumber, 500);
    assert.equal(repaired.payload.toString(), 'frame');
  } finally {
    pc1.close();
    pc2.close();
  }
});
