// RTPFB/PSFB message with an FMT this library does not decode (RFC 4585 §6.1): the SSRCs are read,
// the FCI is kept raw so a forwarder passes it on unchanged.
import { RtcpFeedbackBase } from './feedback-base.js';
import { checkUint } from './rtcp-packet-base.js';

/** A feedback message of an undecoded FMT, FCI kept as bytes. */
export class RtcpUnknownFeedback extends RtcpFeedbackBase {
  /** Discriminator of the RtcpPacket union. */
  readonly kind = 'feedback' as const;
  /** 205 (RTPFB) or 206 (PSFB). */
  readonly packetType: number;
  /** The FMT this library does not decode. */
  readonly fmt: number;
  /** Feedback control information (padding is added after it when it is not a multiple of 4 bytes). */
  fci: Buffer;

  /** Builds a feedback message from its parts. */
  constructor(init: { packetType: 205 | 206; fmt: number; senderSsrc: number; mediaSsrc: number; fci?: Buffer }) {
    super(init.senderSsrc, init.mediaSsrc);
    this.packetType = init.packetType;
    this.fmt = init.fmt;
    this.fci = init.fci ?? Buffer.alloc(0);
  }

  protected fciLength(): number {
    return this.fci.length;
  }

  protected checkFci(): void {
    checkUint(this.fmt, 5, 'feedback FMT');
  }

  protected writeFci(buf: Buffer, o: number): void {
    buf.set(this.fci, o);
  }
}
