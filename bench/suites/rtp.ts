// `npm run bench -- rtp`: RTP and compound RTCP parse + read + serialize, ours vs werift-rtp in the same run.
import {
  RtpPacket as WeriftRtpPacket,
  RtpHeader as WeriftRtpHeader,
  RtcpPacketConverter,
  RtcpSrPacket,
  RtcpTransportLayerFeedback,
  GenericNack,
  TransportWideCC,
} from 'werift-rtp';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { parseRtcp, serializeRtcpInto, serializeRtcp, type RtcpPacket } from '../../lib/rtp/rtcp/compound.js';
import { RtcpSenderReport } from '../../lib/rtp/rtcp/sender-report.js';
import { RtcpSourceDescription } from '../../lib/rtp/rtcp/source-description.js';
import { RtcpGenericNack } from '../../lib/rtp/rtcp/generic-nack.js';
import { RtcpTransportCcFeedback } from '../../lib/rtp/rtcp/transport-cc-feedback.js';
import { printHeader, type BenchOptions, type BenchSeries } from '../lib/report.js';

/** Ratios are printed against werift-rtp. */
export const baseline = 'werift-rtp';

// Spends roughly `ms` in `body(n)` calls and returns operations per second.
function measure(ms: number, ops: number, body: () => void): number {
  let n = 0;
  const start = process.hrtime.bigint();
  const limit = BigInt(ms) * 1_000_000n;
  let elapsed = 0n;
  while (elapsed < limit) {
    body();
    n += ops;
    elapsed = process.hrtime.bigint() - start;
  }
  return n / (Number(elapsed) / 1e9);
}

// A typical video packet: two one-byte extensions (mid, transport-cc) and a 1000-byte payload.
function rtpSample(): Buffer {
  return new RtpPacket({
    marker: true, payloadType: 96, sequenceNumber: 4242, timestamp: 123456789, ssrc: 0x11223344,
    extensions: [{ id: 1, data: Buffer.from('0') }, { id: 3, data: Buffer.from([0x01, 0x02]) }],
    payload: Buffer.alloc(1000, 0xab),
  }).serialize();
}

// SR with one report block + SDES CNAME + NACK (5 lost) + transport-cc for 40 packets (some lost, one large delta).
function rtcpSample(): Buffer {
  const sr = new RtcpSenderReport({
    ssrc: 0x11223344, ntpTimestamp: 0xe1234567_89abcdefn, rtpTimestamp: 90000, packetCount: 1000, octetCount: 1_000_000,
    reports: [{ ssrc: 0x55667788, fractionLost: 3, cumulativeLost: 10, highestSequence: 70000, jitter: 20, lastSr: 0x45678912, delaySinceLastSr: 3000 }],
  });
  const sdes = RtcpSourceDescription.cname(0x11223344, 'f7ZnVL1j9SA8kBzm');
  const nack = RtcpGenericNack.fromSequenceNumbers(0x11223344, 0x55667788, [100, 101, 105, 130, 131]);
  const deltas = Array.from({ length: 40 }, (_, i) => (i % 9 === 4 ? null : i === 20 ? 1000 : 4 + (i % 3)));
  const twcc = RtcpTransportCcFeedback.fromPackets(
    { senderSsrc: 0x11223344, mediaSsrc: 0x55667788, baseSequenceNumber: 5000, referenceTime: 1234, feedbackPacketCount: 9 }, deltas);
  return serializeRtcp([sr, sdes, nack, twcc]);
}

let sink = 0;

