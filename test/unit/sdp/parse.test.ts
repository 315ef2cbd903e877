// Parser and serializer: field-level results for each modelled attribute (RFC 8866, 8839, 8122,
// 8285, 5576, 8830, 8851, 8853, 8841) and typed errors that name the offending line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PwtError } from '../../../lib/common/errors.js';
import { formatCandidate, parseCandidate, parseSdp, SdpSyntaxError, serializeSdp } from '../../../lib/sdp/index.js';

const HEAD = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0'];

function sdp(...lines: string[]): string {
  return [...HEAD, ...lines].join('\r\n') + '\r\n';
}

function expectSyntaxError(text: string, code: string, lineNumber: number): SdpSyntaxError {
  let caught: unknown;
  try {
    parseSdp(text);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SdpSyntaxError, `expected SdpSyntaxError, got ${String(caught)}`);
  assert.ok(caught instanceof PwtError);
  const err = caught;
  assert.equal(err.name, 'SyntaxError');
  assert.equal(err.code, code);
  assert.equal(err.lineNumber, lineNumber);
  assert.match(err.message, new RegExp(`line ${lineNumber}\\b`));
  return err;
}

describe('parseSdp: attributes', () => {
  it('parses session fields, groups, ice-lite, msid-semantic and multiple fingerprints', () => {
    const d = parseSdp(sdp(
      'a=group:BUNDLE a b',
      'a=group:LS a',
      'a=ice-lite',
      'a=msid-semantic: WMS',
      'a=fingerprint:SHA-256 ab:cd',
      'a=fingerprint:sha-1 01:02',
      'a=ice-options:trickle ice2',
      'a=x-custom:1 2',
    ));
    assert.deepEqual(d.origin, { username: '-', sessionId: '1', sessionVersion: '2', netType: 'IN', addressType: 'IP4', address: '127.0.0.1' });
    assert.deepEqual(d.groups, [{ semantics: 'BUNDLE', mids: ['a', 'b'] }, { semantics: 'LS', mids: ['a'] }]);
    assert.equal(d.iceLite, true);
    assert.deepEqual(d.msidSemantic, { semantic: 'WMS', ids: [] });
    assert.deepEqual(d.fingerprints, [{ algorithm: 'sha-256', value: 'AB:CD' }, { algorithm: 'sha-1', value: '01:02' }]);
    assert.deepEqual(d.iceOptions, ['trickle', 'ice2']);
    assert.deepEqual(d.otherAttributes, [{ name: 'x-custom', value: '1 2' }]);
  });

  it('parses an RTP m-section: codecs in m-line order, fmtp, rtcp-fb, static PT without rtpmap', () => {
    const d = parseSdp(sdp(
      'm=audio 9 UDP/TLS/RTP/SAVPF 0 111 63',
      'c=IN IP4 0.0.0.0',
      'b=AS:64',
      'a=fmtp:111 minptime=10; useinbandfec=1',
      'a=rtpmap:111 opus/48000/2',
      'a=rtcp-fb:111 transport-cc',
      'a=rtcp-fb:* nack',
      'a=rtpmap:63 red/48000/2',
      'a=fmtp:63 111/111',
      'a=rtpmap:120 ulpfec/90000',
    ));
    const m = d.media[0]!;
    assert.deepEqual(m.formats, ['0', '111', '63']);
    assert.deepEqual(m.codecs, [
      { payloadType: 0, name: 'PCMU', clockRate: 8000, parameters: {}, rtcpFeedback: [] },
      { payloadType: 111, name: 'opus', clockRate: 48000, channels: 2, parameters: { minptime: '10', useinbandfec: '1' }, rtcpFeedback: [{ type: 'transport-cc' }] },
      { payloadType: 63, name: 'red', clockRate: 48000, channels: 2, parameters: { '111/111': '' }, rtcpFeedback: [] },
    ], 'PT 120 is not on the m-line and is ignored');
    assert.deepEqual(m.rtcpFeedbackWildcard, [{ type: 'nack' }]);
    assert.deepEqual(m.bandwidth, [{ type: 'AS', value: 64 }]);
    assert.deepEqual(m.connection, { addressType: 'IP4', address: '0.0.0.0' });
  });

  it('parses extmaps, ssrc, ssrc-group, msid (with braces), rid, simulcast', () => {
    const d = parseSdp(sdp(
      'm=video 9 UDP/TLS/RTP/SAVPF 96',
      'a=rtpmap:96 VP8/90000',
      'a=extmap:3/sendonly http://example.com/x attr1 attr2',
      'a=extmap:16 urn:ietf:params:rtp-hdrext:sdes:mid',
      'a=extmap-allow-mixed',
      'a=ssrc-group:FID 1 2',
      'a=ssrc:1 cname:abc',
      'a=ssrc:1 msid:s t',
      'a=ssrc:2 cname:abc',
      'a=msid:{5a9b-1} {a5b0-2}',
      'a=msid:-',
      'a=rid:hi_1 send pt=96;max-width=1280;max-height=720',
      'a=rid:lo-2 send',
      'a=simulcast:send hi_1;~lo-2 recv r1,r2',
    ));
    const m = d.media[0]!;
    assert.deepEqual(m.extmaps, [
      { id: 3, uri: 'http://example.com/x', direction: 'sendonly', attributes: 'attr1 attr2' },
      { id: 16, uri: 'urn:ietf:params:rtp-hdrext:sdes:mid' },
    ]);
    assert.equal(m.extmapAllowMixed, true);
    assert.deepEqual(m.ssrcGroups, [{ semantics: 'FID', ssrcs: [1, 2] }]);
    assert.deepEqual(m.ssrcs[1], { ssrc: 1, attribute: 'msid', value: 's t' });
    assert.deepEqual(m.msids, [{ stream: '{5a9b-1}', track: '{a5b0-2}' }, { stream: '-' }]);
    assert.deepEqual(m.rids, [
      { id: 'hi_1', direction: 'send', payloadTypes: [96], restrictions: { 'max-width': '1280', 'max-height': '720' } },
      { id: 'lo-2', direction: 'send', payloadTypes: [], restrictions: {} },
    ]);
    assert.deepEqual(m.simulcast, {
      send: [[{ rid: 'hi_1', paused: false }], [{ rid: 'lo-2', paused: true }]],
      recv: [[{ rid: 'r1', paused: false }, { rid: 'r2', paused: false }]],
    });
  });

  it('parses transport attributes, candidates, bundle-only, rtcp, data channel attributes', () => {
    const d = parseSdp(sdp(
      'm=audio 0 UDP/TLS/RTP/SAVPF 111',
      'a=rtpmap:111 opus/48000/2',
      'a=bundle-only',
      'a=mid:a',
      'a=rtcp:9 IN IP6 ::',
      'a=rtcp-mux',
      'a=rtcp-rsize',
      'a=inactive',
      'a=ice-ufrag:F7gI',
      'a=ice-pwd:x9cml/YzichV2+XlhiMu8g',
      'a=setup:passive',
      'a=candidate:3 2 UDP 1845501695 2001:db8::1 60017 typ srflx raddr 192.168.34.75 rport 60017 generation 0',
      'a=end-of-candidates',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
      'a=mid:d',
      'a=sctp-port:5000',
      'a=max-message-size:0',
    ));
    const [a, dc] = d.media as [typeof d.media[0], typeof d.media[0]];
    assert.equal(a.bundleOnly, true);
    assert.equal(a.port, 0);
    assert.deepEqual(a.rtcp, { port: 9, connection: { addressType: 'IP6', address: '::' } });
    assert.equal(a.direction, 'inactive');
    assert.equal(a.setup, 'passive');
    assert.equal(a.iceUfrag, 'F7gI');
    assert.deepEqual(a.candidates, [{
      foundation: '3', component: 2, transport: 'udp', priority: 1845501695, address: '2001:db8::1', port: 60017, type: 'srflx',
      relatedAddress: '192.168.34.75', relatedPort: 60017, extensions: [{ name: 'generation', value: '0' }],
    }]);
    assert.equal(a.endOfCandidates, true);
    assert.equal(dc.sctpPort, 5000);
    assert.equal(dc.maxMessageSize, 0);
    assert.deepEqual(dc.codecs, [], 'no codecs in a non-RTP section');
  });

  it('accepts LF-only line ends and blank lines', () => {
    const d = parseSdp('v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\n\nt=0 0\nm=audio 9 UDP/TLS/RTP/SAVPF 0\n');
    assert.equal(d.media[0]!.codecs[0]!.name, 'PCMU');
  });

  it('keeps extmap with RFC 6904 encrypt verbatim as an unmodelled attribute', () => {
    const d = parseSdp(sdp('m=audio 9 RTP/AVP 0', 'a=extmap:1 urn:ietf:params:rtp-hdrext:encrypt urn:x'));
    assert.deepEqual(d.media[0]!.extmaps, []);
    assert.deepEqual(d.media[0]!.otherAttributes, [{ name: 'extmap', value: '1 urn:ietf:params:rtp-hdrext:encrypt urn:x' }]);
  });
});

