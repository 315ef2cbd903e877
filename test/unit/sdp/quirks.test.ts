// Real-world SDP quirks (one row per stack and quirk, with the snippet it sends): each parses to what
// the clean RFC 8866 form means, and round-trips; the unsafe misreads stay errors that name the line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseSdp, SdpSyntaxError, serializeSdp, type SdpSessionDescription } from '../../../lib/sdp/index.js';
import { sessionDescription } from './arbitraries.js';

const HEAD = ['v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0'];
const FINGERPRINT = 'a=fingerprint:sha-256 17:FB:22:91:51:D3:B9:02:47:3A:1F:2D:5E:9B:34:92:29:92:26:E5:5E:90:62:CF:55:65:9E:26:2F:F9:90:4A';
const ICE = ['a=ice-ufrag:CacMARzM', 'a=ice-pwd:ewFfejDGFQKJVrxSmtntYzLNYbdfXCHO'];
const AUDIO = ['m=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=mid:0', ...ICE, FINGERPRINT, 'a=setup:actpass', 'a=rtpmap:111 opus/48000/2'];

interface QuirkRow {
  stack: string;
  quirk: string;
  /** SDP lines as that stack writes them (joined with CRLF unless `text` is given). */
  lines?: string[];
  text?: string;
  /** What the description must mean. */
  check: (d: SdpSessionDescription) => void;
}

