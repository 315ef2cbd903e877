// RTCP reporter (RFC 3550 §6): SR with the NTP/RTP mapping for what we send (§6.4.1), RR blocks
// with fraction and cumulative loss, extended highest sequence number, interarrival jitter and
// LSR/DLSR (§6.4.1, §A.1, §A.3, §A.8), SDES CNAME (§6.5.1), BYE on stop (§6.6), randomized report
// intervals (§6.3, §A.7) with timer reconsideration (§6.3.6), reverse reconsideration when a source
// leaves (§6.3.4) and BYE reconsideration past 50 members (§6.3.7); round-trip time from the blocks
// the remote sends about us (§6.4.1); for a receive-only transceiver, RTT from RTCP XR (RFC 3611
// §4.4 RRTR sent with its RRs, §4.5 DLRR answered by the sender) when `rcvr-rtt` was negotiated.
// Sans-I/O (docs/policy.md): the wall clock is `now + wallClockOffsetMs`, randomness an injected Rng.
import { DOUBLE_ZERO } from '../common/double-zero.js';
import type { Rng } from '../common/rng.js';
import type { MediaKind } from '../peer/media-stream-track.js';
import {
  RtpPacketFlags,
  type RtpPacketBatch,
  type RtpPolicy,
  type RtpPolicyOutput,
  type RtpPolicyParameters,
  type RtpPolicyStatsCollector,
  type NativeStreamTotals,
  type NativeDlrrItem,
  type NativeSenderReporter,
} from '../peer/rtp-policy.js';
import { rtcpByteLength, type RtcpPacket } from '../rtp/rtcp/compound.js';
import { RtcpExtendedReport, type XrDlrrItem } from '../rtp/rtcp/extended-report.js';
import { RtcpGoodbye } from '../rtp/rtcp/goodbye.js';
import { ntpFromUnixMs, ntpMiddle32, ntpMiddle32FromUnixMs, ntpToUnixMs, roundTripTimeMsAt } from '../rtp/rtcp/ntp-time.js';
import { RtcpReceiverReport } from '../rtp/rtcp/receiver-report.js';
import type { RtcpReportBlock } from '../rtp/rtcp/report-block.js';
import { RtcpSenderReport } from '../rtp/rtcp/sender-report.js';
import { RtcpSourceDescription } from '../rtp/rtcp/source-description.js';
import { rtcpIntervalMs, type RtcpIntervalInput } from './rtcp-interval.js';
import { NO_ENTRIES } from '../common/no-entries.js';

/** Options of {@link RtcpReporter}. */
export interface RtcpReporterOptions {
  /** Randomizes report intervals (RFC 3550 §6.3.1). */
  rng: Rng;
  /** Unix ms minus the `now` clock: SR NTP timestamps are `now + wallClockOffsetMs`. */
  wallClockOffsetMs: number;
  /** Minimum report interval Tmin (default 1000 ms for video, 5000 ms for audio, as libwebrtc). */
  minIntervalMs?: number;
}

/** Remote sources (SSRCs) one reporter keeps at most (bounds hostile input). */
export const MAX_REPORTED_SOURCES = 64;
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
/** RFC 3550 §6.3.7: with more members than this, a leaving participant delays its BYE. */
const BYE_IMMEDIATE_MEMBERS = 50;
/** IP + UDP header bytes added to an RTCP packet's size for the average (RFC 3550 §6.3.2). */
const HEADER_OVERHEAD = 28;
/** What buildReport returns when there is nothing to report: one shared empty list, never modified. */
const NO_REPORT: RtcpPacket[] = [];
/** The interval's input, filled in place by RtcpReporter.interval before each rtcpIntervalMs call. */
const INTERVAL_INPUT: { -readonly [K in keyof RtcpIntervalInput]: RtcpIntervalInput[K] } = {
  members: 1, senders: 0, weSent: false, rtcpBytesPerSecond: 0, averageRtcpSize: 0, initial: false, minIntervalMs: 0,
};

interface SendState {
  readonly ssrc: number;
  packets: number;
  octets: number;
  lastRtpTimestamp: number;
  lastSentAt: number;
  /** Packets sent since the report before the last one (a "sender" in RFC 3550 §6.3.8 terms). */
  recent: number;
  previous: number;
  /** What the remote reports about this stream: apart, so that its first report leaves this record's shape (read per packet) as it is. */
  readonly remote: RemoteReceptionState;
  /** Native engine totals already counted (nativeTotals gives totals, the counts above add deltas). */
  nativePackets: number;
  nativePayloadBytes: number;
  nativeBytes: number;
  /** The engine that sends this stream's SR itself when it is the report's only content (docs/policy.md). */
  nativeReporter: NativeSenderReporter | undefined;
  /**
   * The engine reads the remote's report blocks about this stream (also those of compounds that reach
   * us), so its values are the remote-inbound ones and readBlocks leaves them alone (docs/sfu.md).
   */
  nativeRemote: boolean;
  /**
   * The NTP middle 32 bits of the last SRs about this stream built here (a ring of
   * JS_SR_LOG): a block whose LSR names one reached us because the engine cannot measure its RTT,
   * so readBlocks measures it even when `nativeRemote`. Made by the first SR built here.
   */
  jsSrs: number[] | undefined;
  jsSrNext: number;
  /** The engine's RTT sum (s) and count already added to `remote` (nativeTotals adds its deltas). */
  nativeRttTotal: number;
  nativeRttMeasurements: number;
}

