// NACK responder (sender side, RFC 4585 §6.2.1): keeps a bounded history of the packets we sent
// per SSRC (a ring made at the SSRC's first packet sent through JavaScript, one copy per packet, no
// allocation per packet after it) and answers a
// Generic NACK by retransmitting as RTX (RFC 4588 §4) when negotiated, else in the original
// stream; rate-limited by a token bucket and at most once per resend interval per packet
// (lib/policy/resend-interval.ts, docs/policy.md "Resend interval").
import type { Rng } from '../common/rng.js';
import type { MediaKind } from '../peer/media-stream-track.js';
import {
  RtpPacketFlags,
  type NativeStreamTotals,
  type RtpPacketBatch,
  type RtpPolicy,
  type RtpPolicyOutput,
  type RtpPolicyParameters,
  type RtpPolicyStatsCollector,
} from '../peer/rtp-policy.js';
import type { RtcpPacket } from '../rtp/rtcp/compound.js';
import type { RtcpFeedback as SdpRtcpFeedback } from '../sdp/model.js';
import { RtcpFeedback } from './rtcp-feedback.js';
import { RoundTripTimeTracker } from './round-trip-time.js';
import { resendIntervalMs } from './resend-interval.js';
import { NO_ENTRIES } from '../common/no-entries.js';

/** The empty SSRC set shared by every responder until it keeps one. */
const NO_SSRCS: ReadonlySet<number> = new Set();

/** Options of {@link NackResponder}. */
export interface NackResponderOptions {
  /** Packets kept per SSRC (default 1024; a power of two is not required). */
  historySize?: number;
  /** Largest packet kept (default 1500 bytes); larger ones are not kept. */
  maxPacketSize?: number;
  /** Retransmission rate limit in bits per second (default 3 Mbit/s), burst one 100 ms worth. */
  maxBitrate?: number;
  /** Packets older than this are not retransmitted (default 1000 ms). */
  maxAgeMs?: number;
  /** Unix ms minus `now`, to compute RTT from report blocks (as the reporter's SRs carry it). */
  wallClockOffsetMs?: number;
  /** Draws the RTX stream's first sequence number (RFC 3550 §5.1: random); default starts at 0. */
  rng?: Rng;
}

/** One SSRC's ring of sent packets. */
class SendHistory {
  readonly data: Buffer;
  readonly seqs: Int32Array;
  readonly lengths: Uint16Array;
  readonly sentAt: Float64Array;
  readonly resentAt: Float64Array;
  constructor(readonly size: number, readonly slot: number) {
    this.data = Buffer.alloc(size * slot);
    this.seqs = new Int32Array(size).fill(-1);
    this.lengths = new Uint16Array(size);
    this.sentAt = new Float64Array(size);
    this.resentAt = new Float64Array(size).fill(-Infinity);
  }
}

/** Counters of one media SSRC: NACK packets received, packets asked for, retransmitted, not found, rate-limited. */
interface StreamCounters {
  nacks: number;
  requested: number;
  resent: number;
  missing: number;
  limited: number;
  /** NACK packets a native engine consumed for this stream, already in `nacks` (nativeTotals gives totals). */
  nativeNacks: number;
}

/** See the file header. Transceiver scope; serves `nack` for video. */
export class NackResponder implements RtpPolicy {
  readonly name = 'nack-responder';
  private params: RtpPolicyParameters | undefined;
  // The tables are the shared empty one until a first entry (lib/common/no-entries.ts).
  /** The send SSRCs whose packets are kept (negotiated NACK); each one's ring is made at its first packet. */
  private kept: ReadonlySet<number> = NO_SSRCS;
  /**
   * Rings of the SSRCs that sent through JavaScript. A stream whose packets never pass here (an SFU
   * consumer's leg, which the native engine sends and whose NACKs it answers, docs/sfu.md
   * "Retransmission") holds none, and its NACKs are not ours to answer or count.
   */
  private histories: ReadonlyMap<number, SendHistory> = NO_ENTRIES;
  /** RTX SSRC and next RTX sequence number per media SSRC. */
  private rtx: ReadonlyMap<number, { ssrc: number; sequence: number }> = NO_ENTRIES;
  private readonly rtt: RoundTripTimeTracker;
  private tokens: number;
  private tokensAt = 0;
  private readonly o: Required<Omit<NackResponderOptions, 'wallClockOffsetMs' | 'rng'>>;
  private readonly rng: Rng | undefined;
  /** Counters per media SSRC: NACK packets received, packets asked for, retransmitted, not found, rate-limited. */
  private counters: ReadonlyMap<number, StreamCounters> = NO_ENTRIES;

