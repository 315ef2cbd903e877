// Common layout of RTCP feedback messages (RFC 4585 §6.1): FMT in the count field, PT 205 (RTPFB)
// or 206 (PSFB), SSRC of packet sender, SSRC of media source, then feedback control information.
import { RtcpPacketBase, checkUint } from './rtcp-packet-base.js';

/** Transport layer feedback packet type (RFC 4585 §6.1). */
export const RTPFB = 205;
/** Payload-specific feedback packet type (RFC 4585 §6.1). */
export const PSFB = 206;

/** Base of RTPFB/PSFB packets: the two SSRCs and the FCI the subclass writes. */
export abstract class RtcpFeedbackBase extends RtcpPacketBase {
  /** Feedback message type (the 5-bit FMT field). */
  abstract readonly fmt: number;
  /** SSRC of the packet sender. */
  senderSsrc: number;
  /** SSRC of the media source the feedback is about. */
  mediaSsrc: number;

  /** Sets the two SSRCs every feedback message starts with. */
  constructor(senderSsrc: number, mediaSsrc: number) {
    super();
    this.senderSsrc = senderSsrc;
    this.mediaSsrc = mediaSsrc;
  }

  /** Bytes of the feedback control information. */
  protected abstract fciLength(): number;
  /** Writes the FCI at `offset`. */
  protected abstract writeFci(buf: Buffer, offset: number): void;
  /** Throws a typed error for an out-of-range FCI field. */
  protected abstract checkFci(): void;

  protected countField(): number {
    return this.fmt;
  }

  protected bodyLength(): number {
    return 8 + this.fciLength();
  }

  protected check(): void {
    checkUint(this.senderSsrc, 32, 'feedback sender SSRC');
    checkUint(this.mediaSsrc, 32, 'feedback media SSRC');
    this.checkFci();
  }

  protected writeBody(buf: Buffer, o: number): void {
    buf.writeUInt32BE(this.senderSsrc, o);
    buf.writeUInt32BE(this.mediaSsrc, o + 4);
    this.writeFci(buf, o + 8);
  }
}
