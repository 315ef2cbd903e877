// RFC 8888 congestion control feedback (RTPFB FMT 11): metric blocks, odd-count padding, report timestamp.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtcpCongestionControlFeedback } from '../../../../lib/rtp/rtcp/congestion-control-feedback.js';
import { ccfbArb } from './arbitraries.js';
import { assertRejected, assertRoundTrips, hex, parseOne } from './helpers.js';

// Begin 0x10, 3 metrics: received ATO 0x100; lost; received ECT(1) ATO 0x1fff (unavailable); 2 bytes padding.
const CCFB = hex('8bcd0006 11223344 55667788 00100003 81000000 bfff0000 12345678');

test('RFC 8888 §3.1 layout', () => {
  const f = parseOne(CCFB, 'ccfb');
  assert.equal(f.senderSsrc, 0x11223344);
  assert.equal(f.reportTimestamp, 0x12345678);
  assert.deepEqual(f.reports, [{
    ssrc: 0x55667788, beginSequence: 0x10,
    metrics: [
      { received: true, ecn: 0, arrivalTimeOffset: 0x100 },
      { received: false, ecn: 0, arrivalTimeOffset: 0 },
      { received: true, ecn: 1, arrivalTimeOffset: 0x1fff },
    ],
  }]);
  assert.deepEqual(new RtcpCongestionControlFeedback(0x11223344, f.reports, 0x12345678).serialize(), CCFB);
  assertRejected(hex('8bcd0004 11223344 55667788 00100009 12345678'), 'bad-field');
  assertRejected(hex('8bcd0000'), 'bad-field');
});

test('property: CCFB round-trips', () => assertRoundTrips(ccfbArb));
