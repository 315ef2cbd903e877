// Send history of the bandwidth estimator and the matching of feedback against it: transport-cc
// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1) by transport-wide sequence number,
// and RFC 8888 §3.1 congestion control feedback by (SSRC, RTP sequence number). docs/policy.md,
// "Bandwidth estimator".
import { TwccStatus, type RtcpTransportCcFeedback } from '../rtp/rtcp/transport-cc-feedback.js';
import type { RtcpCongestionControlFeedback } from '../rtp/rtcp/congestion-control-feedback.js';

/** A sent packet as the estimator remembers it. */
export interface SentPacketInfo {
  /** 16-bit transport-wide sequence number stamped on it (transport-cc), if any. */
  transportSeq?: number;
  /** SSRC and RTP sequence number (RFC 8888 feedback), if known. */
  ssrc?: number;
  rtpSeq?: number;
  /** Bytes on the wire that the estimate is about (RTP packet with header). */
  size: number;
}

/** A sent packet the receiver reported as received, with both times. */
export interface PacketFeedback {
  sendTimeMs: number;
  /** Arrival in the receiver's clock (arbitrary offset), ms; undefined when the report gave no time. */
  arrivalTimeMs: number | undefined;
  size: number;
}

/** What one feedback packet taught. */
export interface FeedbackResult {
  /** Packets newly reported received, in arrival order (those with a time first, by time). */
  received: PacketFeedback[];
  /** Packets newly reported lost (net of earlier losses now reported received). */
  lost: number;
  /** Sequence numbers reported that the history does not hold (too old, never sent). */
  unknown: number;
  /** Send time of the newest packet this feedback covers, for the feedback round-trip time. */
  newestSendTimeMs: number | undefined;
}

interface Entry {
  sendTimeMs: number;
  size: number;
  transportKey: number | undefined;
  rtpKey: number | undefined;
  /** 0 not reported yet, 1 reported lost, 2 reported received. */
  reported: 0 | 1 | 2;
}

const REF_UNITS = 1 << 24;

/** Bounded history of sent packets, matched against feedback. */
export class SendHistory {
  private readonly byTransport = new Map<number, Entry>();
  private readonly byRtp = new Map<number, Entry>();
  private readonly order: Entry[] = [];
  private head = 0;
  private lastTransport: number | undefined;
  private readonly lastRtp = new Map<number, number>();
  private lastRef: number | undefined;
  private lastUnwrappedRef = 0;
  private lastCcfbTs: number | undefined;
  private lastUnwrappedCcfbTs = 0;

  /** `maxAgeMs`: packets older than this are forgotten (feedback for them counts as unknown). */
  constructor(private readonly maxAgeMs = 10_000) {}

  /** Packets held. */
  get size(): number {
    return this.order.length - this.head;
  }

  /** Records a packet leaving at `nowMs`. */
  onPacketSent(nowMs: number, info: SentPacketInfo): void {
    this.expire(nowMs);
    const e: Entry = { sendTimeMs: nowMs, size: info.size, transportKey: undefined, rtpKey: undefined, reported: 0 };
    if (info.transportSeq !== undefined) {
      const key = unwrap16(this.lastTransport, info.transportSeq);
      this.lastTransport = Math.max(this.lastTransport ?? key, key);
      e.transportKey = key;
      this.byTransport.set(key, e);
    }
    if (info.ssrc !== undefined && info.rtpSeq !== undefined) {
      const seq = unwrap16(this.lastRtp.get(info.ssrc), info.rtpSeq);
      this.lastRtp.set(info.ssrc, Math.max(this.lastRtp.get(info.ssrc) ?? seq, seq));
      e.rtpKey = rtpKey(info.ssrc, seq);
      this.byRtp.set(e.rtpKey, e);
    }
    this.order.push(e);
  }

  /** Matches a transport-cc feedback packet. */
  onTransportCc(fb: RtcpTransportCcFeedback): FeedbackResult {
    const out: FeedbackResult = { received: [], lost: 0, unknown: 0, newestSendTimeMs: undefined };
    if (this.lastTransport === undefined) {
      out.unknown = fb.packetStatusCount;
      return out;
    }
    // Reference time: 24 bits of 64 ms; unwrap so arrival times keep increasing across wraps.
    const ref = fb.referenceTime;
    if (this.lastRef === undefined) this.lastUnwrappedRef = ref;
    else this.lastUnwrappedRef += ((ref - this.lastRef + REF_UNITS * 1.5) % REF_UNITS) - REF_UNITS / 2;
    this.lastRef = ref;
    const base = unwrap16(this.lastTransport, fb.baseSequenceNumber);
    // Walk the status chunks and deltas in place (no object per reported packet): a hostile
    // feedback may claim 65535 statuses, and only those the history holds are looked up.
    const count = fb.packetStatusCount;
    const lo = this.oldestTransport();
    const hi = this.lastTransport;
    let tUs = this.lastUnwrappedRef * 64_000;
    let d = 0;
    let i = 0;
    for (const c of fb.chunks) {
      const n = c.type === 'run-length' ? c.runLength : c.symbols.length;
      for (let k = 0; k < n && i < count; k++, i++) {
        const status = c.type === 'run-length' ? c.status : c.symbols[k]!;
        let arrivalMs: number | null;
        if (status === TwccStatus.SMALL_DELTA || status === TwccStatus.LARGE_DELTA) {
          tUs += (fb.recvDeltas[d++] ?? 0) * 250;
          arrivalMs = tUs / 1000;
        } else if (status === TwccStatus.RECEIVED_WITHOUT_DELTA) {
          arrivalMs = tUs / 1000;
        } else {
          arrivalMs = null;
        }
        const seq = base + i;
        if (seq < lo || seq > hi) {
          out.unknown++;
          continue;
        }
        this.account(out, this.byTransport.get(seq), arrivalMs);
      }
      if (i >= count) break;
    }
    // Statuses the chunks do not cover are unknown, as the parser reports them.
    if (i < count) out.unknown += count - i;
    sortByArrival(out.received);
    return out;
  }

