// compoundHasGenericNack (lib/rtp/rtcp/compound-has-nack.ts): a generic NACK (RFC 4585 §6.2.1) is
// found among a compound's packets (RFC 3550 §6.1) from the headers; other feedback is not one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compoundHasGenericNack } from '../../../../lib/rtp/rtcp/compound-has-nack.js';
import { serializeRtcp } from '../../../../lib/rtp/rtcp/compound.js';
import { RtcpGenericNack } from '../../../../lib/rtp/rtcp/generic-nack.js';
import { RtcpPictureLossIndication } from '../../../../lib/rtp/rtcp/picture-loss-indication.js';
import { RtcpReceiverReport } from '../../../../lib/rtp/rtcp/receiver-report.js';

test('compoundHasGenericNack: finds a NACK after other packets, not a PLI or a report, within the given range', () => {
  const rr = new RtcpReceiverReport({ ssrc: 1 });
  const pli = new RtcpPictureLossIndication(1, 2);
  const nack = RtcpGenericNack.fromSequenceNumbers(1, 2, [5, 6]);
  const withNack = serializeRtcp([rr, pli, nack]);
  assert.equal(compoundHasGenericNack(withNack, 0, withNack.length), true);
  const without = serializeRtcp([rr, pli]);
  assert.equal(compoundHasGenericNack(without, 0, without.length), false);
  // Inside a larger buffer: only [start, start + length) is read.
  const framed = Buffer.concat([Buffer.alloc(3), without, serializeRtcp([nack])]);
  assert.equal(compoundHasGenericNack(framed, 3, without.length), false);
  assert.equal(compoundHasGenericNack(framed, 3, framed.length - 3), true);
  // A length that runs past the end, and an empty range.
  const bad = Buffer.from(without);
  bad[3] = 200;
  assert.equal(compoundHasGenericNack(bad, 0, bad.length), false);
  assert.equal(compoundHasGenericNack(withNack, 0, 0), false);
});
