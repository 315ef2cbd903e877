// `npm run bench -- policy`: CPU per packet of each policy module on one synthetic trace, with
// pion/interceptor's equivalents (pkg/gcc send-side BWE, pkg/twcc recorder, pkg/nack generator
// and responder) built from Debian's
// Go sources and run in the same bench run (skipped, with the reason, when Go or the sources
// are missing). Ratios are pion / ours (> 1: ours uses less CPU).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SendSideBandwidthEstimator } from '../../lib/policy/bandwidth-estimator.js';
import { BandwidthEstimationPolicy } from '../../lib/policy/bandwidth-estimator-policy.js';
import { Pacer } from '../../lib/policy/pacer.js';
import { RembGenerator } from '../../lib/policy/remb-generator.js';
import { readAbsSendTime } from '../../lib/policy/remb-policy.js';
import { NetworkSimulator } from '../../lib/policy/network-simulator.js';
import { TransportCcFeedback } from '../../lib/policy/transport-cc-feedback.js';
import { NackGenerator } from '../../lib/policy/nack-generator.js';
import { NackResponder } from '../../lib/policy/nack-responder.js';
import { RtcpReporter } from '../../lib/policy/rtcp-reporter.js';
import { KeyframeRequester } from '../../lib/policy/keyframe-requester.js';
import { SeededRng } from '../../lib/common/rng.js';
import { RtpPacketBatch, RtpPacketFlags, type RtpPolicy, type RtpPolicyOutput, type RtpPolicyParameters } from '../../lib/peer/rtp-policy.js';
import { TRANSPORT_CC_URI } from '../../lib/rtp/extensions/uris.js';
import { RtcpTransportCcFeedback } from '../../lib/rtp/rtcp/transport-cc-feedback.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { absSendTimeFromMs } from '../../lib/rtp/extensions/abs-send-time.js';
import { printHeader, printTarget, ratioOf, type BenchOptions, type BenchSeries } from '../lib/report.js';

/** Ratios are printed against pion where it ran. */
export const baseline = 'pion/interceptor';

const here = dirname(fileURLToPath(import.meta.url));
const FEEDBACK_EVERY = 20;
const UNIT = 'ns CPU/packet';

// The trace pion's side uses too (bench/policy/pion_policy_bench.go): packet i leaves at i ms,
// 1200 bytes, arrives 20 ms + (i % 7) * 0.1 ms later, one in a hundred lost.
const lost = (i: number): boolean => i % 100 === 50;
const arrivalUs = (i: number): number => i * 1000 + 20_000 + (i % 7) * 100;

let sink = 0;

/** CPU time (user + system) of `body`, in ns per packet. */
function cpuPerPacket(packets: number, body: () => void): number {
  const before = process.cpuUsage();
  body();
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1000) / packets;
}

function feedbacks(n: number): RtcpTransportCcFeedback[] {
  const out: RtcpTransportCcFeedback[] = [];
  for (let base = 0; base + FEEDBACK_EVERY <= n; base += FEEDBACK_EVERY) {
    const arrivals: (number | null)[] = [];
    for (let i = base; i < base + FEEDBACK_EVERY; i++) arrivals.push(lost(i) ? null : arrivalUs(i));
    out.push(RtcpTransportCcFeedback.fromArrivals({ senderSsrc: 2, mediaSsrc: 1, baseSequenceNumber: base & 0xffff, feedbackPacketCount: out.length & 0xff }, arrivals));
  }
  return out;
}

function videoPacket(i: number): Buffer {
  return new RtpPacket({
    payloadType: 96, sequenceNumber: i & 0xffff, timestamp: i * 90, ssrc: 1,
    extensions: [{ id: 2, data: Buffer.from([0, 0, 0]) }, { id: 3, data: Buffer.from([i >> 8, i & 0xff]) }],
    payload: Buffer.alloc(1150, 1),
  }).serialize();
}

