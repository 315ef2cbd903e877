// RTX wrap/unwrap (RFC 4588 §4): OSN first in the payload, RTX SSRC/PT/sequence number.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { unwrapRtx, wrapRtx } from '../../../lib/rtp/rtx.js';
import type { PwtError } from '../../../lib/common/errors.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('wrap puts the original sequence number first and takes the RTX stream fields', () => {
  const orig = new RtpPacket({ marker: true, payloadType: 96, sequenceNumber: 0x1234, timestamp: 9000, ssrc: 0xaaaa, payload: hex('cafe') });
  orig.setExtension(1, hex('07'));
  const rtx = wrapRtx(orig, { ssrc: 0xbbbb, payloadType: 97, sequenceNumber: 5 });
  assert.deepEqual(rtx.serialize(), hex('90e10005 00002328 0000bbbb bede0001 10070000 1234cafe'));
  const back = unwrapRtx(RtpPacket.parse(rtx.serialize()), { ssrc: 0xaaaa, payloadType: 96 })!;
  assert.deepEqual(back.serialize(), orig.serialize());
});

test('unwrap refuses a payload shorter than the OSN (padding-only probes); wrap needs a sequence number', () => {
  const probe = new RtpPacket({ payloadType: 97, sequenceNumber: 1, timestamp: 1, ssrc: 1, payload: hex('01') });
  assert.equal(unwrapRtx(probe, { ssrc: 2, payloadType: 96 }), null);
  assert.throws(() => wrapRtx(new RtpPacket({ timestamp: 1 }), { ssrc: 1, payloadType: 97, sequenceNumber: 1 }), (e: PwtError) => e.code === 'ERR_RTP_FIELD_UNSET');
});

test('a received packet with duplicate extension ids or a foreign profile wraps and unwraps byte-exact', () => {
  const dup = RtpPacket.parse(hex('90600001 00000002 00000003 bede0001 10aa10bb 01'));
  const foreign = RtpPacket.parse(hex('90600001 00000002 00000003 abcd0001 01020304 01'));
  for (const orig of [dup, foreign]) {
    const rtx = RtpPacket.parse(wrapRtx(orig, { ssrc: 9, payloadType: 97, sequenceNumber: 1 }).serialize());
    assert.deepEqual(rtx.serialize().subarray(12, 20), orig.serialize().subarray(12, 20));
    assert.deepEqual(unwrapRtx(rtx, { ssrc: 3, payloadType: 96 })!.serialize(), orig.serialize());
  }
});

test('property: unwrap(wrap(p)) restores p', () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 100 }), fc.boolean(),
    (seq, rtxSeq, payload, marker) => {
      const orig = new RtpPacket({ marker, payloadType: 100, sequenceNumber: seq, timestamp: 77, ssrc: 1, csrcs: [5], payload: Buffer.from(payload) });
      const rtx = wrapRtx(orig, { ssrc: 2, payloadType: 101, sequenceNumber: rtxSeq });
      assert.equal(rtx.sequenceNumber, rtxSeq);
      assert.deepEqual(unwrapRtx(rtx, { ssrc: 1, payloadType: 100 })!.serialize(), orig.serialize());
    }), { numRuns: 100 });
});
