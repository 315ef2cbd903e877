// RTP congestion control feedback, RTPFB FMT 11 (RFC 8888 §3.1): per media SSRC a begin sequence
// number and one 16-bit metric block per packet (R, ECN, arrival time offset), then a report timestamp.
import { RtcpPacketBase, checkUint } from './rtcp-packet-base.js';
import { RTPFB } from './feedback-base.js';

/** One packet's metric block (RFC 8888 §3.1). */
export interface CcfbMetric {
  /** R: the packet was received. */
  received: boolean;
  /** 2-bit ECN mark seen on the packet. */
  ecn: number;
  /** 13-bit arrival time offset before the report timestamp, 1/1024 s units (0x1FFF = unavailable). */
  arrivalTimeOffset: number;
}

/** The metrics for one media SSRC, for sequence numbers beginSequence, beginSequence + 1, ... */
export interface CcfbReportBlock {
  ssrc: number;
  beginSequence: number;
  metrics: CcfbMetric[];
}

/** Congestion control feedback (RFC 8888). */
export class RtcpCongestionControlFeedback extends RtcpPacketBase {
  /** FMT 11. */
  static readonly FMT = 11;
  /** Discriminator of the RtcpPacket union. */
  readonly kind = 'ccfb' as const;
  readonly packetType = RTPFB;
  readonly fmt = 11;
  /** SSRC of the RTCP packet sender. */
  senderSsrc: number;
  /** One block per media SSRC. */
  reports: CcfbReportBlock[];
  /** Middle 32 bits of the NTP time the report was sent (RFC 8888 §3.1). */
  reportTimestamp: number;

  /** Builds a feedback packet; fields are checked when serialized. */
  constructor(senderSsrc: number, reports: CcfbReportBlock[] = [], reportTimestamp = 0) {
    super();
    this.senderSsrc = senderSsrc;
    this.reports = reports;
    this.reportTimestamp = reportTimestamp;
  }

  /** Decodes the body [start, end) (starting at the sender SSRC); null when malformed. */
  static parseBody(buf: Buffer, start: number, end: number): RtcpCongestionControlFeedback | null {
    if (start + 8 > end) return null;
    const tsAt = end - 4;
    const fb = new RtcpCongestionControlFeedback(buf.readUInt32BE(start), [], buf.readUInt32BE(tsAt));
    let p = start + 4;
    while (p < tsAt) {
      if (p + 8 > tsAt) return null;
      const n = buf.readUInt16BE(p + 6);
      const blockEnd = p + 8 + ((n * 2 + 3) & ~3);
      if (blockEnd > tsAt) return null;
      const metrics: CcfbMetric[] = [];
      for (let i = 0, q = p + 8; i < n; i++, q += 2) {
        const w = buf.readUInt16BE(q);
        metrics.push({ received: (w & 0x8000) !== 0, ecn: (w >> 13) & 3, arrivalTimeOffset: w & 0x1fff });
      }
      fb.reports.push({ ssrc: buf.readUInt32BE(p), beginSequence: buf.readUInt16BE(p + 4), metrics });
      p = blockEnd;
    }
    return fb;
  }

  protected countField(): number {
    return this.fmt;
  }

  protected bodyLength(): number {
    let n = 8;
    for (const r of this.reports) n += 8 + ((r.metrics.length * 2 + 3) & ~3);
    return n;
  }

  protected check(): void {
    checkUint(this.senderSsrc, 32, 'CCFB sender SSRC');
    checkUint(this.reportTimestamp, 32, 'CCFB report timestamp');
    for (const r of this.reports) {
      checkUint(r.ssrc, 32, 'CCFB media SSRC');
      checkUint(r.beginSequence, 16, 'CCFB begin sequence');
      checkUint(r.metrics.length, 16, 'CCFB number of reports');
      for (const m of r.metrics) {
        checkUint(m.ecn, 2, 'CCFB ECN');
        checkUint(m.arrivalTimeOffset, 13, 'CCFB arrival time offset');
      }
    }
  }

  protected writeBody(buf: Buffer, o: number): void {
    buf.writeUInt32BE(this.senderSsrc, o);
    let p = o + 4;
    for (const r of this.reports) {
      buf.writeUInt32BE(r.ssrc, p);
      buf.writeUInt16BE(r.beginSequence, p + 4);
      buf.writeUInt16BE(r.metrics.length, p + 6);
      p += 8;
      for (const m of r.metrics) {
        buf.writeUInt16BE((m.received ? 0x8000 : 0) | (m.ecn << 13) | m.arrivalTimeOffset, p);
        p += 2;
      }
      if (r.metrics.length & 1) {
        buf.writeUInt16BE(0, p);
        p += 2;
      }
    }
    buf.writeUInt32BE(this.reportTimestamp, p);
  }
}