// What lib/peer's chain does with a module's effects, minus the sending: RTCP packets and RTP
// copies are kept until the next batch.
const output: RtpPolicyOutput = {
  sendRtcp: (packets) => { sink += packets.length; },
  sendRtp: (data) => { sink += Buffer.from(data).length; },
  emit: () => undefined,
  requestKeyframe: () => undefined,
};

function params(receiving: boolean): RtpPolicyParameters {
  return {
    kind: 'video', cname: 'bench', localSsrc: receiving ? 2 : 1,
    sendStreams: receiving ? [] : [{ ssrc: 1, rtxSsrc: 3, rid: undefined, kind: 'video' }],
    sendCodec: receiving ? undefined : { payloadType: 96, clockRate: 90000, rtxPayloadType: 97 },
    receiveClockRates: receiving ? new Map([[96, 90000]]) : new Map(),
    rtcpFeedback: new Set(['nack', 'nack pli', 'ccm fir', 'transport-cc']),
    headerExtensions: new Map([[TRANSPORT_CC_URI, 3]]),
    reducedSizeRtcp: true,
  };
}

/**
 * Feeds a receive-side module the trace in batches of 32 (lost packets left out, as the network
 * would), running its timeout whenever it is due; returns ns CPU per packet.
 */
function receiveSide(module: RtpPolicy, n: number): number {
  module.configure?.(0, params(true));
  const pkts = Array.from({ length: 32 }, (_, k) => videoPacket(k));
  const batch = new RtpPacketBatch();
  return cpuPerPacket(n, () => {
    for (let i = 0; i < n; i += 32) {
      batch.reset(pkts[0]!);
      for (let k = 0; k < 32 && i + k < n; k++) {
        const j = i + k;
        if (lost(j)) continue;
        batch.push(0, pkts[k]!.length, 1, j & 0xffff, j * 90, 96, false, 1150, j & 0xffff, 0);
      }
      const now = arrivalUs(i + 31) / 1000;
      module.incomingRtp?.(now, batch, output);
      const due = module.nextTimeout?.();
      if (due !== undefined && due <= now) module.timeout?.(now, output);
    }
  });
}

/** Feeds a send-side module every packet of the trace as it is sent; returns ns CPU per packet. */
function sendSide(module: RtpPolicy, n: number): number {
  module.configure?.(0, params(false));
  const pkts = Array.from({ length: 64 }, (_, k) => videoPacket(k));
  const batch = new RtpPacketBatch();
  return cpuPerPacket(n, () => {
    for (let i = 0; i < n; i++) {
      const p = pkts[i & 63]!;
      p.writeUInt16BE(i & 0xffff, 2);
      batch.reset(p);
      batch.push(0, p.length, 1, i & 0xffff, i * 90, 96, false, 1150, i & 0xffff, 0);
      module.outgoingRtp?.(i, batch, output);
      if ((batch.flags[0]! & RtpPacketFlags.DROP) !== 0) sink++;
      const due = module.nextTimeout?.();
      if (due !== undefined && due <= i) module.timeout?.(i, output);
    }
  });
}

interface Case {
  case: string;
  run: (n: number) => number;
}

const TWCC_CASE = 'transport-cc feedback (1 received, a report every 20 ms)';

