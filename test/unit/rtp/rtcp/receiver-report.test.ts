// RTCP RR (RFC 3550 §6.4.2): vector, empty RR, round-trip property.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtcpReceiverReport } from '../../../../lib/rtp/rtcp/receiver-report.js';
import type { PwtError } from '../../../../lib/common/errors.js';
import { rrArb } from './arbitraries.js';
import { assertRejected, assertRoundTrips, hex, parseOne } from './helpers.js';

const RR = hex('81c90007 11223344 55667788 80000001 0000ffff 00000000 00000000 00000000');

test('parses an RR with one block (cumulative lost +1, fraction 128/256)', () => {
  const rr = parseOne(RR, 'rr');
  assert.equal(rr.ssrc, 0x11223344);
  assert.deepEqual(rr.reports[0], { ssrc: 0x55667788, fractionLost: 128, cumulativeLost: 1, highestSequence: 0xffff, jitter: 0, lastSr: 0, delaySinceLastSr: 0 });
  assert.deepEqual(rr.serialize(), RR);
});

test('an empty RR is 8 bytes (RFC 3550 §6.4.2: sent when there is nothing to report)', () => {
  assert.deepEqual(new RtcpReceiverReport({ ssrc: 1 }).serialize(), hex('80c90001 00000001'));
  assertRejected(hex('81c90001 00000001'), 'bad-field');
  assert.throws(() => new RtcpReceiverReport({ ssrc: 1, reports: new Array(32).fill(parseOne(RR, 'rr').reports[0]) }).serialize(),
    (e: PwtError) => e.code === 'ERR_RTCP_FIELD');
});

test('property: RR round-trips', () => assertRoundTrips(rrArb));
