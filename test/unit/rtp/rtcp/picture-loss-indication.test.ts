// PLI (RFC 4585 §6.3.1): PSFB FMT 1, no FCI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtcpPictureLossIndication } from '../../../../lib/rtp/rtcp/picture-loss-indication.js';
import { pliArb } from './arbitraries.js';
import { assertRejected, assertRoundTrips, hex, parseOne } from './helpers.js';

test('PLI layout; an FCI makes it malformed', () => {
  const PLI = hex('81ce0002 11223344 55667788');
  assert.deepEqual(new RtcpPictureLossIndication(0x11223344, 0x55667788).serialize(), PLI);
  const p = parseOne(PLI, 'pli');
  assert.equal(p.mediaSsrc, 0x55667788);
  assertRejected(hex('81ce0003 11223344 55667788 00000000'), 'bad-field');
  assertRejected(hex('81ce0001 11223344'), 'bad-field');
});

test('property: PLI round-trips', () => assertRoundTrips(pliArb));
