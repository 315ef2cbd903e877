// JSEP offer/answer rules (RFC 8829 §5.2/§5.3, RFC 3264 §6, RFC 8843 §7, RFC 8842 §5.3,
// RFC 6184 §8.2.2, RFC 4588 §8, RFC 8285 §6, RFC 8853 §5.3, RFC 8841).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  answerDirection,
  createAnswer,
  createOffer,
  defaultCodecs,
  extractRemoteTransports,
  HeaderExtensionUri,
  negotiatedDtlsRole,
  parseH264ProfileLevelId,
  parseSdp,
  SdpInvalidAccessError,
  serializeSdp,
  type AnswerOptions,
  type MediaDirection,
  type OfferOptions,
  type SdpSessionDescription,
  type SetupRole,
} from '../../../lib/sdp/index.js';
import { assertValidAnswer, localTransport, servedCodecs, servedExtensions, SESSION } from './helpers.js';

const REMOTE_TRANSPORT = [
  'a=ice-ufrag:rmtU',
  'a=ice-pwd:remotepasswordremotepass',
  'a=fingerprint:sha-256 01:02:03',
  'a=setup:actpass',
];

/** A remote offer with one m-section of `kind`, the given m-line formats and extra lines, bundled under mid "0". */
function offerWith(kind: string, protocolAndFormats: string, ...lines: string[]): SdpSessionDescription {
  return parseSdp([
    'v=0', 'o=- 9 1 IN IP4 0.0.0.0', 's=-', 't=0 0', 'a=group:BUNDLE 0',
    `m=${kind} 9 ${protocolAndFormats}`, 'c=IN IP4 0.0.0.0', 'a=mid:0', 'a=rtcp-mux', ...REMOTE_TRANSPORT, ...lines,
  ].join('\r\n') + '\r\n');
}

function answer(offer: SdpSessionDescription, options: Partial<AnswerOptions> = {}): SdpSessionDescription {
  const a = createAnswer(offer, { session: SESSION, transport: localTransport(), codecs: servedCodecs(), headerExtensions: servedExtensions(), ...options });
  // Every answer the tests look at must also survive serialization and satisfy the generic rules.
  assert.deepEqual(parseSdp(serializeSdp(a)), a);
  assertValidAnswer(offer, a);
  return a;
}

function offerOptions(overrides: Partial<OfferOptions> = {}): OfferOptions {
  return {
    session: SESSION,
    transport: localTransport(),
    transceivers: [
      { mid: '0', kind: 'audio', direction: 'sendrecv', sender: { cname: 'cn', ssrc: 11, msids: [{ stream: 'st', track: 'a' }] } },
      { mid: '1', kind: 'video', direction: 'sendrecv', sender: { cname: 'cn', ssrc: 22, rtxSsrc: 23, msids: [{ stream: 'st', track: 'v' }] } },
    ],
    dataChannel: { mid: '2' },
    ...overrides,
  };
}

