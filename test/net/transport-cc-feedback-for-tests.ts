// A minimal transport-cc feedback generator (draft-holmer-rmcat-transport-wide-cc-extensions-01
// §3.1) as a transport-scope policy module, for the bandwidth-estimator tests' receiving peer:
// every 50 ms it reports the arrival times of the transport-wide sequence numbers seen since the
// last report (lost ones as not received). The library's own feedback module lives in lib/policy.
import type { RtpPacketBatch, RtpPolicy, RtpPolicyOutput, RtpPolicyParameters } from '../../lib/peer/rtp-policy.js';
import { RtcpTransportCcFeedback } from '../../lib/rtp/rtcp/transport-cc-feedback.js';
import { TRANSPORT_CC_URI } from '../../lib/rtp/extensions/uris.js';
import { unwrap16 } from '../../lib/policy/bandwidth-estimator-send-history.js';

export class TransportCcFeedbackForTests implements RtpPolicy {
  readonly name = 'test-transport-cc-feedback';
  private localSsrc = 0;
  private readonly arrivals = new Map<number, number>();
  private last: number | undefined;
  private base: number | undefined;
  private max = -Infinity;
  private nextAt: number | undefined;
  private count = 0;
  feedbackSent = 0;
  packetsSeen = 0;

  constructor(private readonly intervalMs = 50) {}

  rtcpFeedback(): { type: string }[] {
    return [{ type: 'transport-cc' }];
  }
  headerExtensions(): string[] {
    return [TRANSPORT_CC_URI];
  }
  configure(_now: number, params: RtpPolicyParameters): void {
    this.localSsrc = params.localSsrc;
  }
  incomingRtp(now: number, batch: RtpPacketBatch): void {
    for (let i = 0; i < batch.count; i++) {
      const s = batch.transportSequence[i]!;
      if (s < 0) continue;
      this.packetsSeen++;
      const seq = unwrap16(this.last, s);
      this.last = Math.max(this.last ?? seq, seq);
      if (this.base === undefined || seq < this.base) this.base = seq;
      if (seq > this.max) this.max = seq;
      if (!this.arrivals.has(seq)) this.arrivals.set(seq, now * 1000);
      this.nextAt ??= now + this.intervalMs;
    }
  }
  timeout(now: number, out: RtpPolicyOutput): void {
    this.nextAt = undefined;
    if (this.base === undefined || this.max < this.base) return;
    // At most 2000 sequence numbers per report (one RTCP packet stays well under the MTU).
    const from = Math.max(this.base, this.max - 1999);
    const list: (number | null)[] = [];
    for (let s = from; s <= this.max; s++) list.push(this.arrivals.get(s) ?? null);
    out.sendRtcp([
      RtcpTransportCcFeedback.fromArrivals(
        { senderSsrc: this.localSsrc, mediaSsrc: 0, baseSequenceNumber: from & 0xffff, feedbackPacketCount: this.count++ & 0xff },
        list,
      ),
    ]);
    this.feedbackSent++;
    this.arrivals.clear();
    this.base = this.max + 1;
    void now;
  }
  nextTimeout(): number | undefined {
    return this.nextAt;
  }
}
