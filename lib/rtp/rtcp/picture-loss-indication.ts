// Picture loss indication, PSFB FMT 1 (RFC 4585 §6.3.1): no FCI.
import { RtcpFeedbackBase, PSFB } from './feedback-base.js';

/** PLI (RFC 4585 §6.3.1). */
export class RtcpPictureLossIndication extends RtcpFeedbackBase {
  /** FMT 1. */
  static readonly FMT = 1;
  /** Discriminator of the RtcpPacket union. */
  readonly kind = 'pli' as const;
  readonly packetType = PSFB;
  readonly fmt = 1;

  /** Decodes the FCI [start, end); a PLI has none, so any bytes there make it malformed. */
  static parseFci(start: number, end: number, senderSsrc: number, mediaSsrc: number): RtcpPictureLossIndication | null {
    return start === end ? new RtcpPictureLossIndication(senderSsrc, mediaSsrc) : null;
  }

  protected fciLength(): number {
    return 0;
  }

  protected checkFci(): void {}

  protected writeFci(): void {}
}
