// Keyframe requests (RFC 4585 §6.3.1 PLI, RFC 5104 §4.3.1 FIR): as a receiver, sends PLI (or FIR
// with a per-SSRC command sequence number when only `ccm fir` was negotiated), throttled per
// SSRC so that any number of requests within the interval — e.g. from many downstream consumers
// of a forwarder — become one upstream request; as a sender, turns received PLI/FIR into a
// `keyframe-request` event (a repeated FIR sequence number is a retransmission, RFC 5104 §4.3.1.2).
import type { MediaKind } from '../peer/media-stream-track.js';
import type { NativeStreamTotals, RtpPacketBatch, RtpPolicy, RtpPolicyOutput, RtpPolicyParameters, RtpPolicyStatsCollector } from '../peer/rtp-policy.js';
import type { RtcpPacket } from '../rtp/rtcp/compound.js';
import { RtcpFullIntraRequest } from '../rtp/rtcp/full-intra-request.js';
import { RtcpPictureLossIndication } from '../rtp/rtcp/picture-loss-indication.js';
import type { RtcpFeedback as SdpRtcpFeedback } from '../sdp/model.js';
import { RtcpFeedback } from './rtcp-feedback.js';
import { feedbackPacket } from './rtcp-compound.js';
import { NO_ENTRIES } from '../common/no-entries.js';

/** Options of {@link KeyframeRequester}. */
export interface KeyframeRequesterOptions {
  /** Shortest time between two requests for one SSRC (default 300 ms); requests in between are merged. */
  minIntervalMs?: number;
}

interface RemoteStream {
  lastRequestAt: number;
  pending: boolean;
  firSequence: number;
  plisSent: number;
  firsSent: number;
  requestsMerged: number;
}

interface LocalStream {
  plisReceived: number;
  firsReceived: number;
  lastFirSequence: number;
  /** PLIs/FIRs a native engine consumed for this stream, already counted (nativeTotals gives totals). */
  nativePlis: number;
  nativeFirs: number;
}

const MAX_STREAMS = 32;

/** See the file header. Transceiver scope; serves `nack pli` and `ccm fir` for video. */
export class KeyframeRequester implements RtpPolicy {
  readonly name = 'keyframe-requester';
  private params: RtpPolicyParameters | undefined;
  // The two tables are the shared empty one until a first entry (lib/common/no-entries.ts).
  private remote: ReadonlyMap<number, RemoteStream> = NO_ENTRIES;
  private local: ReadonlyMap<number, LocalStream> = NO_ENTRIES;
  private readonly minIntervalMs: number;
  private due: number | undefined;
  /** A request for every stream came before any stream: it goes to the first one. */
  private pendingForNew = false;

  constructor(options: KeyframeRequesterOptions = {}) {
    this.minIntervalMs = options.minIntervalMs ?? 300;
  }

  private ownLocal(): Map<number, LocalStream> {
    if (this.local === NO_ENTRIES) this.local = new Map();
    return this.local as Map<number, LocalStream>;
  }

  rtcpFeedback(kind: MediaKind): readonly SdpRtcpFeedback[] {
    return kind === 'video' ? [RtcpFeedback.pli, RtcpFeedback.fir] : [];
  }

  /**
   * PLIs/FIRs about a stream a native engine sends that the engine consumed itself (lib/sfu: they
   * never reach incomingRtcp) count as received here too, so pliCount/firCount stay complete.
   */
  nativeTotals(_now: number, totals: NativeStreamTotals): void {
    for (let i = 0; i < totals.sent.length; i++) {
      const t = totals.sent[i]!;
      const r = t.remote;
      const l = r === undefined ? undefined : this.local.get(t.ssrc);
      if (!l || !r) continue;
      if (r.plis > l.nativePlis) {
        l.plisReceived += r.plis - l.nativePlis;
        l.nativePlis = r.plis;
      }
      if (r.firs > l.nativeFirs) {
        l.firsReceived += r.firs - l.nativeFirs;
        l.nativeFirs = r.firs;
      }
    }
  }

  configure(_now: number, params: RtpPolicyParameters): void {
    this.params = params;
    for (const s of params.sendStreams) if (!this.local.has(s.ssrc)) this.ownLocal().set(s.ssrc, { plisReceived: 0, firsReceived: 0, lastFirSequence: -1, nativePlis: 0, nativeFirs: 0 });
  }

