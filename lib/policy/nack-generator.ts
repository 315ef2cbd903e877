// NACK generator (receiver side, RFC 4585 §6.2.1 Generic NACK): detects sequence gaps per remote
// SSRC, waits a reordering tolerance, sends NACKs and repeats them once per round-trip time up to
// a retry cap; gives up on packets too old or retried too often, and on a gap larger than it keeps,
// and then asks the chain's keyframe module for a keyframe (docs/policy.md).
import type { MediaKind } from '../peer/media-stream-track.js';
import type { RtpPacketBatch, RtpPolicy, RtpPolicyOutput, RtpPolicyParameters, RtpPolicyStatsCollector } from '../peer/rtp-policy.js';
import type { RtcpPacket } from '../rtp/rtcp/compound.js';
import type { RtcpFeedback as SdpRtcpFeedback } from '../sdp/model.js';
import { RtcpGenericNack } from '../rtp/rtcp/generic-nack.js';
import { RtcpFeedback } from './rtcp-feedback.js';
import { feedbackPacket } from './rtcp-compound.js';
import { RoundTripTimeTracker } from './round-trip-time.js';
import { NO_ENTRIES } from '../common/no-entries.js';

/** Options of {@link NackGenerator}. */
export interface NackGeneratorOptions {
  /** Time a missing packet may still arrive out of order before it is NACKed (default 10 ms). */
  reorderToleranceMs?: number;
  /** NACKs per missing packet before giving up on it (default 10). */
  maxRetries?: number;
  /** Age after which a missing packet is given up (default 1000 ms). */
  maxAgeMs?: number;
  /** Missing packets kept per SSRC; a larger gap is given up at once (default 500). */
  maxMissing?: number;
  /** Round-trip time assumed before one is measured (default 100 ms). */
  initialRttMs?: number;
  /** Shortest time between two NACKs of the same packet (default 10 ms). */
  minRetryIntervalMs?: number;
  /** Unix ms minus `now`, to compute RTT from report blocks (as the reporter's SRs carry it). */
  wallClockOffsetMs?: number;
}

interface Missing {
  readonly firstMissingAt: number;
  lastSentAt: number;
  retries: number;
}

interface StreamState {
  /** Highest extended sequence number seen, -1 before the first packet. */
  highest: number;
  readonly missing: Map<number, Missing>;
  nacksSent: number;
  recovered: number;
  givenUp: number;
}

/** Remote SSRCs tracked at most. */
const MAX_STREAMS = 32;

/** See the file header. Transceiver scope; serves `nack` for video. */
export class NackGenerator implements RtpPolicy {
  readonly name = 'nack-generator';
  private params: RtpPolicyParameters | undefined;
  /** `nack` was negotiated (read per receive batch: kept as a flag, not a string lookup). */
  private nackNegotiated = false;
  /** The shared empty table until the first stream (lib/common/no-entries.ts). */
  private streams: ReadonlyMap<number, StreamState> = NO_ENTRIES;
  private readonly rtt: RoundTripTimeTracker;
  private due: number | undefined;
  private readonly o: Required<Omit<NackGeneratorOptions, 'wallClockOffsetMs'>>;
  /** Streams refused because the table was full. */
  streamsRefused = 0;

  constructor(options: NackGeneratorOptions = {}) {
    this.o = {
      reorderToleranceMs: options.reorderToleranceMs ?? 10,
      maxRetries: options.maxRetries ?? 10,
      maxAgeMs: options.maxAgeMs ?? 1000,
      maxMissing: options.maxMissing ?? 500,
      initialRttMs: options.initialRttMs ?? 100,
      minRetryIntervalMs: options.minRetryIntervalMs ?? 10,
    };
    this.rtt = new RoundTripTimeTracker(options.wallClockOffsetMs);
  }

  rtcpFeedback(kind: MediaKind): readonly SdpRtcpFeedback[] {
    return kind === 'video' ? [RtcpFeedback.nack] : [];
  }

  configure(_now: number, params: RtpPolicyParameters): void {
    this.params = params;
    this.nackNegotiated = params.rtcpFeedback.has('nack');
  }