/** How many SRs built in JavaScript a stream remembers for the LSR check of readBlocks. */
const JS_SR_LOG = 4;

/** What the remote reports about one of our streams (remote-inbound-rtp). */
interface RemoteReceptionState {
  block: { fractionLost: number; packetsLost: number; jitter: number; highest: number; reports: number } | undefined;
  roundTripTime: number | undefined;
  totalRoundTripTime: number;
  roundTripTimeMeasurements: number;
}

/** The last SR heard from a remote source (LSR/DLSR, remote-outbound-rtp). */
interface RemoteSenderReportState {
  lastSr: number;
  lastSrAt: number;
  sr: { packetsSent: number; bytesSent: number; remoteTimestamp: number; reports: number } | undefined;
  /** RTT from the DLRR blocks this source sent about our RRTRs (RFC 3611 §4.5), seconds. */
  roundTripTime: number | undefined;
  totalRoundTripTime: number;
  roundTripTimeMeasurements: number;
}

interface SourceState {
  readonly ssrc: number;
  clockRate: number;
  baseSeq: number;
  maxSeq: number;
  badSeq: number;
  cycles: number;
  received: number;
  expectedPrior: number;
  receivedPrior: number;
  transit: number;
  hasTransit: boolean;
  /** Interarrival jitter in timestamp units, scaled by 16 (RFC 3550 §A.8 integer form). */
  jitter16: number;
  heardSinceReport: boolean;
  /** Apart, so that the first SR leaves this record's shape (read per packet) as it is. */
  readonly senderReport: RemoteSenderReportState;
  /** Bytes of the native engine's totals already counted. */
  nativeBytes: number;
}

/** See the file header. Transceiver scope. */
export class RtcpReporter implements RtpPolicy {
  readonly name = 'rtcp-reporter';
  private params: RtpPolicyParameters | undefined;
  // The three tables are the shared empty one until a first entry (lib/common/no-entries.ts).
  private sends: ReadonlyMap<number, SendState> = NO_ENTRIES;
  private sources: ReadonlyMap<number, SourceState> = NO_ENTRIES;
  private nextReportAt: number | undefined;
  private initial = true;
  /**
   * Interval state that becomes fractional, apart from the fields the per-packet hooks read:
   * avg_rtcp_size, tp (the last report's time, or when we joined) and pmembers (RFC 3550 §6.3).
   */
  private readonly average = { rtcpSize: 100, lastReportAt: 0, previousMembers: 1 };
  /** BYE reconsideration (RFC 3550 §6.3.7): the BYE compound packet waiting, members counted since. */
  private leaving: { readonly report: RtcpPacket[]; readonly size: number; members: number } | undefined;
  private bytesSinceReport = DOUBLE_ZERO;
  // The stream and payload type of the previous packet (a Map lookup per change, not per packet).
  private lastSend: SendState | undefined;
  private lastSource: SourceState | undefined;
  private lastPayloadType = -1;
  private lastClockRate = 0;
  private stopped = false;
  /** RRTRs (RFC 3611 §4.4) heard since our last report, by sender SSRC: answered with one DLRR item each. */
  private receiverReferenceTimes: ReadonlyMap<number, { lastRr: number; at: number }> = NO_ENTRIES;
  /** takeNativeReceiverReferenceTimes' out record (made on first use). */
  private nativeDlrr: NativeDlrrItem | undefined;
  // Hints that let the report timer of an idle connection skip walking the tables (no iterator,
  // no array: docs/architecture.md, "Idle allocation"): false means no stream has sent a packet
  // yet, resp. no source was heard since the last report; true only means "look".
  private anySent = false;
  private anyHeard = false;
  /** Reports sent, and sources refused because the table was full. */
  readonly counters = { reportsSent: 0, sourcesRefused: 0, malformedReports: 0, reportsReconsidered: 0, reportsSentNatively: 0 };
  /** Bytes of the report the last buildReport handed to a native reporter (0: none). */
  private nativeReportBytes = 0;
  /** UTF-8 bytes of params.cname, and the cname they were counted for. */
  private cnameBytes = 0;
  private cnameCounted: string | undefined;

  constructor(private readonly kind: MediaKind | undefined, private readonly options: RtcpReporterOptions) {}

  private ownSends(): Map<number, SendState> {
    if (this.sends === NO_ENTRIES) this.sends = new Map();
    return this.sends as Map<number, SendState>;
  }

  private ownSources(): Map<number, SourceState> {
    if (this.sources === NO_ENTRIES) this.sources = new Map();
    return this.sources as Map<number, SourceState>;
  }

  private ownReceiverReferenceTimes(): Map<number, { lastRr: number; at: number }> {
    if (this.receiverReferenceTimes === NO_ENTRIES) this.receiverReferenceTimes = new Map();
    return this.receiverReferenceTimes as Map<number, { lastRr: number; at: number }>;
  }

  /** RRTR/DLRR (RFC 3611 §4.4, §4.5): `a=rtcp-xr:rcvr-rtt=all` is offered and accepted. */
  receiverRtt(): boolean {
    return true;
  }

