// RTCP APP (RFC 3550 §6.7): subtype, name, data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtcpApplicationDefined } from '../../../../lib/rtp/rtcp/application-defined.js';
import type { PwtError } from '../../../../lib/common/errors.js';
import { appArb } from './arbitraries.js';
import { assertRejected, assertRoundTrips, hex, parseOne } from './helpers.js';

const APP = hex('82cc0003 11223344 54455354 01020304');

test('APP packet fields', () => {
  const a = parseOne(APP, 'app');
  assert.equal(a.subtype, 2);
  assert.equal(a.ssrc, 0x11223344);
  assert.equal(a.name, 'TEST');
  assert.deepEqual(a.data, hex('01020304'));
  assert.deepEqual(new RtcpApplicationDefined({ subtype: 2, ssrc: 0x11223344, name: 'TEST', data: hex('01020304') }).serialize(), APP);
  assertRejected(hex('80cc0001 11223344'), 'bad-field');
  assert.throws(() => new RtcpApplicationDefined({ subtype: 0, ssrc: 1, name: 'LONGER' }).serialize(), (e: PwtError) => e.code === 'ERR_RTCP_FIELD');
  // Data that is not whole words is followed by RTCP padding (P bit) and comes back as sent.
  const odd = new RtcpApplicationDefined({ subtype: 0, ssrc: 1, name: 'ABCD', data: hex('0102') }).serialize();
  assert.deepEqual(odd, hex('a0cc0003 00000001 41424344 01020002'));
  assert.deepEqual(parseOne(odd, 'app').data, hex('0102'));
});

test('property: APP round-trips', () => assertRoundTrips(appArb));
