// The send-side bandwidth estimator and pacer as one transport-scope policy module
// (docs/policy.md, "Bandwidth estimator"): it stamps nothing itself (lib/peer writes the
// transport-wide sequence number, draft-holmer-rmcat-transport-wide-cc-extensions-01 §2), holds
// outgoing RTP in the pacer and releases it at target × pacing factor, records each packet as it
// leaves, feeds transport-cc (and RFC 8888) feedback to the estimator, caps the target by a
// received REMB, and publishes the target as a `target-bitrate` event and as getStats
// `availableOutgoingBitrate`.
import { RtpPacketFlags } from '../peer/rtp-policy.js';
import type {
  RtpPacketBatch,
  RtpPolicy,
  RtpPolicyFactory,
  RtpPolicyOutput,
  RtpPolicyParameters,
  RtpPolicyStatsCollector,
} from '../peer/rtp-policy.js';
import type { RtcpPacket } from '../rtp/rtcp/compound.js';
import type { RtcpFeedback } from '../sdp/model.js';
import { TRANSPORT_CC_URI } from '../rtp/extensions/uris.js';
import { SendSideBandwidthEstimator } from './bandwidth-estimator.js';
import type { BandwidthEstimatorOptions } from './bandwidth-estimator.js';
import { Pacer } from './pacer.js';
import type { PacerOptions, PacketPriority } from './pacer.js';
import { PacketStore } from './pacer-packet-store.js';

/** Options of the module: the estimator's, plus the pacer's (or `pacer: false` to estimate only). */
export interface BandwidthEstimationPolicyOptions extends BandwidthEstimatorOptions {
  pacer?: PacerOptions | false;
  /**
   * Bytes added to each RTP packet's length in the send history, so the estimate is of what the
   * path carries (default 38: the SRTP authentication tag and IPv4 + UDP headers, as libwebrtc
   * counts transport overhead). The target bitrate then includes that overhead.
   */
  packetOverheadBytes?: number;
}

/** Counters of the module. */
export interface BandwidthEstimationPolicyStats {
  /** Packets held by the pacer and released later. */
  packetsPaced: number;
  /** Packets sent at once because the hold store was full. */
  packetsNotHeld: number;
  /** Packets still held when the connection stopped. */
  packetsDiscardedAtStop: number;
}

/** The module's name. */
export const BANDWIDTH_ESTIMATOR_POLICY = 'bandwidth-estimator';

// A held packet: where its bytes are and the key that recognises it when released.
interface Held {
  slot: number;
  length: number;
  key: number;
}

/** See the file header. One instance per connection. */
export class BandwidthEstimationPolicy implements RtpPolicy {
  readonly name = BANDWIDTH_ESTIMATOR_POLICY;
  readonly estimator: SendSideBandwidthEstimator;
  readonly pacer: Pacer<Held> | undefined;
  readonly stats: BandwidthEstimationPolicyStats = { packetsPaced: 0, packetsNotHeld: 0, packetsDiscardedAtStop: 0 };
  private readonly store = new PacketStore();
  private readonly audioSsrcs = new Set<number>();
  /** Keys of packets released through `out.sendRtp` that will come back through `outgoingRtp`. */
  private readonly released = new Set<number>();
  private rembCap = Infinity;
  private published: number | undefined;
  private feedbackSeen = false;
  private readonly overhead: number;
  /** False until negotiation gave the estimator feedback to work from. */
  private active = false;

  constructor(options: BandwidthEstimationPolicyOptions = {}) {
    this.estimator = new SendSideBandwidthEstimator(options);
    this.overhead = Math.max(0, options.packetOverheadBytes ?? 38);
    this.pacer = options.pacer === false ? undefined : new Pacer<Held>({ initialTargetBitrate: this.estimator.targetBitrate, ...options.pacer });
  }

  /** The target bitrate (bits/s): the estimator's, capped by the last REMB received. */
  get targetBitrate(): number {
    return Math.min(this.estimator.targetBitrate, this.rembCap);
  }

  rtcpFeedback(): readonly RtcpFeedback[] {
    return [{ type: 'transport-cc' }];
  }

  headerExtensions(): readonly string[] {
    return [TRANSPORT_CC_URI];
  }

  configure(_now: number, params: RtpPolicyParameters): void {
    // Without feedback to estimate from, pacing at the start bitrate would only throttle the
    // application: the module then lets everything through untouched.
    this.active =
      (params.rtcpFeedback.has('transport-cc') && params.headerExtensions.has(TRANSPORT_CC_URI)) ||
      params.rtcpFeedback.has('goog-remb') ||
      params.rtcpFeedback.has('ack ccfb');
    this.audioSsrcs.clear();
    for (const s of params.sendStreams) if (s.kind === 'audio') this.audioSsrcs.add(s.ssrc);
  }

