// RTCP BYE, PT 203 (RFC 3550 §6.6): the sources leaving and an optional reason text.
import { OutOfRangeError } from '../../common/errors.js';
import { RtcpPacketBase, checkUint } from './rtcp-packet-base.js';

/** RTCP BYE (RFC 3550 §6.6). */
export class RtcpGoodbye extends RtcpPacketBase {
  /** Packet type 203. */
  static readonly TYPE = 203;
  /** Discriminator of the RtcpPacket union. */
  readonly kind = 'bye' as const;
  readonly packetType = 203;
  /** SSRC/CSRCs leaving (at most 31). */
  sources: number[];
  /** Reason for leaving as bytes (at most 255), or undefined; kept as received. */
  reasonBytes: Buffer | undefined;

  /** Builds a BYE; fields are checked when serialized. */
  constructor(sources: number[] = [], reason?: string) {
    super();
    this.sources = sources;
    this.reasonBytes = reason === undefined ? undefined : Buffer.from(reason, 'utf8');
  }

  /** Reason for leaving as UTF-8 text, or undefined. */
  get reason(): string | undefined {
    return this.reasonBytes?.toString('utf8');
  }

  set reason(text: string | undefined) {
    this.reasonBytes = text === undefined ? undefined : Buffer.from(text, 'utf8');
  }

  /** Decodes the body [start, end) with `count` sources; null when malformed. */
  static parseBody(buf: Buffer, start: number, end: number, count: number): RtcpGoodbye | null {
    const p = start + count * 4;
    if (p > end) return null;
    const sources: number[] = [];
    for (let i = 0; i < count; i++) sources.push(buf.readUInt32BE(start + i * 4));
    const bye = new RtcpGoodbye(sources);
    if (p < end) {
      const len = buf[p]!;
      if (p + 1 + len > end) return null;
      bye.reasonBytes = buf.subarray(p + 1, p + 1 + len);
    }
    return bye;
  }

  protected countField(): number {
    return this.sources.length;
  }

  protected bodyLength(): number {
    const r = this.reasonBytes;
    return this.sources.length * 4 + (r ? (1 + r.length + 3) & ~3 : 0);
  }

  protected check(): void {
    for (const s of this.sources) checkUint(s, 32, 'BYE SSRC');
    const r = this.reasonBytes;
    if (r && r.length > 255) throw new OutOfRangeError('ERR_RTCP_FIELD', `BYE reason is ${r.length} bytes; at most 255 fit (RFC 3550 §6.6)`);
  }

  protected writeBody(buf: Buffer, o: number): void {
    let p = o;
    for (const s of this.sources) {
      buf.writeUInt32BE(s, p);
      p += 4;
    }
    const r = this.reasonBytes;
    if (r) {
      buf[p] = r.length;
      buf.set(r, p + 1);
      const end = p + ((1 + r.length + 3) & ~3);
      buf.fill(0, p + 1 + r.length, end);
    }
  }
}
