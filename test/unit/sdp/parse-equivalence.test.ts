// The in-place SDP parser (lib/sdp/parse.ts, issue 14) against the line-by-line parser it replaced
// (test/unit/sdp/reference/parse-lines.ts, kept verbatim as the contract): for every description we
// have, for sloppy and non-ASCII variants of them, for mutated ones and for random attribute lines
// that the hand scanners read (rtpmap, fmtp, rtcp-fb, extmap, ssrc, candidate), both give the same
// model (same JSON, key order included) or the same SdpSyntaxError (code, message, line number, line).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseSdp } from '../../../lib/sdp/parse.js';
import { SdpSyntaxError } from '../../../lib/sdp/sdp-error.js';
import { parseSdp as parseSdpByLines } from './reference/parse-lines.js';
import { mutatedSdp } from './arbitraries.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DIRS = [
  join(root, 'test', 'fixtures', 'sdp'),
  join(root, 'test', 'fuzz', 'corpus', 'sdp'),
  join(root, 'test', 'unit', 'sdp', 'pinned'),
  join(root, 'test', 'interop', 'captured-sdp'),
  '/work/shared/fixtures/sdp',
];

/** Every stored description: [name, text]. */
function descriptions(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const dir of DIRS) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.sdp')) out.push([`${dir}/${f}`, readFileSync(join(dir, f), 'utf8')]);
  }
  return out;
}

type Outcome = { model: string } | { code: string; message: string; lineNumber: number; line: string };

function outcome(parse: (text: string) => unknown, text: string): Outcome {
  try {
    return { model: JSON.stringify(parse(text)) };
  } catch (e) {
    assert.ok(e instanceof SdpSyntaxError, `only SdpSyntaxError is thrown, got ${String(e)}`);
    return { code: e.code, message: e.message, lineNumber: e.lineNumber, line: e.line };
  }
}

function assertSame(text: string, what: string): void {
  assert.deepStrictEqual(outcome(parseSdp, text), outcome(parseSdpByLines, text), what);
}

/** Variants that go through each of the parser's paths: LF only, sloppy spacing, `a=<name>: `, non-ASCII. */
function variants(text: string): string[] {
  const lines = text.split(/\r?\n/);
  return [
    text,
    lines.join('\n'),
    lines.map((l, i) => (i % 3 === 0 ? `${l} ` : i % 3 === 1 ? l.replace(' ', '  ') : l.replace(' ', '\t'))).join('\r\n'),
    lines.map((l) => l.replace(/^a=([^: ]+):/, 'a=$1: ')).join('\r\n'),
    lines.map((l, i) => (i % 4 === 3 ? l.replace(/ /, ' \u00e9') : l)).join('\r\n'),
    lines.map((l) => (l.startsWith('a=extmap:') || l.startsWith('a=fmtp:') ? `${l}\u00a0` : l)).join('\r\n'),
    `${text}\r`,
  ];
}

const HEAD = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 96 111\r\n';
const TAIL = '\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:111 opus/48000/2';

