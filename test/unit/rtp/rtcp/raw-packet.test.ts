// RTCP packet types outside 200..207 are kept raw, byte-exact, padding included (RFC 3550 §6.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtcpRawPacket } from '../../../../lib/rtp/rtcp/raw-packet.js';
import type { PwtError } from '../../../../lib/common/errors.js';
import { rawArb } from './arbitraries.js';
import { assertRoundTrips, hex, parseOne } from './helpers.js';

test('IJ (195) with padding is preserved as received', () => {
  const ij = hex('a1c30002 00000005 00000004');
  const p = parseOne(ij, 'raw');
  assert.equal(p.packetType, 195);
  assert.equal(p.countField, 1);
  assert.deepEqual(p.serialize(), ij);
  const out = Buffer.alloc(16);
  assert.equal(p.serializeInto(out, 4), 12);
  assert.deepEqual(out.subarray(4), ij);
  assert.throws(() => p.serializeInto(Buffer.alloc(4)), (e: PwtError) => e.code === 'ERR_RTCP_BUFFER_TOO_SMALL');
  assert.ok(new RtcpRawPacket(ij).bytes === ij);
});

test('property: raw packets round-trip', () => assertRoundTrips(rawArb));
