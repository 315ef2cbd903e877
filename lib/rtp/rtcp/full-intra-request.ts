// Full intra request, PSFB FMT 4 (RFC 5104 §4.3.1): FCI entries of SSRC + command sequence number;
// the media source SSRC field is 0 (RFC 5104 §4.3.1.2).
import { RtcpFeedbackBase, PSFB } from './feedback-base.js';
import { checkUint } from './rtcp-packet-base.js';

/** One FIR request: the source asked to send a decoder refresh point, and the command sequence number. */
export interface FirEntry {
  ssrc: number;
  /** 8-bit command sequence number, incremented for each new request (RFC 5104 §4.3.1.1). */
  sequenceNumber: number;
}

/** FIR (RFC 5104 §4.3.1). */
export class RtcpFullIntraRequest extends RtcpFeedbackBase {
  /** FMT 4. */
  static readonly FMT = 4;
  /** Discriminator of the RtcpPacket union. */
  readonly kind = 'fir' as const;
  readonly packetType = PSFB;
  readonly fmt = 4;
  /** Requests, one per media sender. */
  entries: FirEntry[];

  /** Builds a FIR (media source SSRC 0 unless given). */
  constructor(senderSsrc: number, entries: FirEntry[] = [], mediaSsrc = 0) {
    super(senderSsrc, mediaSsrc);
    this.entries = entries;
  }

  /** Decodes the FCI [start, end); null when malformed. */
  static parseFci(buf: Buffer, start: number, end: number, senderSsrc: number, mediaSsrc: number): RtcpFullIntraRequest | null {
    if ((end - start) % 8 !== 0) return null;
    const fir = new RtcpFullIntraRequest(senderSsrc, [], mediaSsrc);
    for (let p = start; p < end; p += 8) fir.entries.push({ ssrc: buf.readUInt32BE(p), sequenceNumber: buf[p + 4]! });
    return fir;
  }

  protected fciLength(): number {
    return this.entries.length * 8;
  }

  protected checkFci(): void {
    for (const e of this.entries) {
      checkUint(e.ssrc, 32, 'FIR SSRC');
      checkUint(e.sequenceNumber, 8, 'FIR sequence number');
    }
  }

  protected writeFci(buf: Buffer, o: number): void {
    for (const e of this.entries) {
      buf.writeUInt32BE(e.ssrc, o);
      buf[o + 4] = e.sequenceNumber;
      buf[o + 5] = 0;
      buf[o + 6] = 0;
      buf[o + 7] = 0;
      o += 8;
    }
  }
}