  incomingRtp(now: number, batch: RtpPacketBatch, out: RtpPolicyOutput): void {
    // Without negotiated NACK there is nothing to ask for: track nothing.
    if (!this.nackNegotiated) return;
    for (let i = 0; i < batch.count; i++) {
      const ssrc = batch.ssrc[i]!;
      let s = this.streams.get(ssrc);
      if (!s) {
        if (this.streams.size >= MAX_STREAMS) {
          this.streamsRefused++;
          continue;
        }
        s = { highest: -1, missing: new Map(), nacksSent: 0, recovered: 0, givenUp: 0 };
        if (this.streams === NO_ENTRIES) this.streams = new Map();
        (this.streams as Map<number, StreamState>).set(ssrc, s);
      }
      this.onSequence(now, ssrc, s, batch.sequenceNumber[i]!, out);
    }
    this.process(now, out);
  }

  private onSequence(now: number, ssrc: number, s: StreamState, seq: number, out: RtpPolicyOutput): void {
    if (s.highest < 0) {
      s.highest = seq + 0x10000;
      return;
    }
    // Unwrap against the highest seen: the nearest extended number with these 16 bits.
    const ext = s.highest + ((((seq - s.highest) & 0xffff) ^ 0x8000) - 0x8000);
    if (ext > s.highest) {
      const gap = ext - s.highest - 1;
      if (gap > this.o.maxMissing) {
        // More lost than we keep: give everything up and ask for a keyframe instead.
        s.givenUp += s.missing.size + gap;
        s.missing.clear();
        out.emit('nack-give-up', { ssrc, count: gap });
        out.requestKeyframe(ssrc);
      } else {
        for (let x = s.highest + 1; x < ext; x++) s.missing.set(x, { firstMissingAt: now, lastSentAt: -Infinity, retries: 0 });
        if (s.missing.size > this.o.maxMissing) {
          let excess = s.missing.size - this.o.maxMissing;
          for (const k of s.missing.keys()) {
            if (excess-- <= 0) break;
            s.missing.delete(k);
            s.givenUp++;
          }
          out.requestKeyframe(ssrc);
        }
      }
      s.highest = ext;
    } else if (s.missing.delete(ext)) {
      s.recovered++;
    }
  }

  incomingRtcp(now: number, packets: readonly RtcpPacket[]): void {
    this.rtt.onRtcp(now, packets);
  }

  timeout(now: number, out: RtpPolicyOutput): void {
    this.process(now, out);
  }

  nextTimeout(): number | undefined {
    return this.due;
  }

  /** Sends what is due, gives up what is too old, and computes the next due time. */
  private process(now: number, out: RtpPolicyOutput): void {
    const params = this.params;
    const enabled = params !== undefined && params.rtcpFeedback.has('nack');
    const rtt = this.rtt.latestMs ?? this.o.initialRttMs;
    const retryInterval = Math.max(this.o.minRetryIntervalMs, rtt);
    let due: number | undefined;
    for (const [ssrc, s] of this.streams) {
      if (s.missing.size === 0) continue;
      let lost: number[] | undefined;
      let gaveUp = 0;
      for (const [ext, m] of s.missing) {
        if (m.retries >= this.o.maxRetries || now - m.firstMissingAt > this.o.maxAgeMs) {
          s.missing.delete(ext);
          gaveUp++;
          continue;
        }
        const at = m.retries === 0 ? m.firstMissingAt + this.o.reorderToleranceMs : m.lastSentAt + retryInterval;
        if (at <= now && enabled) {
          (lost ??= []).push(ext & 0xffff);
          m.retries++;
          m.lastSentAt = now;
          const next = now + retryInterval;
          if (due === undefined || next < due) due = next;
        } else if (enabled) {
          if (due === undefined || at < due) due = at;
        }
        const expiry = m.firstMissingAt + this.o.maxAgeMs + 1;
        if (due === undefined || expiry < due) due = expiry;
      }
      if (gaveUp > 0) {
        s.givenUp += gaveUp;
        out.emit('nack-give-up', { ssrc, count: gaveUp });
        out.requestKeyframe(ssrc);
      }
      if (lost && params) {
        out.sendRtcp(feedbackPacket(params, [RtcpGenericNack.fromSequenceNumbers(params.localSsrc, ssrc, lost)]));
        s.nacksSent++;
      }
    }
    this.due = due;
  }

  collectStats(stats: RtpPolicyStatsCollector): void {
    for (const [ssrc, s] of this.streams) stats.inbound(ssrc, { nackCount: s.nacksSent, pwtNackRecovered: s.recovered, pwtNackGivenUp: s.givenUp });
  }

  /** @internal For tests: packets currently missing on `ssrc`. */
  missingCount(ssrc: number): number {
    return this.streams.get(ssrc)?.missing.size ?? 0;
  }
}
