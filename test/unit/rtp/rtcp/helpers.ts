// Shared helpers of the RTCP tests: hex vectors and the parse/serialize round-trip property.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseRtcp, type RtcpPacket } from '../../../../lib/rtp/rtcp/compound.js';
import { RtpParseError } from '../../../../lib/rtp/errors.js';

/** Bytes from a hex string with optional spaces. */
export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Parses a datagram that must hold exactly one packet of `kind`. */
export function parseOne<K extends RtcpPacket['kind']>(bytes: Buffer, kind: K): Extract<RtcpPacket, { kind: K }> {
  const pkts = parseRtcp(bytes);
  assert.equal(pkts.length, 1);
  assert.equal(pkts[0]!.kind, kind);
  return pkts[0] as Extract<RtcpPacket, { kind: K }>;
}

/** Asserts that parsing `bytes` fails with RtpParseError of `reason`. */
export function assertRejected(bytes: Buffer, reason: string): void {
  assert.throws(() => parseRtcp(bytes), (e: unknown) => e instanceof RtpParseError && e.reason === reason && e.code === 'ERR_RTCP_PARSE');
}

/** Property: serialize(p) parses to one packet of the same kind that serializes to the same bytes. */
export function assertRoundTrips(arb: fc.Arbitrary<RtcpPacket>, numRuns = 150): void {
  fc.assert(
    fc.property(arb, (p) => {
      const bytes = p.serialize();
      assert.equal(bytes.length, p.byteLength);
      assert.equal(bytes.length % 4, 0);
      const q = parseOne(bytes, p.kind);
      assert.deepEqual(q.serialize(), bytes);
    }),
    { numRuns },
  );
}