describe('createOffer', () => {
  it('writes one BUNDLE group, transport in every section, candidates in the tag only', () => {
    const offer = parseSdp(serializeSdp(createOffer(offerOptions())));
    assert.deepEqual(offer.groups, [{ semantics: 'BUNDLE', mids: ['0', '1', '2'] }]);
    assert.equal(offer.extmapAllowMixed, true);
    assert.deepEqual(offer.media.map((m) => m.port), [40000, 9, 9]);
    assert.deepEqual(offer.media.map((m) => m.candidates.length), [1, 0, 0]);
    assert.ok(offer.media.every((m) => m.setup === 'actpass' && m.iceUfrag === 'pwtU' && m.fingerprints.length === 1));
    assert.ok(offer.media.slice(0, 2).every((m) => m.rtcpMux && m.rtcpRsize));
    assert.deepEqual(offer.media[1]!.ssrcGroups, [{ semantics: 'FID', ssrcs: [22, 23] }]);
    assert.deepEqual(offer.media[1]!.msids, [{ stream: 'st', track: 'v' }]);
    assert.deepEqual(offer.media[2]!.formats, ['webrtc-datachannel']);
    assert.equal(offer.media[2]!.protocol, 'UDP/DTLS/SCTP');
    assert.equal(offer.media[2]!.sctpPort, 5000);
    assert.equal(offer.media[2]!.maxMessageSize, 262144);
    assert.deepEqual(offer.msidSemantic, { semantic: 'WMS', ids: ['st'] });
  });

  it('offers the default codecs: opus with its fmtp, each video codec with RTX; no rtcp-fb or transport-cc unless declared', () => {
    const bare = createOffer(offerOptions());
    for (const s of bare.media.filter((m) => m.kind !== 'application')) {
      for (const c of s.codecs) assert.deepEqual(c.rtcpFeedback, [], 'no feedback is promised by default');
      assert.ok(!s.extmaps.some((e) => e.uri === HeaderExtensionUri.transportWideCc));
    }
    const offer = createOffer(offerOptions({
      transceivers: offerOptions().transceivers.map((t) => ({
        ...t,
        codecs: servedCodecs().filter((c) => c.kind === t.kind),
        headerExtensions: servedExtensions().filter((e) => e.kind === t.kind),
      })),
    }));
    const opus = offer.media[0]!.codecs[0]!;
    assert.deepEqual([opus.name, opus.clockRate, opus.channels, opus.parameters], ['opus', 48000, 2, { minptime: '10', useinbandfec: '1' }]);
    const video = offer.media[1]!.codecs;
    const primaries = video.filter((c) => c.name !== 'rtx');
    assert.deepEqual(primaries.map((c) => `${c.name} ${c.parameters['profile-level-id'] ?? ''} ${c.parameters['packetization-mode'] ?? ''}`.trim()), [
      'VP8', 'VP9', 'H264 42e01f 1', 'H264 42001f 1', 'H264 42e01f 0', 'H264 42001f 0', 'AV1',
    ]);
    assert.equal(primaries.find((c) => c.name === 'VP9')!.parameters['profile-id'], '0');
    for (const p of primaries) {
      assert.deepEqual(p.rtcpFeedback.map((f) => `${f.type}${f.parameter ? ` ${f.parameter}` : ''}`).sort(), ['ccm fir', 'goog-remb', 'nack', 'nack pli', 'transport-cc']);
      const rtx = video.filter((c) => c.name === 'rtx' && c.parameters.apt === String(p.payloadType));
      assert.equal(rtx.length, 1, `one rtx for ${p.name}`);
    }
    const uris = (i: number) => offer.media[i]!.extmaps.map((e) => e.uri).sort();
    assert.deepEqual(uris(0), [HeaderExtensionUri.absSendTime, HeaderExtensionUri.transportWideCc, HeaderExtensionUri.mid, HeaderExtensionUri.audioLevel].sort());
    assert.deepEqual(uris(1), [HeaderExtensionUri.absSendTime, HeaderExtensionUri.transportWideCc, HeaderExtensionUri.mid, HeaderExtensionUri.rtpStreamId, HeaderExtensionUri.repairedRtpStreamId].sort());
  });

  it('never maps one extmap id or payload type to two things across the BUNDLE group', () => {
    // Preferred ids and PTs that collide on purpose: the allocator must move the second one.
    const offer = createOffer(offerOptions({
      transceivers: [
        { mid: 'a', kind: 'audio', direction: 'sendrecv', headerExtensions: [{ kind: 'audio', uri: 'urn:x:one', preferredId: 5 }], codecs: [{ ...defaultCodecs('audio')[0]!, preferredPayloadType: 96 }] },
        { mid: 'v', kind: 'video', direction: 'sendrecv', headerExtensions: [{ kind: 'video', uri: 'urn:x:two', preferredId: 5 }, { kind: 'video', uri: 'urn:x:one', preferredId: 9 }] },
      ],
      dataChannel: undefined,
    }));
    const idToUri = new Map<number, string>();
    const uriToId = new Map<string, number>();
    const ptToCodec = new Map<number, string>();
    for (const m of offer.media) {
      for (const e of m.extmaps) {
        assert.equal(idToUri.get(e.id) ?? e.uri, e.uri, `id ${e.id}`);
        assert.equal(uriToId.get(e.uri) ?? e.id, e.id, `uri ${e.uri}`);
        idToUri.set(e.id, e.uri);
        uriToId.set(e.uri, e.id);
      }
      for (const c of m.codecs) {
        const key = `${c.name}/${c.clockRate}/${JSON.stringify(c.parameters)}`;
        assert.equal(ptToCodec.get(c.payloadType) ?? key, key, `PT ${c.payloadType}`);
        ptToCodec.set(c.payloadType, key);
      }
    }
    assert.equal(uriToId.get('urn:x:one'), 5, 'same URI keeps its id in the second section');
    assert.notEqual(uriToId.get('urn:x:two'), 5);
    assert.equal(offer.media[0]!.codecs[0]!.payloadType, 96);
    assert.notEqual(offer.media[1]!.codecs[0]!.payloadType, 96, 'VP8 moved off the PT opus took');
  });

  it('is deterministic: the same input gives the same PTs and ids (stable renegotiation)', () => {
    assert.deepEqual(createOffer(offerOptions()), createOffer(offerOptions()));
  });

  it('bundleOnly marks non-tag sections port 0 + a=bundle-only; our answerer accepts them into BUNDLE', () => {
    const offer = parseSdp(serializeSdp(createOffer(offerOptions({ bundleOnly: true }))));
    assert.deepEqual(offer.media.map((m) => [m.port === 0, m.bundleOnly]), [[false, false], [true, true], [true, true]]);
    const a = answer(offer);
    assert.deepEqual(a.groups, [{ semantics: 'BUNDLE', mids: ['0', '1', '2'] }]);
    assert.ok(a.media.every((m) => m.port !== 0 && !m.bundleOnly));
  });

  it('balanced puts candidates and the real port in every section', () => {
    const offer = createOffer(offerOptions({ bundlePolicy: 'balanced' }));
    assert.deepEqual(offer.media.map((m) => [m.port, m.candidates.length]), [[40000, 1], [40000, 1], [40000, 1]]);
  });

  it('a stopped transceiver gets port 0 and leaves the BUNDLE group; the data section can sit in the middle', () => {
    const opts = offerOptions();
    opts.transceivers[0] = { ...opts.transceivers[0]!, stopped: true };
    opts.dataChannel = { mid: '2', index: 1 };
    const offer = createOffer(opts);
    assert.deepEqual(offer.media.map((m) => `${m.mid}:${m.port}`), ['0:0', '2:40000', '1:9']);
    assert.deepEqual(offer.groups[0]!.mids, ['2', '1']);
    const a = answer(parseSdp(serializeSdp(offer)));
    assert.equal(a.media[0]!.port, 0);
    assert.deepEqual(a.groups[0]!.mids, ['2', '1']);
  });

  it('simulcast: send rids omit SSRCs; recv rids ask for simulcast', () => {
    const opts = offerOptions();
    opts.transceivers[1] = { ...opts.transceivers[1]!, sendRids: ['h', 'l'], recvRids: ['r'] };
    const video = createOffer(opts).media[1]!;
    assert.deepEqual(video.rids.map((r) => `${r.id} ${r.direction}`), ['h send', 'l send', 'r recv']);
    assert.deepEqual(video.simulcast, { send: [[{ rid: 'h', paused: false }], [{ rid: 'l', paused: false }]], recv: [[{ rid: 'r', paused: false }]] });
    assert.deepEqual(video.ssrcs, []);
  });

  it('misuse throws InvalidAccessError with a stable code', () => {
    const dup = offerOptions();
    dup.transceivers[1] = { ...dup.transceivers[1]!, mid: '0' };
    assert.throws(() => createOffer(dup), (e: unknown) => e instanceof SdpInvalidAccessError && e.name === 'InvalidAccessError' && e.code === 'ERR_SDP_DUPLICATE_MID');
    assert.throws(() => createOffer(offerOptions({ transport: localTransport({ fingerprints: [] }) })), { code: 'ERR_SDP_BAD_LOCAL_PARAMETERS' });
    assert.throws(() => createOffer(offerOptions({ session: { sessionId: 'x', sessionVersion: '1' } })), { code: 'ERR_SDP_BAD_LOCAL_PARAMETERS' });
    const noCodec = offerOptions();
    noCodec.transceivers[0] = { ...noCodec.transceivers[0]!, codecs: defaultCodecs('video') };
    assert.throws(() => createOffer(noCodec), { code: 'ERR_SDP_BAD_LOCAL_PARAMETERS' });
  });
});