describe('parseSdp: typed errors naming the line', () => {
  const cases: Array<[string, string[], string, number]> = [
    ['no v=0 first', ['o=- 1 1 IN IP4 0.0.0.0'], 'ERR_SDP_BAD_VERSION', 1],
    ['garbage line', ['v=0', 'o=- 1 1 IN IP4 0.0.0.0', 'hello'], 'ERR_SDP_BAD_LINE', 3],
    ['unknown type letter', ['v=0', 'o=- 1 1 IN IP4 0.0.0.0', 'x=1'], 'ERR_SDP_BAD_LINE', 3],
    ['bad origin', ['v=0', 'o=- abc 1 IN IP4 0.0.0.0'], 'ERR_SDP_BAD_ORIGIN', 2],
    ['m= before o=', ['v=0', 's=-', 'm=audio 9 RTP/AVP 0'], 'ERR_SDP_MISSING_ORIGIN', 3],
    ['port out of range', [...HEAD, 'm=audio 70000 RTP/AVP 0'], 'ERR_SDP_BAD_MEDIA_LINE', 5],
    ['RTP format not a PT', [...HEAD, 'm=audio 9 RTP/AVP 200'], 'ERR_SDP_BAD_MEDIA_LINE', 5],
    ['rtpmap PT > 127', [...HEAD, 'm=audio 9 RTP/AVP 0', 'a=rtpmap:128 x/8000'], 'ERR_SDP_BAD_ATTRIBUTE', 6],
    ['rtpmap without clock', [...HEAD, 'm=audio 9 RTP/AVP 0', 'a=rtpmap:0 PCMU'], 'ERR_SDP_BAD_ATTRIBUTE', 6],
    ['extmap id 0', [...HEAD, 'm=audio 9 RTP/AVP 0', 'a=extmap:0 urn:x'], 'ERR_SDP_BAD_ATTRIBUTE', 6],
    ['extmap id 256', [...HEAD, 'm=audio 9 RTP/AVP 0', 'a=extmap:256 urn:x'], 'ERR_SDP_BAD_ATTRIBUTE', 6],
    ['bad setup', [...HEAD, 'm=audio 9 RTP/AVP 0', 'a=setup:server'], 'ERR_SDP_BAD_ATTRIBUTE', 6],
    ['bad fingerprint', [...HEAD, 'a=fingerprint:sha-256 zz:11'], 'ERR_SDP_BAD_ATTRIBUTE', 5],
    ['candidate too short', [...HEAD, 'm=audio 9 RTP/AVP 0', 'a=candidate:1 1 udp 1 1.2.3.4 5'], 'ERR_SDP_BAD_ATTRIBUTE', 6],
    ['candidate bad port', [...HEAD, 'm=audio 9 RTP/AVP 0', 'a=candidate:1 1 udp 1 1.2.3.4 99999 typ host'], 'ERR_SDP_BAD_ATTRIBUTE', 6],
    ['ssrc not a number', [...HEAD, 'm=audio 9 RTP/AVP 0', 'a=ssrc:x cname:y'], 'ERR_SDP_BAD_ATTRIBUTE', 6],
    ['ssrc > 2^32-1', [...HEAD, 'm=audio 9 RTP/AVP 0', 'a=ssrc:4294967296 cname:y'], 'ERR_SDP_BAD_ATTRIBUTE', 6],
    ['ssrc-group with no ssrc', [...HEAD, 'm=audio 9 RTP/AVP 0', 'a=ssrc-group:FID '], 'ERR_SDP_BAD_ATTRIBUTE', 6],
    ['rid bad direction', [...HEAD, 'm=video 9 RTP/AVP 0', 'a=rid:a sideways'], 'ERR_SDP_BAD_ATTRIBUTE', 6],
    ['simulcast bad', [...HEAD, 'm=video 9 RTP/AVP 0', 'a=simulcast:send'], 'ERR_SDP_BAD_ATTRIBUTE', 6],
    ['sctp-port not a port', [...HEAD, 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=sctp-port:x'], 'ERR_SDP_BAD_ATTRIBUTE', 6],
    ['bad c=', [...HEAD, 'c=IN IPX 1.2.3.4'], 'ERR_SDP_BAD_CONNECTION', 5],
    ['bad t=', ['v=0', 'o=- 1 1 IN IP4 0.0.0.0', 's=-', 't=now'], 'ERR_SDP_BAD_TIMING', 4],
    ['bad b=', [...HEAD, 'm=audio 9 RTP/AVP 0', 'b=AS:lots'], 'ERR_SDP_BAD_BANDWIDTH', 6],
    ['second v=', [...HEAD, 'v=0'], 'ERR_SDP_BAD_VERSION', 5],
    ['control character', [...HEAD, 'a=x\u0001y'], 'ERR_SDP_BAD_LINE', 5],
    // A line in normal form with a control character, and one that also needs normalizing (a tab):
    // both take the CONTROL test (parseSdp's one expression per line sends them there).
    ['DEL', [...HEAD, 'a=mid:a\u007fb'], 'ERR_SDP_BAD_LINE', 5],
    ['U+2028', [...HEAD, 'a=mid:a\u2028b'], 'ERR_SDP_BAD_LINE', 5],
    ['unit separator', [...HEAD, 'a=x\u001f'], 'ERR_SDP_BAD_LINE', 5],
    ['control character and a tab', [...HEAD, 'a=x\ty\u0002'], 'ERR_SDP_BAD_LINE', 5],
    ['bare CR inside a line', [...HEAD, 'a=mid:a\rb'], 'ERR_SDP_BAD_LINE', 5],
  ];
  for (const [title, lines, code, lineNumber] of cases) {
    it(`${title} → ${code} at line ${lineNumber}`, () => {
      const err = expectSyntaxError(lines.join('\r\n') + '\r\n', code, lineNumber);
      assert.equal(err.line, lines[lineNumber - 1]);
    });
  }

  it('rejects non-strings, empty text and oversize text without a line number', () => {
    for (const [input, code] of [[42, 'ERR_SDP_NOT_A_STRING'], ['', 'ERR_SDP_EMPTY'], ['v=0\r\n', 'ERR_SDP_MISSING_ORIGIN'], ['v=0\r\n' + 'a=x\r\n'.repeat(300000), 'ERR_SDP_TOO_LARGE']] as const) {
      assert.throws(() => parseSdp(input as string), (e: unknown) => e instanceof SdpSyntaxError && e.code === code && e.lineNumber === 0);
    }
  });
});

describe('candidates', () => {
  it('parses the trickle forms and formats back (RFC 8839 §5.1)', () => {
    const text = 'candidate:229815620 1 tcp 1518280447 192.168.150.19 60017 typ host tcptype active generation 0 network-id 3';
    for (const form of [text, `a=${text}`, text.slice('candidate:'.length)]) {
      const c = parseCandidate(form);
      assert.equal(c.tcpType, 'active');
      assert.equal(formatCandidate(c), text);
    }
  });
  it('rejects an extension without a value', () => {
    assert.throws(() => parseCandidate('candidate:1 1 udp 1 1.2.3.4 5 typ host generation'), SdpSyntaxError);
  });
  it('reads single- and multi-spaced fields alike and names the same faults (one-expression form and field by field)', () => {
    const fields = ['229815620', '1', 'UDP', '1518280447', '2001:db8::1', '60017', 'typ', 'srflx', 'raddr', '192.168.34.75', 'rport', '60017', 'tcptype', 'so', 'generation', '0'];
    const single = parseCandidate(fields.join(' '));
    assert.deepEqual(single, parseCandidate(fields.join('  ')));
    assert.deepEqual(single, {
      foundation: '229815620', component: 1, transport: 'udp', priority: 1518280447, address: '2001:db8::1', port: 60017, type: 'srflx',
      extensions: [{ name: 'generation', value: '0' }], relatedAddress: '192.168.34.75', relatedPort: 60017, tcpType: 'so',
    });
    const error = (text: string): string => {
      try {
        parseCandidate(text);
      } catch (e) {
        assert.ok(e instanceof SdpSyntaxError);
        return e.message;
      }
      return 'no error';
    };
    // The ranges the expression leaves to the numbers, an odd extension list, a bad rport, a bad token.
    for (const [at, bad] of [[1, '0'], [1, '257'], [3, '4294967296'], [5, '65536'], [11, '65536'], [15, '0 x'], [2, 'ud\u00e9p'], [6, 'tip']] as const) {
      const f = fields.slice();
      f[at] = bad;
      const message = error(f.join(' '));
      assert.notEqual(message, 'no error', f.join(' '));
      assert.equal(error(f.join('  ')), message, f.join(' '));
    }
  });
  it('gives the same candidate or the same error for single-spaced text (one expression) as for the field-by-field path', () => {
    // Field values the expression's classes and the numbers' ranges meet at, and text no candidate has.
    const field = fc.oneof(
      fc.constantFrom('0', '1', '256', '257', '65535', '65536', '4294967295', '4294967296', '00001', '12345678901', 'typ', 'TYP', 'host', 'udp', 'UDP', 'tcp'),
      fc.constantFrom('raddr', 'rport', 'tcptype', 'generation', '::1', 'fe80::1%eth0', '203.0.113.9', 'a+b/c', 'x'.repeat(33), 'x'.repeat(32)),
      fc.constantFrom('\t', '\u00a0', '\u00e9', '\u0000', '\u007f', 'a\tb', 'a\u00a0b', '', '\r'),
      fc.stringMatching(/^[\x21-\x7e]{1,12}$/),
    );
    const errorOf = (text: string): string => {
      try {
        return JSON.stringify(parseCandidate(text));
      } catch (e) {
        assert.ok(e instanceof SdpSyntaxError, String(e));
        return `error: ${e.message}`;
      }
    };
    fc.assert(
      fc.property(fc.array(field, { minLength: 0, maxLength: 14 }), fc.boolean(), (fields, typAt7) => {
        const f = fields.slice();
        if (typAt7 && f.length > 6) f[6] = 'typ';
        // Two spaces between fields always take the field-by-field path.
        assert.equal(errorOf(f.join(' ')), errorOf(f.join('  ')), f.join(' '));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('serializeSdp', () => {
  it('writes CRLF lines, v/o/s/t first, rtcp-fb and fmtp next to their rtpmap', () => {
    const text = serializeSdp(parseSdp(sdp('m=video 9 UDP/TLS/RTP/SAVPF 96 97', 'a=rtpmap:96 VP8/90000', 'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96', 'a=rtcp-fb:96 nack pli')));
    assert.ok(text.endsWith('\r\n'));
    assert.ok(!/[^\r]\n/.test(text), 'only CRLF line ends');
    assert.deepEqual(text.split('\r\n').slice(0, 4), HEAD);
    assert.deepEqual(text.split('\r\n').slice(5, 9), ['a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 nack pli', 'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96']);
  });
});
