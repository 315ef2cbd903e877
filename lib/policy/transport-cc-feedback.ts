// Transport-wide congestion control feedback, receive side
// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3): records the arrival time of every
// packet carrying a transport-wide sequence number (probes and RTX included, which is why it has
// transport scope) and reports them every `intervalMs` as RTPFB FMT 15 feedback, so the remote
// sender's bandwidth estimator (e.g. Chromium's GCC) can ramp. Sans-I/O; a ring of preallocated
// arrival slots, no allocation per packet.
import type { MediaKind } from '../peer/media-stream-track.js';
import type { NativeStreamTotals, RtpPacketBatch, RtpPolicy, RtpPolicyOutput, RtpPolicyParameters, RtpPolicyStatsCollector } from '../peer/rtp-policy.js';
import { RtcpRawPacket } from '../rtp/rtcp/raw-packet.js';
import { HeaderExtensionUri } from '../sdp/capabilities.js';
import type { RtcpFeedback as SdpRtcpFeedback } from '../sdp/model.js';
import { RtcpFeedback } from './rtcp-feedback.js';
import { feedbackPacket } from './rtcp-compound.js';
import { TransportCcWriter } from './transport-cc-writer.js';

/** Options of {@link TransportCcFeedback}. */
export interface TransportCcFeedbackOptions {
  /** Time between feedback packets while packets arrive (default 100 ms, libwebrtc's default). */
  intervalMs?: number;
  /** Most sequence numbers reported in one feedback packet (default 1000); more are split, as are packets over 1100 bytes. */
  maxPacketsPerFeedback?: number;
}

/** Sequence numbers kept between two feedback packets; packets further ahead flush early. */
const RING = 8192;
/** The ring before the first packet: nothing is recorded in it. */
const EMPTY_RING = new Float64Array(0);

/** See the file header. Transport scope; serves `transport-cc` and needs the transport-wide-cc extension. */
export class TransportCcFeedback implements RtpPolicy {
  readonly name = 'transport-cc-feedback';
  private params: RtpPolicyParameters | undefined;
  // Arrival time per sequence number (-1: none), and the writer's buffers: made when the first
  // packet with a transport-wide number arrives (64 KiB that an idle connection does not need).
  private arrivalsUs: Float64Array = EMPTY_RING;
  /** First extended sequence number not yet reported, and the highest received; -1 before any. */
  private base = -1;
  private highest = -1;
  private mediaSsrc = 0;
  private feedbackCount = 0;
  private due: number | undefined;
  private readonly intervalMs: number;
  private readonly maxPerFeedback: number;
  private writer: TransportCcWriter | undefined;
  // The writer's lookup into the ring, made with the writer (an idle connection has neither).
  private arrivalAt: ((x: number) => number) | undefined;
  /** Feedback packets sent, packets reported received, late arrivals (already reported lost), too far ahead. */
  readonly counters = { feedbackSent: 0, packetsReported: 0, late: 0, flushedEarly: 0 };

  constructor(options: TransportCcFeedbackOptions = {}) {
    this.intervalMs = options.intervalMs ?? 100;
    this.maxPerFeedback = Math.min(options.maxPacketsPerFeedback ?? 1000, RING);
  }

  rtcpFeedback(): readonly SdpRtcpFeedback[] {
    return [RtcpFeedback.transportCc];
  }

  headerExtensions(_kind: MediaKind): readonly string[] {
    return [HeaderExtensionUri.transportWideCc];
  }

  configure(_now: number, params: RtpPolicyParameters): void {
    this.params = params;
  }

  incomingRtp(now: number, batch: RtpPacketBatch, out: RtpPolicyOutput): void {
    const arrivalUs = Math.round(now * 1000);
    for (let i = 0; i < batch.count; i++) {
      const seq = batch.transportSequence[i]!;
      if (seq >= 0) this.record(now, seq, batch.ssrc[i]!, arrivalUs, out);
    }
    if (this.due === undefined && this.highest >= this.base && this.base >= 0) this.due = now + this.intervalMs;
  }