  configure(now: number, params: RtpPolicyParameters): void {
    this.params = params;
    this.lastPayloadType = -1;
    for (const s of params.sendStreams) {
      if (!this.sends.has(s.ssrc)) {
        this.ownSends().set(s.ssrc, {
          ssrc: s.ssrc, packets: 0, octets: DOUBLE_ZERO, lastRtpTimestamp: DOUBLE_ZERO, lastSentAt: now, recent: 0, previous: 0,
          remote: { block: undefined, roundTripTime: undefined, totalRoundTripTime: 0, roundTripTimeMeasurements: 0 },
          nativePackets: 0, nativePayloadBytes: DOUBLE_ZERO, nativeBytes: DOUBLE_ZERO, nativeReporter: undefined, nativeRemote: false,
          jsSrs: undefined, jsSrNext: 0, nativeRttTotal: 0, nativeRttMeasurements: 0,
        });
      }
    }
    if (this.nextReportAt === undefined && !this.stopped) {
      // Joining: tp = tc (RFC 3550 §6.3.2), so the first interval is measured from here.
      this.average.lastReportAt = now;
      this.nextReportAt = now + this.interval(now);
    }
  }

  outgoingRtp(now: number, batch: RtpPacketBatch): void {
    for (let i = 0; i < batch.count; i++) {
      const ssrc = batch.ssrc[i]!;
      // The stream of the previous packet first: one Map lookup per stream change, not per packet.
      let s = this.lastSend;
      if (s === undefined || s.ssrc !== ssrc) {
        s = this.sends.get(ssrc);
        if (!s) continue;
        this.lastSend = s;
      }
      s.packets++;
      this.anySent = true;
      s.octets += batch.payloadLength[i]!;
      s.recent++;
      s.lastRtpTimestamp = batch.timestamp[i]!;
      s.lastSentAt = now;
      this.bytesSinceReport += batch.lengths[i]!;
    }
  }

  incomingRtp(now: number, batch: RtpPacketBatch): void {
    const rates = this.params?.receiveClockRates;
    for (let i = 0; i < batch.count; i++) {
      const ssrc = batch.ssrc[i]!;
      const seq = batch.sequenceNumber[i]!;
      this.bytesSinceReport += batch.lengths[i]!;
      let s = this.lastSource;
      if (s === undefined || s.ssrc !== ssrc) {
        s = this.sources.get(ssrc);
        if (!s) {
          if (this.sources.size >= MAX_REPORTED_SOURCES) {
            this.counters.sourcesRefused++;
            continue;
          }
          s = newSource(ssrc, seq);
          this.ownSources().set(ssrc, s);
        }
        this.lastSource = s;
      }
      if (!updateSequence(s, seq)) continue;
      s.heardSinceReport = true;
      this.anyHeard = true;
      if ((batch.flags[i]! & RtpPacketFlags.RETRANSMISSION) !== 0) continue;
      // Interarrival jitter (RFC 3550 §6.4.1, §A.8) in the payload's timestamp units.
      const pt = batch.payloadType[i]!;
      if (pt !== this.lastPayloadType) {
        this.lastPayloadType = pt;
        this.lastClockRate = rates?.get(pt) ?? 0;
      }
      const rate = this.lastClockRate;
      if (rate === 0) continue;
      s.clockRate = rate;
      const arrival = Math.floor((now * rate) / 1000);
      const transit = (arrival - batch.timestamp[i]!) | 0;
      if (s.hasTransit) {
        let d = (transit - s.transit) | 0;
        if (d < 0) d = -d;
        s.jitter16 += d - ((s.jitter16 + 8) >> 4);
      }
      s.transit = transit;
      s.hasTransit = true;
    }
  }

  /**
   * Streams the native forwarding engine moves (lib/sfu): a consumer leg's sends count as ours (its
   * SR maps the last rewritten timestamp to its send time), a producer's §A.1/§A.8 state replaces
   * what incomingRtp would have computed from the packets JavaScript never saw.
   */
  nativeTotals(_now: number, totals: NativeStreamTotals): void {
    // Index loops: no iterator per report tick (docs/sfu.md "Per-leg periodic work").
    const sent = totals.sent;
    for (let i = 0; i < sent.length; i++) {
      const t = sent[i]!;
      const s = this.sends.get(t.ssrc);
      if (!s) continue;
      s.nativeReporter = t.reporter;
      const r = t.remote;
      if (r !== undefined) {
        s.nativeRemote = true;
        if (r.reports > 0) {
          const remote = s.remote;
          const block = (remote.block ??= { fractionLost: 0, packetsLost: 0, jitter: 0, highest: 0, reports: 0 });
          block.fractionLost = r.fractionLost;
          block.packetsLost = r.packetsLost;
          block.jitter = r.jitter;
          block.highest = r.extendedHighestSequence;
          block.reports = r.reports;
          // The engine's RTTs are added to those measured here (blocks whose LSR names an SR built
          // in JavaScript, readBlocks): by their deltas, so neither overwrites the other.
          if (r.roundTripTimeMeasurements < s.nativeRttMeasurements) {
            s.nativeRttMeasurements = 0;
            s.nativeRttTotal = 0;
          }
          const measured = r.roundTripTimeMeasurements - s.nativeRttMeasurements;
          if (measured > 0) {
            if (r.roundTripTime !== undefined) remote.roundTripTime = r.roundTripTime;
            remote.totalRoundTripTime += r.totalRoundTripTime - s.nativeRttTotal;
            remote.roundTripTimeMeasurements += measured;
            s.nativeRttTotal = r.totalRoundTripTime;
            s.nativeRttMeasurements = r.roundTripTimeMeasurements;
          }
        }
      }
      if (t.lastSentAt === undefined) continue;
      const packets = t.packets - s.nativePackets;
      if (packets <= 0) continue;
      s.packets += packets;
      this.anySent = true;
      s.recent += packets;
      s.octets += t.payloadBytes - s.nativePayloadBytes;
      this.bytesSinceReport += t.bytes - s.nativeBytes;
      s.nativePackets = t.packets;
      s.nativePayloadBytes = t.payloadBytes;
      s.nativeBytes = t.bytes;
      s.lastRtpTimestamp = t.lastRtpTimestamp >>> 0;
      s.lastSentAt = t.lastSentAt;
    }
    const received = totals.received;
    for (let i = 0; i < received.length; i++) {
      const r = received[i]!;
      if (r.received === 0) continue;
      let s = this.sources.get(r.ssrc);
      if (!s) {
        if (this.sources.size >= MAX_REPORTED_SOURCES) {
          this.counters.sourcesRefused++;
          continue;
        }
        s = newSource(r.ssrc, r.baseSequence);
        this.ownSources().set(r.ssrc, s);
      }
      if (r.received === s.received && r.bytes === s.nativeBytes) continue;
      this.bytesSinceReport += Math.max(0, r.bytes - s.nativeBytes);
      s.nativeBytes = r.bytes;
      s.baseSeq = r.baseSequence;
      s.maxSeq = r.extendedHighestSequence & 0xffff;
      s.cycles = r.extendedHighestSequence - s.maxSeq;
      s.received = r.received;
      s.heardSinceReport = true;
      this.anyHeard = true;
      if (r.clockRate > 0) {
        s.clockRate = r.clockRate;
        s.jitter16 = Math.round(r.jitter * 16);
      }
    }
  }

