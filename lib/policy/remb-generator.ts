// REMB generation: a receive-side delay-based estimate from the arrival times and abs-send-time
// of incoming RTP, sent as RTCP REMB (draft-alvestrand-rmcat-remb-03 §2; the estimate follows
// draft-ietf-rmcat-gcc-02 §5 with the receiver's incoming bitrate). docs/policy.md, "REMB".
// Sans-I/O: `onPacket(now, …)`, `handleTimeout(now)`, drain `pollTransmit()`, wake at `nextTimeout()`.
import { OutOfRangeError } from '../common/errors.js';
import { RtcpReceiverEstimatedMaxBitrate } from '../rtp/rtcp/receiver-estimated-max-bitrate.js';
import { absSendTimeToMs } from '../rtp/extensions/abs-send-time.js';
import { InterArrivalGrouper } from './bandwidth-estimator-inter-arrival.js';
import { TrendlineDetector } from './bandwidth-estimator-trendline.js';
import type { BandwidthUsage } from './bandwidth-estimator-trendline.js';
import { AimdRateController } from './bandwidth-estimator-aimd.js';
import { AckedBitrateEstimator } from './bandwidth-estimator-acked-bitrate.js';

/** Options of a RembGenerator. Bitrates in bits per second. */
export interface RembGeneratorOptions {
  /** SSRC written as the REMB's sender SSRC. */
  senderSsrc: number;
  /** Estimate before any congestion was seen (default 300 000). */
  startBitrate?: number;
  minBitrate?: number;
  maxBitrate?: number;
  /** Regular REMB interval, ms (default 1000); a drop of 3 % or more is sent at once. */
  intervalMs?: number;
  /** A media SSRC not heard from for this long leaves the REMB's SSRC list, ms (default 2000). */
  ssrcTimeoutMs?: number;
}

/** Counters of the generator. */
export interface RembGeneratorStats {
  packets: number;
  /** Packets without a usable abs-send-time: not used for the estimate. */
  packetsWithoutSendTime: number;
  rembsSent: number;
}

const WRAP_MS = 64_000;

/** Receive-side estimator that emits REMB packets. */
export class RembGenerator {
  readonly stats: RembGeneratorStats = { packets: 0, packetsWithoutSendTime: 0, rembsSent: 0 };
  private readonly senderSsrc: number;
  private readonly intervalMs: number;
  private readonly ssrcTimeoutMs: number;
  private readonly grouper = new InterArrivalGrouper();
  private readonly detector = new TrendlineDetector();
  private readonly aimd: AimdRateController;
  private readonly incoming = new AckedBitrateEstimator();
  private readonly ssrcs = new Map<number, number>();
  private lastRawSendMs: number | undefined;
  private unwrappedSendMs = 0;
  private rttMs = 200;
  private lastNow = -Infinity;
  private lastSent: { bitrate: number; at: number } | undefined;
  private firstPacketAt: number | undefined;
  private readonly out: RtcpReceiverEstimatedMaxBitrate[] = [];
  private usage: BandwidthUsage = 'normal';

  constructor(options: RembGeneratorOptions) {
    if (!(Number.isInteger(options.senderSsrc) && options.senderSsrc >= 0 && options.senderSsrc <= 0xffffffff)) {
      throw new OutOfRangeError('ERR_REMB_OPTION', `senderSsrc must be a 32-bit unsigned integer, got ${options.senderSsrc}`);
    }
    this.senderSsrc = options.senderSsrc;
    this.intervalMs = options.intervalMs ?? 1000;
    this.ssrcTimeoutMs = options.ssrcTimeoutMs ?? 2000;
    const start = options.startBitrate ?? 300_000;
    const min = options.minBitrate ?? 30_000;
    const max = options.maxBitrate ?? 20_000_000;
    if (!(min > 0 && min <= start && start <= max && this.intervalMs > 0)) {
      throw new OutOfRangeError('ERR_REMB_OPTION', `need 0 < minBitrate ≤ startBitrate ≤ maxBitrate and intervalMs > 0`);
    }
    this.aimd = new AimdRateController({ startBitrate: start, minBitrate: min, maxBitrate: max });
  }