describe('createAnswer', () => {
  it('answers our own offer: everything accepted, directions sendrecv, SSRCs announced', () => {
    const offer = parseSdp(serializeSdp(createOffer(offerOptions())));
    const a = answer(offer, {
      media: { '0': { direction: 'sendrecv', sender: { cname: 'x', ssrc: 5, msids: [{ stream: '-' }] } }, '1': { direction: 'sendrecv' } },
    });
    assert.deepEqual(a.media.map((m) => m.direction), ['sendrecv', 'sendrecv', undefined]);
    assert.deepEqual(a.media[0]!.ssrcs.map((s) => `${s.ssrc} ${s.attribute}`), ['5 cname', '5 msid']);
    assert.equal(a.media[1]!.codecs.length, offer.media[1]!.codecs.length, 'identical capabilities: full intersection');
    const transports = extractRemoteTransports(parseSdp(serializeSdp(a)));
    assert.equal(transports.length, 1);
    assert.equal(transports[0]!.setup, 'active');
  });

  it('direction intersection (RFC 8829 §5.3.1), default recvonly for sections without a local transceiver', () => {
    const dirs: MediaDirection[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];
    const expected: Record<string, MediaDirection> = {
      'sendrecv/sendrecv': 'sendrecv', 'sendrecv/sendonly': 'sendonly', 'sendrecv/recvonly': 'recvonly', 'sendrecv/inactive': 'inactive',
      'sendonly/sendrecv': 'recvonly', 'sendonly/sendonly': 'inactive', 'sendonly/recvonly': 'recvonly', 'sendonly/inactive': 'inactive',
      'recvonly/sendrecv': 'sendonly', 'recvonly/sendonly': 'sendonly', 'recvonly/recvonly': 'inactive', 'recvonly/inactive': 'inactive',
      'inactive/sendrecv': 'inactive', 'inactive/sendonly': 'inactive', 'inactive/recvonly': 'inactive', 'inactive/inactive': 'inactive',
    };
    for (const o of dirs) {
      for (const l of dirs) {
        assert.equal(answerDirection(o, l), expected[`${o}/${l}`], `${o}/${l}`);
        const a = answer(offerWith('audio', 'UDP/TLS/RTP/SAVPF 111', 'a=rtpmap:111 opus/48000/2', `a=${o}`), { media: { '0': { direction: l } } });
        assert.equal(a.media[0]!.direction, expected[`${o}/${l}`]);
      }
    }
    const a = answer(offerWith('audio', 'UDP/TLS/RTP/SAVPF 111', 'a=rtpmap:111 opus/48000/2'));
    assert.equal(a.media[0]!.direction, 'recvonly');
  });

  it('H264: matches profile and packetization-mode, not level; keeps the offered PTs and fmtp', () => {
    const offer = offerWith('video', 'UDP/TLS/RTP/SAVPF 120 121 122 123 124',
      'a=rtpmap:120 H264/90000', 'a=fmtp:120 profile-level-id=4d001f;packetization-mode=1',
      'a=rtpmap:121 H264/90000', 'a=fmtp:121 profile-level-id=42e034;packetization-mode=1',
      'a=rtpmap:122 H264/90000', 'a=fmtp:122 profile-level-id=42e01f;packetization-mode=2',
      'a=rtpmap:123 H264/90000', 'a=fmtp:123 profile-level-id=42c00b',
      'a=rtpmap:124 H264/90000');
    const a = answer(offer);
    // 4d001f is Main (unsupported); 42e034 is Constrained Baseline at level 5.2 (accepted, level may
    // differ); mode 2 unsupported; 42c00b = CB level 1.1 with packetization-mode absent = 0 (accepted);
    // no fmtp at all = Baseline 42000a mode 0 (accepted: matches 42001f mode 0).
    assert.deepEqual(a.media[0]!.codecs.map((c) => c.payloadType), [121, 123, 124]);
    assert.deepEqual(a.media[0]!.codecs[0]!.parameters, { 'profile-level-id': '42e034', 'packetization-mode': '1' });
  });

  it('RTX follows its primary by apt; an rtx for a rejected codec or without apt is dropped', () => {
    const offer = offerWith('video', 'UDP/TLS/RTP/SAVPF 100 101 102 103 104',
      'a=rtpmap:100 VP8/90000', 'a=rtpmap:101 rtx/90000', 'a=fmtp:101 apt=100',
      'a=rtpmap:102 VP9/90000', 'a=fmtp:102 profile-id=2', 'a=rtpmap:103 rtx/90000', 'a=fmtp:103 apt=102',
      'a=rtpmap:104 rtx/90000');
    const a = answer(offer);
    assert.deepEqual(a.media[0]!.codecs.map((c) => `${c.payloadType} ${c.name} ${c.parameters.apt ?? ''}`.trim()), ['100 VP8', '101 rtx 100']);
    const noRtx = answer(offer, { codecs: defaultCodecs('video').map((c) => ({ ...c, rtx: false })) });
    assert.deepEqual(noRtx.media[0]!.codecs.map((c) => c.payloadType), [100]);
  });

  it('rtcp-fb: intersection of offered (per PT and wildcard) and local feedback', () => {
    const offer = offerWith('video', 'UDP/TLS/RTP/SAVPF 96', 'a=rtpmap:96 VP8/90000',
      'a=rtcp-fb:96 nack', 'a=rtcp-fb:96 ccm fir', 'a=rtcp-fb:96 ccm tmmbr', 'a=rtcp-fb:96 rrtr', 'a=rtcp-fb:* transport-cc', 'a=rtcp-fb:* nack');
    const a = answer(offer);
    assert.deepEqual(a.media[0]!.codecs[0]!.rtcpFeedback, [{ type: 'nack' }, { type: 'ccm', parameter: 'fir' }, { type: 'transport-cc' }]);
  });

  it('extmap: only supported URIs, with the offerer ids; extmap-allow-mixed echoed per section', () => {
    const offer = offerWith('audio', 'UDP/TLS/RTP/SAVPF 111', 'a=rtpmap:111 opus/48000/2',
      `a=extmap:7 ${HeaderExtensionUri.mid}`, 'a=extmap:8 urn:ietf:params:rtp-hdrext:toffset', `a=extmap:200 ${HeaderExtensionUri.transportWideCc}`, 'a=extmap-allow-mixed');
    const a = answer(offer);
    assert.deepEqual(a.media[0]!.extmaps, [{ id: 7, uri: HeaderExtensionUri.mid }, { id: 200, uri: HeaderExtensionUri.transportWideCc }]);
    assert.equal(a.media[0]!.extmapAllowMixed, true);
  });

  it('opus: answer states our own fmtp; codecs we do not support are left out; preference order is ours', () => {
    const offer = offerWith('audio', 'UDP/TLS/RTP/SAVPF 0 109 8', 'a=rtpmap:109 opus/48000/2', 'a=fmtp:109 maxplaybackrate=48000;stereo=1');
    const a = answer(offer);
    assert.deepEqual(a.media[0]!.codecs, [{ payloadType: 109, name: 'opus', clockRate: 48000, channels: 2, parameters: { minptime: '10', useinbandfec: '1' }, rtcpFeedback: [] }]);
    const pcmuFirst = answer(offer, { codecs: [{ kind: 'audio', name: 'PCMA', clockRate: 8000, parameters: {}, rtcpFeedback: [], rtx: false }, ...defaultCodecs('audio')] });
    assert.deepEqual(pcmuFirst.media[0]!.codecs.map((c) => c.payloadType), [8, 109]);
  });

  it('DTLS role: active by default, passive on request, forced by an active/passive offer', () => {
    const lines = ['a=rtpmap:111 opus/48000/2'];
    const withSetup = (s: string) => parseSdp(serializeSdp(offerWith('audio', 'UDP/TLS/RTP/SAVPF 111', ...lines)).replace('a=setup:actpass', `a=setup:${s}`));
    assert.equal(answer(withSetup('actpass')).media[0]!.setup, 'active');
    assert.equal(answer(withSetup('actpass'), { transport: localTransport({ setup: 'passive' }) }).media[0]!.setup, 'passive');
    assert.equal(answer(withSetup('active')).media[0]!.setup, 'passive');
    assert.equal(answer(withSetup('passive'), { transport: localTransport({ setup: 'passive' }) }).media[0]!.setup, 'active');
    assert.throws(() => answer(withSetup('holdconn')), { name: 'InvalidAccessError', code: 'ERR_SDP_BAD_SETUP' });
    assert.throws(() => answer(withSetup('actpass'), { transport: localTransport({ setup: 'actpass' }) }), { code: 'ERR_SDP_BAD_SETUP' });
  });

  it('rejects with port 0: unknown kinds, plain RTP/AVP, non-SCTP application, no common codec, a second data section, sections rejected in the offer, no rtcp-mux', () => {
    const offer = parseSdp([
      'v=0', 'o=- 9 1 IN IP4 0.0.0.0', 's=-', 't=0 0', ...REMOTE_TRANSPORT, 'a=group:BUNDLE a b c d e f g',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:a', 'a=rtpmap:111 opus/48000/2', 'a=rtcp-mux',
      'm=text 9 UDP/TLS/RTP/SAVPF 98', 'a=mid:b', 'a=rtpmap:98 t140/1000',
      'm=audio 9 RTP/AVP 0', 'a=mid:c',
      'm=application 9 TCP/BFCP *', 'a=mid:d',
      'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:e', 'a=rtpmap:96 MP4V-ES/90000',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=mid:f', 'a=sctp-port:5000',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=mid:g', 'a=sctp-port:5001',
      'm=video 0 UDP/TLS/RTP/SAVPF 96', 'a=mid:h', 'a=rtpmap:96 VP8/90000',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:i', 'a=rtpmap:111 opus/48000/2',
    ].join('\r\n') + '\r\n');
    const a = answer(offer);
    assert.deepEqual(a.media.map((m) => `${m.mid}:${m.port === 0 ? 'rejected' : 'ok'}`), ['a:ok', 'b:rejected', 'c:rejected', 'd:rejected', 'e:rejected', 'f:ok', 'g:rejected', 'h:rejected', 'i:rejected']);
    assert.deepEqual(a.groups, [{ semantics: 'BUNDLE', mids: ['a', 'f'] }]);
    assert.deepEqual(a.media[1]!.formats, ['98'], 'rejected sections keep the offered formats');
    assert.deepEqual(answer(offer, { media: { a: { reject: true } } }).groups, [{ semantics: 'BUNDLE', mids: ['f'] }]);
    assert.equal(answer(offer, { dataChannel: false }).media[5]!.port, 0);
    assert.equal(answer(offer, { dataChannel: { maxMessageSize: 1 << 20 } }).media[5]!.maxMessageSize, 1 << 20);
    assert.equal(answer(offer, { dataChannel: { sctpPort: 5001 } }).media[5]!.sctpPort, 5001);
    const legacy = offerWith('application', 'DTLS/SCTP 5000', 'a=sctpmap:5000 webrtc-datachannel 1024');
    const d = answer(legacy, { dataChannel: { sctpPort: 5001 } }).media[0]!;
    assert.deepEqual([d.formats, d.sctpmap, d.sctpPort], [['5001'], { port: 5001, app: 'webrtc-datachannel', streams: 65535 }, undefined]);
  });

  it('simulcast receive: the offerer\'s send rids become our recv rids', () => {
    const offer = offerWith('video', 'UDP/TLS/RTP/SAVPF 96 97', 'a=rtpmap:96 VP8/90000', 'a=rtpmap:97 VP9/90000', 'a=fmtp:97 profile-id=1', 'a=sendonly',
      `a=extmap:10 ${HeaderExtensionUri.rtpStreamId}`, 'a=rid:f send pt=96,97;max-width=1280', 'a=rid:h send', 'a=rid:q send', 'a=simulcast:send f;h;~q');
    const a = answer(offer).media[0]!;
    assert.equal(a.direction, 'recvonly');
    assert.deepEqual(a.rids, [
      { id: 'f', direction: 'recv', payloadTypes: [96], restrictions: { 'max-width': '1280' } },
      { id: 'h', direction: 'recv', payloadTypes: [], restrictions: {} },
      { id: 'q', direction: 'recv', payloadTypes: [], restrictions: {} },
    ]);
    assert.deepEqual(a.simulcast, { send: [], recv: [[{ rid: 'f', paused: false }], [{ rid: 'h', paused: false }], [{ rid: 'q', paused: true }]] });
    assert.equal(answer(offer, { acceptSimulcast: false }).media[0]!.simulcast, undefined);
  });

  it('an unbundled offer gets an unbundled answer with candidates in every section', () => {
    const text = serializeSdp(createOffer(offerOptions({ bundlePolicy: 'balanced' }))).replace(/a=group:BUNDLE[^\r]*\r\n/, '');
    const a = answer(parseSdp(text));
    assert.deepEqual(a.groups, []);
    assert.deepEqual(a.media.map((m) => m.candidates.length), [1, 1, 1]);
    assert.equal(extractRemoteTransports(a).length, 3);
  });
});

