// Transport-wide CC feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1): chunk kinds,
// small/large deltas, padding, and round trips of random arrival patterns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RtcpTransportCcFeedback, TwccStatus } from '../../../../lib/rtp/rtcp/transport-cc-feedback.js';
import type { PwtError } from '../../../../lib/common/errors.js';
import { twccArb, twccDeltasArb } from './arbitraries.js';
import { assertRejected, assertRoundTrips, hex, parseOne } from './helpers.js';

const HDR = { senderSsrc: 0x11223344, mediaSsrc: 0x55667788, baseSequenceNumber: 10, referenceTime: 0x000102, feedbackPacketCount: 7 };
// Base 10, 5 statuses [small, lost, small, large, small] as one 2-bit vector chunk (0xd190),
// deltas 04 01 fffc ff, 27 bytes padded to 28 with the P bit (as libwebrtc does).
const TWCC = hex('afcd0006 11223344 55667788 000a0005 00010207 d1900401 fffcff01');

test('2-bit status vector with small, large (negative) deltas and P-bit padding', () => {
  const fb = RtcpTransportCcFeedback.fromPackets(HDR, [4, null, 1, -4, 255]);
  assert.deepEqual(fb.serialize(), TWCC);
  const p = parseOne(TWCC, 'transport-cc');
  assert.equal(p.paddingSize, 1);
  assert.deepEqual(p.chunks, [{ type: 'status-vector', symbolSize: 2, symbols: [1, 0, 1, 2, 1, 0, 0] }]);
  assert.deepEqual(p.packets().map((r) => [r.sequenceNumber, r.status, r.deltaTicks]), [
    [10, 1, 4], [11, 0, null], [12, 1, 1], [13, 2, -4], [14, 1, 255],
  ]);
  assert.deepEqual(p.serialize(), TWCC);
});

test('run-length and 1-bit vector chunks', () => {
  // 20 received with small deltas -> one run-length chunk (status 1, run 20) = 0x2014.
  const run = RtcpTransportCcFeedback.fromPackets(HDR, new Array<number>(20).fill(1));
  assert.deepEqual(run.chunks, [{ type: 'run-length', status: TwccStatus.SMALL_DELTA, runLength: 20 }]);
  assert.equal(run.serialize().readUInt16BE(20), 0x2014);
  // Alternating received / lost -> 1-bit vector: 1010 1010 1010 10 = 0xaaaa.
  const alt = RtcpTransportCcFeedback.fromPackets(HDR, Array.from({ length: 14 }, (_, i) => (i % 2 ? null : 2)));
  assert.equal(alt.serialize().readUInt16BE(20), 0xaaaa);
  assert.deepEqual(parseOne(alt.serialize(), 'transport-cc').packets().filter((r) => r.deltaTicks === 2).length, 7);
});

test('arrival times in µs: reference time from the first arrival, 250 µs deltas, wrap of the base sequence', () => {
  const arrivals = [64000 * 5 + 1000, null, 64000 * 5 + 1250, 64000 * 5 + 10_000_000 - 5_000_000];
  const fb = RtcpTransportCcFeedback.fromArrivals({ ...HDR, baseSequenceNumber: 65535 }, arrivals);
  assert.equal(fb.referenceTime, 5);
  const back = parseOne(fb.serialize(), 'transport-cc');
  assert.deepEqual(back.arrivalTimesUs(), arrivals);
  assert.deepEqual(back.packets().map((p) => p.sequenceNumber), [65535, 0, 1, 2]);
  assert.throws(() => RtcpTransportCcFeedback.fromPackets(HDR, [40000]), (e: PwtError) => e.code === 'ERR_RTCP_FIELD');
});

test('malformed: chunks or deltas missing, inconsistent hand-built packets refuse to serialize', () => {
  assertRejected(hex('8fcd0004 11223344 55667788 000a0005 00010207'), 'bad-field'); // no chunk
  assertRejected(hex('8fcd0005 11223344 55667788 000a0005 00010207 d1900401'), 'bad-field'); // deltas cut
  const fb = RtcpTransportCcFeedback.fromPackets(HDR, [1, 2]);
  fb.recvDeltas.pop();
  assert.throws(() => fb.serialize(), (e: PwtError) => e.code === 'ERR_RTCP_FIELD');
  const fb2 = RtcpTransportCcFeedback.fromPackets(HDR, [1, 2]);
  fb2.recvDeltas[0] = 300; // status says small
  assert.throws(() => fb2.serialize(), (e: PwtError) => e.code === 'ERR_RTCP_FIELD');
});

test('property: random arrival patterns (gaps, large and negative deltas) round-trip', () => {
  fc.assert(fc.property(twccDeltasArb, fc.integer({ min: 0, max: 0xffff }), (deltas, base) => {
    const fb = RtcpTransportCcFeedback.fromPackets({ ...HDR, baseSequenceNumber: base }, deltas);
    const back = parseOne(fb.serialize(), 'transport-cc');
    assert.equal(back.packetStatusCount, deltas.length);
    assert.deepEqual(back.packets().map((p) => p.deltaTicks), deltas);
    assert.deepEqual(back.packets().map((p) => p.sequenceNumber), deltas.map((_, i) => (base + i) & 0xffff));
  }), { numRuns: 200 });
  assertRoundTrips(twccArb);
});

test('property: arrival times (250 µs grid, gaps, reordering within ±8 s) come back from fromArrivals', () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 1_000_000 }),
    fc.array(fc.option(fc.integer({ min: -20000, max: 20000 }), { nil: null }), { minLength: 1, maxLength: 80 }),
    (startTicks, steps) => {
      let t = startTicks * 250;
      const arrivals = steps.map((s) => {
        if (s === null) return null;
        t = Math.max(0, t + s * 250);
        return t;
      });
      const back = parseOne(RtcpTransportCcFeedback.fromArrivals(HDR, arrivals).serialize(), 'transport-cc');
      assert.deepEqual(back.arrivalTimesUs(), arrivals);
    }), { numRuns: 150 });
});
