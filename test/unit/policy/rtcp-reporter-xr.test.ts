// The RTCP reporter's receiver RTT (lib/policy/rtcp-reporter.ts, RFC 3611 §4.4 RRTR, §4.5 DLRR) on
// the network simulator: a receive-only end sends an RRTR with each RR, the sender answers each
// with one DLRR item, and the receiver's RTT (remote-outbound-rtp, `rtt` event) is the link's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../../lib/common/rng.js';
import { RtpPolicyChain } from '../../../lib/peer/rtp-policy-chain.js';
import type { RtpPolicyOutput, RtpPolicyParameters, RtpPolicyStatsCollector } from '../../../lib/peer/rtp-policy.js';
import { RtcpReporter, MAX_REPORTED_SOURCES } from '../../../lib/policy/rtcp-reporter.js';
import { RtcpExtendedReport } from '../../../lib/rtp/rtcp/extended-report.js';
import type { RtcpPacket } from '../../../lib/rtp/rtcp/compound.js';
import { ntpFromUnixMs, ntpMiddle32 } from '../../../lib/rtp/rtcp/ntp-time.js';
import { RtcpSenderReport } from '../../../lib/rtp/rtcp/sender-report.js';
import { MEDIA_SSRC, PolicyPair, RECEIVER_SSRC } from './policy-pair.js';

const OFFSET = 1_700_000_000_000;

function remoteOutbound(r: RtcpReporter): Record<number, Record<string, number>> {
  const out: Record<number, Record<string, number>> = {};
  const c: RtpPolicyStatsCollector = {
    inbound: () => {}, outbound: () => {}, remoteInbound: () => {}, transport: () => {},
    remoteOutbound: (ssrc, f) => {
      out[ssrc] = { ...out[ssrc], ...f };
    },
  };
  r.collectStats(c);
  return out;
}

const xrs = (packets: readonly RtcpPacket[]): RtcpExtendedReport[] => packets.filter((p): p is RtcpExtendedReport => p.kind === 'xr');

for (const [aToB, bToA] of [[50, 50], [30, 90]] as const) {
  test(`receive-only RTT from RRTR/DLRR on a ${aToB} + ${bToA} ms link: ${aToB + bToA} ms`, () => {
    const sender = new RtcpReporter('video', { rng: new SeededRng(3), wallClockOffsetMs: OFFSET });
    const receiver = new RtcpReporter('video', { rng: new SeededRng(4), wallClockOffsetMs: OFFSET + 7000 });
    const pair = new PolicyPair({
      network: { seed: 5, aToB: { delayMs: aToB, loss: 0.02, jitterMs: 2 }, bToA: { delayMs: bToA } },
      sender: [sender], receiver: [receiver], receiverRtt: true,
    });
    pair.runVideo(15_000, 1_000_000);
    // What the sender ('a') heard from the receive-only end: an RRTR with every RR.
    const rrs = pair.a.rtcp.filter((p) => p.kind === 'rr');
    const rrtrs = xrs(pair.a.rtcp).filter((x) => x.blocks.some((b) => b.blockType === 4));
    assert.ok(rrs.length >= 8, `RRs (${rrs.length})`);
    assert.equal(rrtrs.length, rrs.length, 'one RRTR per RR');
    assert.ok(rrtrs.every((x) => x.ssrc === RECEIVER_SSRC));
    // What the receiver heard: DLRR items about its RRTRs, at most one per RRTR, never an RRTR from a sender.
    const fromSender = xrs(pair.b.rtcp);
    assert.ok(fromSender.every((x) => x.ssrc === MEDIA_SSRC && x.blocks.every((b) => b.blockType === 5)));
    const items = fromSender.flatMap((x) => x.blocks.flatMap((b) => ('items' in b ? b.items : [])));
    assert.ok(items.length >= 5 && items.length <= rrtrs.length, `DLRR items (${items.length} for ${rrtrs.length} RRTRs)`);
    assert.ok(items.every((i) => i.ssrc === RECEIVER_SSRC));
    const stats = remoteOutbound(receiver)[MEDIA_SSRC]!;
    const expected = (aToB + bToA) / 1000;
    assert.ok(Math.abs(stats.roundTripTime! - expected) < 0.004, `RTT ≈ ${expected} s (${stats.roundTripTime})`);
    assert.ok(stats.roundTripTimeMeasurements! >= 5);
    assert.ok(Math.abs(stats.totalRoundTripTime! / stats.roundTripTimeMeasurements! - expected) < 0.004);
    assert.ok(stats.packetsSent! > 0, 'the SR fields are there too');
    const events = pair.b.events.filter((e) => e.name === 'rtt');
    assert.equal(events.length, stats.roundTripTimeMeasurements);
    assert.ok(events.every((e) => e.name === 'rtt' && e.detail.ssrc === MEDIA_SSRC));
  });
}