  constructor(options: NackResponderOptions = {}) {
    this.o = {
      historySize: options.historySize ?? 1024,
      maxPacketSize: options.maxPacketSize ?? 1500,
      maxBitrate: options.maxBitrate ?? 3_000_000,
      maxAgeMs: options.maxAgeMs ?? 1000,
    };
    this.tokens = this.bucketSize();
    this.rtt = new RoundTripTimeTracker(options.wallClockOffsetMs);
    this.rng = options.rng;
  }

  rtcpFeedback(kind: MediaKind): readonly SdpRtcpFeedback[] {
    return kind === 'video' ? [RtcpFeedback.nack] : [];
  }

  /**
   * Generic NACK packets about a stream a native engine sends that the engine consumed and answered
   * itself (lib/sfu: they never reach incomingRtcp) count as received here too, so the stream's
   * outbound-rtp nackCount stays complete (what the engine resent is in its own counters).
   */
  nativeTotals(_now: number, totals: NativeStreamTotals): void {
    for (let i = 0; i < totals.sent.length; i++) {
      const t = totals.sent[i]!;
      const n = t.remote?.nackPackets ?? 0;
      if (n === 0) continue;
      const c = this.counter(t.ssrc);
      // A smaller total: the engine's counter started again; count what it has now.
      if (n < c.nativeNacks) c.nativeNacks = 0;
      c.nacks += n - c.nativeNacks;
      c.nativeNacks = n;
    }
  }

  configure(_now: number, params: RtpPolicyParameters): void {
    this.params = params;
    // Without negotiated NACK nobody will ask: keep no history (and copy nothing per packet).
    if (!params.rtcpFeedback.has('nack')) {
      this.kept = NO_SSRCS;
      this.histories = NO_ENTRIES;
      return;
    }
    for (const s of params.sendStreams) {
      if (!this.kept.has(s.ssrc)) {
        if (this.kept === NO_SSRCS) this.kept = new Set();
        (this.kept as Set<number>).add(s.ssrc);
      }
      if (s.rtxSsrc !== undefined && params.sendCodec?.rtxPayloadType !== undefined && !this.rtx.has(s.ssrc)) {
        if (this.rtx === NO_ENTRIES) this.rtx = new Map();
        (this.rtx as Map<number, { ssrc: number; sequence: number }>).set(s.ssrc, { ssrc: s.rtxSsrc, sequence: (this.rng?.uint32() ?? 0) & 0x7fff });
      }
    }
  }

  outgoingRtp(now: number, batch: RtpPacketBatch): void {
    // No history without negotiated NACK (audio, or a remote that did not accept it): no lookup per packet.
    if (this.kept.size === 0) return;
    for (let i = 0; i < batch.count; i++) {
      if ((batch.flags[i]! & RtpPacketFlags.RETRANSMISSION) !== 0) continue;
      const length = batch.lengths[i]!;
      if (length > this.o.maxPacketSize) continue;
      const h = this.histories.get(batch.ssrc[i]!) ?? this.history(batch.ssrc[i]!);
      if (!h) continue;
      const seq = batch.sequenceNumber[i]!;
      const k = seq % h.size;
      const off = batch.offsets[i]!;
      batch.data.copy(h.data, k * h.slot, off, off + length);
      h.seqs[k] = seq;
      h.lengths[k] = length;
      h.sentAt[k] = now;
      h.resentAt[k] = -Infinity;
    }
  }

  incomingRtcp(now: number, packets: readonly RtcpPacket[], out: RtpPolicyOutput): void {
    this.rtt.onRtcp(now, packets);
    for (let i = 0; i < packets.length; i++) {
      const p = packets[i]!;
      if (p.kind !== 'nack') continue;
      const h = this.histories.get(p.mediaSsrc);
      if (!h) continue;
      const c = this.counter(p.mediaSsrc);
      c.nacks++;
      for (const seq of p.lostSequenceNumbers()) {
        c.requested++;
        this.resend(now, p.mediaSsrc, h, seq, c, out);
      }
    }
  }

