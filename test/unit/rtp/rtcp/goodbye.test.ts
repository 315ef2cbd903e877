// RTCP BYE (RFC 3550 §6.6): sources and padded reason text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtcpGoodbye } from '../../../../lib/rtp/rtcp/goodbye.js';
import type { PwtError } from '../../../../lib/common/errors.js';
import { byeArb } from './arbitraries.js';
import { assertRejected, assertRoundTrips, hex, parseOne } from './helpers.js';

const BYE = hex('81cb0003 11223344 04627965 2e000000');

test('BYE with a reason', () => {
  assert.deepEqual(new RtcpGoodbye([0x11223344], 'bye.').serialize(), BYE);
  const b = parseOne(BYE, 'bye');
  assert.deepEqual(b.sources, [0x11223344]);
  assert.equal(b.reason, 'bye.');
  assert.equal(parseOne(hex('81cb0001 11223344'), 'bye').reason, undefined);
});

test('reason length past the packet is rejected; too long a reason throws', () => {
  assertRejected(hex('81cb0002 11223344 09627965'), 'bad-field');
  assertRejected(hex('82cb0001 11223344'), 'bad-field');
  assert.throws(() => new RtcpGoodbye([1], 'x'.repeat(256)).serialize(), (e: PwtError) => e.code === 'ERR_RTCP_FIELD');
});

test('property: BYE round-trips', () => assertRoundTrips(byeArb));
