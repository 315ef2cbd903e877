// RTCP XR (RFC 3611): RRTR (§4.4) and DLRR (§4.5) blocks decoded, other blocks raw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtcpExtendedReport } from '../../../../lib/rtp/rtcp/extended-report.js';
import { xrArb } from './arbitraries.js';
import { assertRejected, assertRoundTrips, hex, parseOne } from './helpers.js';

const XR = hex('80cf0008 11223344 04000002 e1234567 89abcdef 05000003 55667788 00010002 00000003');

test('RRTR and DLRR blocks', () => {
  const xr = parseOne(XR, 'xr');
  assert.equal(xr.ssrc, 0x11223344);
  assert.deepEqual(xr.blocks, [
    { blockType: 4, ntpTimestamp: 0xe123456789abcdefn },
    { blockType: 5, items: [{ ssrc: 0x55667788, lastRr: 0x10002, delaySinceLastRr: 3 }] },
  ]);
  assert.deepEqual(new RtcpExtendedReport(0x11223344, xr.blocks).serialize(), XR);
});

test('unknown block kept raw; a block running past the packet is rejected', () => {
  const raw = hex('80cf0003 11223344 07090001 aabbccdd');
  const xr = parseOne(raw, 'xr');
  assert.deepEqual(xr.blocks, [{ blockType: 7, typeSpecific: 9, data: hex('aabbccdd') }]);
  assert.deepEqual(xr.serialize(), raw);
  assertRejected(hex('80cf0003 11223344 07090002 aabbccdd'), 'bad-field');
});

test('property: XR round-trips', () => assertRoundTrips(xrArb));
