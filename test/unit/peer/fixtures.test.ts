// Real offers and answers (test/fixtures/sdp: Chromium, libwebrtc via wrtc, werift, aiortc) through
// RTCPeerConnection: each offer is accepted and answered in the shape that peer reads (RFC 8829
// §5.3: same m-lines and mids, offered payload types, BUNDLE of the accepted mids, the offered data
// channel format, one URI per extmap id); each answer is applied to our matching offer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RTCPeerConnection } from '../../../lib/peer/index.js';
import { parseSdp } from '../../../lib/sdp/parse.js';

const PEERS = ['chromium', 'wrtc', 'werift', 'aiortc'];

function fixture(name: string): string {
  return readFileSync(fileURLToPath(new URL(`../../fixtures/sdp/${name}`, import.meta.url)), 'utf8');
}

for (const peer of PEERS) {
  test(`offer from ${peer}: accepted, answered in a shape ${peer} reads`, { timeout: 10_000 }, async () => {
    const offerText = fixture(`offer-from-${peer}.sdp`);
    const offer = parseSdp(offerText);
    const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
    try {
      const tracks: string[] = [];
      pc.on('track', (e) => tracks.push(e.track.kind));
      await pc.setRemoteDescription({ type: 'offer', sdp: offerText });
      assert.equal(pc.signalingState, 'have-remote-offer');
      await pc.setLocalDescription();
      assert.equal(pc.signalingState, 'stable');
      const answer = parseSdp(pc.localDescription!.sdp);
      assert.equal(answer.media.length, offer.media.length);
      const accepted: string[] = [];
      const idToUri = new Map<number, string>();
      answer.media.forEach((m, i) => {
        const o = offer.media[i]!;
        assert.equal(m.mid, o.mid, 'mids keep their order');
        assert.equal(m.kind, o.kind);
        if (m.port === 0 && m.bundleOnly !== true) return;
        accepted.push(m.mid!);
        if (m.kind === 'application') {
          assert.equal(m.protocol, o.protocol, 'the data channel is answered in the offered format');
          if (o.sctpmap) assert.equal(m.sctpmap?.port, o.sctpmap.port);
          else assert.equal(m.sctpPort, o.sctpPort ?? 5000);
          return;
        }
        assert.ok(m.codecs.length > 0);
        for (const c of m.codecs) {
          const offered = o.codecs.find((x) => x.payloadType === c.payloadType);
          assert.ok(offered, `answered PT ${c.payloadType} was offered`);
          assert.equal(offered.name.toLowerCase(), c.name.toLowerCase());
        }
        for (const e of m.extmaps) {
          const bound = idToUri.get(e.id);
          assert.ok(bound === undefined || bound === e.uri, `extmap id ${e.id} names one URI`);
          idToUri.set(e.id, e.uri);
          assert.ok(o.extmaps.some((x) => x.id === e.id && x.uri === e.uri), 'extmaps come from the offer');
        }
        assert.equal(m.direction, 'recvonly', 'no local track: we receive only');
      });
      assert.deepEqual(answer.groups.find((g) => g.semantics === 'BUNDLE')?.mids, accepted);
      const tag = answer.media.find((m) => m.mid === accepted[0])!;
      assert.equal(tag.setup, 'active');
      assert.ok(tag.iceUfrag && tag.icePwd);
      assert.equal(tag.fingerprints[0]?.algorithm, 'sha-256');
      assert.ok(tag.candidates.some((c) => c.address === '127.0.0.1'));
      assert.ok(accepted.length >= 3, 'audio, video and data are accepted');
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(tracks.sort(), offer.media.filter((m) => (m.kind === 'audio' || m.kind === 'video') && (m.direction ?? 'sendrecv').includes('send')).map((m) => m.kind).sort());
    } finally {
      pc.close();
    }
  });

  test(`answer from ${peer}: applied to our audio+video+data offer`, { timeout: 10_000 }, async () => {
    const answerText = fixture(`answer-from-${peer}.sdp`);
    const answer = parseSdp(answerText);
    const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
    try {
      const audio = pc.addTransceiver('audio');
      const video = pc.addTransceiver('video');
      pc.createDataChannel('d');
      await pc.setLocalDescription();
      const offer = parseSdp(pc.localDescription!.sdp);
      assert.deepEqual(offer.media.map((m) => m.mid), answer.media.map((m) => m.mid));
      await pc.setRemoteDescription({ type: 'answer', sdp: answerText });
      assert.equal(pc.signalingState, 'stable');
      const dir = (mid: string): string => {
        const d = answer.media.find((m) => m.mid === mid)!.direction ?? 'sendrecv';
        return { sendrecv: 'sendrecv', sendonly: 'recvonly', recvonly: 'sendonly', inactive: 'inactive' }[d]!;
      };
      assert.equal(audio.currentDirection, dir(audio.mid!));
      assert.equal(video.currentDirection, dir(video.mid!));
      assert.equal(audio.sender.parameters?.payloadType, answer.media[0]!.codecs[0]!.payloadType);
    } finally {
      pc.close();
    }
  });
}

test('a malformed remote description throws a SyntaxError naming the line and changes nothing', async () => {
  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const good = fixture('offer-from-chromium.sdp');
    const bad = good.replace('a=mid:0', 'a=mid');
    await assert.rejects(pc.setRemoteDescription({ type: 'offer', sdp: 'v=0\r\nthis is not sdp\r\n' }), (e: Error) => e.name === 'SyntaxError');
    assert.equal(pc.signalingState, 'stable');
    assert.equal(pc.remoteDescription, null);
    assert.equal(pc.getTransceivers().length, 0);
    await assert.rejects(pc.setRemoteDescription({ type: 'offer', sdp: bad }), (e: Error) => e.name === 'SyntaxError' || e.name === 'InvalidAccessError');
    assert.equal(pc.signalingState, 'stable');
    await assert.rejects(pc.setRemoteDescription({ type: 'answer', sdp: good }), (e: Error & { code?: string }) => e.name === 'InvalidStateError' && e.code === 'ERR_PEER_SIGNALING_STATE');
  } finally {
    pc.close();
  }
});
