// RTPFB/PSFB of undecoded FMTs (RFC 4585 §6.1) keep their FCI, so forwarding is byte-exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unknownFbArb } from './arbitraries.js';
import { assertRejected, assertRoundTrips, hex, parseOne } from './helpers.js';

test('SLI (PSFB FMT 2) and TMMBR (RTPFB FMT 3) are kept with their FCI', () => {
  const sli = hex('82ce0003 11223344 55667788 00c0ffee');
  const p = parseOne(sli, 'feedback');
  assert.equal(p.packetType, 206);
  assert.equal(p.fmt, 2);
  assert.deepEqual(p.fci, hex('00c0ffee'));
  assert.deepEqual(p.serialize(), sli);
  const tmmbr = hex('83cd0004 11223344 00000000 55667788 12345678');
  assert.deepEqual(parseOne(tmmbr, 'feedback').serialize(), tmmbr);
  assertRejected(hex('83cd0001 11223344'), 'bad-field');
});

test('property: unknown feedback round-trips', () => assertRoundTrips(unknownFbArb));