const cases: Case[] = [
  { case: TWCC_CASE, run: (n) => receiveSide(new TransportCcFeedback({ intervalMs: FEEDBACK_EVERY }), n) },
  { case: 'NACK generator (1 received, 1 % lost)', run: (n) => receiveSide(new NackGenerator(), n) },
  { case: 'NACK responder (1 sent into the history)', run: (n) => sendSide(new NackResponder({ rng: new SeededRng(1) }), n) },
  { case: 'RTCP reporter (1 received)', run: (n) => receiveSide(new RtcpReporter('video', { rng: new SeededRng(1), wallClockOffsetMs: 0 }), n) },
  { case: 'RTCP reporter (1 sent)', run: (n) => sendSide(new RtcpReporter('video', { rng: new SeededRng(1), wallClockOffsetMs: 0 }), n) },
  { case: 'keyframe requester (1 received)', run: (n) => receiveSide(new KeyframeRequester(), n) },
  {
    case: 'send-side estimator (1 sent + 1/20 feedback)',
    run: (n) => {
      const fbs = feedbacks(n);
      const est = new SendSideBandwidthEstimator();
      const ns = cpuPerPacket(n, () => {
        for (let i = 0; i < n; i++) {
          est.onPacketSent(i, { transportSeq: i & 0xffff, size: 1200 });
          if (i % FEEDBACK_EVERY === FEEDBACK_EVERY - 1) est.onTransportCcFeedback(i + 25, fbs[(i / FEEDBACK_EVERY) | 0]!);
        }
      });
      sink += est.targetBitrate;
      return ns;
    },
  },
  {
    case: 'pacer (enqueue + release)',
    run: (n) => {
      const pacer = new Pacer<number>({ initialTargetBitrate: 10_000_000 });
      return cpuPerPacket(n, () => {
        for (let i = 0; i < n; i++) {
          pacer.enqueue(i, i, 1200);
          for (let p = pacer.poll(i); p !== undefined; p = pacer.poll(i)) sink += p;
        }
      });
    },
  },
  {
    case: 'estimator + pacer module (outgoingRtp hold, release, 1/20 feedback)',
    run: (n) => {
      const m = new BandwidthEstimationPolicy({ startBitrate: 10_000_000, maxBitrate: 50_000_000 });
      m.configure(0, params(false));
      const fbs = feedbacks(n);
      const packets = Array.from({ length: 64 }, (_, k) => videoPacket(k));
      const batch = new RtpPacketBatch();
      const released: Buffer[] = [];
      // What lib/peer's chain does with sendRtp: copy the bytes (RtpPolicyChain output).
      const out: RtpPolicyOutput = {
        sendRtcp: () => undefined,
        sendRtp: (data) => { released.push(Buffer.from(data)); },
        emit: () => undefined,
        requestKeyframe: () => undefined,
      };
      const pass = (now: number, data: Buffer, seq: number): void => {
        batch.reset(data);
        batch.push(0, data.length, 1, seq & 0xffff, seq * 90, 96, false, 1150, seq & 0xffff, 0);
        m.outgoingRtp(now, batch);
      };
      const ns = cpuPerPacket(n, () => {
        for (let i = 0; i < n; i++) {
          packets[i & 63]!.writeUInt16BE(i & 0xffff, 2);
          pass(i, packets[i & 63]!, i);
          m.timeout(i, out);
          // Released packets come back through outgoingRtp as lib/peer sends them.
          for (const d of released) pass(i, d, d.readUInt16BE(2));
          released.length = 0;
          if (i % FEEDBACK_EVERY === FEEDBACK_EVERY - 1) m.incomingRtcp(i + 25, [fbs[(i / FEEDBACK_EVERY) | 0]!], out);
        }
      });
      // Every packet was held once, and released once unless still queued at the end.
      const queued = m.pacer!.queueLength;
      if (m.stats.packetsPaced !== n || m.estimator.stats.packetsSent + queued !== n) {
        throw new Error(`module bench: ${m.stats.packetsPaced} paced, ${m.estimator.stats.packetsSent} sent, ${queued} queued of ${n}`);
      }
      return ns;
    },
  },
  {
    case: 'REMB generator (1 received, abs-send-time read in place)',
    run: (n) => {
      const g = new RembGenerator({ senderSsrc: 2 });
      const pkts = Array.from({ length: 64 }, (_, k) => videoPacket(k));
      for (let k = 0; k < 64; k++) pkts[k]!.writeUIntBE(absSendTimeFromMs(k), 17, 3);
      return cpuPerPacket(n, () => {
        for (let i = 0; i < n; i++) {
          if (lost(i)) continue;
          const p = pkts[i & 63]!;
          p.writeUIntBE(absSendTimeFromMs(i), 17, 3);
          g.onPacket(arrivalUs(i) / 1000, 1, readAbsSendTime(p, 0, p.length, 2), p.length);
          if ((i & 255) === 0) {
            g.handleTimeout(i);
            for (let r = g.pollTransmit(); r; r = g.pollTransmit()) sink += r.bitrate;
          }
        }
      });
    },
  },
  {
    case: 'network simulator (rate, 1 % loss, jitter; send + deliver)',
    run: (n) => {
      const sim = new NetworkSimulator({ seed: 1, aToB: { rateBps: 20_000_000, delayMs: 20, jitterMs: 2, loss: 0.01 } });
      const p = Buffer.alloc(1200);
      return cpuPerPacket(n, () => {
        for (let i = 0; i < n; i++) {
          sim.send(i, 'a', p);
          for (let d = sim.poll(i); d; d = sim.poll(i)) sink += d.packet.length;
        }
      });
    },
  },
];