  outgoingRtp(now: number, batch: RtpPacketBatch): void {
    if (!this.active) return;
    for (let i = 0; i < batch.count; i++) {
      if ((batch.flags[i]! & RtpPacketFlags.DROP) !== 0) continue;
      const ssrc = batch.ssrc[i]!;
      // A small-integer key (fast in a Set): the sequence number and 14 bits of the SSRC.
      const key = (ssrc & 0x3fff) * 65536 + batch.sequenceNumber[i]!;
      const size = batch.lengths[i]!;
      const tseq = batch.transportSequence[i]!;
      if (this.released.delete(key) || this.pacer === undefined) {
        this.recordSent(now, tseq, size);
        continue;
      }
      const retransmission = (batch.flags[i]! & RtpPacketFlags.RETRANSMISSION) !== 0;
      if (retransmission || this.audioSsrcs.has(ssrc)) {
        // Sent at once (a held retransmission would lose its transport-wide number when released),
        // and counted against the pacing budget.
        this.pacer.account(now, size);
        this.recordSent(now, tseq, size);
        continue;
      }
      const slot = this.store.push(batch.packet(i));
      if (slot < 0) {
        // Larger than a slot, or the store is full: sent at once, still counted by the pacer.
        this.stats.packetsNotHeld++;
        this.pacer.account(now, size);
        this.recordSent(now, tseq, size);
        continue;
      }
      this.pacer.enqueue(now, { slot, length: size, key }, size, 'video' satisfies PacketPriority);
      batch.flags[i]! |= RtpPacketFlags.DROP;
      this.stats.packetsPaced++;
    }
  }

  incomingRtcp(now: number, packets: readonly RtcpPacket[], out: RtpPolicyOutput): void {
    let changed = false;
    for (const p of packets) {
      if (p.kind === 'transport-cc') {
        this.estimator.onTransportCcFeedback(now, p);
        changed = this.feedbackSeen = true;
      } else if (p.kind === 'ccfb') {
        this.estimator.onCongestionControlFeedback(now, p);
        changed = this.feedbackSeen = true;
      } else if (p.kind === 'remb') {
        this.rembCap = p.bitrate > 0 ? p.bitrate : Infinity;
        changed = true;
      }
    }
    // Only the latest value matters to the application and the pacer.
    while (this.estimator.pollEvent() !== undefined);
    if (changed) this.publish(now, out);
  }

  timeout(now: number, out: RtpPolicyOutput): void {
    const pacer = this.pacer;
    if (pacer === undefined) return;
    // Released packets come back through outgoingRtp while the chain carries out this call's
    // effects; anything still listed from an earlier call never came back (its sender stopped).
    this.released.clear();
    for (let h = pacer.poll(now); h !== undefined; h = pacer.poll(now)) {
      this.released.add(h.key);
      out.sendRtp(this.store.view(h.slot, h.length), false);
      this.store.release(h.slot);
    }
  }

  nextTimeout(): number | undefined {
    return this.pacer?.nextTimeout();
  }

  stop(): void {
    // The connection is going away: what is still held is not sent.
    this.stats.packetsDiscardedAtStop += this.pacer?.clear() ?? 0;
    this.store.clear();
  }

  collectStats(stats: RtpPolicyStatsCollector): void {
    // W3C webrtc-stats candidate-pair availableOutgoingBitrate; absent until feedback arrived.
    if (this.feedbackSeen || this.rembCap !== Infinity) stats.transport({ availableOutgoingBitrate: this.targetBitrate });
  }

  private recordSent(now: number, transportSeq: number, size: number): void {
    if (transportSeq >= 0) this.estimator.onPacketSent(now, { transportSeq, size: size + this.overhead });
  }

  private publish(now: number, out: RtpPolicyOutput): void {
    const target = this.targetBitrate;
    this.pacer?.setTargetBitrate(now, target);
    if (this.published !== undefined && Math.abs(target - this.published) < 0.01 * this.published) return;
    this.published = target;
    out.emit('target-bitrate', { bitrate: target });
  }
}

/** The module's factory (transport scope): add it to `RTCConfiguration.rtpPolicies`. */
export function bandwidthEstimationPolicy(options: BandwidthEstimationPolicyOptions = {}): RtpPolicyFactory {
  return { name: BANDWIDTH_ESTIMATOR_POLICY, scope: 'transport', create: () => new BandwidthEstimationPolicy(options) };
}
