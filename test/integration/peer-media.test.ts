// Audio + video + a data channel between two RTCPeerConnections over UDP loopback, for every
// SRTP profile (RFC 5764 §4.1.2, RFC 7714 §14.2) and both DTLS roles of the answerer (RFC 5763 §5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCDataChannel } from '../../lib/peer/index.js';
import type { SrtpProfileName } from '../../lib/dtls/srtp-profile.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { RtcpPictureLossIndication } from '../../lib/rtp/rtcp/picture-loss-indication.js';
import { RtcpSenderReport } from '../../lib/rtp/rtcp/sender-report.js';
import { within } from './peer-helpers.js';

const PROFILES: SrtpProfileName[] = ['AEAD_AES_128_GCM', 'AEAD_AES_256_GCM', 'AES128_CM_HMAC_SHA1_80', 'AES128_CM_HMAC_SHA1_32'];

PROFILES.forEach((profile, i) => {
  const answerDtlsRole = i % 2 === 0 ? 'client' : 'server';
  test(`audio+video+data, ${profile}, answerer is DTLS ${answerDtlsRole}`, { timeout: 30_000 }, async () => {
    const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], srtpProfiles: [profile] });
    const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], srtpProfiles: [profile], answerDtlsRole });
    try {
      const audio1 = new LocalStreamTrack({ kind: 'audio' });
      const video1 = new LocalStreamTrack({ kind: 'video' });
      const a1 = pc1.addTransceiver(audio1, { streams: ['s1'] });
      const v1 = pc1.addTransceiver(video1, { streams: ['s1'] });
      const channel = pc1.createDataChannel('chat', { ordered: true });
      const tracks2 = new Map<string, MediaStreamTrack>();
      const gotTracks = new Promise<void>((resolve) => {
        pc2.on('track', (e) => {
          assert.deepEqual(e.streams.map((s) => s.id), ['s1']);
          tracks2.set(e.track.kind, e.track);
          if (tracks2.size === 2) resolve();
        });
      });
      const remoteChannel = new Promise<RTCDataChannel>((resolve) => pc2.on('datachannel', (e) => resolve(e.channel)));

      // pc2 answers with its own audio on the transceiver the offer created.
      await pc1.setLocalDescription(await pc1.createOffer());
      await pc2.setRemoteDescription(pc1.localDescription!);
      const audio2 = new LocalStreamTrack({ kind: 'audio' });
      pc2.addTrack(audio2);
      const track1 = new Promise<MediaStreamTrack>((resolve) => pc1.on('track', (e) => resolve(e.track)));
      await pc2.setLocalDescription(await pc2.createAnswer());
      await pc1.setRemoteDescription(pc2.localDescription!);
      await within(Promise.all([pc1.connected(), pc2.connected()]), 10_000, 'connected');
      await within(gotTracks, 5000, 'tracks');
      assert.equal(a1.currentDirection, 'sendrecv');
      const vp = v1.sender.getParameters();
      assert.equal(vp.encodings[0]!.ssrc, v1.sender.ssrc);
      assert.equal(vp.encodings[0]!.rtx?.ssrc, v1.sender.rtxSsrc);
      assert.equal(vp.codecs[0]!.mimeType.toLowerCase(), 'video/vp8');
      assert.ok(vp.headerExtensions.some((e) => e.uri === 'urn:ietf:params:rtp-hdrext:sdes:mid'));
      assert.equal(v1.currentDirection, 'sendonly');

      for (let n = 0; n < 5; n++) {
        audio1.send(new RtpPacket({ timestamp: n * 960, payload: Buffer.from(`audio ${n}`) }));
        video1.send(new RtpPacket({ timestamp: n * 3000, marker: true, payload: Buffer.from(`video ${n}`) }));
      }
      audio2.send(new RtpPacket({ timestamp: 7, payload: Buffer.from('back') }));
      for (let n = 0; n < 5; n++) {
        const a = await within(tracks2.get('audio')!.recv(), 5000, 'audio');
        const v = await within(tracks2.get('video')!.recv(), 5000, 'video');
        assert.equal(a.payload.toString(), `audio ${n}`);
        assert.equal(v.payload.toString(), `video ${n}`);
        assert.equal(v.marker, true);
        assert.equal(a.ssrc, a1.sender.ssrc);
        assert.equal(v.ssrc, v1.sender.ssrc);
      }
      const back = await within((await within(track1, 5000, 'pc1 track')).recv(), 5000, 'back');
      assert.equal(back.payload.toString(), 'back');

      // RTCP about pc1's video sender, sent by pc2's receiver side, reaches pc1's video sender.
      const pli = new Promise<unknown>((resolve) => v1.sender.on('rtcp', (e) => resolve(e.packet)));
      pc2.getTransceivers().find((t) => t.kind === 'audio')!.sender.sendRtcp([new RtcpPictureLossIndication(1234, v1.sender.ssrc)]);
      const got = await within(pli, 5000, 'PLI');
      assert.ok(got instanceof RtcpPictureLossIndication);

      // A sender report from pc1's audio sender reaches pc2's audio receiver.
      const sr = new Promise<unknown>((resolve) => pc2.getTransceivers().find((t) => t.kind === 'audio')!.receiver.on('rtcp', (e) => resolve(e.packet)));
      a1.sender.sendRtcp([new RtcpSenderReport({ ssrc: a1.sender.ssrc, ntpTimestamp: 1n << 32n, rtpTimestamp: 960, packetCount: 5, octetCount: 35 })]);
      const gotSr = await within(sr, 5000, 'SR');
      assert.ok(gotSr instanceof RtcpSenderReport);
      assert.equal(gotSr.packetCount, 5);

      // Data both ways.
      const remote = await within(remoteChannel, 10_000, 'datachannel');
      if (channel.readyState !== 'open') await within(new Promise((r) => channel.once('open', r)), 5000, 'open');
      assert.equal(remote.label, 'chat');
      const msg2 = new Promise<unknown>((resolve) => remote.once('message', (e) => resolve(e.data)));
      channel.send('hello');
      assert.equal(await within(msg2, 5000, 'message to pc2'), 'hello');
      const msg1 = new Promise<unknown>((resolve) => channel.once('message', (e) => resolve(e.data)));
      remote.send(Buffer.from([1, 2, 3]));
      const bin = await within(msg1, 5000, 'message to pc1');
      assert.deepEqual(Buffer.from(bin as ArrayBuffer), Buffer.from([1, 2, 3]));

      const t1 = [...(await pc1.getStats()).values()].find((s) => s.type === 'transport')!;
      const t2 = [...(await pc2.getStats()).values()].find((s) => s.type === 'transport')!;
      // The media went through the socket's native SRTP route (no per-packet JS protect/unprotect).
      assert.ok((t1.pwtSrtpProtectedInSocket as number) >= 10, 'pc1 protected in the socket');
      assert.ok((t2.pwtSrtpUnprotectedInSocket as number) >= 10, 'pc2 unprotected in the socket');
      assert.equal(t1.srtpCipher, `SRTP_${profile}`);
      assert.equal(t2.srtpCipher, `SRTP_${profile}`);
      assert.equal(t2.dtlsRole, answerDtlsRole);
      assert.equal(t1.dtlsRole, answerDtlsRole === 'client' ? 'server' : 'client');
      const peer1 = [...(await pc1.getStats()).values()].find((s) => s.type === 'peer-connection')!;
      assert.equal(peer1.dataChannelsOpened, 1);
    } finally {
      pc1.close();
      pc2.close();
    }
  });
});
