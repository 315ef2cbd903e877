// Compound (RFC 3550 §6.1) and reduced-size (RFC 5506) RTCP: order kept, padding, hostile input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseRtcp, serializeRtcp, serializeRtcpInto, rtcpByteLength, tryParseRtcp } from '../../../../lib/rtp/rtcp/compound.js';
import { RtcpSenderReport } from '../../../../lib/rtp/rtcp/sender-report.js';
import { RtcpSourceDescription } from '../../../../lib/rtp/rtcp/source-description.js';
import { RtcpGenericNack } from '../../../../lib/rtp/rtcp/generic-nack.js';
import { RtcpTransportCcFeedback } from '../../../../lib/rtp/rtcp/transport-cc-feedback.js';
import { RtcpPictureLossIndication } from '../../../../lib/rtp/rtcp/picture-loss-indication.js';
import { RtpParseError, createRtpDropCounters } from '../../../../lib/rtp/errors.js';
import type { PwtError } from '../../../../lib/common/errors.js';
import { rtcpPacketArb } from './arbitraries.js';
import { hex } from './helpers.js';

const sr = new RtcpSenderReport({ ssrc: 1, ntpTimestamp: 2n, rtpTimestamp: 3, packetCount: 4, octetCount: 5 });
const sdes = RtcpSourceDescription.cname(1, 'cname');
const nack = RtcpGenericNack.fromSequenceNumbers(1, 2, [10, 12]);
const twcc = RtcpTransportCcFeedback.fromPackets({ senderSsrc: 1, mediaSsrc: 2, baseSequenceNumber: 0, referenceTime: 0, feedbackPacketCount: 0 }, [1, null, 300]);

test('SR + SDES + NACK + transport-cc in one datagram keeps order and bytes', () => {
  const bytes = serializeRtcp([sr, sdes, nack, twcc]);
  assert.equal(bytes.length, sr.byteLength + sdes.byteLength + nack.byteLength + twcc.byteLength);
  const pkts = parseRtcp(bytes);
  assert.deepEqual(pkts.map((p) => p.kind), ['sr', 'sdes', 'nack', 'transport-cc']);
  assert.deepEqual(serializeRtcp(pkts), bytes);
  const out = Buffer.alloc(bytes.length + 8);
  assert.equal(serializeRtcpInto(pkts, out, 8), bytes.length);
  assert.deepEqual(out.subarray(8), bytes);
  assert.equal(rtcpByteLength(pkts), bytes.length);
});

test('reduced-size RTCP (RFC 5506 §3): a lone feedback packet is accepted', () => {
  const pli = new RtcpPictureLossIndication(1, 2).serialize();
  assert.deepEqual(parseRtcp(pli).map((p) => p.kind), ['pli']);
  const within = Buffer.concat([hex('ffff'), pli, hex('ff')]);
  assert.equal(parseRtcp(within, 2, pli.length)[0]!.kind, 'pli');
});

test('bad headers: version, length past the datagram, padding count 0 or too large, trailing bytes', () => {
  const drops = createRtpDropCounters();
  const cases: [string, string][] = [
    ['40c90001 00000001', 'bad-version'],
    ['80c90002 00000001', 'truncated'],
    ['a0c90001 00000000', 'bad-padding'],
    ['a0c90001 00000009', 'bad-padding'],
    ['80c90001 00000001 80', 'truncated'],
    ['80c9', 'truncated'],
  ];
  for (const [h, reason] of cases) {
    const b = hex(h);
    assert.throws(() => parseRtcp(b), (e: unknown) => e instanceof RtpParseError && e.reason === reason, h);
    assert.equal(tryParseRtcp(b, 0, b.length, drops), null);
  }
  assert.equal(drops.truncated, 3);
  assert.equal(drops['bad-padding'], 2);
  assert.throws(() => serializeRtcp([]), (e: PwtError) => e.code === 'ERR_RTCP_EMPTY');
});

test('property: any compound of valid packets round-trips byte-exact', () => {
  fc.assert(fc.property(fc.array(rtcpPacketArb, { minLength: 1, maxLength: 5 }), (pkts) => {
    const bytes = serializeRtcp(pkts);
    const back = parseRtcp(bytes);
    assert.deepEqual(back.map((p) => p.kind), pkts.map((p) => p.kind));
    assert.deepEqual(serializeRtcp(back), bytes);
  }), { numRuns: 200 });
});

test('property: random bytes, truncations and bit flips never throw anything but RtpParseError', () => {
  const valid = serializeRtcp([sr, sdes, nack, twcc]);
  const check = (b: Buffer, off: number, len: number): void => {
    try {
      const pkts = parseRtcp(b, off, len);
      serializeRtcp(pkts.length ? pkts : [sr]); // whatever parsed can be written back
    } catch (e) {
      assert.ok(e instanceof RtpParseError, String(e));
    }
  };
  for (let n = 0; n <= valid.length; n++) check(valid, 0, n);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (arr) => {
    const b = Buffer.from(arr);
    if (b.length) b[0] = 0x80 | (b[0]! & 0x3f);
    if (b.length > 1) b[1] = 192 + (b[1]! % 32);
    for (let n = 0; n <= b.length; n += 3) check(b, 0, n);
  }), { numRuns: 300 });
  fc.assert(fc.property(fc.integer({ min: 0, max: valid.length * 8 - 1 }), (bit) => {
    const b = Buffer.from(valid);
    b[bit >> 3]! ^= 1 << (bit & 7);
    check(b, 0, b.length);
  }), { numRuns: 300 });
});
