// RTCP reception report block, 24 bytes, carried by SR and RR (RFC 3550 §6.4.1).
import { checkUint } from './rtcp-packet-base.js';

/** One reception report block (RFC 3550 §6.4.1). */
export interface RtcpReportBlock {
  /** SSRC of the source this block reports on. */
  ssrc: number;
  /** Fraction lost since the previous report, 8-bit fixed point (0..255 = 0..255/256). */
  fractionLost: number;
  /** Cumulative number of packets lost, signed 24-bit (duplicates can make it negative). */
  cumulativeLost: number;
  /** Extended highest sequence number received (cycles << 16 | highest). */
  highestSequence: number;
  /** Interarrival jitter, in timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received (LSR), 0 if none. */
  lastSr: number;
  /** Delay since that SR, in units of 1/65536 s (DLSR). */
  delaySinceLastSr: number;
}

/** Size of a report block on the wire. */
export const REPORT_BLOCK_LENGTH = 24;

/** Reads a report block at `offset` (the caller checked 24 bytes are there). */
export function readReportBlock(buf: Buffer, offset: number): RtcpReportBlock {
  const lost = buf.readUIntBE(offset + 5, 3);
  return {
    ssrc: buf.readUInt32BE(offset),
    fractionLost: buf[offset + 4]!,
    cumulativeLost: lost & 0x800000 ? lost - 0x1000000 : lost,
    highestSequence: buf.readUInt32BE(offset + 8),
    jitter: buf.readUInt32BE(offset + 12),
    lastSr: buf.readUInt32BE(offset + 16),
    delaySinceLastSr: buf.readUInt32BE(offset + 20),
  };
}

/** Throws a typed error for an out-of-range report block field. */
export function checkReportBlock(b: RtcpReportBlock): void {
  checkUint(b.ssrc, 32, 'report block SSRC');
  checkUint(b.fractionLost, 8, 'fraction lost');
  checkUint(b.cumulativeLost + 0x800000, 24, 'cumulative lost (signed 24-bit) + 2^23');
  checkUint(b.highestSequence, 32, 'extended highest sequence number');
  checkUint(b.jitter, 32, 'jitter');
  checkUint(b.lastSr, 32, 'LSR');
  checkUint(b.delaySinceLastSr, 32, 'DLSR');
}

/** Writes a checked report block at `offset`. */
export function writeReportBlock(buf: Buffer, offset: number, b: RtcpReportBlock): void {
  buf.writeUInt32BE(b.ssrc, offset);
  buf[offset + 4] = b.fractionLost;
  buf.writeUIntBE(b.cumulativeLost & 0xffffff, offset + 5, 3);
  buf.writeUInt32BE(b.highestSequence, offset + 8);
  buf.writeUInt32BE(b.jitter, offset + 12);
  buf.writeUInt32BE(b.lastSr, offset + 16);
  buf.writeUInt32BE(b.delaySinceLastSr, offset + 20);
}
