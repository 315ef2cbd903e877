// Two policy chains joined by the NetworkSimulator on a virtual clock: endpoint 'a' sends one
// video stream (with an RTX stream), 'b' receives it; RTP and RTCP are serialized and parsed as on
// the wire, RTX is unwrapped as the media router does, and the transport-wide sequence number is
// stamped on send. Drives chains, simulator and the sender's schedule until a deadline.
import { RtpPolicyChain, type RtpPolicySink } from '../../../lib/peer/rtp-policy-chain.js';
import { RtpPacketFlags, feedbackKey, type RtpPolicy, type RtpPolicyEvent, type RtpPolicyParameters } from '../../../lib/peer/rtp-policy.js';
import { NetworkSimulator, type NetworkSimulatorOptions, type SimulatedEndpoint } from '../../../lib/policy/network-simulator.js';
import { isRtcp } from '../../../lib/rtp/demux.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { serializeRtcp, tryParseRtcp, type RtcpPacket } from '../../../lib/rtp/rtcp/compound.js';
import { unwrapRtx } from '../../../lib/rtp/rtx.js';
import { HeaderExtensionUri } from '../../../lib/sdp/capabilities.js';
import type { RtcpFeedback } from '../../../lib/sdp/model.js';

export const MEDIA_SSRC = 0x1111;
export const RTX_SSRC = 0x2222;
export const RECEIVER_SSRC = 0x3333;
export const PT = 96;
export const RTX_PT = 97;
export const TWCC_ID = 3;

/** One end: its chain, what it received and what its modules emitted. */
export interface PairEnd {
  readonly chain: RtpPolicyChain;
  readonly received: RtpPacket[];
  readonly rtcp: RtcpPacket[];
  /** Arrival time of each entry of `rtcp`. */
  readonly rtcpAt: number[];
  readonly events: RtpPolicyEvent[];
}

/** Options of a pair. */
export interface PolicyPairOptions {
  network: NetworkSimulatorOptions;
  sender: RtpPolicy[];
  receiver: RtpPolicy[];
  /** Negotiated rtcp-fb (default nack, nack pli, ccm fir, transport-cc). */
  feedback?: RtcpFeedback[];
  reducedSize?: boolean;
  /** `a=rtcp-xr:rcvr-rtt=all` negotiated (RFC 3611 §5.1); default false. */
  receiverRtt?: boolean;
  rtx?: boolean;
  /** Negotiated header extensions besides the transport-wide sequence number (URI → id). */
  headerExtensions?: ReadonlyMap<string, number>;
}

/** See the file header. */
export class PolicyPair {
  readonly sim: NetworkSimulator;
  readonly a: PairEnd;
  readonly b: PairEnd;
  now = 0;
  private seq = 1000;
  private transportSeq = 0;
  private readonly ends: Record<SimulatedEndpoint, PairEnd>;

