// lib/sdp/parse.ts reads o=, c=, rtpmap, fmtp and the RFC 6904 encrypted-extmap form with its own
// expressions; until 2026-12-05 these lines went through sdp-transform's grammar. This checks,
// line by line, that both read the same: every such line of the real peers' fixtures and edge cases
// around each field, each in a minimal description, against the old reading done here with
// sdp-transform (docs/sdp.md "Parsing").
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sdpTransform from 'sdp-transform';
import { parseFmtp } from '../../../lib/sdp/fmtp.js';
import { parseSdp, type SdpSessionDescription } from '../../../lib/sdp/index.js';
import { SdpSyntaxError } from '../../../lib/sdp/sdp-error.js';
import { fixture, PEERS } from './helpers.js';

const U32_MAX = 0xffffffff;
const FORMATS = '0 45 96 97 98 102 111 127';

/** A minimal description around one media-level attribute line (or with `origin` as its o= line). */
function description(line: string, origin = 'o=- 1 1 IN IP4 0.0.0.0'): string {
  return ['v=0', origin, 's=-', 't=0 0', `m=audio 9 UDP/TLS/RTP/SAVPF ${FORMATS}`, 'c=IN IP4 0.0.0.0', line, ''].join('\r\n');
}

/** parseSdp's result, or the code of the SdpSyntaxError it threw. */
function ours(text: string): SdpSessionDescription | string {
  try {
    return parseSdp(text);
  } catch (e) {
    assert.ok(e instanceof SdpSyntaxError, `only SdpSyntaxError is thrown, got ${String(e)}`);
    return e.code;
  }
}

/** What sdp-transform's grammar made of one line, as lib/sdp/parse.ts read it before. */
const old = {
  origin(line: string): SdpSessionDescription['origin'] | undefined {
    const o = sdpTransform.parse(line).origin;
    if (o === undefined || !/^\d+$/.test(String(o.sessionId)) || !/^\d+$/.test(String(o.sessionVersion)) || (o.ipVer !== 4 && o.ipVer !== 6)) return undefined;
    return { username: String(o.username), sessionId: String(o.sessionId), sessionVersion: String(o.sessionVersion), netType: String(o.netType), addressType: o.ipVer === 6 ? 'IP6' : 'IP4', address: String(o.address) };
  },
  connection(value: string): string | undefined {
    const c = /^IN (IP4|IP6) (\S+?)(?:\/\d{1,10}){0,2}$/.exec(value);
    if (c === null) return undefined;
    const parsed = sdpTransform.parse(`c=IN ${c[1]} ${c[2]}`).connection;
    return parsed === undefined ? undefined : String(parsed.ip);
  },
  rtpmap(line: string): { pt: number; name: string; clockRate: number; channels?: number } | undefined {
    const value = line.slice(2);
    const r = (sdpTransform.parse(line) as unknown as { rtp?: { payload: unknown; codec: unknown; rate?: unknown; encoding?: unknown }[] }).rtp?.[0];
    const pt = Number(r?.payload);
    const rate = Number(r?.rate);
    const channels = r?.encoding === undefined ? undefined : Number(r.encoding);
    if (
      r === undefined || String(r.payload) === '' || !(pt >= 0 && pt <= 127) || String(r.codec) === '' ||
      !(Number.isInteger(rate) && rate > 0 && rate <= U32_MAX) ||
      (channels !== undefined && !(Number.isInteger(channels) && channels > 0 && channels < 256)) ||
      !/^rtpmap:\d+ [^ /]+\/\d+(\/\d+)?$/.test(value)
    ) return undefined;
    return channels === undefined ? { pt, name: String(r.codec), clockRate: rate } : { pt, name: String(r.codec), clockRate: rate, channels };
  },
  fmtp(line: string): { pt: number; parameters: Record<string, string> } | undefined {
    const f = (sdpTransform.parse(line) as unknown as { fmtp?: { payload: unknown; config: unknown }[] }).fmtp?.[0];
    const pt = Number(f?.payload);
    if (f === undefined || String(f.payload) === '' || !(pt >= 0 && pt <= 127)) return undefined;
    return { pt, parameters: parseFmtp(String(f.config)) };
  },
  encryptedExtmap(line: string): boolean {
    return (sdpTransform.parse(line) as unknown as { ext?: Record<string, unknown>[] }).ext?.[0]?.['encrypt-uri'] !== undefined;
  },
};

/**
 * Ours on a description holding the attribute `line`, held against the old grammar's reading
 * `expected`: rejected (ERR_SDP_BAD_ATTRIBUTE, returns undefined) where the old one reads nothing,
 * parsed (returned) where it reads something.
 */
