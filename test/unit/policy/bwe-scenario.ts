// A sender with the bandwidth estimator and pacer and a transport-cc feedback receiver, joined by
// the policy NetworkSimulator: the scenario the estimator tests and the policy bench run.
import { NetworkSimulator } from '../../../lib/policy/network-simulator.js';
import type { SimulatedLinkOptions } from '../../../lib/policy/network-simulator.js';
import { SendSideBandwidthEstimator } from '../../../lib/policy/bandwidth-estimator.js';
import type { BandwidthEstimatorOptions } from '../../../lib/policy/bandwidth-estimator.js';
import { Pacer } from '../../../lib/policy/pacer.js';
import { RtcpTransportCcFeedback } from '../../../lib/rtp/rtcp/transport-cc-feedback.js';
import { RtcpCongestionControlFeedback } from '../../../lib/rtp/rtcp/congestion-control-feedback.js';
import { parseRtcp, serializeRtcp } from '../../../lib/rtp/rtcp/compound.js';

/** One phase of the bottleneck: from `at` ms on, these a → b impairments. */
export interface ScenarioPhase {
  at: number;
  link: SimulatedLinkOptions;
}

export interface ScenarioOptions {
  seed: number;
  durationMs: number;
  /** Bottleneck phases; the first applies from 0. */
  phases: ScenarioPhase[];
  /** One-way delay of the feedback path, ms (default 25). */
  returnDelayMs?: number;
  estimator?: BandwidthEstimatorOptions;
  /** Feedback interval, ms (default 50). */
  feedbackIntervalMs?: number;
  /** Sample interval of the trace, ms (default 100). */
  sampleMs?: number;
  /** Feedback format: transport-cc (default) or RFC 8888 congestion control feedback. */
  feedback?: 'transport-cc' | 'ccfb';
}

export interface ScenarioSample {
  t: number;
  target: number;
  /** Largest queueing delay of a packet delivered in this sample interval (simulator's truth), ms. */
  queueDelayMs: number;
  /** The estimator's queueing delay from feedback, ms. */
  estimatedQueueDelayMs: number;
  /** Bits delivered to the receiver in this interval, per second. */
  receivedBps: number;
}

export interface ScenarioResult {
  samples: ScenarioSample[];
  estimator: SendSideBandwidthEstimator;
  sim: NetworkSimulator;
  pacer: Pacer<Buffer>;
  packetsSent: number;
}

const MAX_PAYLOAD = 1200;
const HEADER = 12 + 8; // RTP header + a transport-cc one-byte extension block