  constructor(options: PolicyPairOptions) {
    this.sim = new NetworkSimulator(options.network);
    this.a = this.makeEnd('a', options.sender);
    this.b = this.makeEnd('b', options.receiver);
    this.ends = { a: this.a, b: this.b };
    const feedback = new Set((options.feedback ?? [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }, { type: 'transport-cc' }]).map(feedbackKey));
    const base = {
      cname: 'sim', rtcpFeedback: feedback, reducedSizeRtcp: options.reducedSize ?? true, receiverRtt: options.receiverRtt ?? false,
      headerExtensions: new Map([[HeaderExtensionUri.transportWideCc, TWCC_ID], ...(options.headerExtensions ?? [])]),
    };
    const rtx = options.rtx ?? true;
    const sender: RtpPolicyParameters = {
      ...base, kind: 'video', localSsrc: MEDIA_SSRC,
      sendStreams: [{ ssrc: MEDIA_SSRC, rtxSsrc: rtx ? RTX_SSRC : undefined, rid: undefined, kind: 'video' }],
      sendCodec: { payloadType: PT, clockRate: 90000, rtxPayloadType: rtx ? RTX_PT : undefined },
      receiveClockRates: new Map(),
    };
    const receiver: RtpPolicyParameters = {
      ...base, kind: 'video', localSsrc: RECEIVER_SSRC, sendStreams: [], sendCodec: undefined, receiveClockRates: new Map([[PT, 90000]]),
    };
    this.a.chain.configure(0, sender);
    this.b.chain.configure(0, receiver);
  }

  private makeEnd(side: SimulatedEndpoint, modules: RtpPolicy[]): PairEnd {
    const end: PairEnd = { chain: new RtpPolicyChain(modules), received: [], rtcp: [], rtcpAt: [], events: [] };
    const sink: RtpPolicySink = {
      sendRtcp: (packets) => this.sim.send(this.now, side, serializeRtcp([...packets])),
      sendRtp: (data, retransmission) => this.sendSerialized(side, Buffer.from(data), retransmission),
      emit: (module, name, detail) => end.events.push({ module, name, detail } as RtpPolicyEvent),
      rearm: () => {},
    };
    end.chain.sink = sink;
    end.chain.clock = () => this.now;
    return end;
  }

  /** Skips `n` sequence numbers (packets the sender never sends: lost before the network). */
  skipSequence(n = 1): void {
    this.seq = (this.seq + n) & 0xffff;
  }

  /** Sends one media packet from 'a' (sequence number, timestamp and transport-wide number filled). */
  sendMedia(payloadBytes: number, timestamp: number, marker = false): number {
    const seq = this.seq;
    this.seq = (this.seq + 1) & 0xffff;
    const p = new RtpPacket({ payloadType: PT, sequenceNumber: seq, timestamp, ssrc: MEDIA_SSRC, marker, payload: Buffer.alloc(payloadBytes, seq & 0xff) });
    this.sendSerialized('a', p.serialize(), false);
    return seq;
  }

  private sendSerialized(side: SimulatedEndpoint, bytes: Buffer, retransmission: boolean): void {
    const p = RtpPacket.parse(bytes);
    const twcc = Buffer.alloc(2);
    const tseq = this.transportSeq;
    this.transportSeq = (tseq + 1) & 0xffff;
    twcc.writeUInt16BE(tseq);
    p.setExtension(TWCC_ID, twcc);
    const data = p.serialize();
    const chain = this.ends[side].chain;
    if (!retransmission && chain.hasOutgoingRtp) {
      chain.outgoing.reset(data);
      chain.outgoing.push(0, data.length, p.ssrc!, p.sequenceNumber!, p.timestamp!, p.payloadType!, p.marker, p.payloadLength, tseq, 0);
      chain.outgoingRtp(this.now);
      const dropped = (chain.outgoing.flags[0]! & RtpPacketFlags.DROP) !== 0;
      if (!dropped) this.sim.send(this.now, side, data);
      chain.flush();
      return;
    }
    this.sim.send(this.now, side, data);
  }

  /** Delivers everything due, runs due timeouts; returns when nothing is left before `until`. */
  runUntil(until: number): void {
    for (;;) {
      this.deliver();
      this.a.chain.timeout(this.now);
      this.b.chain.timeout(this.now);
      this.deliver();
      const next = Math.min(this.sim.nextTimeout() ?? Infinity, this.a.chain.nextTimeout() ?? Infinity, this.b.chain.nextTimeout() ?? Infinity);
      if (next > until) {
        this.now = Math.max(this.now, until);
        return;
      }
      this.now = Math.max(this.now, next);
    }
  }

  private deliver(): void {
    for (let d = this.sim.poll(this.now); d; d = this.sim.poll(this.now)) {
      const end = this.ends[d.to];
      const bytes = Buffer.from(d.packet);
      if (isRtcp(bytes, 0, bytes.length)) {
        const packets = tryParseRtcp(bytes, 0, bytes.length);
        if (!packets) continue;
        end.rtcp.push(...packets);
        for (let i = 0; i < packets.length; i++) end.rtcpAt.push(this.now);
        end.chain.rtcpInput().push(...packets);
        end.chain.incomingRtcp(this.now);
        continue;
      }
      let p = RtpPacket.tryParse(bytes);
      if (!p) continue;
      const tseqBytes = p.getExtension(TWCC_ID);
      const tseq = tseqBytes ? tseqBytes.readUInt16BE(0) : -1;
      let flags = 0;
      if (p.ssrc === RTX_SSRC) {
        const u = unwrapRtx(p, { ssrc: MEDIA_SSRC, payloadType: PT });
        if (!u) continue;
        p = u;
        flags = RtpPacketFlags.RETRANSMISSION;
      }
      end.received.push(p);
      const b = end.chain.incoming;
      b.reset(bytes);
      b.push(0, bytes.length, p.ssrc!, p.sequenceNumber!, p.timestamp!, p.payloadType!, p.marker, p.payloadLength, tseq, flags);
      end.chain.incomingRtp(this.now);
    }
  }

  /** Sends video from 'a' at `bitrate` in 30 fps frames of ~1000-byte packets for `durationMs`, delivering as it goes. */
  runVideo(durationMs: number, bitrate = 1_000_000): number[] {
    const sent: number[] = [];
    const frameBytes = bitrate / 8 / 30;
    const perFrame = Math.max(1, Math.round(frameBytes / 1000));
    const start = this.now;
    for (let f = 0; start + (f * 1000) / 30 < start + durationMs; f++) {
      const at = start + (f * 1000) / 30;
      this.runUntil(at);
      const ts = Math.round((at * 90000) / 1000) >>> 0;
      for (let k = 0; k < perFrame; k++) sent.push(this.sendMedia(1000, ts, k === perFrame - 1));
    }
    return sent;
  }
}
