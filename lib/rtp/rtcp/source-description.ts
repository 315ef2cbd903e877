// RTCP source description, PT 202 (RFC 3550 §6.5): chunks of SSRC + items (CNAME, NAME, ..., PRIV),
// each chunk's item list ended by null octets up to a 32-bit boundary.
import { OutOfRangeError } from '../../common/errors.js';
import { RtcpPacketBase, checkUint } from './rtcp-packet-base.js';

/** SDES item types (RFC 3550 §6.5). */
export const SdesItemType = {
  CNAME: 1,
  NAME: 2,
  EMAIL: 3,
  PHONE: 4,
  LOC: 5,
  TOOL: 6,
  NOTE: 7,
  PRIV: 8,
} as const;

/** One SDES item: its type (1..255) and value bytes (0..255; text is UTF-8). */
export interface SdesItem {
  type: number;
  data: Buffer;
}

/** The items describing one source. */
export interface SdesChunk {
  ssrc: number;
  items: SdesItem[];
}

/** RTCP SDES (RFC 3550 §6.5). */
export class RtcpSourceDescription extends RtcpPacketBase {
  /** Packet type 202. */
  static readonly TYPE = 202;
  /** Discriminator of the RtcpPacket union. */
  readonly kind = 'sdes' as const;
  readonly packetType = 202;
  /** Chunks, at most 31. */
  chunks: SdesChunk[];

  /** Builds an SDES packet; fields are checked when serialized. */
  constructor(chunks: SdesChunk[] = []) {
    super();
    this.chunks = chunks;
  }

  /** An SDES packet with one chunk carrying the CNAME of `ssrc` (RFC 3550 §6.5.1). */
  static cname(ssrc: number, cname: string): RtcpSourceDescription {
    return new RtcpSourceDescription([{ ssrc, items: [{ type: SdesItemType.CNAME, data: Buffer.from(cname, 'utf8') }] }]);
  }

  /** The text of the first item of `type` for `ssrc`, or undefined. */
  findText(ssrc: number, type: number): string | undefined {
    for (const c of this.chunks) {
      if (c.ssrc !== ssrc) continue;
      for (const i of c.items) if (i.type === type) return i.data.toString('utf8');
    }
    return undefined;
  }

  /** Decodes the body [start, end) with `count` chunks; null when malformed. */
  static parseBody(buf: Buffer, start: number, end: number, count: number): RtcpSourceDescription | null {
    const chunks: SdesChunk[] = [];
    let p = start;
    for (let c = 0; c < count; c++) {
      if (p + 4 > end) return null;
      const chunk: SdesChunk = { ssrc: buf.readUInt32BE(p), items: [] };
      p += 4;
      let ended = false;
      for (;;) {
        // Some stacks (werift) omit the END octet when the last item ends the packet on a word
        // boundary; RFC 3550 §6.5 requires it, but the chunk is unambiguous, so accept it.
        if (p >= end) {
          if (c !== count - 1) return null;
          ended = true;
          break;
        }
        const type = buf[p]!;
        if (type === 0) break;
        if (p + 2 > end) return null;
        const len = buf[p + 1]!;
        if (p + 2 + len > end) return null;
        chunk.items.push({ type, data: buf.subarray(p + 2, p + 2 + len) });
        p += 2 + len;
      }
      // The END item and the null octets after it up to the next 32-bit boundary.
      if (!ended) p = start + ((p - start + 4) & ~3);
      if (p > end) return null;
      chunks.push(chunk);
    }
    return new RtcpSourceDescription(chunks);
  }

  protected countField(): number {
    return this.chunks.length;
  }

  private chunkLength(c: SdesChunk): number {
    let n = 4;
    for (const i of c.items) n += 2 + i.data.length;
    return (n + 4) & ~3;
  }

  protected bodyLength(): number {
    let n = 0;
    for (const c of this.chunks) n += this.chunkLength(c);
    return n;
  }

  protected check(): void {
    for (const c of this.chunks) {
      checkUint(c.ssrc, 32, 'SDES chunk SSRC');
      for (const i of c.items) {
        if (!(Number.isInteger(i.type) && i.type >= 1 && i.type <= 255)) {
          throw new OutOfRangeError('ERR_RTCP_FIELD', `SDES item type ${i.type} is outside 1..255 (0 ends the list)`);
        }
        checkUint(i.data.length, 8, 'SDES item length');
      }
    }
  }

  protected writeBody(buf: Buffer, o: number): void {
    let p = o;
    for (const c of this.chunks) {
      const chunkEnd = p + this.chunkLength(c);
      buf.writeUInt32BE(c.ssrc, p);
      p += 4;
      for (const i of c.items) {
        buf[p] = i.type;
        buf[p + 1] = i.data.length;
        buf.set(i.data, p + 2);
        p += 2 + i.data.length;
      }
      buf.fill(0, p, chunkEnd);
      p = chunkEnd;
    }
  }
}