describe('remote description validation', () => {
  const base = ['v=0', 'o=- 9 1 IN IP4 0.0.0.0', 's=-', 't=0 0'];
  const media = ['m=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=rtpmap:111 opus/48000/2'];
  const cases: Array<[string, string[], string]> = [
    ['missing ice credentials', [...base, 'a=fingerprint:sha-256 01:02', ...media, 'a=mid:0'], 'ERR_SDP_MISSING_ICE_CREDENTIALS'],
    ['missing fingerprint', [...base, 'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuv', ...media, 'a=mid:0'], 'ERR_SDP_MISSING_FINGERPRINT'],
    ['missing mid', [...base, ...REMOTE_TRANSPORT, ...media], 'ERR_SDP_MISSING_MID'],
    ['duplicate mid', [...base, ...REMOTE_TRANSPORT, ...media, 'a=mid:0', ...media, 'a=mid:0'], 'ERR_SDP_DUPLICATE_MID'],
    ['BUNDLE names an unknown mid', [...base, ...REMOTE_TRANSPORT, 'a=group:BUNDLE 0 9', ...media, 'a=mid:0'], 'ERR_SDP_BUNDLE_UNKNOWN_MID'],
    ['a mid in two BUNDLE groups', [...base, ...REMOTE_TRANSPORT, 'a=group:BUNDLE 0', 'a=group:BUNDLE 0', ...media, 'a=mid:0'], 'ERR_SDP_BUNDLE_MID_TWICE'],
  ];
  for (const [title, lines, code] of cases) {
    it(`${title} → InvalidAccessError ${code}`, () => {
      const offer = parseSdp(lines.join('\r\n') + '\r\n');
      assert.throws(() => createAnswer(offer, { session: SESSION, transport: localTransport() }), (e: unknown) =>
        e instanceof SdpInvalidAccessError && e.name === 'InvalidAccessError' && e.code === code);
    });
  }

  it('session-level ICE/DTLS attributes apply to sections without their own', () => {
    const offer = parseSdp([...base, ...REMOTE_TRANSPORT, 'a=ice-lite', ...media, 'a=mid:0'].join('\r\n') + '\r\n');
    const [t] = extractRemoteTransports(offer);
    assert.equal(t!.iceUfrag, 'rmtU');
    assert.equal(t!.iceLite, true);
    assert.equal(t!.setup, 'actpass');
  });
});