describe('in-place SDP parser = line-by-line parser', () => {
  it('stored descriptions and their variants', () => {
    const all = descriptions();
    assert.ok(all.length >= 20, `found ${all.length} descriptions`);
    for (const [name, text] of all) {
      for (const [i, v] of variants(text).entries()) assertSame(v, `${name} variant ${i}`);
    }
  });

  it('mutated descriptions', () => {
    const texts = descriptions().map(([, t]) => t).filter((t) => t.length < 20_000);
    fc.assert(
      fc.property(fc.constantFrom(...texts).chain((t) => mutatedSdp(t)), (text) => assertSame(text, 'mutated')),
      { numRuns: 1500, seed: 0x14a },
    );
  });

  it('random lines of the hand-scanned attributes', () => {
    const piece = fc.constantFrom(
      '0', '1', '9', '96', '111', '127', '128', '255', '256', '4294967295', '4294967296', '00000000001', '1234567890123',
      ' ', '  ', '/', ':', ';', '=', '*', '-', '.', '_', 'a', 'Z', 'opus', 'VP8', 'H264', 'rtx', '48000', '90000', '2', 'sendrecv', 'recvonly',
      'sendRecv', 'nack', 'pli', 'ccm', 'fir', 'cname', 'msid', 'urn:ietf:params:rtp-hdrext:sdes:mid', 'urn:ietf:params:rtp-hdrext:encrypt',
      'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time', 'minptime=10', 'useinbandfec', 'typ', 'host', 'udp', '\u00e9', '\u00a0', '\t',
    );
    const name = fc.constantFrom('rtpmap', 'fmtp', 'rtcp-fb', 'extmap', 'ssrc', 'candidate', 'mid', 'msid', 'setup', 'ice-ufrag', 'rtcp-mux', 'sendrecv', 'x-unknown');
    const free = fc.tuple(name, fc.constantFrom(':', ': ', '', ':  '), fc.array(piece, { maxLength: 8 })).map(([n, sep, ps]) => `a=${n}${sep}${ps.join('')}`);
    // Shaped like the real thing, so that most lines get past the payload type and reach the fields.
    const fmtpToken = fc.array(fc.constantFrom('a', 'x', 'minptime', '=', '==', ' ', '10', '111/111', '0-15', '\u00e9'), { maxLength: 4 }).map((t) => t.join(''));
    const fmtp = fc.tuple(fc.constantFrom('96', '111', '128', ''), fc.array(fmtpToken, { maxLength: 5 })).map(([pt, ts]) => `a=fmtp:${pt} ${ts.join(';')}`);
    const shaped = fc.tuple(
      fc.constantFrom('rtpmap:96 ', 'rtcp-fb:96 ', 'rtcp-fb:* ', 'extmap:1 ', 'extmap:2/sendonly ', 'extmap:3/sendRecv ', 'ssrc:1 ', 'candidate:1 1 udp 1 127.0.0.1 9 typ host '),
      fc.array(piece, { maxLength: 6 }),
    ).map(([start, ps]) => `a=${start}${ps.join('')}`);
    const rtpmap = fc.tuple(fc.constantFrom('96', '111', '128', '', 'x'), fc.constantFrom('opus', 'VP8', '', 'a b', 'é', 'H.264-x_1'), fc.constantFrom('48000', '', '0', '4294967296'), fc.constantFrom('', '/2', '/', '/0', '/256', '/2/2'))
      .map(([pt, n, rate, ch]) => `a=rtpmap:${pt} ${n}/${rate}${ch}`);
    const ssrc = fc.tuple(fc.constantFrom('1', '4294967295', '4294967296', '00000000001', '', 'x'), fc.constantFrom(' cname', ' msid', '', ' ', ' a b', ' :x'), fc.constantFrom('', ':', ':v', ':a b:c', ' x'))
      .map(([id, attr, value]) => `a=ssrc:${id}${attr}${value}`);
    const attribute = fc.oneof(free, fmtp, shaped, rtpmap, ssrc);
    fc.assert(
      fc.property(fc.array(attribute, { minLength: 1, maxLength: 6 }), fc.constantFrom('\r\n', '\n'), (lines, eol) => {
        // The rtpmaps after the random lines make payload types 96 and 111 codecs, so that their fmtp and rtcp-fb show in the model.
        const text = (HEAD + lines.join('\r\n') + TAIL).replace(/\r\n/g, eol);
        assertSame(text, 'random attribute lines');
        // At session level too (rtpmap and friends are kept as other attributes there).
        assertSame(text.replace('m=audio 9 UDP/TLS/RTP/SAVPF 96 111\r\n'.replace(/\r\n/g, eol), '') + `${eol}m=audio 9 UDP/TLS/RTP/SAVPF 96`, 'at session level');
      }),
      { numRuns: 4000, seed: 0x5d14 },
    );
  });
});