const rows: QuirkRow[] = [
  {
    stack: 'pion v3.1',
    quirk: 'trailing space after a one-word rtcp-fb',
    lines: [...HEAD, ...AUDIO, 'a=rtcp-fb:111 transport-cc ', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:1', 'a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 nack ', 'a=rtcp-fb:96 nack pli', 'a=rtcp-fb:96 goog-remb '],
    check: (d) => {
      assert.deepEqual(d.media[0]!.codecs[0]!.rtcpFeedback, [{ type: 'transport-cc' }]);
      assert.deepEqual(d.media[1]!.codecs[0]!.rtcpFeedback, [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'goog-remb' }]);
    },
  },
  {
    stack: 'pion v3.1',
    quirk: 'component-2 candidate despite rtcp-mux',
    lines: [...HEAD, ...AUDIO, 'a=rtcp-mux', 'a=candidate:2878742611 1 udp 2130706431 127.0.0.1 58728 typ host', 'a=candidate:2878742611 2 udp 2130706431 127.0.0.1 58728 typ host', 'a=end-of-candidates'],
    check: (d) => assert.deepEqual(d.media[0]!.candidates.map((c) => c.component), [1, 2]),
  },
  {
    stack: 'libwebrtc (Chromium, Safari, wrtc)',
    quirk: 'space after the colon of msid-semantic, no id',
    lines: [...HEAD, 'a=msid-semantic: WMS', ...AUDIO],
    check: (d) => assert.deepEqual(d.msidSemantic, { semantic: 'WMS', ids: [] }),
  },
  {
    stack: 'libwebrtc (Plan B era)',
    quirk: 'ssrc msid/mslabel/label lines and a=rtcp with address',
    lines: [...HEAD, ...AUDIO, 'a=rtcp:9 IN IP4 0.0.0.0', 'a=ssrc:3735928559 msid:stream track', 'a=ssrc:3735928559 mslabel:stream', 'a=ssrc:3735928559 label:track'],
    check: (d) => {
      assert.deepEqual(d.media[0]!.rtcp, { port: 9, connection: { addressType: 'IP4', address: '0.0.0.0' } });
      assert.deepEqual(d.media[0]!.ssrcs[0], { ssrc: 3735928559, attribute: 'msid', value: 'stream track' });
    },
  },
  {
    stack: 'Firefox',
    quirk: 'mozilla origin user, {uuid} msid, UDP upper case, mDNS host',
    lines: [
      'v=0', 'o=mozilla...THIS_IS_SDPARTA-99.0 4858251974351650128 0 IN IP4 0.0.0.0', 's=-', 't=0 0', ...AUDIO,
      'a=msid:{0f1c5a6e-1b2d-4c3e-8f9a-0b1c2d3e4f50} {7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d}',
      'a=candidate:0 1 UDP 2122252543 4f6b8a2c-1d3e-4f5a-9b8c-7d6e5f4a3b2c.local 51234 typ host',
    ],
    check: (d) => {
      assert.equal(d.origin.sessionId, '4858251974351650128');
      assert.equal(d.media[0]!.msids[0]!.stream, '{0f1c5a6e-1b2d-4c3e-8f9a-0b1c2d3e4f50}');
      assert.equal(d.media[0]!.candidates[0]!.transport, 'udp');
      assert.match(d.media[0]!.candidates[0]!.address, /\.local$/);
    },
  },
  {
    stack: 'Firefox <= 62, old Chrome',
    quirk: 'draft-03 simulcast syntax "send rid=..." with a space after the colon',
    lines: [...HEAD, 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=mid:1', 'a=rtpmap:96 VP8/90000', 'a=rid:h send', 'a=rid:l send', 'a=simulcast: send rid=h;l'],
    check: (d) => assert.deepEqual(d.media[0]!.simulcast?.send, [[{ rid: 'h', paused: false }], [{ rid: 'l', paused: false }]]),
  },
  {
    stack: 'Firefox',
    quirk: 'rejected m-section with port 0 and a format without rtpmap',
    lines: [...HEAD, ...AUDIO, 'm=video 0 UDP/TLS/RTP/SAVPF 120', 'c=IN IP4 0.0.0.0', 'a=inactive', 'a=mid:1'],
    check: (d) => {
      assert.equal(d.media[1]!.port, 0);
      assert.deepEqual(d.media[1]!.formats, ['120']);
      assert.deepEqual(d.media[1]!.codecs, []);
    },
  },
  {
    stack: 'GStreamer (RTSP / gst-sdp)',
    quirk: 'c= with a multicast TTL, a=control and a=range',
    lines: [...HEAD.slice(0, 3), 'c=IN IP4 0.0.0.0/127', 't=0 0', 'a=range:npt=0-', 'm=video 0 RTP/AVP 96', 'a=control:stream=0', 'a=rtpmap:96 H264/90000', 'a=fmtp:96 packetization-mode=1;profile-level-id=42c015;sprop-parameter-sets=Z0LAFdkBQIY=,aM4PyA=='],
    check: (d) => {
      assert.deepEqual(d.connection, { addressType: 'IP4', address: '0.0.0.0' });
      assert.equal(d.media[0]!.codecs[0]!.parameters['sprop-parameter-sets'], 'Z0LAFdkBQIY=,aM4PyA==');
      assert.deepEqual(d.media[0]!.otherAttributes, [{ name: 'control', value: 'stream=0' }]);
    },
  },
  {
    stack: 'GStreamer webrtcbin',
    quirk: 'a=ice-options:trickle in each section and a=framerate',
    lines: [...HEAD, 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=ice-options:trickle', 'a=mid:video0', 'a=rtpmap:96 VP8/90000', 'a=framerate:30', 'a=rtcp-fb:96 nack pli'],
    check: (d) => {
      assert.deepEqual(d.media[0]!.iceOptions, ['trickle']);
      assert.deepEqual(d.media[0]!.otherAttributes, [{ name: 'framerate', value: '30' }]);
    },
  },
  {
    stack: 'aiortc',
    quirk: 'legacy DTLS/SCTP m-line with sctpmap, several fingerprints',
    lines: [...HEAD, 'm=application 9 DTLS/SCTP 5000', 'a=mid:2', 'a=sctpmap:5000 webrtc-datachannel 65535', FINGERPRINT, FINGERPRINT.replace('sha-256', 'sha-384')],
    check: (d) => {
      assert.deepEqual(d.media[0]!.sctpmap, { port: 5000, app: 'webrtc-datachannel', streams: 65535 });
      assert.deepEqual(d.media[0]!.fingerprints.map((f) => f.algorithm), ['sha-256', 'sha-384']);
    },
  },
  {
    stack: 'libdatachannel',
    quirk: 'comma-separated ice-options',
    lines: [...HEAD, 'a=ice-options:ice2,trickle', 'a=msid-semantic:WMS *', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=mid:0', 'a=sctp-port:5000', 'a=max-message-size:262144'],
    check: (d) => assert.deepEqual(d.iceOptions, ['ice2', 'trickle']),
  },
  {
    stack: 'Janus',
    quirk: 'session name with spaces, msid-semantic with a space, session-level end-of-candidates',
    lines: ['v=0', 'o=- 1638888888888888 1 IN IP4 192.0.2.1', 's=VideoRoom 1234', 't=0 0', 'a=msid-semantic: WMS janus', 'a=end-of-candidates', ...AUDIO],
    check: (d) => {
      assert.equal(d.sessionName, 'VideoRoom 1234');
      assert.deepEqual(d.msidSemantic, { semantic: 'WMS', ids: ['janus'] });
    },
  },
  {
    stack: 'mediasoup',
    quirk: 'ice-lite, renomination, named foundations, passive TCP candidate',
    lines: [
      ...HEAD, 'a=ice-lite', 'a=msid-semantic: WMS *', 'm=audio 7 UDP/TLS/RTP/SAVPF 100', 'c=IN IP4 127.0.0.1', 'a=mid:0', 'a=ice-options:renomination', 'a=rtpmap:100 opus/48000/2',
      'a=candidate:udpcandidate 1 udp 1076302079 127.0.0.1 40000 typ host', 'a=candidate:tcpcandidate 1 tcp 1076276479 127.0.0.1 40001 typ host tcptype passive',
    ],
    check: (d) => {
      assert.equal(d.iceLite, true);
      assert.deepEqual(d.media[0]!.iceOptions, ['renomination']);
      assert.deepEqual(d.media[0]!.candidates.map((c) => [c.foundation, c.transport, c.tcpType]), [['udpcandidate', 'udp', undefined], ['tcpcandidate', 'tcp', 'passive']]);
    },
  },
  {
    stack: 'FreeSWITCH',
    quirk: 'RTP/SAVPF audio with telephone-event, ptime, silenceSupp, "; " in fmtp, rtcp port',
    lines: [
      'v=0', 'o=FreeSWITCH 1700000000 1700000001 IN IP4 192.0.2.10', 's=FreeSWITCH', 'c=IN IP4 192.0.2.10', 't=0 0',
      'm=audio 21762 RTP/SAVPF 111 0 8 101', 'a=rtpmap:111 opus/48000/2', 'a=fmtp:111 useinbandfec=1; minptime=10', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16',
      'a=ptime:20', 'a=silenceSupp:off - - - -', 'a=rtcp:21763 IN IP4 192.0.2.10', 'a=candidate:0560693492 2 udp 659136 192.0.2.10 21763 typ host generation 0',
    ],
    check: (d) => {
      assert.deepEqual(d.media[0]!.codecs.map((c) => c.name), ['opus', 'PCMU', 'PCMA', 'telephone-event']);
      assert.deepEqual(d.media[0]!.codecs[0]!.parameters, { useinbandfec: '1', minptime: '10' });
      assert.deepEqual(d.media[0]!.codecs[3]!.parameters, { '0-16': '' });
      assert.deepEqual(d.media[0]!.otherAttributes, [{ name: 'ptime', value: '20' }, { name: 'silenceSupp', value: 'off - - - -' }]);
      assert.equal(d.media[0]!.rtcp?.port, 21763);
    },
  },
  {
    stack: 'Asterisk',
    quirk: 'upper-case hash name, a=connection:new, maxptime, b=TIAS, static PTs without rtpmap',
    lines: [
      'v=0', 'o=- 1700000000 2 IN IP4 192.0.2.20', 's=Asterisk', 'c=IN IP4 192.0.2.20', 't=0 0', 'm=audio 17394 UDP/TLS/RTP/SAVPF 0 8 101', 'b=TIAS:64000',
      'a=connection:new', 'a=setup:actpass', FINGERPRINT.replace('sha-256', 'SHA-256'), 'a=rtpmap:101 telephone-event/8000', 'a=maxptime:150', 'a=sendrecv', 'a=rtcp-mux',
    ],
    check: (d) => {
      assert.equal(d.media[0]!.fingerprints[0]!.algorithm, 'sha-256');
      assert.deepEqual(d.media[0]!.codecs.map((c) => `${c.payloadType} ${c.name}`), ['0 PCMU', '8 PCMA', '101 telephone-event']);
      assert.deepEqual(d.media[0]!.bandwidth, [{ type: 'TIAS', value: 64000 }]);
    },
  },
  {
    stack: 'hand-edited / any',
    quirk: 'LF line ends, no final newline',
    text: [...HEAD, ...AUDIO].join('\n'),
    check: (d) => assert.equal(d.media[0]!.codecs[0]!.name, 'opus'),
  },
  {
    stack: 'hand-edited / any',
    quirk: 'mixed CRLF and LF, blank lines, CR before LF twice',
    text: `${HEAD.join('\r\n')}\n\n${AUDIO.slice(0, 3).join('\n')}\r\r\n${AUDIO.slice(3).join('\r\n')}\r\n\r\n`,
    check: (d) => assert.equal(d.media[0]!.mid, '0'),
  },
  {
    stack: 'hand-edited / any',
    quirk: 'tabs and repeated spaces between fields, trailing tabs, indented lines',
    lines: [...HEAD, 'm=audio  9\tUDP/TLS/RTP/SAVPF   111 ', '  c=IN IP4 0.0.0.0\t', 'a=mid:0 ', 'a=ice-ufrag:CacMARzM\t', 'a=ice-pwd:ewFfejDGFQKJVrxSmtntYzLNYbdfXCHO  ', FINGERPRINT.replace(' ', '  '), 'a=setup:actpass ', 'a=rtpmap:111  opus/48000/2', 'a=rtcp-fb:111  nack   pli '],
    check: (d) => {
      const m = d.media[0]!;
      assert.deepEqual([m.port, m.protocol, m.formats, m.mid, m.iceUfrag, m.icePwd, m.setup], [9, 'UDP/TLS/RTP/SAVPF', ['111'], '0', 'CacMARzM', 'ewFfejDGFQKJVrxSmtntYzLNYbdfXCHO', 'actpass']);
      assert.deepEqual(m.codecs[0]!.rtcpFeedback, [{ type: 'nack', parameter: 'pli' }]);
    },
  },
];

/** Joins lines as SDP text (CRLF). */
const sdp = (lines: string[]): string => lines.join('\r\n') + '\r\n';

describe('SDP quirks of real stacks', () => {
  for (const row of rows) {
    it(`${row.stack}: ${row.quirk}`, () => {
      const text = row.text ?? sdp(row.lines!);
      const parsed = parseSdp(text);
      row.check(parsed);
      assert.deepEqual(parseSdp(serializeSdp(parsed)), parsed, 'the clean form means the same');
    });
  }
});

interface StrictRow {
  what: string;
  lines: string[];
  code: string;
  line: number;
  why: RegExp;
}

// Where a misread is unsafe the parser still refuses, naming the line and the reason.
const strict: StrictRow[] = [
  { what: 'fingerprint with a non-hex byte', lines: [...HEAD, 'a=fingerprint:sha-256 17:FB:2G'], code: 'ERR_SDP_BAD_ATTRIBUTE', line: 5, why: /fingerprint/ },
  { what: 'fingerprint with a space inside the value', lines: [...HEAD, 'a=fingerprint:sha-256 17:FB 22:91'], code: 'ERR_SDP_BAD_ATTRIBUTE', line: 5, why: /fingerprint/ },
  { what: 'ice-pwd with a space inside', lines: [...HEAD, 'a=ice-pwd:abc def'], code: 'ERR_SDP_BAD_ATTRIBUTE', line: 5, why: /ice-pwd/ },
  { what: 'empty ice-ufrag', lines: [...HEAD, 'a=ice-ufrag:'], code: 'ERR_SDP_BAD_ATTRIBUTE', line: 5, why: /ice-ufrag/ },
  { what: 'setup role in upper case', lines: [...HEAD, 'a=setup:ACTIVE'], code: 'ERR_SDP_BAD_ATTRIBUTE', line: 5, why: /setup/ },
  { what: 'port above 65535', lines: [...HEAD, 'm=audio 65536 UDP/TLS/RTP/SAVPF 111'], code: 'ERR_SDP_BAD_MEDIA_LINE', line: 5, why: /m=/ },
  { what: 'payload type 128 on the m-line', lines: [...HEAD, 'm=audio 9 UDP/TLS/RTP/SAVPF 128'], code: 'ERR_SDP_BAD_MEDIA_LINE', line: 5, why: /0\.\.127/ },
  { what: 'rtcp-fb for payload type 200', lines: [...HEAD, ...AUDIO, 'a=rtcp-fb:200 nack'], code: 'ERR_SDP_BAD_ATTRIBUTE', line: 13, why: /rtcp-fb/ },
  { what: 'sctp-port above 65535', lines: [...HEAD, 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=sctp-port:70000'], code: 'ERR_SDP_BAD_ATTRIBUTE', line: 6, why: /sctp-port/ },
  { what: 'a CR inside a line', lines: [...HEAD, 'a=ice-ufrag:ab\rcd'], code: 'ERR_SDP_BAD_LINE', line: 5, why: /letter/ },
];

describe('SDP strictness where a misread is unsafe', () => {
  for (const row of strict) {
    it(`${row.what}: ${row.code} on line ${row.line}`, () => {
      assert.throws(() => parseSdp(sdp(row.lines)), (e: unknown) => {
        assert.ok(e instanceof SdpSyntaxError);
        assert.equal(e.code, row.code);
        assert.equal(e.lineNumber, row.line);
        assert.match(e.message, new RegExp(`^SDP line ${row.line} "`));
        assert.match(e.message, row.why);
        return true;
      });
    });
  }
});

/** Whitespace and line-end changes a sloppy writer may make to valid SDP text. */
const sloppiness = fc.record({
  lineEnd: fc.constantFrom('\r\n', '\n', 'mixed'),
  trailing: fc.array(fc.constantFrom('', ' ', '\t', '  ', ' \t'), { minLength: 1, maxLength: 8 }),
  doubleSpaces: fc.boolean(),
  spaceAfterColon: fc.boolean(),
  blankLines: fc.boolean(),
});

describe('SDP leniency property', () => {
  it('sloppy whitespace and line ends around any valid description mean the same description', () => {
    fc.assert(
      fc.property(sessionDescription, sloppiness, (model, s) => {
        const lines = serializeSdp(model).split('\r\n').filter((l) => l.length > 0);
        const out = lines.map((line, i) => {
          let l = line;
          const freeText = /^[siuep]=/.test(l);
          if (s.doubleSpaces && !freeText) l = l.replace(/ /g, '  ');
          if (s.spaceAfterColon && l.startsWith('a=') && l.includes(':')) l = l.replace(':', ': ');
          return l + s.trailing[i % s.trailing.length]!;
        });
        let text = '';
        out.forEach((l, i) => {
          const end = s.lineEnd === 'mixed' ? (i % 2 === 0 ? '\r\n' : '\n') : s.lineEnd;
          text += l + end + (s.blankLines && i % 3 === 0 ? end : '');
        });
        assert.deepStrictEqual(parseSdp(text), model);
      }),
      { numRuns: 300, seed: 0x17a },
    );
  });
});
