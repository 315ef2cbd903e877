// RTCP receiver report, PT 201 (RFC 3550 §6.4.2): reporter SSRC, report blocks, profile extension.
import { RtcpPacketBase, checkUint } from './rtcp-packet-base.js';
import { REPORT_BLOCK_LENGTH, checkReportBlock, readReportBlock, writeReportBlock, type RtcpReportBlock } from './report-block.js';

/** Fields of a receiver report. */
export interface RtcpReceiverReportInit {
  ssrc: number;
  reports?: RtcpReportBlock[];
  /** Profile-specific extension bytes after the report blocks. */
  profileExtension?: Buffer;
}

/** RTCP RR (RFC 3550 §6.4.2). */
export class RtcpReceiverReport extends RtcpPacketBase {
  /** Packet type 201. */
  static readonly TYPE = 201;
  /** Discriminator of the RtcpPacket union. */
  readonly kind = 'rr' as const;
  readonly packetType = 201;
  /** SSRC of the packet sender. */
  ssrc: number;
  /** Reception report blocks (at most 31). */
  reports: RtcpReportBlock[];
  /** Profile-specific extension bytes (RFC 3550 §6.4.1). */
  profileExtension: Buffer;

  /** Builds an RR; fields are checked when serialized. */
  constructor(init: RtcpReceiverReportInit) {
    super();
    this.ssrc = init.ssrc;
    this.reports = init.reports ?? [];
    this.profileExtension = init.profileExtension ?? Buffer.alloc(0);
  }

  /** Decodes the body [start, end) with `count` report blocks; null when malformed. */
  static parseBody(buf: Buffer, start: number, end: number, count: number): RtcpReceiverReport | null {
    if (start + 4 + count * REPORT_BLOCK_LENGTH > end) return null;
    const reports: RtcpReportBlock[] = [];
    for (let i = 0; i < count; i++) reports.push(readReportBlock(buf, start + 4 + i * REPORT_BLOCK_LENGTH));
    return new RtcpReceiverReport({
      ssrc: buf.readUInt32BE(start),
      reports,
      profileExtension: buf.subarray(start + 4 + count * REPORT_BLOCK_LENGTH, end),
    });
  }

  protected countField(): number {
    return this.reports.length;
  }

  protected bodyLength(): number {
    return 4 + this.reports.length * REPORT_BLOCK_LENGTH + this.profileExtension.length;
  }

  protected check(): void {
    checkUint(this.ssrc, 32, 'RR SSRC');
    for (const r of this.reports) checkReportBlock(r);
  }

  protected writeBody(buf: Buffer, o: number): void {
    buf.writeUInt32BE(this.ssrc, o);
    let p = o + 4;
    for (const r of this.reports) {
      writeReportBlock(buf, p, r);
      p += REPORT_BLOCK_LENGTH;
    }
    buf.set(this.profileExtension, p);
  }
}