/** Runs every case for both libraries and returns the samples. */
export async function run(opts: BenchOptions): Promise<BenchSeries[]> {
  printHeader('rtp', { 'werift-rtp': '0.8.9' });
  const ms = opts.quick ? 150 : 400;
  const batch = 1000;
  const raw = rtpSample();
  // A receive batch: many packets back to back in one buffer, as the native layer hands them over.
  const batchBuf = Buffer.concat(new Array<Buffer>(batch).fill(raw));
  const plen = raw.length;
  const out = Buffer.allocUnsafe(2048);

  const cases: { case: string; subject: string; body: () => void; ops?: number }[] = [
    {
      case: 'RTP parse + read fields + 2 ext', subject: 'ours',
      body: () => {
        for (let i = 0, o = 0; i < batch; i++, o += plen) {
          const p = RtpPacket.parse(batchBuf, o, plen);
          sink += p.ssrc! + p.sequenceNumber! + p.timestamp! + p.payloadType! + p.payloadLength + (p.marker ? 1 : 0);
          sink += p.getExtension(1)!.length + p.getExtension(3)![1]!;
        }
      },
    },
    {
      case: 'RTP parse + read fields + 2 ext', subject: 'werift-rtp',
      body: () => {
        for (let i = 0, o = 0; i < batch; i++, o += plen) {
          const p = WeriftRtpPacket.deSerialize(batchBuf.subarray(o, o + plen));
          const h = p.header;
          sink += h.ssrc + h.sequenceNumber + h.timestamp + h.payloadType + p.payload.length + (h.marker ? 1 : 0);
          sink += h.extensions.find((e) => e.id === 1)!.payload.length + h.extensions.find((e) => e.id === 3)!.payload[1]!;
        }
      },
    },
  ];

  const oursPkts = Array.from({ length: batch }, () => RtpPacket.parse(Buffer.from(raw)));
  const weriftPkts = Array.from({ length: batch }, () => WeriftRtpPacket.deSerialize(Buffer.from(raw)));
  cases.push(
    { case: 'RTP serialize (new Buffer)', subject: 'ours', body: () => { for (const p of oursPkts) sink += p.serialize().length; } },
    { case: 'RTP serialize (new Buffer)', subject: 'werift-rtp', body: () => { for (const p of weriftPkts) sink += p.serialize().length; } },
    { case: 'RTP serializeInto (caller buffer)', subject: 'ours', body: () => { for (const p of oursPkts) sink += p.serializeInto(out, 0); } },
    { case: 'RTP serializeInto (caller buffer)', subject: 'werift-rtp', body: () => { for (const p of weriftPkts) sink += p.serialize().length; } },
  );
  const payload = Buffer.alloc(1000, 0xab);
  const ext1 = Buffer.from('0');
  cases.push(
    {
      case: 'RTP build from fields + serialize', subject: 'ours',
      body: () => {
        for (let i = 0; i < batch; i++) {
          const p = new RtpPacket({ marker: true, payloadType: 96, sequenceNumber: i, timestamp: 1234, ssrc: 5678,
            extensions: [{ id: 1, data: ext1 }, { id: 3, data: Buffer.from([i >> 8, i & 0xff]) }], payload });
          sink += p.serializeInto(out, 0);
        }
      },
    },
    {
      case: 'RTP build from fields + serialize', subject: 'werift-rtp',
      body: () => {
        for (let i = 0; i < batch; i++) {
          const h = new WeriftRtpHeader({ marker: true, payloadType: 96, sequenceNumber: i, timestamp: 1234, ssrc: 5678,
            extension: true, extensions: [{ id: 1, payload: ext1 }, { id: 3, payload: Buffer.from([i >> 8, i & 0xff]) }] });
          sink += new WeriftRtpPacket(h, payload).serialize().length;
        }
      },
    },
    {
      case: 'RTP parse + read + serialize (forward)', subject: 'ours',
      body: () => {
        for (let i = 0, o = 0; i < batch; i++, o += plen) {
          const p = RtpPacket.parse(batchBuf, o, plen);
          sink += p.getExtension(3)![1]!;
          p.ssrc = 0x55667788;
          sink += p.serializeInto(out, 0);
        }
      },
    },
    {
      case: 'RTP parse + read + serialize (forward)', subject: 'werift-rtp',
      body: () => {
        for (let i = 0, o = 0; i < batch; i++, o += plen) {
          const p = WeriftRtpPacket.deSerialize(batchBuf.subarray(o, o + plen));
          sink += p.header.extensions.find((e) => e.id === 3)!.payload[1]!;
          p.header.ssrc = 0x55667788;
          sink += p.serialize().length;
        }
      },
    },
  );

  const rtcp = rtcpSample();
  const rtcpOut = Buffer.allocUnsafe(2048);
  const rtcpBatch = 100;
  const readOurs = (pkts: RtcpPacket[]): void => {
    for (const p of pkts) {
      if (p.kind === 'sr') sink += p.ssrc + p.reports.length + Number(p.ntpTimestamp & 0xffn);
      else if (p.kind === 'sdes') sink += p.chunks.length;
      else if (p.kind === 'nack') sink += p.lostSequenceNumbers().length;
      else if (p.kind === 'transport-cc') sink += p.recvDeltas.length + p.baseSequenceNumber;
    }
  };
  const readWerift = (pkts: ReturnType<typeof RtcpPacketConverter.deSerialize>): void => {
    for (const p of pkts) {
      if (p instanceof RtcpSrPacket) sink += p.ssrc + p.reports.length + Number(p.senderInfo.ntpTimestamp & 0xffn);
      else if (p instanceof RtcpTransportLayerFeedback) {
        if (p.feedback instanceof GenericNack) sink += p.feedback.lost.length;
        else if (p.feedback instanceof TransportWideCC) sink += p.feedback.recvDeltas.length + p.feedback.baseSequenceNumber;
      } else if (p.type === 202) sink += p.chunks.length;
    }
  };
  cases.push(
    {
      case: 'RTCP compound SR+SDES+NACK+TWCC parse + read + serialize', subject: 'ours', ops: rtcpBatch,
      body: () => {
        for (let i = 0; i < rtcpBatch; i++) {
          const pkts = parseRtcp(rtcp);
          readOurs(pkts);
          sink += serializeRtcpInto(pkts, rtcpOut, 0);
        }
      },
    },
    {
      case: 'RTCP compound SR+SDES+NACK+TWCC parse + read + serialize', subject: 'werift-rtp', ops: rtcpBatch,
      body: () => {
        for (let i = 0; i < rtcpBatch; i++) {
          const pkts = RtcpPacketConverter.deSerialize(rtcp);
          readWerift(pkts);
          sink += Buffer.concat(pkts.map((p) => p.serialize())).length;
        }
      },
    },
    {
      case: 'RTCP compound SR+SDES+NACK+TWCC parse + read', subject: 'ours', ops: rtcpBatch,
      body: () => { for (let i = 0; i < rtcpBatch; i++) readOurs(parseRtcp(rtcp)); },
    },
    {
      case: 'RTCP compound SR+SDES+NACK+TWCC parse + read', subject: 'werift-rtp', ops: rtcpBatch,
      body: () => { for (let i = 0; i < rtcpBatch; i++) readWerift(RtcpPacketConverter.deSerialize(rtcp)); },
    },
  );

  const series = new Map<string, BenchSeries>();
  for (const c of cases) measure(Math.min(ms, 100), c.ops ?? batch, c.body); // warm up every path first
  for (let r = 0; r < opts.rounds; r++) {
    for (const c of cases) {
      const key = `${c.case}|${c.subject}`;
      let s = series.get(key);
      if (!s) {
        s = { suite: 'rtp', case: c.case, subject: c.subject, unit: c.ops ? 'datagrams/s' : 'packets/s', higherIsBetter: true, samples: [] };
        series.set(key, s);
      }
      s.samples.push(measure(ms, c.ops ?? batch, c.body));
    }
  }
  if (sink === -1) console.log(sink);
  return [...series.values()];
}