/** Builds and runs the Go benchmark; returns its rows, or a reason it could not run. */
function runPion(n: number): { rows: { case: string; nsPerPacket: number }[] } | { skipped: string } {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.status !== 0) return { skipped: 'Go is not installed (Debian golang-go)' };
  if (!existsSync('/usr/share/gocode/src/github.com/pion/interceptor/pkg/gcc')) {
    return { skipped: 'pion sources are missing (Debian golang-github-pion-webrtc.v3-dev)' };
  }
  const outDir = join(tmpdir(), 'pwt-bench-policy-go');
  mkdirSync(outDir, { recursive: true });
  const bin = join(outDir, 'pion-policy-bench');
  const env = { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: join(outDir, 'cache'), GOFLAGS: '' };
  const build = spawnSync('go', ['build', '-o', bin, join(here, '..', 'policy', 'pion_policy_bench.go')], { encoding: 'utf8', env, timeout: 300_000 });
  if (build.status !== 0) return { skipped: `the Go benchmark did not build: ${(build.stderr || String(build.error)).trim().split('\n')[0]}` };
  const r = spawnSync(bin, [String(n)], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) return { skipped: `the Go benchmark failed: ${(r.stderr || String(r.error)).trim().split('\n')[0]}` };
  return { rows: r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { case: string; nsPerPacket: number }) };
}

/** Runs every case `rounds` times, ours and pion's interleaved round by round. */
export async function run(opts: BenchOptions): Promise<BenchSeries[]> {
  printHeader('policy', { 'pion/interceptor': 'Debian golang-github-pion-webrtc.v3-dev' });
  const n = opts.quick ? 10_000 : 60_000;
  const series = new Map<string, BenchSeries>();
  const add = (c: string, subject: string, v: number): void => {
    const key = `${c}\u0000${subject}`;
    let s = series.get(key);
    if (!s) series.set(key, (s = { suite: 'policy', case: c, subject, unit: UNIT, higherIsBetter: false, samples: [] }));
    s.samples.push(v);
  };
  // JIT warm-up (Go's side is compiled ahead of time): one untimed pass of every case.
  for (const c of cases) c.run(n);
  let pionSkipped: string | undefined;
  for (let round = 0; round < opts.rounds; round++) {
    for (const c of cases) add(c.case, 'ours', c.run(n));
    if (pionSkipped === undefined) {
      const pion = runPion(n);
      if ('skipped' in pion) pionSkipped = pion.skipped;
      else for (const row of pion.rows) add(row.case, 'pion/interceptor', row.nsPerPacket);
    }
  }
  if (pionSkipped !== undefined) console.log(`pion comparison skipped: ${pionSkipped}`);
  const list = [...series.values()];
  for (const c of ['send-side estimator (1 sent + 1/20 feedback)', TWCC_CASE, 'NACK generator (1 received, 1 % lost)', 'NACK responder (1 sent into the history)']) {
    printTarget(`${c}, pion / ours`, ratioOf(list, c, 'ours', 'pion/interceptor'), 1);
  }
  // Keeps the measured work observable.
  if (!Number.isFinite(sink)) console.log(`sink ${sink}`);
  return list;
}