  private resend(now: number, ssrc: number, h: SendHistory, seq: number, c: { resent: number; missing: number; limited: number }, out: RtpPolicyOutput): void {
    const k = seq % h.size;
    if (h.seqs[k] !== seq || now - h.sentAt[k]! > this.o.maxAgeMs) {
      c.missing++;
      return;
    }
    // Once per resend interval (RTT + 5 ms, 20 ms..1 s, 100 ms unmeasured): a NACK repeated before
    // our answer could arrive asks for nothing new (docs/policy.md "Resend interval").
    if (now - h.resentAt[k]! < resendIntervalMs(this.rtt.latestMs)) return;
    const length = h.lengths[k]!;
    this.refill(now);
    if (this.tokens < length * 8) {
      c.limited++;
      return;
    }
    this.tokens -= length * 8;
    h.resentAt[k] = now;
    const original = h.data.subarray(k * h.slot, k * h.slot + length);
    const rtx = this.rtx.get(ssrc);
    const pt = this.params?.sendCodec?.rtxPayloadType;
    if (rtx && pt !== undefined) {
      const packet = wrapRtxBytes(original, rtx.ssrc, pt, rtx.sequence);
      if (!packet) {
        c.missing++;
        return;
      }
      rtx.sequence = (rtx.sequence + 1) & 0xffff;
      out.sendRtp(packet, true);
    } else {
      out.sendRtp(original, true);
    }
    c.resent++;
  }

  /** Makes the ring of a kept SSRC at its first packet; undefined for an SSRC not kept. */
  private history(ssrc: number): SendHistory | undefined {
    if (!this.kept.has(ssrc)) return undefined;
    const h = new SendHistory(this.o.historySize, this.o.maxPacketSize);
    if (this.histories === NO_ENTRIES) this.histories = new Map();
    (this.histories as Map<number, SendHistory>).set(ssrc, h);
    return h;
  }

  /** Bytes held by the send histories (packet copies and per-slot state); 0 until a kept SSRC sends. */
  get historyBytes(): number {
    let bytes = 0;
    for (const h of this.histories.values()) bytes += h.data.length + h.seqs.byteLength + h.lengths.byteLength + h.sentAt.byteLength + h.resentAt.byteLength;
    return bytes;
  }

  private bucketSize(): number {
    return Math.max(this.o.maxBitrate / 10, this.o.maxPacketSize * 8 * 4);
  }

  private refill(now: number): void {
    const elapsed = now - this.tokensAt;
    if (elapsed > 0) this.tokens = Math.min(this.bucketSize(), this.tokens + (elapsed * this.o.maxBitrate) / 1000);
    this.tokensAt = now;
  }

  private counter(ssrc: number): StreamCounters {
    let c = this.counters.get(ssrc);
    if (!c) {
      c = { nacks: 0, requested: 0, resent: 0, missing: 0, limited: 0, nativeNacks: 0 };
      if (this.counters === NO_ENTRIES) this.counters = new Map();
      (this.counters as Map<number, StreamCounters>).set(ssrc, c);
    }
    return c;
  }

  collectStats(stats: RtpPolicyStatsCollector): void {
    for (const [ssrc, c] of this.counters) {
      stats.outbound(ssrc, { nackCount: c.nacks, pwtNackRequested: c.requested, pwtNackNotInHistory: c.missing, pwtNackRateLimited: c.limited });
    }
  }
}

/**
 * The RTX form of a serialized packet (RFC 4588 §4): same header (extensions kept), SSRC, payload
 * type and sequence number of the RTX stream, the original sequence number before the payload,
 * padding removed. Null when the header is inconsistent.
 */
export function wrapRtxBytes(original: Buffer, ssrc: number, payloadType: number, sequence: number): Buffer | null {
  if (original.length < 12) return null;
  const cc = original[0]! & 0x0f;
  let header = 12 + cc * 4;
  if ((original[0]! & 0x10) !== 0) {
    if (header + 4 > original.length) return null;
    header += 4 + original.readUInt16BE(header + 2) * 4;
  }
  let end = original.length;
  if ((original[0]! & 0x20) !== 0) end -= original[end - 1]!;
  if (header > end) return null;
  const out = Buffer.allocUnsafe(end + 2);
  original.copy(out, 0, 0, header);
  out[0] = out[0]! & ~0x20;
  out[1] = (out[1]! & 0x80) | (payloadType & 0x7f);
  out.writeUInt16BE(sequence & 0xffff, 2);
  out.writeUInt32BE(ssrc >>> 0, 8);
  out[header] = original[2]!;
  out[header + 1] = original[3]!;
  original.copy(out, header + 2, header, end);
  return out;
}