function oursAgainstOld(line: string, expected: unknown): SdpSessionDescription | undefined {
  const got = ours(description(line));
  if (expected === undefined) {
    assert.equal(got, 'ERR_SDP_BAD_ATTRIBUTE', line);
    return undefined;
  }
  assert.ok(typeof got !== 'string', `${line}: ${String(got)}`);
  return got;
}

/** Lines of `type` (`o=`, `c=`, `a=rtpmap:`, ...) in every fixture. */
function fixtureLines(prefix: string): string[] {
  const out = new Set<string>();
  for (const peer of PEERS) {
    for (const kind of ['offer', 'answer']) {
      for (const line of fixture(`${kind}-from-${peer}.sdp`).split(/\r?\n/)) if (line.startsWith(prefix)) out.add(line.trim());
    }
  }
  return [...out];
}

describe('o=, c=, rtpmap, fmtp and encrypted extmap read as sdp-transform read them', () => {
  it('o= lines', () => {
    const lines = [
      ...fixtureLines('o='),
      'o=- 1 2 IN IP4 127.0.0.1', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 'o=user 01 002 IN IP6 ::1',
      'o=- 1 2 IN IP5 1.2.3.4', 'o=- 1 2 IN IP4 1.2.3.4 extra', 'o=- x 2 IN IP4 1.2.3.4', 'o=- 1 2 IN IP4',
      'o=- 1 2 ATM IP4 x', 'o=- 1 2 IN IPv4 x', 'o=- 1 2 IN IP44 x', 'o= 1 2 IN IP4 x', 'o=- 1 2 IN IP4 x\u00a0y',
      'o=- 12345678901234567890123 1 IN IP6 fe80::1%eth0', 'o=- 1 -2 IN IP4 x', 'o=a b 1 2 IN IP4 x',
    ];
    for (const line of lines) {
      const expected = old.origin(line);
      const got = ours(description('a=rtcp-mux', line));
      if (expected === undefined) assert.equal(got, 'ERR_SDP_BAD_ORIGIN', line);
      else assert.deepEqual(typeof got === 'string' ? got : got.origin, expected, line);
    }
  });

  it('c= lines', () => {
    const lines = [
      ...fixtureLines('c='),
      'c=IN IP4 127.0.0.1', 'c=IN IP6 ::1', 'c=IN IP4 0.0.0.0/127', 'c=IN IP4 224.2.1.1/127/3', 'c=IN IP4 1e3',
      'c=IN IP4 123', 'c=IN IP4 Infinity', 'c=IN IP6 0123', 'c=IN IP5 1.2.3.4', 'c=IN IP4 a/b',
    ];
    for (const line of lines) {
      const expected = old.connection(line.slice(2));
      const got = ours(description(line));
      if (expected === undefined) assert.equal(got, 'ERR_SDP_BAD_CONNECTION', line);
      else assert.equal(typeof got === 'string' ? got : got.media[0]!.connection?.address, expected, line);
    }
  });

  it('rtpmap lines', () => {
    const lines = [
      ...fixtureLines('a=rtpmap:'),
      'a=rtpmap:96 VP8/90000', 'a=rtpmap:111 opus/48000/2', 'a=rtpmap:96 H264-SVC/90000', 'a=rtpmap:96 G.722.1/16000',
      'a=rtpmap:96 foo+bar/90000', 'a=rtpmap:96 /90000', 'a=rtpmap:96 VP8', 'a=rtpmap:96 VP8/', 'a=rtpmap:96 VP8/0',
      'a=rtpmap:128 VP8/90000', 'a=rtpmap:096 VP8/90000', 'a=rtpmap:96 VP8/90000/2/3', 'a=rtpmap:96 VP8/4294967296',
      'a=rtpmap:96 VP8/4294967295', 'a=rtpmap:96 VP8/90000/256', 'a=rtpmap:96 VP8/90000/255', 'a=rtpmap:96 VP8/90000/0',
      'a=rtpmap:96 VP8/90000/x', 'a=rtpmap:96 VP_8/90000', 'a=rtpmap:96 1e3/90000', 'a=rtpmap:96 NaN/90000',
      'a=rtpmap:96 VP8\u00a0x/90000', 'a=rtpmap:x VP8/90000', 'a=rtpmap:96 VP8/9e4', 'a=rtpmap:96 VP8/090000',
      'a=rtpmap:127 tel-event/8000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:96 Vp8/90000/01',
    ];
    // Read on purpose where the old grammar read nothing: RFC 6838 §4.2 allows `+ ! # $ & ^` in a
    // media subtype, and one such codec must not refuse the whole description.
    const liberal = new Map([
      ['a=rtpmap:96 foo+bar/90000', { pt: 96, name: 'foo+bar', clockRate: 90000 }],
      ['a=rtpmap:98 AMR-WB+/72000', { pt: 98, name: 'AMR-WB+', clockRate: 72000 }],
      ['a=rtpmap:97 X!#$&^Y/8000/2', { pt: 97, name: 'X!#$&^Y', clockRate: 8000, channels: 2 }],
    ]);
    for (const [line, want] of liberal) {
      assert.equal(old.rtpmap(line), undefined, line);
      const got = ours(description(line));
      assert.ok(typeof got !== 'string', `${line}: ${String(got)}`);
      const codec = got.media[0]!.codecs.find((c) => c.payloadType === want.pt);
      assert.deepEqual(codec && { pt: codec.payloadType, name: codec.name, clockRate: codec.clockRate, ...(codec.channels === undefined ? {} : { channels: codec.channels }) }, want, line);
    }
    for (const line of lines) {
      if (liberal.has(line)) continue;
      const expected = old.rtpmap(line);
      const got = oursAgainstOld(line, expected);
      if (got === undefined || expected === undefined) continue;
      const codec = got.media[0]!.codecs.find((c) => c.payloadType === expected.pt);
      if (!FORMATS.split(' ').map(Number).includes(expected.pt)) {
        assert.equal(codec, undefined, line);
        continue;
      }
      assert.ok(codec, line);
      assert.deepEqual({ pt: codec.payloadType, name: codec.name, clockRate: codec.clockRate, ...(codec.channels === undefined ? {} : { channels: codec.channels }) }, expected, line);
    }
  });

  it('fmtp lines', () => {
    const lines = [
      ...fixtureLines('a=fmtp:'),
      'a=fmtp:96 apt=97', 'a=fmtp:111 minptime=10;useinbandfec=1', 'a=fmtp:111 minptime=10; useinbandfec=1', 'a=fmtp:96',
      'a=fmtp:128 x=1', 'a=fmtp:x y=1', 'a=fmtp:96 a=1\u00a0b=2', 'a=fmtp:96 a=1|b=2', 'a=fmtp:0096 a=1', 'a=fmtp:96 a=1 b=2',
      'a=fmtp:96 a=1\u3000;b=2', 'a=fmtp:96 =1', 'a=fmtp:96 ;;', 'a=fmtp:97 0-16', 'a=fmtp:96 a==1',
    ];
    // An empty parameter list sets nothing: the old grammar refused `fmtp:96` (and a trailing
    // space, which normalizing takes off) and with it the whole description.
    for (const line of ['a=fmtp:96', 'a=fmtp:0', 'a=fmtp:0 ']) {
      const got = ours(description(line));
      assert.ok(typeof got !== 'string', `${line}: ${String(got)}`);
      // PT 0 is static (PCMU, no rtpmap needed); 96 has no rtpmap here, so no codec to carry it.
      if (line !== 'a=fmtp:96') assert.deepEqual(got.media[0]!.codecs.find((c) => c.payloadType === 0)?.parameters, {}, line);
    }
    for (const line of lines) {
      if (line === 'a=fmtp:96') continue;
      const expected = old.fmtp(line);
      const got = oursAgainstOld(line, expected);
      if (got === undefined || expected === undefined) continue;
      // Parameters land on the codec of that payload type (a static type needs no rtpmap).
      const codec = got.media[0]!.codecs.find((c) => c.payloadType === expected.pt);
      if (codec === undefined) continue;
      assert.deepEqual(codec.parameters, expected.parameters, line);
    }
  });

  it('extmap lines: the RFC 6904 encrypted form is kept verbatim, every other one parsed', () => {
    const lines = [
      ...fixtureLines('a=extmap:'),
      'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level', 'a=extmap:2/sendrecv urn:x',
      'a=extmap:3 urn:ietf:params:rtp-hdrext:encrypt urn:ietf:params:rtp-hdrext:smpte-tc 25@600/24',
      'a=extmap:3 urn:ietf:params:rtp-hdrext:encrypt', 'a=extmap:3/recvonly urn:ietf:params:rtp-hdrext:encrypt urn:x',
      'a=extmap:3/send-only urn:ietf:params:rtp-hdrext:encrypt urn:x', 'a=extmap:3 urn:ietf:params:rtp-hdrext:encryptx urn:x',
      'a=extmap:3/x_y urn:ietf:params:rtp-hdrext:encrypt urn:x', 'a=extmap:300 urn:ietf:params:rtp-hdrext:encrypt urn:x',
    ];
    for (const line of lines) {
      const encrypted = old.encryptedExtmap(line);
      const got = ours(description(line));
      if (typeof got === 'string') {
        assert.equal(encrypted, false, `${line}: only an unencrypted extmap can be refused`);
        assert.equal(got, 'ERR_SDP_BAD_ATTRIBUTE', line);
        continue;
      }
      const kept = got.media[0]!.otherAttributes.some((a) => a.name === 'extmap' && `a=extmap:${a.value}` === line);
      assert.equal(kept, encrypted, line);
      assert.equal(got.media[0]!.extmaps.length, encrypted ? 0 : 1, line);
    }
  });
});