/** Runs the scenario on a virtual clock and returns its trace. Deterministic per seed. */
export function runBweScenario(o: ScenarioOptions): ScenarioResult {
  const sim = new NetworkSimulator({ seed: o.seed, aToB: o.phases[0]!.link, bToA: { delayMs: o.returnDelayMs ?? 25 } });
  const est = new SendSideBandwidthEstimator(o.estimator);
  const pacer = new Pacer<Buffer>({ initialTargetBitrate: est.targetBitrate });
  const fbInterval = o.feedbackIntervalMs ?? 50;
  const sampleMs = o.sampleMs ?? 100;
  let target = est.targetBitrate;
  let transportSeq = 0;
  let packetsSent = 0;
  let phase = 1;
  let nextFrame = 0;
  let nextAudio = 0;
  let nextFeedback = fbInterval;
  let nextSample = sampleMs;
  let fbCount = 0;

  // Receiver state: arrivals (µs) by unwrapped seq since the last feedback's base.
  const arrivals = new Map<number, number>();
  let fbBase = 0;
  let maxSeen = -1;
  let intervalMaxQueue = 0;
  let intervalBits = 0;
  const samples: ScenarioSample[] = [];

  const makePacket = (payload: number): Buffer => {
    const b = Buffer.alloc(HEADER + payload);
    b.writeUInt16BE(transportSeq & 0xffff, 0);
    b.writeUInt32BE(transportSeq, 2);
    return b;
  };

  let now = 0;
  for (let guard = 0; guard < 10_000_000 && now <= o.durationMs; guard++) {
    while (phase < o.phases.length && o.phases[phase]!.at <= now) sim.aToB.configure(now, o.phases[phase++]!.link);
    // Application: 30 fps video at the target, 50 packets/s of audio.
    if (now >= nextAudio) {
      pacer.enqueue(now, makePacketLater(100), 100 + HEADER, 'audio');
      nextAudio += 20;
    }
    if (now >= nextFrame) {
      let bytes = Math.max(0, Math.round(target / 8 / 30) - 50 * 120 / 30);
      while (bytes > 0) {
        const p = Math.min(MAX_PAYLOAD, bytes);
        pacer.enqueue(now, makePacketLater(p), p + HEADER, 'video');
        bytes -= p;
      }
      nextFrame += 1000 / 30;
    }
    // Pacer → transport-wide seq stamped → estimator history → network.
    for (let p = pacer.poll(now); p; p = pacer.poll(now)) {
      const pkt = makePacket(p.length - HEADER);
      if (o.feedback === 'ccfb') est.onPacketSent(now, { ssrc: 1, rtpSeq: transportSeq & 0xffff, size: pkt.length });
      else est.onPacketSent(now, { transportSeq: transportSeq & 0xffff, size: pkt.length });
      sim.send(now, 'a', pkt);
      transportSeq++;
      packetsSent++;
    }
    // Network deliveries.
    for (let d = sim.poll(now); d; d = sim.poll(now)) {
      const buf = Buffer.from(d.packet.buffer, d.packet.byteOffset, d.packet.byteLength);
      if (d.to === 'b') {
        const seq = buf.readUInt32BE(2);
        if (!arrivals.has(seq)) arrivals.set(seq, d.deliveredAt * 1000);
        if (seq < fbBase) fbBase = seq;
        maxSeen = Math.max(maxSeen, seq);
        intervalMaxQueue = Math.max(intervalMaxQueue, d.queuedMs);
        intervalBits += buf.length * 8;
      } else {
        for (const pkt of parseRtcp(buf)) {
          if (pkt.kind === 'transport-cc') est.onTransportCcFeedback(now, pkt);
          else if (pkt.kind === 'ccfb') est.onCongestionControlFeedback(now, pkt);
        }
        for (let e = est.pollEvent(); e; e = est.pollEvent()) {
          target = e.bitrate;
          pacer.setTargetBitrate(now, target);
        }
      }
    }
    // Receiver's feedback timer.
    if (now >= nextFeedback) {
      if (maxSeen >= fbBase) {
        const list: (number | null)[] = [];
        for (let s = fbBase; s <= maxSeen; s++) list.push(arrivals.get(s) ?? null);
        if (o.feedback === 'ccfb') {
          // RFC 8888 §3.1: arrival time offsets before the report timestamp (NTP middle 32 bits), 1/1024 s.
          const reportTimestamp = Math.floor((now / 1000) * 65536) >>> 0;
          const reportMs = (reportTimestamp / 65536) * 1000;
          const metrics = list.map((a) =>
            a === null
              ? { received: false, ecn: 0, arrivalTimeOffset: 0 }
              : { received: true, ecn: 0, arrivalTimeOffset: Math.min(0x1ffe, Math.max(0, Math.round(((reportMs - a / 1000) * 1024) / 1000))) },
          );
          sim.send(now, 'b', serializeRtcp([new RtcpCongestionControlFeedback(2, [{ ssrc: 1, beginSequence: fbBase & 0xffff, metrics }], reportTimestamp)]));
        } else {
          const fb = RtcpTransportCcFeedback.fromArrivals(
            { senderSsrc: 2, mediaSsrc: 1, baseSequenceNumber: fbBase & 0xffff, feedbackPacketCount: fbCount++ & 0xff },
            list,
          );
          sim.send(now, 'b', serializeRtcp([fb]));
        }
        for (let s = fbBase; s <= maxSeen; s++) arrivals.delete(s);
        fbBase = maxSeen + 1;
      }
      nextFeedback += fbInterval;
    }
    if (now >= nextSample) {
      samples.push({ t: now, target, queueDelayMs: intervalMaxQueue, estimatedQueueDelayMs: est.queueDelayMs, receivedBps: (intervalBits * 1000) / sampleMs });
      intervalMaxQueue = 0;
      intervalBits = 0;
      nextSample += sampleMs;
    }
    let next = Math.min(nextFrame, nextAudio, nextFeedback, nextSample);
    const pt = pacer.nextTimeout();
    if (pt !== undefined) next = Math.min(next, Math.max(pt, now));
    const st = sim.nextTimeout();
    if (st !== undefined) next = Math.min(next, Math.max(st, now));
    if (phase < o.phases.length) next = Math.min(next, o.phases[phase]!.at);
    if (next <= now) next = now + 1e-3;
    now = next;
  }
  return { samples, estimator: est, sim, pacer, packetsSent };
}

// The pacer holds placeholders of the right size; the real packet (with its transport-wide
// sequence number) is built when it leaves, as a real sender stamps it.
function makePacketLater(payload: number): Buffer {
  return Buffer.allocUnsafe(HEADER + payload);
}
