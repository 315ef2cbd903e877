// Round-trip time from the report blocks a remote sends about our streams: now - LSR - DLSR
// (RFC 3550 §6.4.1), with `now` on the NTP clock our SRs use (`now + wallClockOffsetMs`).
import type { RtcpPacket } from '../rtp/rtcp/compound.js';
import { ntpFromUnixMs, roundTripTimeMs } from '../rtp/rtcp/ntp-time.js';

/** Keeps the latest RTT measured from SR/RR report blocks. */
export class RoundTripTimeTracker {
  /** Latest round-trip time in ms, undefined before the first measurement. */
  latestMs: number | undefined;

  /** `wallClockOffsetMs` undefined: RTT is never measured (the SRs' clock is unknown). */
  constructor(private readonly wallClockOffsetMs: number | undefined) {}

  /** Reads the report blocks of SR and RR packets. */
  onRtcp(now: number, packets: readonly RtcpPacket[]): void {
    if (this.wallClockOffsetMs === undefined) return;
    for (const p of packets) {
      if (p.kind !== 'sr' && p.kind !== 'rr') continue;
      for (const b of p.reports) {
        const rtt = roundTripTimeMs(ntpFromUnixMs(now + this.wallClockOffsetMs), b.lastSr, b.delaySinceLastSr);
        if (rtt !== null) this.latestMs = rtt;
      }
    }
  }
}
