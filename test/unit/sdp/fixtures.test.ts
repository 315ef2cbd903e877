// Real offers and answers from Chromium, libwebrtc (wrtc), werift and aiortc: each parses, round-trips,
// yields the right remote transport (RFC 8843 §7), and our answer to each offer is one that peer accepts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createAnswer,
  extractRemoteTransports,
  HeaderExtensionUri,
  parseSdp,
  serializeSdp,
  type SdpSessionDescription,
} from '../../../lib/sdp/index.js';
import { assertValidAnswer, fixture, localTransport, PEERS, servedCodecs, servedExtensions, SESSION } from './helpers.js';

function answerTo(offer: SdpSessionDescription): SdpSessionDescription {
  const sender = (ssrc: number, track: string) => ({ cname: 'pwt-cname', ssrc, rtxSsrc: ssrc + 1, msids: [{ stream: 'pwt-stream', track }] });
  return createAnswer(offer, {
    session: SESSION,
    transport: localTransport(),
    codecs: servedCodecs(),
    headerExtensions: servedExtensions(),
    media: { '0': { direction: 'sendrecv', sender: sender(1000, 'audio-track') }, '1': { direction: 'sendrecv', sender: sender(2000, 'video-track') } },
  });
}

describe('SDP fixtures from real peers', () => {
  for (const peer of PEERS) {
    for (const kind of ['offer', 'answer'] as const) {
      it(`${kind}-from-${peer}: parses and round-trips to the same model`, () => {
        const text = fixture(`${kind}-from-${peer}.sdp`);
        const model = parseSdp(text);
        assert.equal(model.media.length, 3);
        assert.deepEqual(model.media.map((m) => m.kind), ['audio', 'video', 'application']);
        assert.deepEqual(model.media.map((m) => m.mid), ['0', '1', '2']);
        assert.deepEqual(model.groups, [{ semantics: 'BUNDLE', mids: ['0', '1', '2'] }]);
        const again = parseSdp(serializeSdp(model));
        assert.deepEqual(again, model);
        // Every a= line of the fixture is either modelled or kept verbatim: count attribute lines.
        const attrLines = text.split('\r\n').filter((l) => l.startsWith('a=')).length;
        const reLines = serializeSdp(model).split('\r\n').filter((l) => l.startsWith('a=')).length;
        assert.equal(reLines, attrLines, 'no attribute line lost or invented');
      });
    }

    it(`our answer to offer-from-${peer} is valid for ${peer}`, () => {
      const offer = parseSdp(fixture(`offer-from-${peer}.sdp`));
      const answer = answerTo(offer);
      const reparsed = parseSdp(serializeSdp(answer));
      assert.deepEqual(reparsed, answer);
      assert.equal(assertValidAnswer(offer, reparsed), 3, 'audio, video and data all accepted');
      assert.deepEqual(reparsed.groups, [{ semantics: 'BUNDLE', mids: ['0', '1', '2'] }]);
      // Candidates only in the answerer-tagged section, with its port on the m-line.
      assert.equal(reparsed.media[0]!.candidates.length, 1);
      assert.equal(reparsed.media[0]!.port, 40000);
      assert.equal(reparsed.media[1]!.candidates.length, 0);
      assert.equal(reparsed.media[0]!.setup, 'active', 'answers take the DTLS client role by default');
    });
  }

  it('chromium offer: 4 + 11 extmaps, extmap-allow-mixed, RTX FID, TCP candidates ignored, max-message-size', () => {
    const offer = parseSdp(fixture('offer-from-chromium.sdp'));
    assert.equal(offer.extmapAllowMixed, true);
    assert.equal(offer.media[0]!.extmaps.length, 4);
    assert.equal(offer.media[1]!.extmaps.length, 11);
    assert.deepEqual(offer.media[1]!.ssrcGroups, [{ semantics: 'FID', ssrcs: [2174794091, 1198053116] }]);
    assert.equal(offer.media[1]!.codecs.length, 23);
    const h264 = offer.media[1]!.codecs.find((c) => c.payloadType === 104)!;
    assert.deepEqual(h264.parameters, { 'level-asymmetry-allowed': '1', 'packetization-mode': '0', 'profile-level-id': '42001f' });
    assert.deepEqual(h264.rtcpFeedback[2], { type: 'ccm', parameter: 'fir' });
    assert.deepEqual(offer.media[0]!.codecs.find((c) => c.payloadType === 63)!.parameters, { '111/111': '' });
    const [t, ...rest] = extractRemoteTransports(offer);
    assert.equal(rest.length, 0, 'one transport for the BUNDLE group');
    assert.deepEqual(t!.mids, ['0', '1', '2']);
    assert.equal(t!.iceUfrag, 'sgv9');
    assert.equal(t!.icePwd, 'lxT/KHjghSUhubX6rY7KyrR+');
    assert.deepEqual(t!.candidates.map((c) => `${c.transport} ${c.port}`), ['udp 41157']);
    assert.deepEqual(t!.ignoredCandidates.map((c) => `${c.transport} ${c.tcpType}`), ['tcp active']);
    assert.deepEqual(t!.iceOptions, ['trickle']);
    assert.equal(t!.setup, 'actpass');
    assert.deepEqual(t!.sctp, { port: 5000, maxMessageSize: 262144 });

    const answer = answerTo(offer);
    assert.equal(answer.extmapAllowMixed, true, 'extmap-allow-mixed echoed');
    assert.deepEqual(
      answer.media[1]!.extmaps.map((e) => `${e.id} ${e.uri}`),
      [
        `2 ${HeaderExtensionUri.absSendTime}`,
        `3 ${HeaderExtensionUri.transportWideCc}`,
        `4 ${HeaderExtensionUri.mid}`,
        `10 ${HeaderExtensionUri.rtpStreamId}`,
        `11 ${HeaderExtensionUri.repairedRtpStreamId}`,
      ],
      'only extensions we support, with the offered ids',
    );
    const video = answer.media[1]!;
    assert.deepEqual(video.ssrcGroups, [{ semantics: 'FID', ssrcs: [2000, 2001] }]);
    // Codec intersection: VP8, VP9 profile 0, the four H264 variants we support, AV1 — never VP9
    // profile 2 (100), H264 Main (116/39), red/ulpfec; each with the RTX the offer associated.
    const names = video.codecs.map((c) => `${c.payloadType}:${c.name}`);
    assert.deepEqual(names, ['96:VP8', '97:rtx', '98:VP9', '99:rtx', '108:H264', '109:rtx', '102:H264', '103:rtx', '114:H264', '115:rtx', '104:H264', '107:rtx', '45:AV1', '46:rtx']);
    assert.equal(answer.media[2]!.maxMessageSize, 262144);
  });

  it('aiortc offer: per-section ufrag/candidates resolved to the BUNDLE tag; legacy DTLS/SCTP + sctpmap answered alike', () => {
    const offer = parseSdp(fixture('offer-from-aiortc.sdp'));
    assert.deepEqual(offer.media.map((m) => m.iceUfrag), ['CCgY', 'cdtj', '1cuS']);
    const transports = extractRemoteTransports(offer);
    assert.equal(transports.length, 1);
    assert.equal(transports[0]!.iceUfrag, 'CCgY', 'the tag section (mid 0) decides (RFC 8843 §7.3.1)');
    assert.equal(transports[0]!.icePwd, '545fMZElNqUyXZVZPEu1xQ');
    assert.deepEqual(transports[0]!.candidates.map((c) => c.port), [57484]);
    assert.equal(transports[0]!.endOfCandidates, true);
    assert.deepEqual(transports[0]!.sctp, { port: 5000, maxMessageSize: 65536 });
    const data = offer.media[2]!;
    assert.equal(data.protocol, 'DTLS/SCTP');
    assert.deepEqual(data.formats, ['5000']);
    assert.deepEqual(data.sctpmap, { port: 5000, app: 'webrtc-datachannel', streams: 65535 });

    const answer = answerTo(offer);
    const d = answer.media[2]!;
    assert.equal(d.protocol, 'DTLS/SCTP');
    assert.deepEqual(d.formats, ['5000']);
    assert.deepEqual(d.sctpmap, { port: 5000, app: 'webrtc-datachannel', streams: 65535 });
    assert.equal(d.sctpPort, undefined);
    assert.equal(d.maxMessageSize, 262144);
  });

  it('aiortc offer: extmap id 2 names two URIs across audio and video; our answer keeps it for one only', () => {
    const offer = parseSdp(fixture('offer-from-aiortc.sdp'));
    assert.equal(offer.media[0]!.extmaps.find((e) => e.id === 2)!.uri, HeaderExtensionUri.audioLevel);
    assert.equal(offer.media[1]!.extmaps.find((e) => e.id === 2)!.uri, HeaderExtensionUri.absSendTime);
    const answer = answerTo(offer);
    assert.deepEqual(answer.media[0]!.extmaps.map((e) => `${e.id} ${e.uri}`), [`1 ${HeaderExtensionUri.mid}`, `2 ${HeaderExtensionUri.audioLevel}`]);
    assert.deepEqual(answer.media[1]!.extmaps.map((e) => `${e.id} ${e.uri}`), [`1 ${HeaderExtensionUri.mid}`]);
    // aiortc offers only H264 profile-level-ids we support, and no rtcp-fb beyond nack/pli/remb.
    assert.deepEqual(answer.media[1]!.codecs[0]!.rtcpFeedback, [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'goog-remb' }]);
    assert.deepEqual(answer.media[0]!.codecs.map((c) => `${c.payloadType} ${c.name}`), ['96 opus'], 'PCMU/PCMA are not in our capabilities');
  });

  it('werift offer: one ufrag, a port per m-line; the tag section gives the candidate', () => {
    const offer = parseSdp(fixture('offer-from-werift.sdp'));
    assert.deepEqual(offer.media.map((m) => m.candidates[0]!.port), [41135, 55796, 48059]);
    assert.deepEqual(offer.media[0]!.candidates[0]!.extensions, [{ name: 'generation', value: '0' }, { name: 'ufrag', value: 'dad8' }]);
    const [t] = extractRemoteTransports(offer);
    assert.deepEqual(t!.candidates.map((c) => c.port), [41135]);
    const answer = answerTo(offer);
    assert.equal(answer.media[0]!.codecs[0]!.name, 'OPUS', 'the offer names the codec; case is echoed');
    assert.deepEqual(answer.media[1]!.extmaps.map((e) => e.id), [2, 3]);
  });

  it('wrtc offer: passive TCP candidates ignored; AV1 on PT 39 keeps the offered PTs', () => {
    const offer = parseSdp(fixture('offer-from-wrtc.sdp'));
    const [t] = extractRemoteTransports(offer);
    assert.deepEqual(t!.ignoredCandidates.map((c) => c.tcpType), ['passive']);
    const answer = answerTo(offer);
    const av1 = answer.media[1]!.codecs.find((c) => c.name === 'AV1')!;
    assert.equal(av1.payloadType, 39);
    assert.equal(answer.media[1]!.codecs.find((c) => c.name === 'rtx' && c.parameters.apt === '39')!.payloadType, 40);
  });

  it('answers from every peer yield their transport with setup active', () => {
    for (const peer of PEERS) {
      const answer = parseSdp(fixture(`answer-from-${peer}.sdp`));
      const transports = extractRemoteTransports(answer);
      assert.equal(transports.length, 1, peer);
      assert.equal(transports[0]!.setup, 'active', peer);
      assert.equal(transports[0]!.fingerprints[0]!.algorithm, 'sha-256', peer);
    }
  });
});