  /**
   * Packets lib/sfu's forwarding engine received on this connection (JavaScript never saw them):
   * their transport-wide sequence numbers and arrival times, recorded as incomingRtp would have.
   */
  nativeTotals(now: number, totals: NativeStreamTotals, out: RtpPolicyOutput): void {
    const a = totals.arrivals;
    if (!a || a.count === 0) return;
    for (let i = 0; i < a.count; i++) this.record(now, a.transportSequence[i]!, a.ssrc, Math.round(a.arrivalAt[i]! * 1000), out);
    if (this.due === undefined && this.highest >= this.base && this.base >= 0) this.due = now + this.intervalMs;
  }

  private record(now: number, seq: number, ssrc: number, arrivalUs: number, out: RtpPolicyOutput): void {
    this.mediaSsrc = ssrc;
    let ext: number;
    if (this.highest < 0) {
      if (this.arrivalsUs === EMPTY_RING) this.arrivalsUs = new Float64Array(RING).fill(-1);
      ext = seq + 0x10000;
      this.base = ext;
      this.highest = ext;
    } else {
      ext = this.highest + ((((seq - this.highest) & 0xffff) ^ 0x8000) - 0x8000);
      if (ext < this.base) {
        this.counters.late++;
        return;
      }
      if (ext - this.base >= RING) {
        this.counters.flushedEarly++;
        this.send(now, out);
        if (ext - this.base >= RING) {
          // A jump beyond the ring: start over from this packet.
          this.clear(this.base, this.highest);
          this.base = ext;
          this.highest = ext;
        }
      }
      if (ext > this.highest) this.highest = ext;
    }
    this.arrivalsUs[ext % RING] = arrivalUs;
  }

  timeout(now: number, out: RtpPolicyOutput): void {
    if (this.due === undefined || now < this.due) return;
    this.send(now, out);
    this.due = undefined;
  }

  nextTimeout(): number | undefined {
    return this.due;
  }

  /** Reports base..highest (split into packets of at most maxPerFeedback) and moves base past them. */
  private send(_now: number, out: RtpPolicyOutput): void {
    const params = this.params;
    if (this.base < 0 || this.highest < this.base) return;
    const enabled = params !== undefined && params.rtcpFeedback.has('transport-cc');
    while (this.base <= this.highest) {
      const end = Math.min(this.highest, this.base + this.maxPerFeedback - 1);
      // Lost packets at the start are reported as not received; a window with no arrival at all
      // waits (its arrival reference time would be missing).
      const start = this.base;
      let any = false;
      for (let x = start; x <= end && !any; x++) any = this.arrivalsUs[x % RING]! >= 0;
      if (!any) {
        if (end === this.highest) break;
        this.base = end + 1;
        continue;
      }
      let last = end;
      if (enabled) {
        this.writer ??= new TransportCcWriter(this.maxPerFeedback, 1100);
        this.arrivalAt ??= (x: number): number => this.arrivalsUs[x % RING]!;
        const { bytes, last: covered } = this.writer.write(params.localSsrc, this.mediaSsrc, this.feedbackCount, start, end, this.arrivalAt);
        last = covered;
        this.feedbackCount = (this.feedbackCount + 1) & 0xff;
        out.sendRtcp(feedbackPacket(params, [new RtcpRawPacket(Buffer.from(bytes))]));
        this.counters.feedbackSent++;
      }
      for (let x = start; x <= last; x++) if (this.arrivalsUs[x % RING]! >= 0) this.counters.packetsReported++;
      this.clear(start, last);
      this.base = last + 1;
    }
  }

  private clear(from: number, to: number): void {
    for (let x = from; x <= to; x++) this.arrivalsUs[x % RING] = -1;
  }

  collectStats(stats: RtpPolicyStatsCollector): void {
    stats.transport({ pwtTransportCcFeedbackSent: this.counters.feedbackSent, pwtTransportCcPacketsReported: this.counters.packetsReported });
  }
}
