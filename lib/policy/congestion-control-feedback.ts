// RTP congestion control feedback, receive side (RFC 8888 §3): per media SSRC (as on the wire,
// RTX included) it records which sequence numbers arrived and when, and every `intervalMs`
// reports them (RTPFB FMT 11): received flag, ECN (unknown here: 0), arrival time offset before
// the report timestamp in 1/1024 s. Served as `a=rtcp-fb:* ack ccfb` (RFC 8888 §6); not in the
// default set (Chromium does not offer it by default). Sans-I/O; preallocated rings per SSRC.
import type { MediaKind } from '../peer/media-stream-track.js';
import { RtpPacketFlags, type RtpPacketBatch, type RtpPolicy, type RtpPolicyOutput, type RtpPolicyParameters, type RtpPolicyStatsCollector } from '../peer/rtp-policy.js';
import { RtcpCongestionControlFeedback, type CcfbMetric, type CcfbReportBlock } from '../rtp/rtcp/congestion-control-feedback.js';
import { ntpMiddle32FromUnixMs } from '../rtp/rtcp/ntp-time.js';
import type { RtcpFeedback as SdpRtcpFeedback } from '../sdp/model.js';
import { feedbackPacket } from './rtcp-compound.js';

/** Options of {@link CongestionControlFeedback}. */
export interface CongestionControlFeedbackOptions {
  /** Time between feedback packets while packets arrive (default 100 ms). */
  intervalMs?: number;
  /** Unix ms minus `now`, for the report timestamp (NTP middle 32 bits); default 0 (only differences matter). */
  wallClockOffsetMs?: number;
}

/** Sequence numbers kept per SSRC between two reports; packets further ahead flush early. */
const RING = 2048;
/** Most metrics in one feedback packet (2 bytes each), so it stays under 1100 bytes. */
const MAX_METRICS_PER_PACKET = 500;
const MAX_SSRCS = 32;
/** 13-bit arrival time offset "not available / too large" (RFC 8888 §3.1). */
const OFFSET_UNAVAILABLE = 0x1fff;

interface Stream {
  readonly ssrc: number;
  readonly arrivals: Float64Array;
  /** Next extended sequence number to report and the highest received; -1 before any. */
  base: number;
  highest: number;
}

/** See the file header. Transport scope; serves `ack ccfb`. */
export class CongestionControlFeedback implements RtpPolicy {
  readonly name = 'ccfb-feedback';
  private params: RtpPolicyParameters | undefined;
  private readonly streams = new Map<number, Stream>();
  private due: number | undefined;
  private readonly intervalMs: number;
  private readonly wallClockOffsetMs: number;
  /** Feedback packets sent, metrics reported, SSRCs refused (table full), packets too late to report. */
  readonly counters = { feedbackSent: 0, metricsReported: 0, ssrcsRefused: 0, late: 0 };

  constructor(options: CongestionControlFeedbackOptions = {}) {
    this.intervalMs = options.intervalMs ?? 100;
    this.wallClockOffsetMs = options.wallClockOffsetMs ?? 0;
  }

  rtcpFeedback(_kind: MediaKind): readonly SdpRtcpFeedback[] {
    return [{ type: 'ack', parameter: 'ccfb' }];
  }

  configure(_now: number, params: RtpPolicyParameters): void {
    this.params = params;
  }

  incomingRtp(now: number, batch: RtpPacketBatch, out: RtpPolicyOutput): void {
    for (let i = 0; i < batch.count; i++) {
      // Installed per transceiver, a module sees RTX unwrapped: not a packet of that SSRC on the wire.
      if ((batch.flags[i]! & RtpPacketFlags.RETRANSMISSION) !== 0) continue;
      const ssrc = batch.ssrc[i]!;
      let s = this.streams.get(ssrc);
      if (!s) {
        if (this.streams.size >= MAX_SSRCS) {
          this.counters.ssrcsRefused++;
          continue;
        }
        s = { ssrc, arrivals: new Float64Array(RING).fill(-1), base: -1, highest: -1 };
        this.streams.set(ssrc, s);
      }
      // Transport scope sees packets as on the wire: RTX is reported on the RTX SSRC.
      const seq = batch.sequenceNumber[i]!;
      let ext: number;
      if (s.highest < 0) {
        ext = seq + 0x10000;
        s.base = ext;
        s.highest = ext;
      } else {
        ext = s.highest + ((((seq - s.highest) & 0xffff) ^ 0x8000) - 0x8000);
        if (ext < s.base) {
          this.counters.late++;
          continue;
        }
        if (ext - s.base >= RING) {
          this.send(now, out);
          if (ext - s.base >= RING) {
            s.base = ext;
            s.highest = ext;
          }
        }
        if (ext > s.highest) s.highest = ext;
      }
      s.arrivals[ext % RING] = now;
    }
    if (this.due === undefined && this.streams.size > 0) this.due = now + this.intervalMs;
  }

  timeout(now: number, out: RtpPolicyOutput): void {
    if (this.due === undefined || now < this.due) return;
    this.send(now, out);
    this.due = undefined;
  }

  nextTimeout(): number | undefined {
    return this.due;
  }

  /** Reports base..highest of every SSRC, in packets of at most MAX_METRICS_PER_PACKET metrics. */
  private send(now: number, out: RtpPolicyOutput): void {
    const params = this.params;
    const enabled = params !== undefined && params.rtcpFeedback.has('ack ccfb');
    const reportTimestamp = ntpMiddle32FromUnixMs(now + this.wallClockOffsetMs);
    let blocks: CcfbReportBlock[] = [];
    let metricsInPacket = 0;
    const flush = (): void => {
      if (blocks.length > 0 && enabled) {
        out.sendRtcp(feedbackPacket(params, [new RtcpCongestionControlFeedback(params.localSsrc, blocks, reportTimestamp)]));
        this.counters.feedbackSent++;
      }
      blocks = [];
      metricsInPacket = 0;
    };
    for (const s of this.streams.values()) {
      while (s.base >= 0 && s.base <= s.highest) {
        const room = MAX_METRICS_PER_PACKET - metricsInPacket;
        if (room <= 0) flush();
        const end = Math.min(s.highest, s.base + (MAX_METRICS_PER_PACKET - metricsInPacket) - 1);
        const metrics: CcfbMetric[] = [];
        for (let x = s.base; x <= end; x++) {
          const at = s.arrivals[x % RING]!;
          s.arrivals[x % RING] = -1;
          if (at < 0) {
            metrics.push({ received: false, ecn: 0, arrivalTimeOffset: 0 });
            continue;
          }
          const offset = Math.round(((now - at) * 1024) / 1000);
          metrics.push({ received: true, ecn: 0, arrivalTimeOffset: offset >= 0 && offset < OFFSET_UNAVAILABLE ? offset : OFFSET_UNAVAILABLE });
          this.counters.metricsReported++;
        }
        blocks.push({ ssrc: s.ssrc, beginSequence: s.base & 0xffff, metrics });
        metricsInPacket += metrics.length;
        s.base = end + 1;
      }
    }
    flush();
  }

  collectStats(stats: RtpPolicyStatsCollector): void {
    stats.transport({ pwtCcfbFeedbackSent: this.counters.feedbackSent });
  }
}

