// RTCP extended report (XR), PT 207 (RFC 3611 §2): report blocks; RRTR (§4.4) and DLRR (§4.5) are
// decoded, every other block type is kept as raw bytes.
import { OutOfRangeError } from '../../common/errors.js';
import { RtcpPacketBase, checkAligned, checkUint } from './rtcp-packet-base.js';

/** Receiver reference time report block, BT=4 (RFC 3611 §4.4). */
export interface XrReceiverReferenceTime {
  blockType: 4;
  /** 64-bit NTP timestamp. */
  ntpTimestamp: bigint;
}

/** One DLRR sub-block (RFC 3611 §4.5). */
export interface XrDlrrItem {
  ssrc: number;
  /** Last RR timestamp: middle 32 bits of the RRTR's NTP timestamp. */
  lastRr: number;
  /** Delay since that RRTR, 1/65536 s units. */
  delaySinceLastRr: number;
}

/** DLRR report block, BT=5 (RFC 3611 §4.5). */
export interface XrDlrr {
  blockType: 5;
  items: XrDlrrItem[];
}

/** Any other report block, kept as received. */
export interface XrRawBlock {
  /** Block type (not 4 or 5). */
  blockType: number;
  /** The 8-bit type-specific field. */
  typeSpecific: number;
  /** Block contents after the 4-byte block header (multiple of 4). */
  data: Buffer;
}

/** An XR report block. */
export type XrBlock = XrReceiverReferenceTime | XrDlrr | XrRawBlock;

function isRrtr(b: XrBlock): b is XrReceiverReferenceTime {
  return b.blockType === 4 && 'ntpTimestamp' in b;
}

function isDlrr(b: XrBlock): b is XrDlrr {
  return b.blockType === 5 && 'items' in b;
}

function blockLength(b: XrBlock): number {
  if (isRrtr(b)) return 12;
  if (isDlrr(b)) return 4 + 12 * b.items.length;
  return 4 + (b as XrRawBlock).data.length;
}

/** RTCP XR (RFC 3611 §2). */
export class RtcpExtendedReport extends RtcpPacketBase {
  /** Packet type 207. */
  static readonly TYPE = 207;
  /** Discriminator of the RtcpPacket union. */
  readonly kind = 'xr' as const;
  readonly packetType = 207;
  /** SSRC of the packet sender. */
  ssrc: number;
  /** Report blocks in wire order. */
  blocks: XrBlock[];

  /** Builds an XR; fields are checked when serialized. */
  constructor(ssrc: number, blocks: XrBlock[] = []) {
    super();
    this.ssrc = ssrc;
    this.blocks = blocks;
  }

  /** Decodes the body [start, end); null when malformed. */
  static parseBody(buf: Buffer, start: number, end: number): RtcpExtendedReport | null {
    if (start + 4 > end) return null;
    const xr = new RtcpExtendedReport(buf.readUInt32BE(start));
    let p = start + 4;
    while (p < end) {
      if (p + 4 > end) return null;
      const bt = buf[p]!;
      const ts = buf[p + 1]!;
      const len = buf.readUInt16BE(p + 2) * 4;
      const body = p + 4;
      if (body + len > end) return null;
      if (bt === 4 && len === 8) {
        xr.blocks.push({ blockType: 4, ntpTimestamp: buf.readBigUInt64BE(body) });
      } else if (bt === 5 && len % 12 === 0 && ts === 0) {
        const items: XrDlrrItem[] = [];
        for (let q = body; q < body + len; q += 12) {
          items.push({ ssrc: buf.readUInt32BE(q), lastRr: buf.readUInt32BE(q + 4), delaySinceLastRr: buf.readUInt32BE(q + 8) });
        }
        xr.blocks.push({ blockType: 5, items });
      } else {
        xr.blocks.push({ blockType: bt, typeSpecific: ts, data: buf.subarray(body, body + len) });
      }
      p = body + len;
    }
    return xr;
  }

  protected countField(): number {
    return 0;
  }

  protected bodyLength(): number {
    let n = 4;
    for (const b of this.blocks) n += blockLength(b);
    return n;
  }

  protected check(): void {
    checkUint(this.ssrc, 32, 'XR SSRC');
    for (const b of this.blocks) {
      checkUint(b.blockType, 8, 'XR block type');
      if (blockLength(b) - 4 > 0xffff * 4) throw new OutOfRangeError('ERR_RTCP_FIELD', 'XR block exceeds its 16-bit length field');
      if (isRrtr(b)) {
        if (!(b.ntpTimestamp >= 0n && b.ntpTimestamp < 1n << 64n)) {
          throw new OutOfRangeError('ERR_RTCP_FIELD', `RRTR NTP timestamp ${b.ntpTimestamp} is not an unsigned 64-bit integer`);
        }
      } else if (isDlrr(b)) {
        for (const i of b.items) {
          checkUint(i.ssrc, 32, 'DLRR SSRC');
          checkUint(i.lastRr, 32, 'DLRR LRR');
          checkUint(i.delaySinceLastRr, 32, 'DLRR DLRR');
        }
      } else {
        const raw = b as XrRawBlock;
        checkUint(raw.typeSpecific, 8, 'XR type-specific field');
        checkAligned(raw.data.length, 'XR block data');
      }
    }
  }

  protected writeBody(buf: Buffer, o: number): void {
    buf.writeUInt32BE(this.ssrc, o);
    let p = o + 4;
    for (const b of this.blocks) {
      const len = blockLength(b);
      buf[p] = b.blockType;
      buf[p + 1] = isRrtr(b) || isDlrr(b) ? 0 : (b as XrRawBlock).typeSpecific;
      buf.writeUInt16BE((len - 4) / 4, p + 2);
      if (isRrtr(b)) {
        buf.writeBigUInt64BE(b.ntpTimestamp, p + 4);
      } else if (isDlrr(b)) {
        let q = p + 4;
        for (const i of b.items) {
          buf.writeUInt32BE(i.ssrc, q);
          buf.writeUInt32BE(i.lastRr, q + 4);
          buf.writeUInt32BE(i.delaySinceLastRr, q + 8);
          q += 12;
        }
      } else {
        buf.set((b as XrRawBlock).data, p + 4);
      }
      p += len;
    }
  }
}
