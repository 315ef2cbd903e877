// REMB (draft-alvestrand-rmcat-remb-03 §2.2): "REMB", SSRC count, exponent/mantissa, SSRCs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtcpReceiverEstimatedMaxBitrate } from '../../../../lib/rtp/rtcp/receiver-estimated-max-bitrate.js';
import { rembArb } from './arbitraries.js';
import { assertRejected, assertRoundTrips, hex, parseOne } from './helpers.js';

// 1 000 000 bit/s = 250000 * 2^2: exp 2, mantissa 0x3d090 -> 0x0b 0xd090.
const REMB = hex('8fce0005 11223344 00000000 52454d42 010bd090 55667788');

test('REMB layout and bitrate encoding', () => {
  assert.deepEqual(new RtcpReceiverEstimatedMaxBitrate(0x11223344, 1_000_000, [0x55667788]).serialize(), REMB);
  const r = parseOne(REMB, 'remb');
  assert.equal(r.bitrate, 1_000_000);
  assert.deepEqual(r.ssrcs, [0x55667788]);
  // A bitrate needing more than 18 significant bits is rounded down.
  const rounded = parseOne(new RtcpReceiverEstimatedMaxBitrate(1, 1_000_001).serialize(), 'remb');
  assert.equal(rounded.bitrate, 1_000_000);
  // SSRC count larger than the FCI.
  assertRejected(hex('8fce0004 11223344 00000000 52454d42 020bd090'), 'bad-field');
});

test('application-layer feedback without the REMB identifier is kept as unknown feedback', () => {
  const afb = hex('8fce0003 11223344 00000000 41424344');
  const p = parseOne(afb, 'feedback');
  assert.equal(p.fmt, 15);
  assert.deepEqual(p.fci, hex('41424344'));
  assert.deepEqual(p.serialize(), afb);
});

test('property: REMB round-trips', () => assertRoundTrips(rembArb));
