// REMB generation as a transport-scope policy module (docs/policy.md, "REMB"): reads the
// abs-send-time extension of incoming RTP in place (RFC 8285 §4.2/§4.3 element walk over the
// RFC 3550 §5.3.1 extension block), feeds the RembGenerator and sends its REMB packets
// (draft-alvestrand-rmcat-remb-03). Offers `goog-remb` on video and abs-send-time while installed.
// Round-trip time from the RTCP the remote sends about our streams (RFC 3550 §6.4.1 LSR/DLSR).
// Packets lib/sfu's engine forwards without JavaScript come in through nativeTotals (docs/sfu.md).
import { performance } from 'node:perf_hooks';
import { markLibraryPolicy, RtpPacketFlags } from '../peer/rtp-policy.js';
import type { NativeStreamTotals, RtpPacketBatch, RtpPolicy, RtpPolicyFactory, RtpPolicyOutput, RtpPolicyParameters } from '../peer/rtp-policy.js';
import type { RtcpPacket } from '../rtp/rtcp/compound.js';
import type { MediaKind } from '../peer/media-stream-track.js';
import type { RtcpFeedback } from '../sdp/model.js';
import { ABS_SEND_TIME_URI } from '../rtp/extensions/uris.js';
import { findExtensionElement, isTwoByteProfile, ONE_BYTE_PROFILE, validateExtensionElements } from '../rtp/header-extension.js';
import { RembGenerator } from './remb-generator.js';
import type { RembGeneratorOptions } from './remb-generator.js';
import { RoundTripTimeTracker } from './round-trip-time.js';

/** The module's name. */
export const REMB_POLICY = 'remb-generator';

/** Options: the generator's, without the sender SSRC (taken from negotiation). */
export interface RembPolicyOptions extends Omit<RembGeneratorOptions, 'senderSsrc'> {
  /**
   * Unix ms minus `now`: the clock our SRs' NTP timestamps use (as the RTCP reporter's). With it the
   * module measures the round-trip time from the report blocks the remote sends about our streams
   * and paces the additive increase by it; without it (or before the first measurement) 200 ms.
   * {@link rembPolicy} reads it when it makes the module.
   */
  wallClockOffsetMs?: number;
}

/** See the file header. One instance per connection. */
export class RembPolicy implements RtpPolicy {
  readonly name = REMB_POLICY;
  generator: RembGenerator | undefined;
  private absSendTimeId: number | undefined;
  private enabled = false;
  private readonly rtt: RoundTripTimeTracker;
  private readonly options: Omit<RembGeneratorOptions, 'senderSsrc'>;

  constructor(options: RembPolicyOptions = {}) {
    const { wallClockOffsetMs, ...generatorOptions } = options;
    this.options = generatorOptions;
    this.rtt = new RoundTripTimeTracker(wallClockOffsetMs);
  }

  rtcpFeedback(kind: MediaKind): readonly RtcpFeedback[] {
    return kind === 'video' ? [{ type: 'goog-remb' }] : [];
  }

  headerExtensions(): readonly string[] {
    return [ABS_SEND_TIME_URI];
  }

  configure(_now: number, params: RtpPolicyParameters): void {
    this.absSendTimeId = params.headerExtensions.get(ABS_SEND_TIME_URI);
    this.rtt.localSsrc = params.localSsrc;
    // REMB only where the remote accepted it and abs-send-time is there to estimate from.
    this.enabled = params.rtcpFeedback.has('goog-remb') && this.absSendTimeId !== undefined;
    if (this.enabled && this.generator === undefined) {
      this.generator = new RembGenerator({ ...this.options, senderSsrc: params.localSsrc });
      if (this.rtt.latestMs !== undefined) this.generator.setRtt(this.rtt.latestMs);
    }
  }

  /**
   * Report blocks about our streams (SR/RR, RFC 3550 §6.4.1), and DLRR items about the RRTRs the
   * RTCP reporter sends from a receive-only transceiver (RFC 3611 §4.5): the round-trip time the
   * increase is paced by.
   */
  incomingRtcp(now: number, packets: readonly RtcpPacket[]): void {
    const before = this.rtt.latestMs;
    this.rtt.onRtcp(now, packets);
    const latest = this.rtt.latestMs;
    if (latest !== undefined && latest !== before) this.generator?.setRtt(latest);
  }

