// werift (an independent TypeScript stack) reads our offers and answers as we meant them, and its
// RTCPeerConnection accepts our offer with an answer our RFC 3264 checker accepts. No ICE runs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RTCPeerConnection, SessionDescription } from 'werift';
import {
  createAnswer,
  createOffer,
  parseSdp,
  serializeSdp,
  type SdpSessionDescription,
} from '../../../lib/sdp/index.js';
import { assertValidAnswer, fixture, localTransport, PEERS, SESSION } from './helpers.js';

function ourOffer(): SdpSessionDescription {
  return createOffer({
    session: SESSION,
    transport: localTransport(),
    transceivers: [
      { mid: '0', kind: 'audio', direction: 'sendrecv', sender: { cname: 'cn', ssrc: 11, msids: [{ stream: 'st', track: 'a' }] } },
      { mid: '1', kind: 'video', direction: 'sendrecv', sender: { cname: 'cn', ssrc: 22, rtxSsrc: 23, msids: [{ stream: 'st', track: 'v' }] } },
    ],
    dataChannel: { mid: '2' },
  });
}

/** Compares werift's reading of `text` with our model of it. */
function assertWeriftReadsAsWeDo(text: string, ours: SdpSessionDescription): void {
  const w = SessionDescription.parse(text);
  assert.equal(w.media.length, ours.media.length);
  assert.deepEqual(w.group.map((g) => [g.semantic, g.items.map(String)]), ours.groups.map((g) => [g.semantics, g.mids]));
  for (const [i, m] of ours.media.entries()) {
    const wm = w.media[i]!;
    assert.equal(wm.kind, m.kind);
    assert.equal(wm.port, m.port);
    if (m.port === 0) continue;
    assert.equal(String(wm.rtp.muxId), m.mid);
    assert.equal(wm.iceParams?.usernameFragment, m.iceUfrag);
    assert.equal(wm.iceParams?.password, m.icePwd);
    assert.deepEqual(wm.dtlsParams?.fingerprints.map((f) => `${f.algorithm} ${f.value}`), m.fingerprints.map((f) => `${f.algorithm} ${f.value}`));
    assert.deepEqual(wm.iceCandidates.map((c) => `${c.protocol} ${c.ip} ${c.port}`), m.candidates.map((c) => `${c.transport} ${c.address} ${c.port}`));
    if (m.kind === 'application') {
      // werift keeps a=sctp-port in sctpPort and legacy a=sctpmap in sctpMap (port → app).
      assert.equal(wm.sctpPort ?? Number(Object.keys(wm.sctpMap)[0]), m.sctpPort ?? m.sctpmap?.port);
      continue;
    }
    assert.deepEqual(
      wm.rtp.codecs.map((c) => `${c.payloadType} ${c.mimeType.split('/')[1]!.toLowerCase()}/${c.clockRate}`),
      m.codecs.map((c) => `${c.payloadType} ${c.name.toLowerCase()}/${c.clockRate}`),
    );
    assert.deepEqual(wm.rtp.headerExtensions.map((h) => `${h.id} ${h.uri}`), m.extmaps.map((e) => `${e.id} ${e.uri}`));
    assert.deepEqual(wm.ssrcGroup.map((g) => g.str), m.ssrcGroups.map((g) => `${g.semantics} ${g.ssrcs.join(' ')}`));
    assert.equal(wm.direction, m.direction);
  }
}

describe('werift as an independent SDP reader', () => {
  it('reads our offer as we built it', () => {
    const offer = ourOffer();
    assertWeriftReadsAsWeDo(serializeSdp(offer), offer);
  });

  for (const peer of PEERS) {
    it(`reads our answer to offer-from-${peer} as we built it`, () => {
      const answer = createAnswer(parseSdp(fixture(`offer-from-${peer}.sdp`)), { session: SESSION, transport: localTransport(), media: { '1': { direction: 'sendrecv' } } });
      assertWeriftReadsAsWeDo(serializeSdp(answer), answer);
    });
  }

  it('werift RTCPeerConnection accepts our offer and its answer passes our checks', async () => {
    const offer = ourOffer();
    const pc = new RTCPeerConnection({ iceServers: [] });
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: serializeSdp(offer) });
      const answer = await pc.createAnswer();
      const parsed = parseSdp(answer.sdp);
      // werift announces max-message-size 65536, below what we announce but valid.
      assert.equal(assertValidAnswer(offer, parsed, 65536), 3);
      assert.deepEqual(parsed.groups, [{ semantics: 'BUNDLE', mids: ['0', '1', '2'] }]);
      assert.equal(parsed.media[0]!.setup, 'active');
      assert.equal(parsed.media[1]!.codecs[0]!.name, 'VP8');
    } finally {
      await pc.close();
    }
  });
});
