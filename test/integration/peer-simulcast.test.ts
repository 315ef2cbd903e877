// Simulcast (RFC 8853, RFC 8852): an offer with `a=rid:<id> send` + `a=simulcast:send` and no
// SSRCs is answered with `recv`; each rid gets its own remote track (and `track` event), and
// packets are routed to it by the rtp-stream-id header extension on unannounced SSRCs. Our own
// sender offers simulcast from sendEncodings and sends each layer on its own SSRC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack } from '../../lib/peer/index.js';
import { HeaderExtensionUri } from '../../lib/sdp/capabilities.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { negotiate, within } from './peer-helpers.js';

test('one remote track per simulcast rid, routed by rtp-stream-id', { timeout: 20_000 }, async () => {
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const video = new LocalStreamTrack({ kind: 'video' });
    const t = pc1.addTransceiver(video);
    const tracks = new Map<string, MediaStreamTrack>();
    const both = new Promise<void>((resolve) => {
      pc2.on('track', (e) => {
        tracks.set(e.track.rid ?? '-', e.track);
        if (tracks.size === 2) resolve();
      });
    });
    const offer = await pc1.createOffer();
    // Announce two simulcast layers the way browsers do: rids instead of SSRCs.
    const sdp = offer.sdp
      .split('\r\n')
      .filter((l) => !l.startsWith('a=ssrc'))
      .flatMap((l) => (l.startsWith('a=rtcp-rsize') ? [l, 'a=rid:hi send', 'a=rid:lo send', 'a=simulcast:send hi;lo'] : [l]))
      .join('\r\n');
    await pc1.setLocalDescription({ type: 'offer', sdp });
    await pc2.setRemoteDescription({ type: 'offer', sdp });
    await pc2.setLocalDescription();
    assert.match(pc2.localDescription!.sdp, /a=simulcast:recv hi;lo/);
    await pc1.setRemoteDescription(pc2.localDescription!);
    await within(Promise.all([pc1.connected(), pc2.connected()]), 10_000, 'connected');
    await within(both, 5000, 'two track events');
    assert.deepEqual([...tracks.keys()].sort(), ['hi', 'lo']);

    const ridId = t.sender.parameters!.extensionIds.get(HeaderExtensionUri.rtpStreamId)!;
    assert.ok(ridId !== undefined);
    const send = (ssrc: number, rid: string, seq: number): void => {
      const p = new RtpPacket({ ssrc, sequenceNumber: seq, timestamp: seq * 3000, payload: Buffer.from(`${rid} ${seq}`) });
      p.setExtension(ridId, Buffer.from(rid));
      video.send(p);
    };
    for (let i = 0; i < 3; i++) {
      send(1111, 'hi', i);
      send(2222, 'lo', i);
    }
    for (let i = 0; i < 3; i++) {
      const hi = await within(tracks.get('hi')!.recv(), 5000, 'hi');
      const lo = await within(tracks.get('lo')!.recv(), 5000, 'lo');
      assert.equal(hi.payload.toString(), `hi ${i}`);
      assert.equal(hi.ssrc, 1111);
      assert.equal(lo.payload.toString(), `lo ${i}`);
      assert.equal(lo.ssrc, 2222);
    }
    const inbound = [...(await pc2.getStats()).values()].filter((s) => s.type === 'inbound-rtp');
    assert.deepEqual(inbound.map((s) => s.rid).sort(), ['hi', 'lo']);
  } finally {
    pc1.close();
    pc2.close();
  }
});

test('simulcast send: sendEncodings rids are offered, each layer has its SSRC and reaches its own remote track', { timeout: 20_000 }, async () => {
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const video = new LocalStreamTrack({ kind: 'video' });
    const t = pc1.addTransceiver(video, { direction: 'sendonly', sendEncodings: [{ rid: 'f' }, { rid: 'h' }, { rid: 'q' }] });
    assert.throws(() => pc1.addTransceiver('video', { sendEncodings: [{ rid: 'x' }, { rid: 'x' }] }), (e: Error) => e.name === 'TypeError');
    const tracks = new Map<string, MediaStreamTrack>();
    const all = new Promise<void>((resolve) => {
      pc2.on('track', (e) => {
        tracks.set(e.track.rid!, e.track);
        if (tracks.size === 3) resolve();
      });
    });
    await negotiate(pc1, pc2);
    assert.match(pc1.localDescription!.sdp, /a=simulcast:send f;h;q/);
    assert.match(pc2.localDescription!.sdp, /a=simulcast:recv f;h;q/);
    await within(Promise.all([pc1.connected(), pc2.connected()]), 10_000, 'connected');
    await within(all, 5000, 'three tracks');
    const params = t.sender.getParameters();
    assert.deepEqual(params.encodings.map((e) => e.rid), ['f', 'h', 'q']);
    assert.equal(new Set(params.encodings.map((e) => e.ssrc)).size, 3);
    for (let i = 0; i < 2; i++) {
      for (const rid of ['f', 'h', 'q']) video.send(new RtpPacket({ timestamp: i * 3000, payload: Buffer.from(`${rid}${i}`) }), { rid });
    }
    for (const [k, rid] of ['f', 'h', 'q'].entries()) {
      for (let i = 0; i < 2; i++) {
        const p = await within(tracks.get(rid)!.recv(), 5000, rid);
        assert.equal(p.payload.toString(), `${rid}${i}`);
        assert.equal(p.ssrc, params.encodings[k]!.ssrc);
      }
    }
    assert.throws(() => video.send(new RtpPacket({ payload: Buffer.from('x') }), { rid: 'nope' }), (e: Error & { code?: string }) => e.code === 'ERR_PEER_UNKNOWN_RID');
    const outbound = [...(await pc1.getStats()).values()].filter((s) => s.type === 'outbound-rtp');
    assert.deepEqual(outbound.map((s) => [s.rid, s.packetsSent]).sort(), [['f', 2], ['h', 2], ['q', 2]]);
  } finally {
    pc1.close();
    pc2.close();
  }
});
