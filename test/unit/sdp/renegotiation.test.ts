// Negotiated RTP parameters (RFC 4588 §8, RFC 5576 §4, RFC 8830) and subsequent offers (RFC 8829 §5.2.2):
// PTs and extmap ids stay as negotiated, stopped transceivers keep port 0, new ones never remap.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createAnswer,
  createOffer,
  describeRtpSection,
  HeaderExtensionUri,
  negotiatedCapabilities,
  parseSdp,
  serializeSdp,
  type LocalTransceiverDescription,
  type SdpSessionDescription,
} from '../../../lib/sdp/index.js';
import { assertValidAnswer, fixture, localTransport, SESSION } from './helpers.js';

function assertBundleConsistent(desc: SdpSessionDescription): void {
  const idToUri = new Map<number, string>();
  const ptToCodec = new Map<number, string>();
  for (const m of desc.media) {
    if (m.port === 0 && !m.bundleOnly) continue;
    for (const e of m.extmaps) {
      assert.equal(idToUri.get(e.id) ?? e.uri, e.uri, `extmap id ${e.id} names one URI`);
      idToUri.set(e.id, e.uri);
    }
    for (const c of m.codecs) {
      const key = `${c.name.toLowerCase()}/${c.clockRate}/${JSON.stringify(Object.entries(c.parameters).sort())}`;
      assert.equal(ptToCodec.get(c.payloadType) ?? key, key, `PT ${c.payloadType} names one codec`);
      ptToCodec.set(c.payloadType, key);
    }
  }
}

describe('describeRtpSection', () => {
  it('Chromium video: sender with its FID repair SSRC and cname, RTX map, extmap ids, msid', () => {
    const offer = parseSdp(fixture('offer-from-chromium.sdp'));
    const v = describeRtpSection(offer.media[1]!);
    assert.equal(v.kind, 'video');
    assert.equal(v.mid, '1');
    assert.equal(v.direction, 'sendrecv');
    assert.deepEqual(v.senders, [{ ssrc: 2174794091, rtxSsrc: 1198053116, cname: 'rRqkMLy1JqsqmC3i' }]);
    assert.equal(v.rtxPayloadTypes.get(96), 97);
    assert.equal(v.rtxPayloadTypes.get(45), 46);
    assert.equal(v.rtxPayloadTypes.get(118), 119, 'RTX of RED');
    assert.equal(v.codecs.some((c) => c.name === 'rtx'), false);
    assert.equal(v.headerExtensions.get(4), HeaderExtensionUri.mid);
    assert.deepEqual(v.msids, [{ stream: '6f0b770a-150e-442d-bf5c-a0f7eef3f382', track: '56011e6b-1c19-4b8a-94f7-7bbc05f0275d' }]);
    assert.equal(v.rtcpReducedSize, true);
  });

  it('falls back to a=ssrc msid when a section has no a=msid', () => {
    const d = parseSdp('v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=ssrc:5 cname:x\r\na=ssrc:5 msid:s t\r\na=ssrc:6 cname:x\r\n');
    const a = describeRtpSection(d.media[0]!);
    assert.deepEqual(a.msids, [{ stream: 's', track: 't' }]);
    assert.deepEqual(a.senders, [{ ssrc: 5, cname: 'x' }, { ssrc: 6, cname: 'x' }]);
  });
});

describe('subsequent offers', () => {
  it('after answering aiortc: same PTs and ids, stopped audio keeps its m-line, a new video section reuses them', () => {
    const remoteOffer = parseSdp(fixture('offer-from-aiortc.sdp'));
    const answer = createAnswer(remoteOffer, { session: SESSION, transport: localTransport(), media: { '0': { direction: 'sendrecv' }, '1': { direction: 'sendrecv' } } });
    const audio = negotiatedCapabilities(answer.media[0]!);
    const video = negotiatedCapabilities(answer.media[1]!);
    assert.deepEqual(audio.codecs.map((c) => c.preferredPayloadType), [96]);
    assert.deepEqual(video.codecs.map((c) => [c.preferredPayloadType, c.preferredRtxPayloadType]), [[97, 98], [101, 102], [99, 100]]);
    const transceivers: LocalTransceiverDescription[] = [
      { mid: '0', kind: 'audio', direction: 'sendrecv', ...audio, stopped: true },
      { mid: '1', kind: 'video', direction: 'sendonly', ...video },
      { mid: '3', kind: 'video', direction: 'recvonly' },
    ];
    const next = createOffer({ session: { sessionId: SESSION.sessionId, sessionVersion: '3' }, transport: localTransport(), transceivers, dataChannel: { mid: '2', index: 2 } });
    assert.deepEqual(next.media.map((m) => `${m.mid}:${m.port === 0 ? 0 : 'live'}`), ['0:0', '1:live', '2:live', '3:live']);
    assert.deepEqual(next.groups, [{ semantics: 'BUNDLE', mids: ['1', '2', '3'] }]);
    assert.deepEqual(next.media[1]!.codecs.map((c) => c.payloadType), answer.media[1]!.codecs.map((c) => c.payloadType), 'negotiated PTs kept');
    assert.deepEqual(next.media[1]!.extmaps, answer.media[1]!.extmaps, 'negotiated ids kept');
    const added = next.media[3]!;
    assert.equal(added.codecs.find((c) => c.name === 'VP8')!.payloadType, 97, 'the same VP8 keeps PT 97');
    assert.equal(added.extmaps.find((e) => e.uri === HeaderExtensionUri.mid)!.id, 1, 'mid keeps id 1');
    assertBundleConsistent(next);
    const reAnswer = createAnswer(parseSdp(serializeSdp(next)), { session: { sessionId: '7', sessionVersion: '1' }, transport: localTransport({ iceUfrag: 'othr' }), media: { '3': { direction: 'sendrecv' } } });
    assertValidAnswer(next, reAnswer);
    assert.deepEqual(reAnswer.media.map((m) => m.direction), [undefined, 'recvonly', undefined, 'sendonly'], 'a recvonly offer is answered sendonly by a sendrecv transceiver');
  });

  it('ICE restart: new credentials in every bundled section, everything else unchanged', () => {
    const opts = {
      session: SESSION,
      transport: localTransport(),
      transceivers: [{ mid: '0', kind: 'audio' as const, direction: 'sendrecv' as const }],
    };
    const first = createOffer(opts);
    const restarted = createOffer({ ...opts, transport: localTransport({ iceUfrag: 'newU', icePwd: 'newpasswordnewpassword1' }) });
    assert.equal(restarted.media[0]!.iceUfrag, 'newU');
    assert.deepEqual({ ...restarted.media[0]!, iceUfrag: 'pwtU', icePwd: first.media[0]!.icePwd }, first.media[0]);
  });
});