test('without rcvr-rtt negotiated no XR is sent and the receiver has no RTT; the reporter serves rcvr-rtt', () => {
  const sender = new RtcpReporter('video', { rng: new SeededRng(3), wallClockOffsetMs: OFFSET });
  const receiver = new RtcpReporter('video', { rng: new SeededRng(4), wallClockOffsetMs: OFFSET });
  const pair = new PolicyPair({ network: { seed: 5, aToB: { delayMs: 50 }, bToA: { delayMs: 50 } }, sender: [sender], receiver: [receiver] });
  pair.runVideo(8_000, 500_000);
  assert.ok(pair.a.rtcp.some((p) => p.kind === 'rr'));
  assert.equal(xrs(pair.a.rtcp).length, 0);
  assert.equal(xrs(pair.b.rtcp).length, 0);
  assert.equal(remoteOutbound(receiver)[MEDIA_SSRC]!.roundTripTime, undefined);
  assert.equal(receiver.receiverRtt(), true);
  assert.equal(new RtpPolicyChain([receiver]).receiverRtt('video'), true);
  assert.equal(new RtpPolicyChain([]).receiverRtt('video'), false);
});

test('hostile XR: an RRTR flood is bounded, bogus or foreign DLRR items give no RTT', () => {
  const sent: RtcpPacket[][] = [];
  const out: RtpPolicyOutput = { sendRtcp: (p) => sent.push([...p]), sendRtp: () => {}, emit: () => {}, requestKeyframe: () => {} };
  const base: RtpPolicyParameters = {
    kind: 'video', cname: 'x', localSsrc: MEDIA_SSRC, sendStreams: [{ ssrc: MEDIA_SSRC, rtxSsrc: undefined, rid: undefined, kind: 'video' }],
    sendCodec: { payloadType: 96, clockRate: 90000, rtxPayloadType: undefined }, receiveClockRates: new Map(), rtcpFeedback: new Set(),
    headerExtensions: new Map(), reducedSizeRtcp: false, receiverRtt: true,
  };
  const sender = new RtcpReporter('video', { rng: new SeededRng(1), wallClockOffsetMs: OFFSET });
  sender.configure(0, base);
  for (let i = 0; i < 1000; i++) {
    sender.incomingRtcp(100, [new RtcpExtendedReport(0x10000 + i, [{ blockType: 4, ntpTimestamp: ntpFromUnixMs(OFFSET + i) }])], out);
  }
  assert.equal(sender.counters.sourcesRefused, 1000 - MAX_REPORTED_SOURCES);
  for (let i = 0; i < 20 && sent.length === 0; i++) sender.timeout(sender.nextTimeout()!, out);
  const answered = xrs(sent.flat()).flatMap((x) => x.blocks.flatMap((b) => ('items' in b ? b.items : [])));
  assert.equal(answered.length, MAX_REPORTED_SOURCES, 'one DLRR item per kept RRTR');

  // A receive-only reporter hears a sender: DLRR items with LRR 0, from the future, or about another SSRC.
  const receiver = new RtcpReporter('video', { rng: new SeededRng(2), wallClockOffsetMs: OFFSET });
  receiver.configure(0, { ...base, localSsrc: RECEIVER_SSRC, sendStreams: [], sendCodec: undefined, receiveClockRates: new Map([[96, 90000]]) });
  const events: string[] = [];
  const rout: RtpPolicyOutput = { ...out, emit: (name) => events.push(name) };
  receiver.incomingRtcp(1000, [new RtcpSenderReport({ ssrc: MEDIA_SSRC, ntpTimestamp: ntpFromUnixMs(OFFSET), rtpTimestamp: 0, packetCount: 1, octetCount: 1 })], rout);
  const future = ntpMiddle32(ntpFromUnixMs(OFFSET + 60_000));
  receiver.incomingRtcp(1000, [new RtcpExtendedReport(MEDIA_SSRC, [{ blockType: 5, items: [
    { ssrc: RECEIVER_SSRC, lastRr: 0, delaySinceLastRr: 0 },
    { ssrc: RECEIVER_SSRC, lastRr: future, delaySinceLastRr: 0 },
    { ssrc: 0x9999, lastRr: ntpMiddle32(ntpFromUnixMs(OFFSET + 900)), delaySinceLastRr: 0 },
  ] }])], rout);
  assert.deepEqual(events, []);
  assert.equal(remoteOutbound(receiver)[MEDIA_SSRC]?.roundTripTime, undefined);
});