  incomingRtp(now: number, batch: RtpPacketBatch, out: RtpPolicyOutput): void {
    // Learns the remote SSRCs a request without an SSRC goes to.
    let learned = false;
    let known = -1;
    for (let i = 0; i < batch.count; i++) {
      const ssrc = batch.ssrc[i]!;
      // A batch is mostly one stream: one lookup per run of the same SSRC.
      if (ssrc === known) continue;
      known = ssrc;
      if (!this.remote.has(ssrc) && this.remote.size < MAX_STREAMS) {
        if (this.remote === NO_ENTRIES) this.remote = new Map();
        (this.remote as Map<number, RemoteStream>).set(ssrc, { lastRequestAt: -Infinity, pending: this.pendingForNew, firSequence: 0, plisSent: 0, firsSent: 0, requestsMerged: 0 });
        learned = true;
      }
    }
    if (learned && this.pendingForNew) {
      this.pendingForNew = false;
      this.process(now, out);
    }
  }

  requestKeyframe(now: number, ssrc: number | undefined, out: RtpPolicyOutput): boolean {
    const feedback = this.params?.rtcpFeedback;
    if (!feedback || (!feedback.has('nack pli') && !feedback.has('ccm fir'))) return false;
    let any = false;
    for (const [s, r] of this.remote) {
      if (ssrc !== undefined && s !== ssrc) continue;
      any = true;
      if (r.pending) r.requestsMerged++;
      r.pending = true;
    }
    if (!any) {
      // No stream has arrived yet: the request goes out for the first one that does.
      if (ssrc !== undefined) return false;
      this.pendingForNew = true;
      return true;
    }
    this.process(now, out);
    return true;
  }

  incomingRtcp(_now: number, packets: readonly RtcpPacket[], out: RtpPolicyOutput): void {
    // Index loop: no iterator per received compound (every subscriber's RR passes here).
    for (let i = 0; i < packets.length; i++) {
      const p = packets[i]!;
      if (p.kind === 'pli') {
        const l = this.local.get(p.mediaSsrc);
        if (!l) continue;
        l.plisReceived++;
        out.emit('keyframe-request', { ssrc: p.mediaSsrc, kind: 'pli' });
      } else if (p.kind === 'fir') {
        for (const e of p.entries) {
          const l = this.local.get(e.ssrc);
          if (!l || e.sequenceNumber === l.lastFirSequence) continue;
          l.lastFirSequence = e.sequenceNumber;
          l.firsReceived++;
          out.emit('keyframe-request', { ssrc: e.ssrc, kind: 'fir' });
        }
      }
    }
  }

  timeout(now: number, out: RtpPolicyOutput): void {
    this.process(now, out);
  }

  nextTimeout(): number | undefined {
    return this.due;
  }

  /** Sends every pending request whose throttle allows it; the others wait for `due`. */
  private process(now: number, out: RtpPolicyOutput): void {
    const params = this.params;
    let due: number | undefined;
    if (!params) return;
    const packets: RtcpPacket[] = [];
    for (const [ssrc, r] of this.remote) {
      if (!r.pending) continue;
      const allowedAt = r.lastRequestAt + this.minIntervalMs;
      if (allowedAt > now) {
        if (due === undefined || allowedAt < due) due = allowedAt;
        continue;
      }
      r.pending = false;
      r.lastRequestAt = now;
      if (params.rtcpFeedback.has('nack pli')) {
        packets.push(new RtcpPictureLossIndication(params.localSsrc, ssrc));
        r.plisSent++;
      } else {
        r.firSequence = (r.firSequence + 1) & 0xff;
        packets.push(new RtcpFullIntraRequest(params.localSsrc, [{ ssrc, sequenceNumber: r.firSequence }]));
        r.firsSent++;
      }
    }
    if (packets.length > 0) out.sendRtcp(feedbackPacket(params, packets));
    this.due = due;
  }

  collectStats(stats: RtpPolicyStatsCollector): void {
    for (const [ssrc, r] of this.remote) stats.inbound(ssrc, { pliCount: r.plisSent, firCount: r.firsSent, pwtKeyframeRequestsMerged: r.requestsMerged });
    for (const [ssrc, l] of this.local) stats.outbound(ssrc, { pliCount: l.plisReceived, firCount: l.firsReceived });
  }
}
