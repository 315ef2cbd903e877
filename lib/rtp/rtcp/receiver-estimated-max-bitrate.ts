// REMB, PSFB FMT 15 application layer feedback (draft-alvestrand-rmcat-remb-03 §2.2): "REMB",
// SSRC count, 6-bit exponent + 18-bit mantissa bitrate, and the SSRCs it applies to.
import { OutOfRangeError } from '../../common/errors.js';
import { RtcpFeedbackBase, PSFB } from './feedback-base.js';
import { checkUint } from './rtcp-packet-base.js';

const REMB_ID = 0x52454d42; // "REMB"

/** Receiver estimated maximum bitrate (draft-alvestrand-rmcat-remb-03). */
export class RtcpReceiverEstimatedMaxBitrate extends RtcpFeedbackBase {
  /** FMT 15 (application layer feedback). */
  static readonly FMT = 15;
  /** Discriminator of the RtcpPacket union. */
  readonly kind = 'remb' as const;
  readonly packetType = PSFB;
  readonly fmt = 15;
  /** Bitrate in bits/s; written as mantissa * 2^exp, rounded down to 18 significant bits. */
  bitrate: number;
  /** SSRCs the estimate applies to (at most 255). */
  ssrcs: number[];
  // Exponent and mantissa as received, reused while `bitrate` is unchanged so that a forwarded
  // REMB with a non-canonical encoding (e.g. 1000 * 2^3) keeps its bytes.
  private wireExp = -1;
  private wireMantissa = 0;

  /** Builds a REMB (media source SSRC 0, as the draft says). */
  constructor(senderSsrc: number, bitrate: number, ssrcs: number[] = []) {
    super(senderSsrc, 0);
    this.bitrate = bitrate;
    this.ssrcs = ssrcs;
  }

  /** True when an application-layer FCI starts with the "REMB" identifier. */
  static isRemb(buf: Buffer, start: number, end: number): boolean {
    return start + 4 <= end && buf.readUInt32BE(start) === REMB_ID;
  }

  /** Decodes the FCI [start, end); null when malformed. */
  static parseFci(buf: Buffer, start: number, end: number, senderSsrc: number, mediaSsrc: number): RtcpReceiverEstimatedMaxBitrate | null {
    if (start + 8 > end) return null;
    const n = buf[start + 4]!;
    if (start + 8 + n * 4 !== end) return null;
    const exp = buf[start + 5]! >> 2;
    const mantissa = ((buf[start + 5]! & 3) << 16) | buf.readUInt16BE(start + 6);
    const ssrcs: number[] = [];
    for (let i = 0; i < n; i++) ssrcs.push(buf.readUInt32BE(start + 8 + i * 4));
    const remb = new RtcpReceiverEstimatedMaxBitrate(senderSsrc, mantissa * 2 ** exp, ssrcs);
    remb.mediaSsrc = mediaSsrc;
    remb.wireExp = exp;
    remb.wireMantissa = mantissa;
    return remb;
  }

  protected fciLength(): number {
    return 8 + this.ssrcs.length * 4;
  }

  protected checkFci(): void {
    if (!(Number.isFinite(this.bitrate) && this.bitrate >= 0 && this.bitrate < 0x40000 * 2 ** 63)) {
      throw new OutOfRangeError('ERR_RTCP_FIELD', `REMB bitrate ${this.bitrate} is not representable (18-bit mantissa, 6-bit exponent)`);
    }
    checkUint(this.ssrcs.length, 8, 'REMB SSRC count');
    for (const s of this.ssrcs) checkUint(s, 32, 'REMB SSRC');
  }

  protected writeFci(buf: Buffer, o: number): void {
    let exp = 0;
    let mantissa = Math.floor(this.bitrate);
    if (this.wireExp >= 0 && this.wireMantissa * 2 ** this.wireExp === this.bitrate) {
      exp = this.wireExp;
      mantissa = this.wireMantissa;
    }
    while (mantissa >= 0x40000) {
      exp++;
      mantissa = Math.floor(this.bitrate / 2 ** exp);
    }
    buf.writeUInt32BE(REMB_ID, o);
    buf[o + 4] = this.ssrcs.length;
    buf[o + 5] = (exp << 2) | (mantissa >> 16);
    buf.writeUInt16BE(mantissa & 0xffff, o + 6);
    let p = o + 8;
    for (const s of this.ssrcs) {
      buf.writeUInt32BE(s, p);
      p += 4;
    }
  }
}