describe('H264 profile-level-id (RFC 6184 §8.1)', () => {
  const cases: Array<[string, string | undefined, number]> = [
    ['42e01f', 'constrained-baseline', 31],
    ['42001f', 'baseline', 31],
    ['4d001f', 'main', 31],
    ['4d801f', 'constrained-baseline', 31],
    ['58c01e', 'constrained-baseline', 30],
    ['64001f', 'high', 31],
    ['640c1f', 'constrained-high', 31],
    ['42f00b', 'constrained-baseline', 0],
    ['f4001f', 'high-444', 31],
    ['ff001f', undefined, 0],
    ['42e0', undefined, 0],
  ];
  for (const [text, profile, level] of cases) {
    it(`${text} → ${profile ?? 'unknown'}`, () => {
      const p = parseH264ProfileLevelId(text);
      assert.equal(p?.profile, profile);
      if (p !== undefined) assert.equal(p.level, level);
    });
  }
});

describe('offers in other browsers\' style', () => {
  it('Firefox style: session-level fingerprint, ice-options and direction, braced msid, UDP in capitals, extmap directions', () => {
    const offer = parseSdp([
      'v=0', 'o=mozilla...THIS_IS_SDPARTA-99.0 5843896787034843367 0 IN IP4 0.0.0.0', 's=-', 't=0 0', 'a=sendrecv',
      'a=fingerprint:sha-256 0A:1B:2C:3D', 'a=group:BUNDLE 0 1', 'a=ice-options:trickle', 'a=msid-semantic:WMS *',
      'm=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101', 'c=IN IP4 0.0.0.0', 'a=sendrecv',
      `a=extmap:1 ${HeaderExtensionUri.audioLevel}`, 'a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level', `a=extmap:3 ${HeaderExtensionUri.mid}`,
      'a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1', 'a=fmtp:101 0-15', 'a=ice-pwd:7d8a3a7c8c0d5e4d9a5b3c2d1e0f1a2b', 'a=ice-ufrag:f0e1d2c3',
      'a=mid:0', 'a=msid:{9f3e1a2b-1111-2222-3333-444455556666} {0a1b2c3d-7777-8888-9999-aaaabbbbcccc}', 'a=rtcp-mux',
      'a=rtpmap:109 opus/48000/2', 'a=rtpmap:9 G722/8000/1', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000',
      'a=setup:actpass', 'a=ssrc:2222222222 cname:{aaaa-bbbb}',
      'a=candidate:0 1 UDP 2122252543 127.0.0.1 54391 typ host', 'a=candidate:1 1 TCP 2105524479 127.0.0.1 9 typ host tcptype active', 'a=end-of-candidates',
      'm=video 0 UDP/TLS/RTP/SAVPF 120 124 121 125 126 127', 'c=IN IP4 0.0.0.0', 'a=bundle-only', 'a=recvonly',
      `a=extmap:3 ${HeaderExtensionUri.mid}`, 'a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time', 'a=extmap:5 urn:ietf:params:rtp-hdrext:toffset',
      'a=fmtp:126 profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1', 'a=fmtp:97 profile-level-id=42e01f;level-asymmetry-allowed=1',
      'a=fmtp:120 max-fs=12288;max-fr=60', 'a=fmtp:124 apt=120', 'a=fmtp:121 max-fs=12288;max-fr=60', 'a=fmtp:125 apt=121', 'a=fmtp:127 apt=126',
      'a=ice-pwd:7d8a3a7c8c0d5e4d9a5b3c2d1e0f1a2b', 'a=ice-ufrag:f0e1d2c3', 'a=mid:1',
      'a=rtcp-fb:120 nack', 'a=rtcp-fb:120 nack pli', 'a=rtcp-fb:120 ccm fir', 'a=rtcp-fb:120 goog-remb', 'a=rtcp-fb:120 transport-cc',
      'a=rtcp-fb:121 nack', 'a=rtcp-fb:126 nack', 'a=rtcp-fb:126 nack pli',
      'a=rtpmap:120 VP8/90000', 'a=rtpmap:124 rtx/90000', 'a=rtpmap:121 VP9/90000', 'a=rtpmap:125 rtx/90000', 'a=rtpmap:126 H264/90000', 'a=rtpmap:127 rtx/90000',
      'a=setup:actpass',
    ].join('\r\n') + '\r\n');
    const [t] = extractRemoteTransports(offer);
    assert.equal(t!.fingerprints[0]!.value, '0A:1B:2C:3D', 'session-level fingerprint applies');
    assert.deepEqual(t!.iceOptions, ['trickle']);
    assert.deepEqual(t!.candidates.map((c) => c.port), [54391]);
    assert.deepEqual(t!.ignoredCandidates.map((c) => c.transport), ['tcp']);
    assert.deepEqual(offer.media[0]!.msids, [{ stream: '{9f3e1a2b-1111-2222-3333-444455556666}', track: '{0a1b2c3d-7777-8888-9999-aaaabbbbcccc}' }]);
    const a = answer(offer, { media: { '0': { direction: 'sendrecv' }, '1': { direction: 'sendrecv' } } });
    assert.deepEqual(a.groups, [{ semantics: 'BUNDLE', mids: ['0', '1'] }], 'the bundle-only video without its own rtcp-mux is accepted through its group');
    assert.equal(a.media[1]!.direction, 'sendonly');
    assert.deepEqual(a.media[1]!.codecs.map((c) => `${c.payloadType} ${c.name}`), ['120 VP8', '124 rtx', '121 VP9', '125 rtx', '126 H264', '127 rtx']);
    assert.deepEqual(a.media[1]!.codecs.find((c) => c.payloadType === 120)!.rtcpFeedback.map((f) => f.type), ['nack', 'nack', 'ccm', 'goog-remb', 'transport-cc']);
    assert.deepEqual(a.media[0]!.extmaps.map((e) => e.id), [1, 3]);
  });
});

describe('negotiatedDtlsRole (RFC 8842 §5.3)', () => {
  const cases: Array<[SetupRole | undefined, SetupRole | undefined, string | undefined]> = [
    ['actpass', 'active', 'server'],
    ['actpass', 'passive', 'client'],
    ['active', 'actpass', 'client'],
    ['passive', 'actpass', 'server'],
    ['active', 'passive', 'client'],
    ['passive', 'active', 'server'],
    ['active', 'active', undefined],
    ['actpass', 'actpass', undefined],
    ['holdconn', 'active', undefined],
    [undefined, 'active', undefined],
  ];
  for (const [local, remote, role] of cases) {
    it(`${local}/${remote} → ${role}`, () => assert.equal(negotiatedDtlsRole(local, remote), role));
  }
  it('our default answer makes us the DTLS client and the offerer the server', () => {
    const offer = offerWith('audio', 'UDP/TLS/RTP/SAVPF 111', 'a=rtpmap:111 opus/48000/2');
    const a = answer(offer);
    assert.equal(negotiatedDtlsRole(a.media[0]!.setup, offer.media[0]!.setup), 'client');
    assert.equal(negotiatedDtlsRole(offer.media[0]!.setup, a.media[0]!.setup), 'server');
  });
});
