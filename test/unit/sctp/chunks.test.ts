// Chunk and packet codecs (RFC 9260 section 3, RFC 8260, RFC 3758, RFC 6525): exact layouts
// for DATA and SACK, then parse(serialize(x)) == x for generated chunks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodePacket, encodePacket, verifyPacket } from '../../../lib/sctp/packet.js';
import type { Chunk } from '../../../lib/sctp/chunks/chunk.js';
import { decodeOutgoingResetRequest, decodeReconfigResponse, encodeOutgoingResetRequest, encodeReconfigResponse } from '../../../lib/sctp/parameters/reconfig.js';
import { unknownChunkAction } from '../../../lib/sctp/chunks/chunk-type.js';
import { unknownParameterAction } from '../../../lib/sctp/parameters/tlv.js';

const header = { sourcePort: 5000, destinationPort: 5001, verificationTag: 0xa1b2c3d4 };

test('DATA layout (RFC 9260 section 3.3.1): flags I U B E, fields, padding', () => {
  const pkt = encodePacket(header, [{ type: 0, tsn: 0x01020304, streamId: 7, ssn: 9, ppid: 51, unordered: true, beginning: true, ending: false, immediate: true, userData: Buffer.from('abcde') }]);
  const chunk = pkt.subarray(12);
  assert.deepEqual([...chunk.subarray(0, 16)], [0, 0b1110, 0, 21, 1, 2, 3, 4, 0, 7, 0, 9, 0, 0, 0, 51]);
  assert.equal(chunk.subarray(16, 21).toString(), 'abcde');
  assert.deepEqual([...chunk.subarray(21)], [0, 0, 0], 'padded to 4 bytes with zeros');
  assert.deepEqual([...pkt.subarray(0, 8)], [0x13, 0x88, 0x13, 0x89, 0xa1, 0xb2, 0xc3, 0xd4]);
  assert.equal(verifyPacket(pkt, false), undefined);
});

test('SACK layout (RFC 9260 section 3.3.4)', () => {
  const pkt = encodePacket(header, [{ type: 3, cumTsnAck: 100, aRwnd: 65536, gaps: [{ start: 2, end: 3 }], duplicates: [99] }]);
  assert.deepEqual([...pkt.subarray(12)], [3, 0, 0, 24, 0, 0, 0, 100, 0, 1, 0, 0, 0, 1, 0, 1, 0, 2, 0, 3, 0, 0, 0, 99]);
});

test('a corrupted byte fails the checksum; zero checksum passes only when accepted', () => {
  const pkt = encodePacket(header, [{ type: 11 }]);
  const bad = Buffer.from(pkt);
  bad[13] ^= 1;
  assert.equal(verifyPacket(bad, false), 'bad-checksum');
  const zero = encodePacket(header, [{ type: 11 }], true);
  assert.equal(verifyPacket(zero, false), 'bad-checksum');
  assert.equal(verifyPacket(zero, true), undefined);
  assert.equal(verifyPacket(Buffer.alloc(11), true), 'too-short');
});

test('unknown type actions come from the two high bits', () => {
  assert.deepEqual([0x3f, 0x40, 0x80, 0xc0].map(unknownChunkAction), ['stop', 'stop-report', 'skip', 'skip-report']);
  assert.deepEqual([0x3fff, 0x4000, 0x8001, 0xc000].map(unknownParameterAction), ['stop', 'stop-report', 'skip', 'skip-report']);
});