  incomingRtcp(now: number, packets: readonly RtcpPacket[], out: RtpPolicyOutput): void {
    // The average counts compound packets that carry a report (RFC 3550 §6.3.3); sizing every
    // feedback packet (a transport-cc one covers a thousand packets) would cost per media packet.
    if (packets.length > 0 && (packets[0]!.kind === 'sr' || packets[0]!.kind === 'rr')) {
      this.average.rtcpSize += (rtcpByteLength(packets) + HEADER_OVERHEAD - this.average.rtcpSize) / 16;
    }
    // Index loops: no iterator per received compound (docs/sfu.md "Per-leg periodic work").
    for (let i = 0; i < packets.length; i++) {
      const p = packets[i]!;
      if (p.kind === 'sr') {
        const s = this.sources.get(p.ssrc);
        if (s) {
          const r = s.senderReport;
          r.lastSr = ntpMiddle32(p.ntpTimestamp);
          r.lastSrAt = now;
          r.sr = { packetsSent: p.packetCount, bytesSent: p.octetCount, remoteTimestamp: ntpToUnixMs(p.ntpTimestamp), reports: (r.sr?.reports ?? 0) + 1 };
        }
        this.readBlocks(now, p.reports, out);
      } else if (p.kind === 'rr') {
        this.readBlocks(now, p.reports, out);
      } else if (p.kind === 'xr') {
        this.readExtendedReport(now, p, out);
      } else if (p.kind === 'bye') {
        if (this.leaving) {
          // While our BYE waits, only BYEs are counted, one member each (RFC 3550 §6.3.7).
          this.leaving.members++;
          continue;
        }
        for (const ssrc of p.sources) if (this.sources.has(ssrc)) this.ownSources().delete(ssrc);
        this.lastSource = undefined;
        this.reverseReconsider(now);
      }
    }
  }