  /** Current estimate, bits/s. */
  get bitrate(): number {
    return this.aimd.bitrate;
  }

  /** The round-trip time the additive increase is paced by, ms (200 until {@link setRtt}). */
  get rtt(): number {
    return this.rttMs;
  }

  /** Sets the round-trip time (e.g. from the RTCP reporter), which paces the additive increase. */
  setRtt(rttMs: number): void {
    if (Number.isFinite(rttMs) && rttMs >= 0) this.rttMs = rttMs;
  }

  /**
   * An RTP packet arrived at `now`: its media SSRC, its abs-send-time (24-bit 6.18 value, or
   * undefined when the extension is absent) and its size in bytes.
   */
  onPacket(now: number, ssrc: number, absSendTime: number | undefined, size: number): void {
    const t = this.clock(now);
    this.stats.packets++;
    this.ssrcs.set(ssrc >>> 0, t);
    if (this.firstPacketAt === undefined) this.firstPacketAt = t;
    this.incoming.add(t, size);
    if (absSendTime === undefined || !(absSendTime >= 0 && absSendTime <= 0xffffff)) {
      this.stats.packetsWithoutSendTime++;
      return;
    }
    // Unwrap the 64 s abs-send-time into a continuous send clock.
    const raw = absSendTimeToMs(absSendTime);
    if (this.lastRawSendMs === undefined) this.unwrappedSendMs = raw;
    else {
      let diff = raw - this.lastRawSendMs;
      if (diff < -WRAP_MS / 2) diff += WRAP_MS;
      else if (diff >= WRAP_MS / 2) diff -= WRAP_MS;
      this.unwrappedSendMs += diff;
    }
    this.lastRawSendMs = raw;
    this.feed(t, this.unwrappedSendMs, size);
  }

  /** Time of the next regular REMB, or undefined before any packet arrived. */
  nextTimeout(): number | undefined {
    if (this.firstPacketAt === undefined) return undefined;
    return this.lastSent === undefined ? this.firstPacketAt + this.intervalMs : this.lastSent.at + this.intervalMs;
  }

  /** Sends the regular REMB when due. */
  handleTimeout(now: number): void {
    const t = this.clock(now);
    const due = this.nextTimeout();
    if (due !== undefined && t >= due) this.emit(t);
  }

  /** Next REMB packet to send, or undefined. */
  pollTransmit(): RtcpReceiverEstimatedMaxBitrate | undefined {
    return this.out.shift();
  }

  private feed(now: number, sendMs: number, size: number): void {
    const d = this.grouper.add(sendMs, now, size);
    if (d === undefined) return;
    const before = this.usage;
    this.usage = this.detector.update(d.arrivalDeltaMs, d.sendDeltaMs, d.arrivalTimeMs);
    // The rate controller runs on every group while overusing, else at most every 100 ms.
    if (this.usage === 'overusing' || before !== this.usage || this.lastUpdate === undefined || now - this.lastUpdate >= 100) {
      const prev = this.aimd.bitrate;
      this.aimd.update(now, this.usage, this.incoming.bitrate(), this.rttMs);
      this.lastUpdate = now;
      if (this.lastSent !== undefined && this.aimd.bitrate < 0.97 * this.lastSent.bitrate && this.aimd.bitrate < prev) this.emit(now);
    }
  }
  private lastUpdate: number | undefined;

  private emit(now: number): void {
    for (const [ssrc, seen] of this.ssrcs) if (now - seen > this.ssrcTimeoutMs) this.ssrcs.delete(ssrc);
    const ssrcs = [...this.ssrcs.keys()].slice(0, 255);
    this.out.push(new RtcpReceiverEstimatedMaxBitrate(this.senderSsrc, Math.floor(this.aimd.bitrate), ssrcs));
    if (this.out.length > 16) this.out.shift();
    this.stats.rembsSent++;
    this.lastSent = { bitrate: this.aimd.bitrate, at: now };
  }

  private clock(now: number): number {
    if (now > this.lastNow) this.lastNow = now;
    return this.lastNow;
  }
}
