// Differential checks against werift-rtp (npm): both libraries parse each other's bytes to the same
// fields, and for canonical input write the same bytes (RTP, SR, RR, SDES, NACK, transport-cc, PLI, FIR, REMB).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as werift from 'werift-rtp';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { parseRtcp, serializeRtcp, type RtcpPacket } from '../../../lib/rtp/rtcp/compound.js';
import { RtcpGenericNack } from '../../../lib/rtp/rtcp/generic-nack.js';
import { RtcpFullIntraRequest } from '../../../lib/rtp/rtcp/full-intra-request.js';
import { RtcpPictureLossIndication } from '../../../lib/rtp/rtcp/picture-loss-indication.js';
import { RtcpReceiverEstimatedMaxBitrate } from '../../../lib/rtp/rtcp/receiver-estimated-max-bitrate.js';
import { RtcpSourceDescription } from '../../../lib/rtp/rtcp/source-description.js';
import { RtcpTransportCcFeedback } from '../../../lib/rtp/rtcp/transport-cc-feedback.js';
import { rrArb, srArb, twccDeltasArb, u16, u32, u8 } from './rtcp/arbitraries.js';

const oneByteExts = fc.uniqueArray(
  fc.record({ id: fc.integer({ min: 1, max: 14 }), data: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  { selector: (e) => e.id, maxLength: 4 },
);
const twoByteExts = fc.uniqueArray(
  fc.record({ id: fc.integer({ min: 1, max: 255 }), data: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
  { selector: (e) => e.id, minLength: 1, maxLength: 4 },
);
const rtpArb = fc.record({
  marker: fc.boolean(),
  payloadType: fc.integer({ min: 0, max: 127 }),
  sequenceNumber: u16,
  timestamp: u32,
  ssrc: u32,
  csrcs: fc.array(u32, { maxLength: 4 }),
  twoByte: fc.boolean(),
  one: oneByteExts,
  two: twoByteExts,
  payload: fc.uint8Array({ minLength: 1, maxLength: 100 }),
});

test('RTP: werift reads our bytes, we read werift bytes, and both write the same bytes', () => {
  fc.assert(fc.property(rtpArb, (r) => {
    const exts = (r.twoByte ? r.two : r.one).map((e) => ({ id: e.id, data: Buffer.from(e.data) }));
    const ours = new RtpPacket({ ...r, extensions: exts, extensionForm: r.twoByte ? 'two-byte' : 'one-byte', payload: Buffer.from(r.payload) });
    const bytes = ours.serialize();
    const w = werift.RtpPacket.deSerialize(bytes);
    assert.equal(w.header.marker, r.marker);
    assert.equal(w.header.payloadType, r.payloadType);
    assert.equal(w.header.sequenceNumber, r.sequenceNumber);
    assert.equal(w.header.timestamp, r.timestamp);
    assert.equal(w.header.ssrc, r.ssrc);
    assert.deepEqual(w.header.csrc, r.csrcs);
    assert.deepEqual(w.header.extensions.map((e) => [e.id, [...e.payload]]), exts.map((e) => [e.id, [...e.data]]));
    assert.deepEqual([...w.payload], [...r.payload]);

    const header = new werift.RtpHeader({
      marker: r.marker, payloadType: r.payloadType, sequenceNumber: r.sequenceNumber, timestamp: r.timestamp, ssrc: r.ssrc,
      csrc: r.csrcs, csrcLength: r.csrcs.length, extension: exts.length > 0,
      extensionProfile: r.twoByte ? werift.ExtensionProfiles.TwoByte : werift.ExtensionProfiles.OneByte,
      extensions: exts.map((e) => ({ id: e.id, payload: e.data })),
    });
    const wBytes = new werift.RtpPacket(header, Buffer.from(r.payload)).serialize();
    const back = RtpPacket.parse(wBytes);
    assert.equal(back.ssrc, r.ssrc);
    assert.deepEqual(back.extensions.map((e) => [e.id, [...e.data]]), exts.map((e) => [e.id, [...e.data]]));
    assert.deepEqual(wBytes, bytes);
  }), { numRuns: 200 });
});

test('SR and RR: werift reads our fields (sender info, report blocks) and we read werift bytes', () => {
  fc.assert(fc.property(srArb, rrArb, (sr, rr) => {
    sr.profileExtension = Buffer.alloc(0);
    rr.profileExtension = Buffer.alloc(0);
    const [wsr, wrr] = werift.RtcpPacketConverter.deSerialize(serializeRtcp([sr, rr])) as [werift.RtcpSrPacket, werift.RtcpRrPacket];
    assert.equal(wsr!.ssrc, sr.ssrc);
    assert.equal(wsr!.senderInfo.ntpTimestamp, sr.ntpTimestamp);
    assert.equal(wsr!.senderInfo.rtpTimestamp, sr.rtpTimestamp);
    assert.equal(wsr!.senderInfo.packetCount, sr.packetCount);
    assert.equal(wsr!.senderInfo.octetCount, sr.octetCount);
    assert.equal(wrr!.ssrc, rr.ssrc);
    const blocks = (xs: werift.RtcpReceiverInfo[]) => xs.map((b) => [b.ssrc, b.fractionLost, b.highestSequence, b.jitter, b.lsr, b.dlsr]);
    const ourBlocks = (xs: typeof rr.reports) => xs.map((b) => [b.ssrc, b.fractionLost, b.highestSequence, b.jitter, b.lastSr, b.delaySinceLastSr]);
    assert.deepEqual(blocks(wsr!.reports), ourBlocks(sr.reports));
    assert.deepEqual(blocks(wrr!.reports), ourBlocks(rr.reports));
    // werift's cumulative lost is unsigned 24-bit; ours is signed.
    assert.deepEqual(wrr!.reports.map((b) => b.packetsLost), rr.reports.map((b) => b.cumulativeLost & 0xffffff));
    const again = parseRtcp(Buffer.concat([wsr!.serialize(), wrr!.serialize()]));
    assert.deepEqual(serializeRtcp(again), serializeRtcp([sr, rr]));
  }), { numRuns: 100 });
});

test('SDES CNAME, NACK, PLI, FIR, REMB: same bytes both ways', () => {
  fc.assert(fc.property(u32, u32, fc.stringMatching(/^[a-zA-Z0-9+/]{1,40}$/), fc.uniqueArray(u16, { minLength: 1, maxLength: 30 }), u8, fc.integer({ min: 0, max: 0x3ffff }), fc.integer({ min: 0, max: 30 }),
    (s, m, cname, lost, firSeq, mantissa, exp) => {
      const sdesW = new werift.RtcpSourceDescriptionPacket({ chunks: [new werift.SourceDescriptionChunk({ source: s, items: [new werift.SourceDescriptionItem({ type: 1, text: cname })] })] });
      // werift leaves out the END octet when the item ends on a word boundary (RFC 3550 §6.5 wants
      // it); we accept that form and otherwise write the same bytes.
      if ((cname.length + 2) % 4 !== 0) assert.deepEqual(sdesW.serialize(), RtcpSourceDescription.cname(s, cname).serialize());
      assert.equal((parseRtcp(sdesW.serialize())[0] as RtcpSourceDescription).findText(s, 1), cname);
      const wsdes = werift.RtcpPacketConverter.deSerialize(RtcpSourceDescription.cname(s, cname).serialize())[0] as werift.RtcpSourceDescriptionPacket;
      assert.equal(wsdes.chunks[0]!.items[0]!.text, cname);

      const nack = RtcpGenericNack.fromSequenceNumbers(s, m, lost);
      const wn = (werift.RtcpPacketConverter.deSerialize(nack.serialize())[0] as werift.RtcpTransportLayerFeedback).feedback as werift.GenericNack;
      assert.equal(wn.senderSsrc, s);
      assert.equal(wn.mediaSourceSsrc, m);
      // werift does not wrap pid + i + 1 at 65536, so compare modulo 2^16.
      assert.deepEqual(new Set(wn.lost.map((x) => x & 0xffff)), new Set(lost));
      const ourFromW = parseRtcp(new werift.RtcpTransportLayerFeedback({ feedback: new werift.GenericNack({ senderSsrc: s, mediaSourceSsrc: m, lost: [...lost].sort((a, b) => a - b) }) }).serialize())[0] as RtcpGenericNack;
      assert.deepEqual(new Set(ourFromW.lostSequenceNumbers()), new Set(lost));

      const pli = new RtcpPictureLossIndication(s, m).serialize();
      assert.deepEqual(new werift.RtcpPayloadSpecificFeedback({ feedback: new werift.PictureLossIndication({ senderSsrc: s, mediaSsrc: m }) }).serialize(), pli);

      const fir = new RtcpFullIntraRequest(s, [{ ssrc: m, sequenceNumber: firSeq }]).serialize();
      const wfir = (werift.RtcpPacketConverter.deSerialize(fir)[0] as werift.RtcpPayloadSpecificFeedback).feedback as { fir: unknown };
      assert.deepEqual(wfir.fir, [{ ssrc: m, sequenceNumber: firSeq }]);

      const bitrate = mantissa * 2 ** exp;
      const remb = new RtcpReceiverEstimatedMaxBitrate(s, bitrate, [m]).serialize();
      const wremb = (werift.RtcpPacketConverter.deSerialize(remb)[0] as werift.RtcpPayloadSpecificFeedback).feedback as werift.ReceiverEstimatedMaxBitrate;
      assert.equal(wremb.bitrate, BigInt(bitrate));
      assert.deepEqual(wremb.ssrcFeedbacks, [m]);
      const ourRemb = parseRtcp(new werift.RtcpPayloadSpecificFeedback({ feedback: new werift.ReceiverEstimatedMaxBitrate({ senderSsrc: s, mediaSsrc: 0, ssrcNum: 1, brExp: exp, brMantissa: mantissa, ssrcFeedbacks: [m] }) }).serialize())[0] as RtcpReceiverEstimatedMaxBitrate;
      assert.equal(ourRemb.bitrate, bitrate);
    }), { numRuns: 100 });
});

test('transport-cc: werift reads our chunks and deltas (µs = 250 × ticks)', () => {
  fc.assert(fc.property(twccDeltasArb, u16, (deltas, base) => {
    const fb = RtcpTransportCcFeedback.fromPackets({ senderSsrc: 1, mediaSsrc: 2, baseSequenceNumber: base, referenceTime: 77, feedbackPacketCount: 3 }, deltas);
    const w = (werift.RtcpPacketConverter.deSerialize(fb.serialize())[0] as werift.RtcpTransportLayerFeedback).feedback as werift.TransportWideCC;
    assert.equal(w.baseSequenceNumber, base);
    assert.equal(w.packetStatusCount, deltas.length);
    assert.equal(w.referenceTime, 77);
    assert.equal(w.fbPktCount, 3);
    assert.equal(w.packetChunks.length, fb.chunks.length);
    w.packetChunks.forEach((c, i) => {
      const ours = fb.chunks[i]!;
      if (c instanceof werift.RunLengthChunk) {
        assert.deepEqual(ours, { type: 'run-length', status: c.packetStatus, runLength: c.runLength });
      } else {
        assert.equal(ours.type, 'status-vector');
        assert.deepEqual(ours.type === 'status-vector' && ours.symbols, c.symbolList);
      }
    });
    assert.deepEqual(w.recvDeltas.map((d) => d.delta), deltas.flatMap((d) => (d === null ? [] : [d * 250])));
    // And back: werift writes the feedback again, we read the same per-packet results.
    const back = parseRtcp(new werift.RtcpTransportLayerFeedback({ feedback: w }).serialize())[0] as RtcpTransportCcFeedback;
    assert.deepEqual(back.packets().map((p) => p.deltaTicks), deltas);
  }), { numRuns: 150 });
});

test('a Chrome-shaped compound from werift (RR + REMB) parses with our library', () => {
  const rr = new werift.RtcpRrPacket({ ssrc: 1, reports: [new werift.RtcpReceiverInfo({ ssrc: 2, fractionLost: 3, packetsLost: 4, highestSequence: 5, jitter: 6, lsr: 7, dlsr: 8 })] });
  const remb = new werift.RtcpPayloadSpecificFeedback({ feedback: new werift.ReceiverEstimatedMaxBitrate({ senderSsrc: 1, mediaSsrc: 0, ssrcNum: 1, brExp: 3, brMantissa: 1000, ssrcFeedbacks: [2] }) });
  const bytes = Buffer.concat([rr.serialize(), remb.serialize()]);
  const pkts: RtcpPacket[] = parseRtcp(bytes);
  assert.deepEqual(pkts.map((p) => p.kind), ['rr', 'remb']);
  assert.deepEqual(serializeRtcp(pkts), bytes);
});
