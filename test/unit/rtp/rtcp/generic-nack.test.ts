// Generic NACK (RFC 4585 §6.2.1): PID/BLP layout, helpers to and from sequence number lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RtcpGenericNack } from '../../../../lib/rtp/rtcp/generic-nack.js';
import type { PwtError } from '../../../../lib/common/errors.js';
import { nackArb } from './arbitraries.js';
import { assertRejected, assertRoundTrips, hex, parseOne } from './helpers.js';

// PID 100, BLP 0b101: 100, 101 and 103 lost.
const NACK = hex('81cd0003 11223344 55667788 00640005');

test('NACK layout and the list helpers', () => {
  const n = parseOne(NACK, 'nack');
  assert.equal(n.senderSsrc, 0x11223344);
  assert.equal(n.mediaSsrc, 0x55667788);
  assert.deepEqual(n.lostSequenceNumbers(), [100, 101, 103]);
  assert.deepEqual(RtcpGenericNack.fromSequenceNumbers(0x11223344, 0x55667788, [103, 100, 101, 101]).serialize(), NACK);
});

test('a parsed NACK keeps its entries packed until `pairs` is read; both forms serialize the same', () => {
  const n = parseOne(NACK, 'nack');
  assert.deepEqual(n.serialize(), NACK, 'packed entries serialize as read');
  assert.deepEqual(n.pairs, [{ pid: 100, blp: 5 }]);
  assert.deepEqual(n.lostSequenceNumbers(), [100, 101, 103], 'the same numbers once made objects');
  n.pairs.push({ pid: 200, blp: 0 });
  assert.deepEqual(n.lostSequenceNumbers(), [100, 101, 103, 200], 'an edit of the objects counts');
  const replaced = parseOne(NACK, 'nack');
  replaced.pairs = [{ pid: 7, blp: 1 }];
  assert.deepEqual(replaced.lostSequenceNumbers(), [7, 8]);
  assert.deepEqual(replaced.serialize(), hex('81cd0003 11223344 55667788 00070001'));
});

test('sequence numbers across the 16-bit wrap pack into one entry', () => {
  const n = RtcpGenericNack.fromSequenceNumbers(1, 2, [65534, 65535, 0, 1]);
  assert.deepEqual(n.pairs, [{ pid: 65534, blp: 0b111 }]);
  assert.deepEqual(n.lostSequenceNumbers(), [65534, 65535, 0, 1]);
  assert.deepEqual(RtcpGenericNack.fromSequenceNumbers(1, 2, []).pairs, []);
  assert.throws(() => RtcpGenericNack.fromSequenceNumbers(1, 2, [65536]), (e: PwtError) => e.code === 'ERR_RTCP_FIELD');
});

test('an FCI that is not whole entries is rejected', () => {
  assertRejected(hex('80cd0001 11223344'), 'bad-field');
});

test('property: any set of lost sequence numbers survives the round trip', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }), fc.uniqueArray(fc.integer({ min: 0, max: 300 }), { maxLength: 60 }), (start, offs) => {
    const lost = offs.map((o) => (start + o) & 0xffff);
    const n = parseOne(RtcpGenericNack.fromSequenceNumbers(7, 8, lost).serialize(), 'nack');
    assert.deepEqual(new Set(n.lostSequenceNumbers()), new Set(lost));
    assert.equal(n.lostSequenceNumbers().length, lost.length);
  }), { numRuns: 200 });
  assertRoundTrips(nackArb);
});