  private readBlocks(now: number, blocks: readonly RtcpReportBlock[], out: RtpPolicyOutput): void {
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i]!;
      const s = this.sends.get(b.ssrc);
      if (!s) continue;
      const remote = s.remote;
      if (s.nativeRemote) {
        // The engine keeps this stream's remote-inbound values (nativeTotals); the RTT event still
        // goes out for the modules and lib/sfu that listen to it. An RTT against an SR built here
        // is one the engine could not measure (it does not know that SR): it is recorded here.
        const rtt = roundTripTimeMsAt(this.ntpMiddle32(now), b.lastSr, b.delaySinceLastSr);
        if (rtt === null) continue;
        const srs = s.jsSrs;
        if (srs !== undefined && srs.includes(b.lastSr)) {
          remote.roundTripTime = rtt / 1000;
          remote.totalRoundTripTime += rtt / 1000;
          remote.roundTripTimeMeasurements++;
        }
        out.emit('rtt', { ssrc: s.ssrc, roundTripTime: rtt / 1000 });
        continue;
      }
      // Updated in place (collectStats copies it): no object per report block.
      const block = (remote.block ??= { fractionLost: 0, packetsLost: 0, jitter: 0, highest: 0, reports: 0 });
      block.fractionLost = b.fractionLost / 256;
      block.packetsLost = b.cumulativeLost;
      block.jitter = b.jitter;
      block.highest = b.highestSequence;
      block.reports++;
      const rtt = roundTripTimeMsAt(this.ntpMiddle32(now), b.lastSr, b.delaySinceLastSr);
      if (rtt === null) continue;
      remote.roundTripTime = rtt / 1000;
      remote.totalRoundTripTime += rtt / 1000;
      remote.roundTripTimeMeasurements++;
      out.emit('rtt', { ssrc: s.ssrc, roundTripTime: rtt / 1000 });
    }
  }

  /**
   * RTCP XR (RFC 3611), only when `rcvr-rtt` was negotiated: an RRTR (§4.4) is kept to be answered
   * by a DLRR item in our next report; a DLRR item (§4.5) about our RRTRs gives the round-trip time
   * now − LRR − DLRR, kept for the source that sent it (remote-outbound-rtp).
   */
  private readExtendedReport(now: number, p: RtcpExtendedReport, out: RtpPolicyOutput): void {
    const params = this.params;
    if (params?.receiverRtt !== true) return;
    for (const b of p.blocks) {
      if (b.blockType === 4 && 'ntpTimestamp' in b) {
        if (!this.receiverReferenceTimes.has(p.ssrc) && this.receiverReferenceTimes.size >= MAX_REPORTED_SOURCES) {
          this.counters.sourcesRefused++;
          continue;
        }
        this.ownReceiverReferenceTimes().set(p.ssrc, { lastRr: ntpMiddle32(b.ntpTimestamp), at: now });
      } else if (b.blockType === 5 && 'items' in b) {
        for (const item of b.items) {
          if (item.ssrc !== params.localSsrc) continue;
          const rtt = roundTripTimeMsAt(this.ntpMiddle32(now), item.lastRr, item.delaySinceLastRr);
          const source = this.sources.get(p.ssrc);
          if (rtt === null || !source) continue;
          const r = source.senderReport;
          r.roundTripTime = rtt / 1000;
          r.totalRoundTripTime += rtt / 1000;
          r.roundTripTimeMeasurements++;
          out.emit('rtt', { ssrc: p.ssrc, roundTripTime: rtt / 1000 });
        }
      }
    }
  }

  /**
   * Reverse reconsideration (RFC 3550 §6.3.4): members left, so the next report and tp move closer
   * to now in the ratio members / pmembers.
   */
  private reverseReconsider(now: number): void {
    const members = 1 + this.sources.size;
    const a = this.average;
    if (members < a.previousMembers && this.nextReportAt !== undefined) {
      const ratio = members / a.previousMembers;
      this.nextReportAt = now + ratio * Math.max(0, this.nextReportAt - now);
      a.lastReportAt = now - ratio * Math.max(0, now - a.lastReportAt);
    }
    a.previousMembers = members;
  }

  timeout(now: number, out: RtpPolicyOutput): void {
    if (this.nextReportAt === undefined || now < this.nextReportAt) return;
    const a = this.average;
    if (this.leaving) {
      this.leave(now, out);
      return;
    }
    // Timer reconsideration (RFC 3550 §6.3.6): the interval again with what is known now; when
    // the group grew (or the bandwidth fell) since the timer was set, tp + T is still ahead and the
    // report waits until then instead of going out.
    const t = this.interval(now);
    if (a.lastReportAt + t > now) {
      this.nextReportAt = a.lastReportAt + t;
      a.previousMembers = 1 + this.sources.size;
      this.counters.reportsReconsidered++;
      return;
    }
    const report = this.buildReport(now, true);
    if (report.length > 0) {
      out.sendRtcp(report);
      this.counters.reportsSent++;
      this.average.rtcpSize += (rtcpByteLength(report) + HEADER_OVERHEAD - this.average.rtcpSize) / 16;
    } else if (this.nativeReportBytes > 0) {
      // The engine sends it at the end of this tick (NativeSenderReporter): counted as sent here.
      this.counters.reportsSent++;
      this.counters.reportsSentNatively++;
      this.average.rtcpSize += (this.nativeReportBytes + HEADER_OVERHEAD - this.average.rtcpSize) / 16;
      this.nativeReportBytes = 0;
    }
    this.initial = false;
    this.nextReportAt = now + this.interval(now);
    a.lastReportAt = now;
    a.previousMembers = 1 + this.sources.size;
    this.bytesSinceReport = DOUBLE_ZERO;
  }

  nextTimeout(): number | undefined {
    return this.nextReportAt;
  }

  /**
   * Sends SR/RR + SDES + BYE (RFC 3550 §6.6) at once when at most 50 members are known (§6.3.7
   * allows it); with more, BYE reconsideration (§6.3.7): the BYE waits as if we had just joined a
   * group made only of leaving members, so a mass departure does not flood the session. It then
   * goes out from `timeout`, which the transceiver's chain keeps running while the connection is
   * open (a connection that closes ends the wait: no BYE then).
   */
  stop(now: number, out: RtpPolicyOutput): void {
    if (this.stopped || !this.params) return;
    this.stopped = true;
    this.nextReportAt = undefined;
    const sent = [...this.sends.values()].filter((s) => s.packets > 0).map((s) => s.ssrc);
    if (sent.length === 0 && this.sources.size === 0) return;
    const members = 1 + this.sources.size;
    // The BYE goes in the same compound packet as the last report: built here, never by the engine.
    const built = this.buildReport(now, false);
    const report = built.length > 0 ? built : [new RtcpReceiverReport({ ssrc: this.params.localSsrc }), RtcpSourceDescription.cname(this.params.localSsrc, this.params.cname)];
    report.push(new RtcpGoodbye(sent.length > 0 ? sent : [this.params.localSsrc]));
    if (members <= BYE_IMMEDIATE_MEMBERS) {
      out.sendRtcp(report);
      return;
    }
    // §6.3.7: tp = tc, members = pmembers = 1, initial, not a sender, avg_rtcp_size = the BYE's size.
    this.leaving = { report, size: rtcpByteLength(report) + HEADER_OVERHEAD, members: 1 };
    this.average.lastReportAt = now;
    this.average.previousMembers = 1;
    this.nextReportAt = now + this.leavingInterval(now);
  }

  /** A BYE reconsideration deadline came: send the BYE if tp + T has passed (§6.3.6 rules), else wait. */
  private leave(now: number, out: RtpPolicyOutput): void {
    const leaving = this.leaving!;
    const a = this.average;
    const t = this.leavingInterval(now);
    if (a.lastReportAt + t > now) {
      this.nextReportAt = a.lastReportAt + t;
      this.counters.reportsReconsidered++;
      return;
    }
    out.sendRtcp(leaving.report);
    this.leaving = undefined;
    this.nextReportAt = undefined;
  }

  /** The interval of a leaving participant (RFC 3550 §6.3.7): BYEs counted as members, nobody a sender. */
  private leavingInterval(now: number): number {
    const leaving = this.leaving!;
    return rtcpIntervalMs({
      members: leaving.members, senders: 0, weSent: false, rtcpBytesPerSecond: this.rtcpBytesPerSecond(now),
      averageRtcpSize: leaving.size, initial: true, minIntervalMs: this.minIntervalMs(),
    }, this.options.rng.float());
  }

  /**
   * The compound report for now: SR per stream we send (else RR), report blocks, SDES CNAME; empty
   * (shared, never to be modified): nothing to report, or (`nativeReportBytes` > 0) handed to the
   * stream's native reporter, which `allowNative` permits when the report would be exactly one SR and
   * its SDES CNAME (no report blocks, no XR): a forwarding engine's consumer leg.
   */
  private buildReport(now: number, allowNative: boolean): RtcpPacket[] {
    const params = this.params;
    if (!params) return NO_REPORT;
    // Nothing ever sent, nothing heard since the last report and no RRTR to answer: the idle
    // connection's timer ends here without touching a table (nor the send counters: all are 0).
    let answers = params.receiverRtt === true && this.receiverReferenceTimes.size > 0;
    // (An RRTR the engine consumed for a stream it sends is answered in the SR it sends; a report
    // built here answers it instead: takeNativeReceiverReferenceTimes.)
    if (!this.anySent && !this.anyHeard && !answers && !(answers = this.takeNativeReceiverReferenceTimes(now))) return NO_REPORT;
    const blocks = this.reportBlocks(now);
    const clockRate = params.sendCodec?.clockRate;
    // An idle connection (nothing sent or heard) sends no report: found before any allocation,
    // as it is every few seconds per connection (docs/architecture.md, idle allocation).
    let senders = 0;
    let anyPackets = false;
    for (const s of this.sends.values()) {
      if (s.packets > 0) anyPackets = true;
      if (s.packets > 0 && (s.recent > 0 || s.previous > 0) && clockRate !== undefined) senders++;
    }
    if (allowNative && senders === 1 && blocks.length === 0 && !answers && this.queueNativeReport(now, clockRate!, params.cname)) {
      return NO_REPORT;
    }
    // Not the engine's SR: its pending RRTRs are answered here (an idle leg sends no native SR).
    if (!answers) answers = this.takeNativeReceiverReferenceTimes(now);
    if (senders === 0 && !answers && blocks.length === 0 && !anyPackets) {
      for (const s of this.sends.values()) {
        s.previous = s.recent;
        s.recent = 0;
      }
      return NO_REPORT;
    }
    const out: RtcpPacket[] = [];
    const ntp = this.ntp(now);
    const srMiddle32 = ntpMiddle32(ntp);
    const cnames: number[] = [];
    for (const s of this.sends.values()) {
      const sender = s.packets > 0 && (s.recent > 0 || s.previous > 0) && clockRate !== undefined;
      s.previous = s.recent;
      s.recent = 0;
      if (!sender) continue;
      // The RTP timestamp that corresponds to `now` on the stream's clock (RFC 3550 §6.4.1).
      const rtpTimestamp = (s.lastRtpTimestamp + Math.round(((now - s.lastSentAt) * clockRate) / 1000)) >>> 0;
      out.push(new RtcpSenderReport({
        ssrc: s.ssrc, ntpTimestamp: ntp, rtpTimestamp, packetCount: s.packets >>> 0, octetCount: s.octets >>> 0,
        reports: out.length === 0 ? blocks.splice(0, 31) : [],
      }));
      cnames.push(s.ssrc);
      // Its LSR, for readBlocks (a stream whose remote-inbound values the engine keeps).
      const srs = (s.jsSrs ??= new Array<number>(JS_SR_LOG).fill(0));
      srs[s.jsSrNext] = srMiddle32;
      s.jsSrNext = (s.jsSrNext + 1) % JS_SR_LOG;
    }
    if (out.length === 0) {
      // Nothing sent or heard: no report, unless RRTRs wait for their DLRR (RFC 3611 §4.5).
      if (!answers && blocks.length === 0 && !anyPackets) return NO_REPORT;
      out.push(new RtcpReceiverReport({ ssrc: params.localSsrc, reports: blocks.splice(0, 31) }));
      cnames.push(params.localSsrc);
    }
    const sdes = new RtcpSourceDescription(cnames.map((ssrc) => RtcpSourceDescription.cname(ssrc, params.cname).chunks[0]!));
    out.push(sdes);
    if (params.receiverRtt === true) {
      // RFC 3611: a report from a non-sender carries an RRTR (§4.4); RRTRs heard since the last
      // report are answered with DLRR items (§4.5), sent from the report's first SSRC.
      const xr = new RtcpExtendedReport(cnames[0]!);
      if (out[0]!.kind === 'rr') xr.blocks.push({ blockType: 4, ntpTimestamp: ntp });
      if (this.receiverReferenceTimes.size > 0) {
        const items: XrDlrrItem[] = [];
        for (const [ssrc, r] of this.receiverReferenceTimes) {
          items.push({ ssrc, lastRr: r.lastRr, delaySinceLastRr: Math.min(0xffffffff, Math.round(((now - r.at) / 1000) * 65536)) });
        }
        this.receiverReferenceTimes = NO_ENTRIES;
        xr.blocks.push({ blockType: 5, items });
      }
      if (xr.blocks.length > 0) out.push(xr);
    }
    return out;
  }

  /**
   * RRTRs (RFC 3611 §4.4) the native engine consumed for the streams it sends for us and has not
   * answered in an SR of its own (it sends one only while the leg forwards: not with the producer
   * closed or paused, the consumer paused, before the first packet), moved into
   * receiverReferenceTimes for this report's DLRR (§4.5): one native call per such stream, only
   * when `rcvr-rtt` was negotiated and the report is not the engine's. True when any is to answer.
   */
  private takeNativeReceiverReferenceTimes(now: number): boolean {
    if (this.params?.receiverRtt !== true || this.sends.size === 0) return false;
    let taken = false;
    for (const s of this.sends.values()) {
      const reporter = s.nativeReporter;
      if (reporter?.takeReceiverReferenceTime === undefined) continue;
      const item = (this.nativeDlrr ??= { ssrc: 0, lastRr: 0, delaySinceLastRr: 0 });
      if (!reporter.takeReceiverReferenceTime(item)) continue;
      const at = now - (item.delaySinceLastRr / 65536) * 1000;
      const known = this.receiverReferenceTimes.get(item.ssrc);
      // Only the receiver's last RRTR is answered: one JavaScript kept since is newer.
      if (known !== undefined && known.at >= at) {
        taken = true;
        continue;
      }
      if (known === undefined && this.receiverReferenceTimes.size >= MAX_REPORTED_SOURCES) {
        this.counters.sourcesRefused++;
        continue;
      }
      this.ownReceiverReferenceTimes().set(item.ssrc, { lastRr: item.lastRr >>> 0, at });
      taken = true;
    }
    return taken;
  }

  /**
   * The one sending stream's SR + SDES CNAME through its native reporter (RFC 3550 §6.4.1, §6.5.1,
   * built from the engine's counters, so that no report object is made here); true when queued,
   * with the send state moved on as buildReport does for a report it builds.
   */
  private queueNativeReport(now: number, clockRate: number, cname: string): boolean {
    let sender: SendState | undefined;
    for (const s of this.sends.values()) if (s.packets > 0 && (s.recent > 0 || s.previous > 0) && clockRate !== undefined) sender = s;
    const reporter = sender?.nativeReporter;
    if (!reporter || !reporter.queueSenderReport(now + this.options.wallClockOffsetMs, cname)) return false;
    for (const s of this.sends.values()) {
      s.previous = s.recent;
      s.recent = 0;
    }
    if (this.cnameCounted !== cname) {
      this.cnameCounted = cname;
      this.cnameBytes = Buffer.byteLength(cname, 'utf8');
    }
    // SR (28 bytes) + SDES header and one chunk: SSRC, CNAME item, null octets to 32 bits (§6.5).
    this.nativeReportBytes = 28 + 4 + ((4 + 2 + this.cnameBytes + 4) & ~3);
    return true;
  }

  /** One block per source heard since the last report (RFC 3550 §6.4.1, §A.3). */
  private reportBlocks(now: number): RtcpReportBlock[] {
    const blocks: RtcpReportBlock[] = [];
    if (this.sources.size === 0 || !this.anyHeard) return blocks;
    this.anyHeard = false;
    for (const s of this.sources.values()) {
      if (!s.heardSinceReport) continue;
      s.heardSinceReport = false;
      const extendedMax = s.cycles + s.maxSeq;
      const expected = extendedMax - s.baseSeq + 1;
      const lost = Math.max(-0x800000, Math.min(0x7fffff, expected - s.received));
      const expectedInterval = expected - s.expectedPrior;
      const receivedInterval = s.received - s.receivedPrior;
      s.expectedPrior = expected;
      s.receivedPrior = s.received;
      const lostInterval = expectedInterval - receivedInterval;
      const fractionLost = expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.min(255, Math.floor((lostInterval * 256) / expectedInterval));
      blocks.push({
        ssrc: s.ssrc,
        fractionLost,
        cumulativeLost: lost,
        highestSequence: extendedMax >>> 0,
        jitter: (s.jitter16 >> 4) >>> 0,
        lastSr: s.senderReport.lastSr,
        delaySinceLastSr: s.senderReport.lastSr === 0 ? 0 : Math.min(0xffffffff, Math.round(((now - s.senderReport.lastSrAt) / 1000) * 65536)),
      });
    }
    return blocks;
  }

  /** RFC 3550 §A.7 rtcp_interval with what is known now, in ms (randomized). */
  private interval(now: number): number {
    let senders = 0;
    let weSent = false;
    if (this.anySent) for (const s of this.sends.values()) if (s.recent > 0 || s.previous > 0) weSent = true;
    if (weSent) senders++;
    if (this.anyHeard) for (const s of this.sources.values()) if (s.heardSinceReport) senders++;
    // One input object for every reporter of the thread, filled in place (rtcpIntervalMs reads it
    // and keeps nothing): in a process with many idle connections the JIT did not elide a fresh
    // one (idle-alloc-probe: about 26 B per PC per second; docs/architecture.md, "Idle allocation").
    const input = INTERVAL_INPUT;
    input.members = 1 + this.sources.size;
    input.senders = senders;
    input.weSent = weSent;
    input.rtcpBytesPerSecond = this.rtcpBytesPerSecond(now);
    input.averageRtcpSize = this.average.rtcpSize;
    input.initial = this.initial;
    input.minIntervalMs = this.minIntervalMs();
    return rtcpIntervalMs(input, this.options.rng.float());
  }

  /** Tmin: the option, else 5 s for audio and 1 s for video, as libwebrtc. */
  private minIntervalMs(): number {
    return this.options.minIntervalMs ?? (this.kind === 'audio' ? 5000 : 1000);
  }

  /**
   * RTCP gets 5 % of the session bandwidth (RFC 3550 §6.2), measured over the last interval and
   * taken as at least 64 kbit/s (what an SDP b=AS would otherwise tell), so a quiet stream keeps Tmin.
   */
  private rtcpBytesPerSecond(now: number): number {
    const elapsed = Math.max(1, now - this.average.lastReportAt);
    return 0.05 * Math.max(8000, (this.bytesSinceReport * 1000) / elapsed);
  }

  private ntp(now: number): bigint {
    return ntpFromUnixMs(now + this.options.wallClockOffsetMs);
  }

  /** The middle 32 bits of {@link ntp}, without BigInts: what each received report block's LSR/DLSR is compared with. */
  private ntpMiddle32(now: number): number {
    return ntpMiddle32FromUnixMs(now + this.options.wallClockOffsetMs);
  }

  collectStats(stats: RtpPolicyStatsCollector): void {
    for (const s of this.sources.values()) {
      const extendedMax = s.cycles + s.maxSeq;
      stats.inbound(s.ssrc, {
        packetsLost: extendedMax - s.baseSeq + 1 - s.received,
        ...(s.clockRate > 0 ? { jitter: (s.jitter16 >> 4) / s.clockRate } : {}),
      });
      const r = s.senderReport;
      const sr = r.sr;
      if (sr) {
        stats.remoteOutbound(s.ssrc, { packetsSent: sr.packetsSent, bytesSent: sr.bytesSent, remoteTimestamp: sr.remoteTimestamp, reportsSent: sr.reports });
      }
      if (r.roundTripTimeMeasurements > 0) {
        stats.remoteOutbound(s.ssrc, { roundTripTime: r.roundTripTime!, totalRoundTripTime: r.totalRoundTripTime, roundTripTimeMeasurements: r.roundTripTimeMeasurements });
      }
    }
    const clockRate = this.params?.sendCodec?.clockRate;
    for (const s of this.sends.values()) {
      const remote = s.remote;
      const block = remote.block;
      if (!block) continue;
      stats.remoteInbound(s.ssrc, {
        fractionLost: block.fractionLost,
        packetsLost: block.packetsLost,
        ...(clockRate !== undefined ? { jitter: block.jitter / clockRate } : {}),
        reportsReceived: block.reports,
        ...(remote.roundTripTime !== undefined ? { roundTripTime: remote.roundTripTime } : {}),
        totalRoundTripTime: remote.totalRoundTripTime,
        roundTripTimeMeasurements: remote.roundTripTimeMeasurements,
      });
    }
  }
}

