// fast-check generators of valid RTCP packets of every type, shared by the property tests.
import fc from 'fast-check';
import { RtcpSenderReport } from '../../../../lib/rtp/rtcp/sender-report.js';
import { RtcpReceiverReport } from '../../../../lib/rtp/rtcp/receiver-report.js';
import { RtcpSourceDescription } from '../../../../lib/rtp/rtcp/source-description.js';
import { RtcpGoodbye } from '../../../../lib/rtp/rtcp/goodbye.js';
import { RtcpApplicationDefined } from '../../../../lib/rtp/rtcp/application-defined.js';
import { RtcpExtendedReport, type XrBlock } from '../../../../lib/rtp/rtcp/extended-report.js';
import { RtcpGenericNack } from '../../../../lib/rtp/rtcp/generic-nack.js';
import { RtcpTransportCcFeedback } from '../../../../lib/rtp/rtcp/transport-cc-feedback.js';
import { RtcpCongestionControlFeedback } from '../../../../lib/rtp/rtcp/congestion-control-feedback.js';
import { RtcpPictureLossIndication } from '../../../../lib/rtp/rtcp/picture-loss-indication.js';
import { RtcpFullIntraRequest } from '../../../../lib/rtp/rtcp/full-intra-request.js';
import { RtcpReceiverEstimatedMaxBitrate } from '../../../../lib/rtp/rtcp/receiver-estimated-max-bitrate.js';
import { RtcpUnknownFeedback } from '../../../../lib/rtp/rtcp/unknown-feedback.js';
import { RtcpRawPacket } from '../../../../lib/rtp/rtcp/raw-packet.js';
import type { RtcpPacket } from '../../../../lib/rtp/rtcp/compound.js';

export const u32 = fc.integer({ min: 0, max: 0xffffffff });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u8 = fc.integer({ min: 0, max: 0xff });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const words = (max: number) => fc.integer({ min: 0, max }).chain((n) => fc.uint8Array({ minLength: n * 4, maxLength: n * 4 })).map((a) => Buffer.from(a));

export const reportBlockArb = fc.record({
  ssrc: u32,
  fractionLost: u8,
  cumulativeLost: fc.integer({ min: -0x800000, max: 0x7fffff }),
  highestSequence: u32,
  jitter: u32,
  lastSr: u32,
  delaySinceLastSr: u32,
});

export const srArb = fc.record({
  ssrc: u32, ntpTimestamp: u64, rtpTimestamp: u32, packetCount: u32, octetCount: u32,
  reports: fc.array(reportBlockArb, { maxLength: 4 }), profileExtension: words(2),
}).map((i) => new RtcpSenderReport(i));

export const rrArb = fc.record({ ssrc: u32, reports: fc.array(reportBlockArb, { maxLength: 4 }), profileExtension: words(2) })
  .map((i) => new RtcpReceiverReport(i));

export const sdesArb = fc.array(
  fc.record({
    ssrc: u32,
    items: fc.array(fc.record({ type: fc.integer({ min: 1, max: 255 }), data: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)) }), { maxLength: 4 }),
  }),
  { maxLength: 4 },
).map((chunks) => new RtcpSourceDescription(chunks));

export const byeArb = fc.record({ sources: fc.array(u32, { maxLength: 5 }), reason: fc.option(fc.string({ maxLength: 60 }), { nil: undefined }) })
  .map((i) => new RtcpGoodbye(i.sources, i.reason));

export const appArb = fc.record({
  subtype: fc.integer({ min: 0, max: 31 }), ssrc: u32,
  name: fc.stringMatching(/^[A-Za-z0-9 ]{4}$/), data: words(3),
}).map((i) => new RtcpApplicationDefined(i));

const xrBlockArb: fc.Arbitrary<XrBlock> = fc.oneof(
  u64.map((ntpTimestamp): XrBlock => ({ blockType: 4, ntpTimestamp })),
  fc.array(fc.record({ ssrc: u32, lastRr: u32, delaySinceLastRr: u32 }), { maxLength: 3 }).map((items): XrBlock => ({ blockType: 5, items })),
  fc.record({ blockType: fc.integer({ min: 6, max: 255 }), typeSpecific: u8, data: words(2) }),
);
export const xrArb = fc.record({ ssrc: u32, blocks: fc.array(xrBlockArb, { maxLength: 4 }) }).map((i) => new RtcpExtendedReport(i.ssrc, i.blocks));

