// Generic NACK, RTPFB FMT 1 (RFC 4585 §6.2.1): FCI entries of PID + 16-bit bitmask of following lost packets.
// A parsed NACK keeps its entries in one typed array (no object per entry until `pairs` is read).
import { RtcpFeedbackBase, RTPFB } from './feedback-base.js';
import { checkUint } from './rtcp-packet-base.js';

/** One NACK FCI entry: lost packet `pid` and bit i of `blp` = `pid + i + 1` also lost. */
export interface NackPair {
  pid: number;
  blp: number;
}

/** Generic NACK (RFC 4585 §6.2.1). */
export class RtcpGenericNack extends RtcpFeedbackBase {
  /** FMT 1. */
  static readonly FMT = 1;
  /** Discriminator of the RtcpPacket union. */
  readonly kind = 'nack' as const;
  readonly packetType = RTPFB;
  readonly fmt = 1;
  /** The entries as objects; made from `packed` on first read of `pairs`. */
  private entries: NackPair[] | undefined;
  /** A parsed NACK's entries as read (PID, BLP, PID, BLP, ...): one array per packet, no object per entry. */
  private packed: Uint16Array | undefined;

  /** Builds a NACK from FCI entries; see `fromSequenceNumbers` for a list of lost packets. */
  constructor(senderSsrc: number, mediaSsrc: number, pairs: NackPair[] = []) {
    super(senderSsrc, mediaSsrc);
    this.entries = pairs;
  }

  /** FCI entries as on the wire (a parsed NACK makes these objects only when they are read). */
  get pairs(): NackPair[] {
    if (this.entries === undefined) {
      const f = this.packed!;
      const out: NackPair[] = [];
      for (let i = 0; i + 1 < f.length; i += 2) out.push({ pid: f[i]!, blp: f[i + 1]! });
      this.entries = out;
      this.packed = undefined;
    }
    return this.entries;
  }

  set pairs(pairs: NackPair[]) {
    this.entries = pairs;
    this.packed = undefined;
  }

  /**
   * Builds a NACK for the lost sequence numbers `lost` (any order, duplicates ignored), packing up to
   * 17 per FCI entry. The list is taken to start after its widest gap, so a run across the 16-bit
   * wrap (65534, 65535, 0, 1) stays in order.
   */
  static fromSequenceNumbers(senderSsrc: number, mediaSsrc: number, lost: readonly number[]): RtcpGenericNack {
    for (const s of lost) checkUint(s, 16, 'NACK sequence number');
    const nack = new RtcpGenericNack(senderSsrc, mediaSsrc);
    if (lost.length === 0) return nack;
    const sorted = [...new Set(lost)].sort((a, b) => a - b);
    let start = 0;
    let widest = (sorted[0]! + 0x10000 - sorted[sorted.length - 1]!) & 0xffff;
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]! - sorted[i - 1]! > widest) {
        widest = sorted[i]! - sorted[i - 1]!;
        start = i;
      }
    }
    const ordered = [...sorted.slice(start), ...sorted.slice(0, start)];
    let cur: NackPair | null = null;
    for (const s of ordered) {
      const d = cur ? (s - cur.pid) & 0xffff : 0;
      if (cur && d >= 1 && d <= 16) {
        cur.blp |= 1 << (d - 1);
      } else {
        cur = { pid: s, blp: 0 };
        nack.pairs.push(cur);
      }
    }
    return nack;
  }

  /** The lost sequence numbers the entries name, in wire order. */
  lostSequenceNumbers(): number[] {
    const out: number[] = [];
    const f = this.packed;
    if (f !== undefined) {
      for (let i = 0; i + 1 < f.length; i += 2) addLost(out, f[i]!, f[i + 1]!);
    } else {
      for (const { pid, blp } of this.entries!) addLost(out, pid, blp);
    }
    return out;
  }

  /** Decodes the FCI [start, end); null when malformed. */
  static parseFci(buf: Buffer, start: number, end: number, senderSsrc: number, mediaSsrc: number): RtcpGenericNack | null {
    if ((end - start) % 4 !== 0) return null;
    const nack = new RtcpGenericNack(senderSsrc, mediaSsrc);
    const packed = new Uint16Array((end - start) / 2);
    for (let p = start, i = 0; p < end; p += 2, i++) packed[i] = buf.readUInt16BE(p);
    nack.entries = undefined;
    nack.packed = packed;
    return nack;
  }

  protected fciLength(): number {
    return this.packed !== undefined ? this.packed.length * 2 : this.entries!.length * 4;
  }

  protected checkFci(): void {
    if (this.packed !== undefined) return;  // 16-bit values as read
    for (const p of this.entries!) {
      checkUint(p.pid, 16, 'NACK PID');
      checkUint(p.blp, 16, 'NACK BLP');
    }
  }

  protected writeFci(buf: Buffer, o: number): void {
    const f = this.packed;
    if (f !== undefined) {
      for (let i = 0; i < f.length; i++, o += 2) buf.writeUInt16BE(f[i]!, o);
      return;
    }
    for (const p of this.entries!) {
      buf.writeUInt16BE(p.pid, o);
      buf.writeUInt16BE(p.blp, o + 2);
      o += 4;
    }
  }
}

/** Appends the numbers of one FCI entry: `pid`, then `pid + i + 1` for each bit i of `blp`. */
function addLost(out: number[], pid: number, blp: number): void {
  out.push(pid);
  for (let i = 0; i < 16; i++) if (blp & (1 << i)) out.push((pid + i + 1) & 0xffff);
}