  /** Matches an RFC 8888 congestion control feedback packet. */
  onCongestionControlFeedback(fb: RtcpCongestionControlFeedback): FeedbackResult {
    const out: FeedbackResult = { received: [], lost: 0, unknown: 0, newestSendTimeMs: undefined };
    // Report timestamp: middle 32 bits of NTP (16.16 seconds); unwrap across its 18-hour wrap.
    const ts = fb.reportTimestamp;
    if (this.lastCcfbTs === undefined) this.lastUnwrappedCcfbTs = ts;
    else this.lastUnwrappedCcfbTs += ((ts - this.lastCcfbTs + 2 ** 32 * 1.5) % 2 ** 32) - 2 ** 31;
    this.lastCcfbTs = ts;
    const reportMs = (this.lastUnwrappedCcfbTs / 65536) * 1000;
    for (const block of fb.reports) {
      const last = this.lastRtp.get(block.ssrc);
      if (last === undefined) {
        out.unknown += block.metrics.length;
        continue;
      }
      const begin = unwrap16(last, block.beginSequence);
      block.metrics.forEach((m, i) => {
        const e = this.byRtp.get(rtpKey(block.ssrc, begin + i));
        if (!m.received) this.account(out, e, null);
        else this.account(out, e, m.arrivalTimeOffset === 0x1fff ? undefined : reportMs - (m.arrivalTimeOffset * 1000) / 1024);
      });
    }
    sortByArrival(out.received);
    return out;
  }

  // `arrivalMs`: null lost, undefined received without a time, else the arrival time.
  private account(out: FeedbackResult, e: Entry | undefined, arrivalMs: number | null | undefined): void {
    if (e === undefined) {
      out.unknown++;
      return;
    }
    if (out.newestSendTimeMs === undefined || e.sendTimeMs > out.newestSendTimeMs) out.newestSendTimeMs = e.sendTimeMs;
    if (arrivalMs === null) {
      if (e.reported === 0) {
        e.reported = 1;
        out.lost++;
      }
      return;
    }
    if (e.reported === 2) return;
    if (e.reported === 1) out.lost--;
    e.reported = 2;
    out.received.push({ sendTimeMs: e.sendTimeMs, arrivalTimeMs: arrivalMs, size: e.size });
  }

  // Unwrapped transport-wide number of the oldest packet held (Infinity when none).
  private oldestTransport(): number {
    for (let k = this.head; k < this.order.length; k++) {
      const key = this.order[k]!.transportKey;
      if (key !== undefined) return key;
    }
    return Infinity;
  }

  private expire(nowMs: number): void {
    const limit = nowMs - this.maxAgeMs;
    while (this.head < this.order.length && this.order[this.head]!.sendTimeMs < limit) {
      const e = this.order[this.head]!;
      if (e.transportKey !== undefined) this.byTransport.delete(e.transportKey);
      if (e.rtpKey !== undefined) this.byRtp.delete(e.rtpKey);
      this.head++;
    }
    if (this.head > 4096 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
  }
}

/** The unwrapped value of a 16-bit counter closest to `last` (RFC 3550 §A.1 style extension). */
export function unwrap16(last: number | undefined, value: number): number {
  if (last === undefined) return value;
  const diff = ((value - last + 0x18000) % 0x10000) - 0x8000;
  return last + diff;
}

function rtpKey(ssrc: number, unwrappedSeq: number): number {
  // SSRC in the high bits, a generous unwrapped sequence range below; exact in a double (< 2^53).
  return ssrc * 2 ** 20 + (unwrappedSeq & 0xfffff);
}

function sortByArrival(list: PacketFeedback[]): void {
  list.sort((a, b) => (a.arrivalTimeMs ?? Infinity) - (b.arrivalTimeMs ?? Infinity) || a.sendTimeMs - b.sendTimeMs);
}
