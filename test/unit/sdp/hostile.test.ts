// Hostile SDP through the public functions: the largest accepted description completes (linear work),
// prototype-named keys stay plain data, oversize input is refused. No timing asserts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createAnswer,
  extractRemoteTransports,
  MAX_SDP_LENGTH,
  parseFmtp,
  parseSdp,
  SdpSyntaxError,
} from '../../../lib/sdp/index.js';
import { localTransport, SESSION } from './helpers.js';

const HEAD = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\na=fingerprint:sha-256 AA:BB\r\n';

describe('hostile SDP', { timeout: 60_000 }, () => {
  it('thousands of bundled m-sections near MAX_SDP_LENGTH parse and are answered', () => {
    const sections: string[] = [];
    const mids: string[] = [];
    let size = HEAD.length;
    for (let n = 0; size < MAX_SDP_LENGTH - 150_000; n++) {
      const s = `m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:${n}\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n`;
      sections.push(s);
      mids.push(String(n));
      size += s.length + String(n).length + 1;
    }
    const text = `${HEAD}a=group:BUNDLE ${mids.join(' ')}\r\n${sections.join('')}`;
    assert.ok(text.length <= MAX_SDP_LENGTH);
    const offer = parseSdp(text);
    assert.equal(offer.media.length, mids.length);
    assert.ok(mids.length > 9000);
    const transports = extractRemoteTransports(offer);
    assert.equal(transports.length, 1);
    assert.equal(transports[0]!.mids.length, mids.length);
    const answer = createAnswer(offer, { session: SESSION, transport: localTransport() });
    assert.equal(answer.groups[0]!.mids.length, mids.length);
  });

  it('one character over MAX_SDP_LENGTH is refused with ERR_SDP_TOO_LARGE', () => {
    const text = HEAD + 'a=x'.padEnd(MAX_SDP_LENGTH - HEAD.length + 1, 'x');
    assert.throws(() => parseSdp(text), (e: unknown) => e instanceof SdpSyntaxError && e.code === 'ERR_SDP_TOO_LARGE');
  });

  it('prototype-named mids, fmtp keys and rid restrictions stay plain data', () => {
    const fmtp = parseFmtp('__proto__=polluted;constructor=x');
    assert.equal(Object.getPrototypeOf(fmtp), Object.prototype);
    assert.equal(Object.hasOwn(fmtp, '__proto__'), true);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const offer = parseSdp(`${HEAD}a=group:BUNDLE constructor __proto__\r\n` +
      'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:constructor\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 __proto__=1\r\n' +
      'm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:__proto__\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=rid:r send __proto__=2\r\na=simulcast:send r\r\n');
    assert.equal(offer.media[0]!.codecs[0]!.parameters['__proto__'], '1');
    assert.equal(offer.media[1]!.rids[0]!.restrictions['__proto__'], '2');
    const answer = createAnswer(offer, { session: SESSION, transport: localTransport(), media: {} });
    assert.deepEqual(answer.media.map((m) => m.direction), ['recvonly', 'recvonly'], 'no local entry is found on Object.prototype');
    assert.equal(answer.media[1]!.rids[0]!.restrictions['__proto__'], '2');
  });
});