export const nackArb = fc.record({ s: u32, m: u32, pairs: fc.array(fc.record({ pid: u16, blp: u16 }), { maxLength: 6 }) })
  .map((i) => new RtcpGenericNack(i.s, i.m, i.pairs));

/** Receive deltas (250 µs ticks) with gaps (null), small and large (also negative) values. */
export const twccDeltasArb = fc.array(
  fc.oneof(
    { weight: 2, arbitrary: fc.constant(null) },
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 255 }) },
    { weight: 2, arbitrary: fc.integer({ min: -32768, max: 32767 }) },
  ),
  { minLength: 1, maxLength: 120 },
).chain((d) => fc.oneof(fc.constant(d), fc.constant([...d, ...new Array<null>(40).fill(null), ...d])));

export const twccArb = fc.record({
  senderSsrc: u32, mediaSsrc: u32, baseSequenceNumber: u16, referenceTime: fc.integer({ min: 0, max: 0xffffff }), feedbackPacketCount: u8, deltas: twccDeltasArb,
}).map((i) => RtcpTransportCcFeedback.fromPackets(i, i.deltas));

export const ccfbArb = fc.record({
  sender: u32, ts: u32,
  reports: fc.array(fc.record({
    ssrc: u32, beginSequence: u16,
    metrics: fc.array(fc.record({ received: fc.boolean(), ecn: fc.integer({ min: 0, max: 3 }), arrivalTimeOffset: fc.integer({ min: 0, max: 0x1fff }) }), { maxLength: 9 }),
  }), { maxLength: 3 }),
}).map((i) => new RtcpCongestionControlFeedback(i.sender, i.reports, i.ts));

export const pliArb = fc.tuple(u32, u32).map(([s, m]) => new RtcpPictureLossIndication(s, m));
export const firArb = fc.record({ s: u32, entries: fc.array(fc.record({ ssrc: u32, sequenceNumber: u8 }), { maxLength: 4 }) })
  .map((i) => new RtcpFullIntraRequest(i.s, i.entries));
export const rembArb = fc.record({ s: u32, mantissa: fc.integer({ min: 0, max: 0x3ffff }), exp: fc.integer({ min: 0, max: 40 }), ssrcs: fc.array(u32, { maxLength: 4 }) })
  .map((i) => new RtcpReceiverEstimatedMaxBitrate(i.s, i.mantissa * 2 ** i.exp, i.ssrcs));
export const unknownFbArb = fc.record({ pt: fc.constantFrom(205 as const, 206 as const), fmt: fc.integer({ min: 0, max: 31 }), s: u32, m: u32, fci: words(3) })
  .filter((i) => !(i.pt === 205 && [1, 11, 15].includes(i.fmt)) && !(i.pt === 206 && [1, 4, 15].includes(i.fmt)))
  .map((i) => new RtcpUnknownFeedback({ packetType: i.pt, fmt: i.fmt, senderSsrc: i.s, mediaSsrc: i.m, fci: i.fci }));
export const rawArb = fc.record({ pt: fc.oneof(fc.integer({ min: 192, max: 199 }), fc.integer({ min: 208, max: 223 })), count: fc.integer({ min: 0, max: 31 }), body: words(4) })
  .map((i) => {
    const b = Buffer.alloc(4 + i.body.length);
    b[0] = 0x80 | i.count;
    b[1] = i.pt;
    b.writeUInt16BE(i.body.length / 4, 2);
    i.body.copy(b, 4);
    return new RtcpRawPacket(b);
  });

/** Any valid RTCP packet. */
export const rtcpPacketArb: fc.Arbitrary<RtcpPacket> = fc.oneof(
  srArb, rrArb, sdesArb, byeArb, appArb, xrArb, nackArb, twccArb, ccfbArb, pliArb, firArb, rembArb, unknownFbArb, rawArb,
);
