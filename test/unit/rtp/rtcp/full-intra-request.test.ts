// FIR (RFC 5104 §4.3.1): PSFB FMT 4, media SSRC 0, entries of SSRC + sequence number + 24 reserved bits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtcpFullIntraRequest } from '../../../../lib/rtp/rtcp/full-intra-request.js';
import type { PwtError } from '../../../../lib/common/errors.js';
import { firArb } from './arbitraries.js';
import { assertRejected, assertRoundTrips, hex, parseOne } from './helpers.js';

test('FIR layout with a command sequence number', () => {
  const FIR = hex('84ce0004 11223344 00000000 55667788 07000000');
  assert.deepEqual(new RtcpFullIntraRequest(0x11223344, [{ ssrc: 0x55667788, sequenceNumber: 7 }]).serialize(), FIR);
  assert.deepEqual(parseOne(FIR, 'fir').entries, [{ ssrc: 0x55667788, sequenceNumber: 7 }]);
  assertRejected(hex('84ce0003 11223344 00000000 55667788'), 'bad-field');
  assert.throws(() => new RtcpFullIntraRequest(1, [{ ssrc: 1, sequenceNumber: 256 }]).serialize(), (e: PwtError) => e.code === 'ERR_RTCP_FIELD');
});

test('property: FIR round-trips', () => assertRoundTrips(firArb));