const u32 = fc.nat({ max: 0xffffffff });
const u16 = fc.nat({ max: 0xffff });
const bytes = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max }).map((b) => Buffer.from(b));
const chunkArb: fc.Arbitrary<Chunk> = fc.oneof(
  fc.record({ type: fc.constant(0 as const), tsn: u32, streamId: u16, ssn: u16, ppid: u32, unordered: fc.boolean(), beginning: fc.boolean(), ending: fc.boolean(), immediate: fc.boolean(), userData: bytes(50) }),
  fc.record({ type: fc.constant(64 as const), tsn: u32, streamId: u16, mid: u32, fsn: u32, ppid: u32, unordered: fc.boolean(), beginning: fc.boolean(), ending: fc.boolean(), immediate: fc.boolean(), userData: bytes(50) })
    .map((c) => ({ ...c, fsn: c.beginning ? 0 : c.fsn, ppid: c.beginning ? c.ppid : 0 })),
  fc.record({ type: fc.constant(3 as const), cumTsnAck: u32, aRwnd: u32, gaps: fc.array(fc.tuple(fc.integer({ min: 1, max: 100 }), fc.nat(100)).map(([s, n]) => ({ start: s, end: s + n })), { maxLength: 5 }), duplicates: fc.array(u32, { maxLength: 5 }) }),
  fc.record({ type: fc.constantFrom(1 as const, 2 as const), initiateTag: fc.integer({ min: 1, max: 0xffffffff }), aRwnd: u32, outboundStreams: fc.integer({ min: 1, max: 0xffff }), inboundStreams: fc.integer({ min: 1, max: 0xffff }), initialTsn: u32, params: fc.array(fc.record({ type: u16, value: bytes(9) }), { maxLength: 4 }) }),
  fc.record({ type: fc.constantFrom(4 as const, 5 as const), info: bytes(20) }),
  fc.record({ type: fc.constant(6 as const), reflected: fc.boolean(), causes: fc.array(fc.record({ code: u16, info: bytes(7) }), { maxLength: 3 }) }),
  fc.record({ type: fc.constant(7 as const), cumTsnAck: u32 }),
  fc.constant({ type: 8 as const }),
  fc.record({ type: fc.constant(9 as const), causes: fc.array(fc.record({ code: u16, info: bytes(7) }), { maxLength: 3 }) }),
  fc.record({ type: fc.constant(10 as const), cookie: bytes(70) }),
  fc.constant({ type: 11 as const }),
  fc.record({ type: fc.constant(14 as const), reflected: fc.boolean() }),
  fc.record({ type: fc.constant(192 as const), newCumTsn: u32, streams: fc.array(fc.record({ streamId: u16, ssn: u16 }), { maxLength: 4 }) }),
  fc.record({ type: fc.constant(194 as const), newCumTsn: u32, entries: fc.array(fc.record({ streamId: u16, unordered: fc.boolean(), mid: u32 }), { maxLength: 4 }) }),
  fc.record({ type: fc.constant(130 as const), params: fc.array(fc.record({ type: u16, value: bytes(12) }), { minLength: 1, maxLength: 2 }) }),
);

function normalize(v: unknown): unknown {
  if (v instanceof Uint8Array) return [...v];
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  return v;
}

test('parse(serialize(chunks)) returns the same chunks', () => {
  fc.assert(
    fc.property(fc.array(chunkArb, { minLength: 1, maxLength: 4 }), (chunks) => {
      const pkt = encodePacket(header, chunks);
      assert.equal(pkt.length % 4, 0);
      assert.equal(verifyPacket(pkt, false), undefined);
      const back = decodePacket(pkt);
      assert.equal(back.truncated, false);
      assert.deepEqual(normalize(back.chunks), normalize(chunks));
    }),
    { numRuns: 400 },
  );
});

test('RE-CONFIG parameters round-trip (RFC 6525 sections 4.1 and 4.4)', () => {
  const req = { requestSeq: 7, responseSeq: 6, senderLastTsn: 0xfffffffe, streams: [1, 3, 65534] };
  const p = encodeOutgoingResetRequest(req);
  assert.equal(p.type, 13);
  assert.deepEqual(decodeOutgoingResetRequest(p.value), req);
  assert.equal(decodeOutgoingResetRequest(new Uint8Array(13)), undefined);
  assert.deepEqual(decodeReconfigResponse(encodeReconfigResponse({ responseSeq: 7, result: 1 }).value), { responseSeq: 7, result: 1 });
});

test('decodePacket never throws on arbitrary bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 12, maxLength: 200 }), (b) => {
      const r = decodePacket(Buffer.from(b));
      assert.ok(Array.isArray(r.chunks));
    }),
    { numRuns: 500 },
  );
});
