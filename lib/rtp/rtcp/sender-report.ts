// RTCP sender report, PT 200 (RFC 3550 §6.4.1): sender info, report blocks, profile extension.
import { OutOfRangeError } from '../../common/errors.js';
import { RtcpPacketBase, checkUint } from './rtcp-packet-base.js';
import { REPORT_BLOCK_LENGTH, checkReportBlock, readReportBlock, writeReportBlock, type RtcpReportBlock } from './report-block.js';

/** Fields of a sender report. */
export interface RtcpSenderReportInit {
  ssrc: number;
  /** 64-bit NTP timestamp (seconds since 1900 in the high 32 bits, fraction in the low). */
  ntpTimestamp: bigint;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports?: RtcpReportBlock[];
  /** Profile-specific extension bytes after the report blocks. */
  profileExtension?: Buffer;
}

/** RTCP SR (RFC 3550 §6.4.1). */
export class RtcpSenderReport extends RtcpPacketBase {
  /** Packet type 200. */
  static readonly TYPE = 200;
  /** Discriminator of the RtcpPacket union. */
  readonly kind = 'sr' as const;
  readonly packetType = 200;
  /** SSRC of the sender. */
  ssrc: number;
  /** 64-bit NTP timestamp of this report. */
  ntpTimestamp: bigint;
  /** RTP timestamp matching the NTP timestamp. */
  rtpTimestamp: number;
  /** Sender's packet count. */
  packetCount: number;
  /** Sender's payload octet count. */
  octetCount: number;
  /** Reception report blocks (at most 31). */
  reports: RtcpReportBlock[];
  /** Profile-specific extension bytes (RFC 3550 §6.4.1). */
  profileExtension: Buffer;

  /** Builds an SR; fields are checked when serialized. */
  constructor(init: RtcpSenderReportInit) {
    super();
    this.ssrc = init.ssrc;
    this.ntpTimestamp = init.ntpTimestamp;
    this.rtpTimestamp = init.rtpTimestamp;
    this.packetCount = init.packetCount;
    this.octetCount = init.octetCount;
    this.reports = init.reports ?? [];
    this.profileExtension = init.profileExtension ?? Buffer.alloc(0);
  }

  /** Decodes the body [start, end) with `count` report blocks; null when malformed. */
  static parseBody(buf: Buffer, start: number, end: number, count: number): RtcpSenderReport | null {
    if (start + 24 + count * REPORT_BLOCK_LENGTH > end) return null;
    const reports: RtcpReportBlock[] = [];
    for (let i = 0; i < count; i++) reports.push(readReportBlock(buf, start + 24 + i * REPORT_BLOCK_LENGTH));
    return new RtcpSenderReport({
      ssrc: buf.readUInt32BE(start),
      ntpTimestamp: buf.readBigUInt64BE(start + 4),
      rtpTimestamp: buf.readUInt32BE(start + 12),
      packetCount: buf.readUInt32BE(start + 16),
      octetCount: buf.readUInt32BE(start + 20),
      reports,
      profileExtension: buf.subarray(start + 24 + count * REPORT_BLOCK_LENGTH, end),
    });
  }

  protected countField(): number {
    return this.reports.length;
  }

  protected bodyLength(): number {
    return 24 + this.reports.length * REPORT_BLOCK_LENGTH + this.profileExtension.length;
  }

  protected check(): void {
    checkUint(this.ssrc, 32, 'SR SSRC');
    if (!(this.ntpTimestamp >= 0n && this.ntpTimestamp < 1n << 64n)) {
      throw new OutOfRangeError('ERR_RTCP_FIELD', `SR NTP timestamp ${this.ntpTimestamp} is not an unsigned 64-bit integer`);
    }
    checkUint(this.rtpTimestamp, 32, 'SR RTP timestamp');
    checkUint(this.packetCount, 32, 'SR packet count');
    checkUint(this.octetCount, 32, 'SR octet count');
    for (const r of this.reports) checkReportBlock(r);
  }

  protected writeBody(buf: Buffer, o: number): void {
    buf.writeUInt32BE(this.ssrc, o);
    buf.writeBigUInt64BE(this.ntpTimestamp, o + 4);
    buf.writeUInt32BE(this.rtpTimestamp, o + 12);
    buf.writeUInt32BE(this.packetCount, o + 16);
    buf.writeUInt32BE(this.octetCount, o + 20);
    let p = o + 24;
    for (const r of this.reports) {
      writeReportBlock(buf, p, r);
      p += REPORT_BLOCK_LENGTH;
    }
    buf.set(this.profileExtension, p);
  }
}