  incomingRtp(now: number, batch: RtpPacketBatch, out: RtpPolicyOutput): void {
    const g = this.generator;
    const id = this.absSendTimeId;
    if (!this.enabled || g === undefined || id === undefined) return;
    for (let i = 0; i < batch.count; i++) {
      // Retransmissions left the sender late: their delay says nothing about the path now.
      if ((batch.flags[i]! & RtpPacketFlags.RETRANSMISSION) !== 0) continue;
      g.onPacket(now, batch.ssrc[i]!, readAbsSendTime(batch.data, batch.offsets[i]!, batch.lengths[i]!, id), batch.lengths[i]!);
    }
    // A drop of 3 % or more is reported at once (draft-alvestrand-rmcat-remb-03 leaves timing open).
    this.drain(out);
  }

  /**
   * Packets lib/sfu's forwarding engine received on this connection (JavaScript never saw them):
   * each one's SSRC, abs-send-time, size and arrival, fed as incomingRtp would have (RTX is not logged).
   */
  nativeTotals(_now: number, totals: NativeStreamTotals, out: RtpPolicyOutput): void {
    const g = this.generator;
    const t = totals.sendTimes;
    if (!this.enabled || g === undefined || !t || t.count === 0) return;
    for (let i = 0; i < t.count; i++) {
      const ast = t.absSendTime[i]!;
      g.onPacket(t.arrivalAt[i]!, t.ssrc[i]!, ast < 0 ? undefined : ast, t.length[i]!);
    }
    this.drain(out);
  }

  timeout(now: number, out: RtpPolicyOutput): void {
    const g = this.generator;
    if (g === undefined) return;
    g.handleTimeout(now);
    this.drain(out);
  }

  nextTimeout(): number | undefined {
    return this.enabled ? this.generator?.nextTimeout() : undefined;
  }

  private drain(out: RtpPolicyOutput): void {
    const g = this.generator!;
    for (let p = g.pollTransmit(); p !== undefined; p = g.pollTransmit()) out.sendRtcp([p]);
  }
}

/**
 * The 24-bit abs-send-time of the RTP packet at [offset, offset + length), or undefined when it
 * has none (or the header is malformed). Reads in place; allocates nothing.
 */
export function readAbsSendTime(buf: Uint8Array, offset: number, length: number, id: number): number | undefined {
  if (length < 12 || (buf[offset]! & 0x10) === 0) return undefined;
  const csrc = buf[offset]! & 0x0f;
  const ext = offset + 12 + 4 * csrc;
  if (ext + 4 > offset + length) return undefined;
  const profile = (buf[ext]! << 8) | buf[ext + 1]!;
  const words = (buf[ext + 2]! << 8) | buf[ext + 3]!;
  const start = ext + 4;
  const blockLen = words * 4;
  if (start + blockLen > offset + length) return undefined;
  const twoByte = isTwoByteProfile(profile);
  if (!twoByte && profile !== ONE_BYTE_PROFILE) return undefined;
  if (!validateExtensionElements(buf, start, blockLen, twoByte)) return undefined;
  const at = findExtensionElement(buf, start, blockLen, twoByte, id);
  if (at < 0 || at % 256 !== 3) return undefined;
  const p = Math.floor(at / 256);
  return (buf[p]! << 16) | (buf[p + 1]! << 8) | buf[p + 2]!;
}

/** The module's factory (transport scope): add it to `RTCConfiguration.rtpPolicies`. */
export function rembPolicy(options: RembPolicyOptions = {}): RtpPolicyFactory {
  // The wall-clock offset is read here, once per module, never inside it (sans-I/O). Marked as the
  // library's own: its RTT from report blocks does not ask lib/sfu for a subscriber leg's RTCP (docs/sfu.md).
  return { name: REMB_POLICY, scope: 'transport', create: () => markLibraryPolicy(new RembPolicy({ wallClockOffsetMs: Date.now() - performance.now(), ...options })) };
}
