// RTCP SR (RFC 3550 §6.4.1): hand-built vectors, malformed counts, round-trip property.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtcpSenderReport } from '../../../../lib/rtp/rtcp/sender-report.js';
import type { PwtError } from '../../../../lib/common/errors.js';
import { srArb } from './arbitraries.js';
import { assertRejected, assertRoundTrips, hex, parseOne } from './helpers.js';

// RC=1, length 12 words-1; sender info; one block: fraction 5, cumulative lost -2 (0xfffffe).
const SR = hex('81c8000c 11223344 e1234567 89abcdef 00001000 00000010 00000400 55667788 05fffffe 00010203 00000020 12345678 00008000');

test('parses an SR with one report block and writes it back', () => {
  const sr = parseOne(SR, 'sr');
  assert.equal(sr.ssrc, 0x11223344);
  assert.equal(sr.ntpTimestamp, 0xe123456789abcdefn);
  assert.equal(sr.rtpTimestamp, 0x1000);
  assert.equal(sr.packetCount, 16);
  assert.equal(sr.octetCount, 1024);
  assert.deepEqual(sr.reports, [{ ssrc: 0x55667788, fractionLost: 5, cumulativeLost: -2, highestSequence: 0x10203, jitter: 32, lastSr: 0x12345678, delaySinceLastSr: 0x8000 }]);
  assert.deepEqual(sr.serialize(), SR);
  const built = new RtcpSenderReport({ ssrc: 0x11223344, ntpTimestamp: 0xe123456789abcdefn, rtpTimestamp: 0x1000, packetCount: 16, octetCount: 1024, reports: sr.reports });
  assert.deepEqual(built.serialize(), SR);
});

test('a report count larger than the body is rejected', () => {
  const bad = Buffer.from(SR);
  bad[0] = 0x82;
  assertRejected(bad, 'bad-field');
  assertRejected(SR.subarray(0, 20), 'truncated');
});

test('out-of-range fields throw ERR_RTCP_FIELD', () => {
  const sr = new RtcpSenderReport({ ssrc: 1, ntpTimestamp: 1n << 64n, rtpTimestamp: 0, packetCount: 0, octetCount: 0 });
  assert.throws(() => sr.serialize(), (e: PwtError) => e.code === 'ERR_RTCP_FIELD');
  sr.ntpTimestamp = 0n;
  sr.reports = new Array(32).fill(parseOne(SR, 'sr').reports[0]);
  assert.throws(() => sr.serialize(), (e: PwtError) => e.code === 'ERR_RTCP_FIELD');
});

test('property: SR round-trips', () => assertRoundTrips(srArb));
