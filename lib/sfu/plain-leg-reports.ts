// RTCP reports on plain and pipe legs (RFC 3550 §6.4.1 SR and RR, §6.5.1 SDES CNAME; docs/scaling.md
// "RTCP reports on plain and pipe legs"): a sender report for each consumer sent to the remote and a
// receiver report about each producer received from it, from the native engine's counters, as
// WebRTC legs get theirs through RtpPolicyChain.addNativeSource (docs/sfu.md "RTCP per leg"). One
// RtcpReporter (lib/policy) per stream; this file is its driver: one timer per transport.
import { performance } from 'node:perf_hooks';
import { cryptoRng } from '../common/rng.js';
import { reportListenerError } from '../common/typed-emitter.js';
import type { MediaKind } from '../peer/media-stream-track.js';
import type { NativeStreamTotals, RtpPolicyOutput, RtpPolicyParameters } from '../peer/rtp-policy.js';
import { RtcpReporter } from '../policy/rtcp-reporter.js';
import type { RtcpPacket } from '../rtp/rtcp/compound.js';

interface Leg {
  readonly reporter: RtcpReporter;
  readonly totals: (now: number) => NativeStreamTotals;
}

/** What one stream of a leg needs to be reported on. */
export interface PlainLegStream {
  readonly kind: MediaKind;
  readonly ssrc: number;
  readonly payloadType: number;
  readonly clockRate: number;
}

/** The RTCP reporters of one plain or pipe transport's streams, and the timer that runs them. */
export class PlainLegReports {
  private readonly legs = new Map<object, Leg>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private closed = false;
  private readonly output: RtpPolicyOutput;
  // The reporters' clock is performance.now(); an SR's NTP time is that plus this offset (RFC 3550 §6.4.1).
  private readonly wallClockOffsetMs = Date.now() - performance.now();
  /** Compound RTCP packets sent (each one SR or RR with its SDES). */
  reportsSent = 0;
  /** Round-trip times measured from the remote's report blocks (passed to `onRoundTripTime`). */
  roundTripTimes = 0;

  constructor(
    private readonly cname: string,
    /** SSRC the receiver reports are sent from (the transport's own RTCP SSRC). */
    private readonly localSsrc: number,
    send: (packets: RtcpPacket[]) => void,
    /**
     * A round-trip time the reporters measured from the remote's report blocks (RFC 3550 §6.4.1
     * LSR/DLSR against their own SRs), by the SSRC of the stream it is about (a consumer's).
     */
    onRoundTripTime?: (ssrc: number, seconds: number) => void,
  ) {
    this.output = {
      sendRtcp: (packets) => {
        this.reportsSent++;
        send([...packets]);
      },
      // A reporter sends RTCP only; nothing else leaves through here.
      sendRtp: () => undefined,
      emit: (name, detail) => {
        if (name !== 'rtt' || !onRoundTripTime) return;
        const d = detail as { ssrc: number; roundTripTime: number };
        this.roundTripTimes++;
        onRoundTripTime(d.ssrc, d.roundTripTime);
      },
      requestKeyframe: () => undefined,
    };
  }

  /** Reports on a stream sent to the remote (a consumer): SR with its NTP/RTP mapping and counts. */
  addSender(key: object, stream: PlainLegStream, totals: (now: number) => NativeStreamTotals): void {
    this.add(key, stream.kind, {
      localSsrc: stream.ssrc,
      sendStreams: [{ ssrc: stream.ssrc, rtxSsrc: undefined, rid: undefined, kind: stream.kind }],
      sendCodec: { payloadType: stream.payloadType, clockRate: stream.clockRate, rtxPayloadType: undefined },
      receiveClockRates: new Map(),
    }, totals);
  }

  /** Reports on a stream received from the remote (a producer): RR blocks with loss and jitter. */
  addReceiver(key: object, stream: PlainLegStream, totals: (now: number) => NativeStreamTotals): void {
    this.add(key, stream.kind, {
      localSsrc: this.localSsrc,
      sendStreams: [],
      sendCodec: undefined,
      receiveClockRates: new Map([[stream.payloadType, stream.clockRate]]),
    }, totals);
  }

  remove(key: object): void {
    this.legs.delete(key);
  }

  /** RTCP from the remote: SRs (for the LSR/DLSR of our blocks) and report blocks about our streams. */
  incomingRtcp(packets: readonly RtcpPacket[]): void {
    if (this.closed || packets.length === 0) return;
    const now = performance.now();
    for (const leg of this.legs.values()) this.call(() => leg.reporter.incomingRtcp(now, packets, this.output));
  }

  /** Stops the timer; no more reports. */
  close(): void {
    this.closed = true;
    this.legs.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private add(key: object, kind: MediaKind, p: Pick<RtpPolicyParameters, 'localSsrc' | 'sendStreams' | 'sendCodec' | 'receiveClockRates'>, totals: (now: number) => NativeStreamTotals): void {
    if (this.closed) return;
    const reporter = new RtcpReporter(kind, { rng: cryptoRng, wallClockOffsetMs: this.wallClockOffsetMs });
    reporter.configure(performance.now(), {
      kind, cname: this.cname, ...p, rtcpFeedback: new Set(), headerExtensions: new Map(), reducedSizeRtcp: false,
    });
    this.legs.set(key, { reporter, totals });
    this.arm();
  }

  private call(f: () => void): void {
    try {
      f();
    } catch (err) {
      reportListenerError(err);
    }
  }

  private arm(): void {
    if (this.closed) return;
    let next = Infinity;
    for (const leg of this.legs.values()) next = Math.min(next, leg.reporter.nextTimeout() ?? Infinity);
    if (next === Infinity || next >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => this.fire(), Math.max(0, next - performance.now()));
    // Reports never keep the process alive.
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.closed) return;
    const now = performance.now();
    for (const leg of this.legs.values()) {
      const at = leg.reporter.nextTimeout();
      if (at === undefined || at > now) continue;
      this.call(() => {
        leg.reporter.nativeTotals(now, leg.totals(now));
        leg.reporter.timeout(now, this.output);
      });
    }
    this.arm();
  }
}
