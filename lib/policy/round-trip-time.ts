// Round-trip time from the report blocks a remote sends about our streams: now - LSR - DLSR
// (RFC 3550 §6.4.1), and from DLRR items about our RRTRs: now - LRR - DLRR (RFC 3611 §4.5), with
// `now` on the NTP clock our SRs and RRTRs use (`now + wallClockOffsetMs`).
import type { RtcpPacket } from '../rtp/rtcp/compound.js';
import { ntpMiddle32FromUnixMs, roundTripTimeMsAt } from '../rtp/rtcp/ntp-time.js';

/** Keeps the latest RTT measured from SR/RR report blocks. */
export class RoundTripTimeTracker {
  /** Latest round-trip time in ms, undefined before the first measurement. */
  latestMs: number | undefined;

  /** SSRC our RRTRs are sent from: DLRR items about it are ours (undefined: none read). */
  localSsrc: number | undefined;

  /** `wallClockOffsetMs` undefined: RTT is never measured (the SRs' clock is unknown). */
  constructor(private readonly wallClockOffsetMs: number | undefined) {}

  /** Reads the report blocks of SR and RR packets and the DLRR blocks of XR packets. */
  onRtcp(now: number, packets: readonly RtcpPacket[]): void {
    if (this.wallClockOffsetMs === undefined) return;
    // Index loops: no iterator per received compound (docs/sfu.md "Per-leg periodic work").
    for (let i = 0; i < packets.length; i++) {
      const p = packets[i]!;
      if (p.kind === 'xr') {
        for (const b of p.blocks) {
          if (b.blockType !== 5 || !('items' in b)) continue;
          for (const item of b.items) {
            if (item.ssrc !== this.localSsrc) continue;
            const rtt = roundTripTimeMsAt(ntpMiddle32FromUnixMs(now + this.wallClockOffsetMs), item.lastRr, item.delaySinceLastRr);
            if (rtt !== null) this.latestMs = rtt;
          }
        }
        continue;
      }
      if (p.kind !== 'sr' && p.kind !== 'rr') continue;
      const blocks = p.reports;
      for (let k = 0; k < blocks.length; k++) {
        const b = blocks[k]!;
        const rtt = roundTripTimeMsAt(ntpMiddle32FromUnixMs(now + this.wallClockOffsetMs), b.lastSr, b.delaySinceLastSr);
        if (rtt !== null) this.latestMs = rtt;
      }
    }
  }
}