function newSource(ssrc: number, seq: number): SourceState {
  return {
    ssrc, clockRate: 0, baseSeq: seq, maxSeq: seq, badSeq: 0x10001, cycles: 0, received: 0, expectedPrior: 0, receivedPrior: 0,
    transit: DOUBLE_ZERO, hasTransit: false, jitter16: 0, heardSinceReport: false, senderReport: { lastSr: 0, lastSrAt: 0, sr: undefined, roundTripTime: undefined, totalRoundTripTime: 0, roundTripTimeMeasurements: 0 }, nativeBytes: DOUBLE_ZERO,
  };
}

/** RFC 3550 §A.1 update_seq (without probation): false for a packet that must not be counted. */
function updateSequence(s: SourceState, seq: number): boolean {
  const udelta = (seq - s.maxSeq) & 0xffff;
  if (s.received === 0) {
    s.received = 1;
    return true;
  }
  if (udelta < MAX_DROPOUT) {
    if (seq < s.maxSeq) s.cycles += 0x10000;
    s.maxSeq = seq;
  } else if (udelta <= 0x10000 - MAX_MISORDER) {
    // A very large jump: the source restarted, or it is a stray packet (§A.1).
    if (seq === s.badSeq) {
      s.baseSeq = seq;
      s.maxSeq = seq;
      s.badSeq = 0x10001;
      s.cycles = 0;
      s.received = 0;
      s.expectedPrior = 0;
      s.receivedPrior = 0;
    } else {
      s.badSeq = (seq + 1) & 0xffff;
      return false;
    }
  }
  s.received++;
  return true;
}
