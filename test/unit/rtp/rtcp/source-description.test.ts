// RTCP SDES (RFC 3550 §6.5): CNAME chunk layout with END + padding, several chunks, malformed items.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtcpSourceDescription, SdesItemType } from '../../../../lib/rtp/rtcp/source-description.js';
import { sdesArb } from './arbitraries.js';
import { assertRejected, assertRoundTrips, hex, parseOne } from './helpers.js';

// One chunk: SSRC, CNAME "abcd" (type 1, length 4), END, one null of padding (RFC 3550 §6.5).
const CNAME = hex('81ca0003 11223344 01046162 63640000');

test('CNAME chunk: build, parse, find', () => {
  assert.deepEqual(RtcpSourceDescription.cname(0x11223344, 'abcd').serialize(), CNAME);
  const s = parseOne(CNAME, 'sdes');
  assert.equal(s.findText(0x11223344, SdesItemType.CNAME), 'abcd');
  assert.equal(s.findText(0x11223344, SdesItemType.NAME), undefined);
  assert.deepEqual(s.serialize(), CNAME);
});

test('a chunk whose items end exactly on a word boundary still gets a full word of nulls', () => {
  const s = new RtcpSourceDescription([{ ssrc: 1, items: [{ type: 1, data: Buffer.from('ab') }] }, { ssrc: 2, items: [] }]);
  assert.deepEqual(s.serialize(), hex('82ca0005 00000001 01026162 00000000 00000002 00000000'));
  assert.deepEqual(parseOne(s.serialize(), 'sdes').chunks.map((c) => c.ssrc), [1, 2]);
});

test('malformed SDES: item running past the packet, a chunk without END before another chunk', () => {
  assertRejected(hex('81ca0002 11223344 01096162'), 'bad-field');
  assertRejected(hex('82ca0002 11223344 01026162'), 'bad-field');
});

test('a last chunk ending on a word boundary without END (as werift writes it) is accepted', () => {
  const s = parseOne(hex('81ca0002 11223344 01026162'), 'sdes');
  assert.equal(s.findText(0x11223344, SdesItemType.CNAME), 'ab');
});

test('property: SDES round-trips', () => assertRoundTrips(sdesArb));
