// RTCP reporter (RFC 3550 §6) on the network simulator, virtual clock: SR with the NTP/RTP
// mapping, RR blocks with loss, extended highest sequence number, jitter and LSR/DLSR, RTT from
// them, SDES CNAME in every compound packet, randomized intervals (§6.3.1, §A.7), BYE on stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../../lib/common/rng.js';
import type { RtpPolicyOutput, RtpPolicyStatsCollector } from '../../../lib/peer/rtp-policy.js';
import { RtcpReporter } from '../../../lib/policy/rtcp-reporter.js';
import type { RtcpReceiverReport } from '../../../lib/rtp/rtcp/receiver-report.js';
import type { RtcpSenderReport } from '../../../lib/rtp/rtcp/sender-report.js';
import type { RtcpPacket } from '../../../lib/rtp/rtcp/compound.js';
import { ntpToUnixMs } from '../../../lib/rtp/rtcp/ntp-time.js';
import { MEDIA_SSRC, PolicyPair, RECEIVER_SSRC } from './policy-pair.js';

const OFFSET = 1_700_000_000_000;

function collect(r: RtcpReporter): Record<string, Record<number, Record<string, number>>> {
  const out: Record<string, Record<number, Record<string, number>>> = { inbound: {}, outbound: {}, remoteInbound: {}, remoteOutbound: {} };
  const add = (kind: string) => (ssrc: number, f: Readonly<Record<string, number>>) => {
    out[kind]![ssrc] = { ...out[kind]![ssrc], ...f };
  };
  const c: RtpPolicyStatsCollector = { inbound: add('inbound'), outbound: add('outbound'), remoteInbound: add('remoteInbound'), remoteOutbound: add('remoteOutbound'), transport: () => {} };
  r.collectStats(c);
  return out;
}

/**
 * Runs the reporter's timeouts until it sends: timer reconsideration (RFC 3550 §6.3.6) may defer a
 * report past the deadline it had set. Returns the time of the report.
 */
function runUntilReport(r: RtcpReporter, out: RtpPolicyOutput, sent: readonly unknown[]): number {
  const before = sent.length;
  for (let i = 0; i < 20; i++) {
    const at = r.nextTimeout()!;
    r.timeout(at, out);
    if (sent.length > before) return at;
  }
  throw new Error('no report after 20 timeouts');
}

test('SR/RR exchange through 5 % loss and 50 ms each way: loss, jitter, RTT 100 ms, SR mapping, CNAME', () => {
  const sender = new RtcpReporter('video', { rng: new SeededRng(1), wallClockOffsetMs: OFFSET });
  const receiver = new RtcpReporter('video', { rng: new SeededRng(2), wallClockOffsetMs: OFFSET + 5000 });
  const pair = new PolicyPair({ network: { seed: 11, aToB: { delayMs: 50, loss: 0.05, jitterMs: 4 }, bToA: { delayMs: 50 } }, sender: [sender], receiver: [receiver] });
  pair.runVideo(20_000, 2_000_000);
  const srs = pair.b.rtcp.filter((p): p is RtcpSenderReport => p.kind === 'sr');
  const rrs = pair.a.rtcp.filter((p): p is RtcpReceiverReport => p.kind === 'rr');
  assert.ok(srs.length >= 10 && srs.length <= 40, `about one SR per second (${srs.length})`);
  assert.ok(rrs.length >= 10 && rrs.length <= 40, `about one RR per second (${rrs.length})`);
  // Every compound packet carries SDES CNAME (RFC 3550 §6.1).
  assert.equal(pair.b.rtcp.filter((p) => p.kind === 'sdes').length, srs.length);
  // SR: NTP is the sender's wall clock, RTP timestamp on the 90 kHz clock of the same instant.
  const last = srs[srs.length - 1]!;
  const ntpMs = ntpToUnixMs(last.ntpTimestamp);
  assert.ok(Math.abs(ntpMs - OFFSET - pair.now) < 3000, 'the last SR is recent (SRs cross the 5 % loss too)');
  const rtpMs = (last.rtpTimestamp / 90000) * 1000;
  assert.ok(Math.abs(rtpMs - (ntpMs - OFFSET)) < 40, 'RTP and NTP timestamps describe the same instant');
  assert.ok(last.packetCount > 1000 && last.octetCount === last.packetCount * 1000);
  const block = rrs[rrs.length - 1]!.reports[0]!;
  assert.equal(block.ssrc, MEDIA_SSRC);
  assert.ok(block.cumulativeLost > 0);
  const stats = collect(sender);
  const remote = stats.remoteInbound![MEDIA_SSRC]!;
  assert.ok(Math.abs(remote.roundTripTime! - 0.1) < 0.003, `RTT ≈ 100 ms (${remote.roundTripTime})`);
  assert.ok(remote.roundTripTimeMeasurements! >= 10);
  const lostShare = remote.packetsLost! / last.packetCount;
  assert.ok(lostShare > 0.03 && lostShare < 0.07, `cumulative loss ≈ 5 % (${lostShare})`);
  assert.ok(remote.jitter! > 0 && remote.jitter! < 0.01, `jitter from 4 ms link jitter (${remote.jitter} s)`);
  const inbound = collect(receiver).inbound![MEDIA_SSRC]!;
  assert.ok(inbound.packetsLost! >= block.cumulativeLost, 'the receiver counted at least what it reported last');
  assert.ok(inbound.jitter! > 0);
  const ro = collect(receiver).remoteOutbound![MEDIA_SSRC]!;
  assert.equal(ro.packetsSent, last.packetCount);
  assert.ok(pair.a.events.some((e) => e.name === 'rtt'));
  assert.equal(collect(receiver).remoteInbound![RECEIVER_SSRC], undefined);
});

test('report intervals are randomized in [0.5, 1.5] x Tmin / (e - 3/2), the first one halved', () => {
  const r = new RtcpReporter('audio', { rng: new SeededRng(9), wallClockOffsetMs: 0 });
  const pair = new PolicyPair({ network: { seed: 1 }, sender: [r], receiver: [] });
  const times: number[] = [];
  let now = 0;
  const first = r.nextTimeout()!;
  assert.ok(first >= 2500 * 0.5 / (Math.E - 1.5) && first <= 2500 * 1.5 / (Math.E - 1.5), `initial interval uses Tmin/2 (${first})`);
  for (let i = 0; i < 200; i++) {
    pair.sendMedia(100, i * 960);
    now = r.nextTimeout()!;
    pair.now = now;
    r.timeout(now, { sendRtcp: () => times.push(now), sendRtp: () => {}, emit: () => {}, requestKeyframe: () => {} });
  }
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  const lo = (5000 * 0.5) / (Math.E - 1.5);
  const hi = (5000 * 1.5) / (Math.E - 1.5);
  for (const g of gaps) assert.ok(g >= lo - 1 && g <= hi + 1, `gap ${g} within [${lo}, ${hi}]`);
  assert.ok(Math.max(...gaps) - Math.min(...gaps) > 1000, 'the intervals vary');
});

test('stop sends SR, SDES and BYE for what we sent; nothing before negotiation', () => {
  const r = new RtcpReporter('video', { rng: new SeededRng(3), wallClockOffsetMs: 0 });
  const sent: string[][] = [];
  const out = { sendRtcp: (p: readonly { kind: string }[]) => sent.push(p.map((x) => x.kind)), sendRtp: () => {}, emit: () => {}, requestKeyframe: () => {} };
  r.stop(0, out);
  assert.equal(sent.length, 0, 'not configured: nothing to say');
  const pair = new PolicyPair({ network: { seed: 1 }, sender: [r], receiver: [] });
  pair.sendMedia(100, 0);
  r.stop(pair.now + 10, out);
  assert.deepEqual(sent, [['sr', 'sdes', 'bye']]);
  r.stop(pair.now + 20, out);
  assert.equal(sent.length, 1, 'once');
});

test('hostile input: a flood of SSRCs is bounded; bogus report blocks give no RTT', () => {
  const r = new RtcpReporter('video', { rng: new SeededRng(4), wallClockOffsetMs: 0 });
  const pair = new PolicyPair({ network: { seed: 1 }, sender: [], receiver: [r] });
  const b = pair.b.chain.incoming;
  b.reset(Buffer.alloc(12));
  for (let i = 0; i < 64; i++) b.push(0, 12, 1000 + i, 1, 1, 96, false, 0, -1, 0);
  r.incomingRtp(0, b);
  b.reset(Buffer.alloc(12));
  for (let i = 0; i < 10; i++) b.push(0, 12, 5000 + i, 1, 1, 96, false, 0, -1, 0);
  r.incomingRtp(0, b);
  assert.equal(r.counters.sourcesRefused, 10);
  const events: string[] = [];
  r.incomingRtcp(1, [{ kind: 'rr', reports: [{ ssrc: 1, fractionLost: 0, cumulativeLost: 0, highestSequence: 0, jitter: 0, lastSr: 12345, delaySinceLastSr: 9 }] } as unknown as RtcpReceiverReport],
    { sendRtcp: () => {}, sendRtp: () => {}, emit: (n) => events.push(n), requestKeyframe: () => {} });
  assert.deepEqual(events, []);
});

test('native totals (lib/sfu engine): SR from a leg the engine sends, RR blocks from its §A.1/§A.8 state', () => {
  const base = { cname: 'sfu', rtcpFeedback: new Set<string>(), headerExtensions: new Map<string, number>(), reducedSizeRtcp: true };
  const sent: RtcpPacket[][] = [];
  const out = { sendRtcp: (p: readonly RtcpPacket[]) => sent.push([...p]), sendRtp: () => {}, emit: () => {}, requestKeyframe: () => {} };
  // A consumer leg: the engine sent 50 packets of 100 payload octets, the last with timestamp
  // 0xfffffe00 (it wraps) 30 ms before the report.
  const leg = new RtcpReporter('audio', { rng: new SeededRng(3), wallClockOffsetMs: OFFSET, minIntervalMs: 100 });
  leg.configure(0, { ...base, kind: 'audio', localSsrc: 0x1111, sendStreams: [{ ssrc: 0x1111, rtxSsrc: undefined, rid: undefined, kind: 'audio' }], sendCodec: { payloadType: 111, clockRate: 48000, rtxPayloadType: undefined }, receiveClockRates: new Map() });
  const at = leg.nextTimeout()!;
  leg.nativeTotals(at, { sent: [{ ssrc: 0x1111, packets: 50, payloadBytes: 5000, bytes: 5600, lastRtpTimestamp: 0xfffffe00, lastSentAt: at - 30 }], received: [] });
  const reportedAt = runUntilReport(leg, out, sent);
  const sr = sent[0]!.find((p): p is RtcpSenderReport => p.kind === 'sr')!;
  assert.equal(sr.ssrc, 0x1111);
  assert.equal(sr.packetCount, 50);
  assert.equal(sr.octetCount, 5000);
  assert.equal(sr.rtpTimestamp, (0xfffffe00 + Math.round((reportedAt - at + 30) * 48)) >>> 0, 'last rewritten timestamp + the time since it at 48 kHz');
  assert.ok(Math.abs(ntpToUnixMs(sr.ntpTimestamp) - (OFFSET + reportedAt)) < 1);
  // The same totals again add nothing; new ones add the difference.
  leg.nativeTotals(reportedAt + 1, { sent: [{ ssrc: 0x1111, packets: 50, payloadBytes: 5000, bytes: 5600, lastRtpTimestamp: 0xfffffe00, lastSentAt: at - 30 }], received: [] });
  leg.nativeTotals(reportedAt + 2, { sent: [{ ssrc: 0x1111, packets: 60, payloadBytes: 6000, bytes: 6720, lastRtpTimestamp: 0x100, lastSentAt: reportedAt }], received: [] });
  const next = runUntilReport(leg, out, sent);
  const sr2 = sent[1]!.find((p): p is RtcpSenderReport => p.kind === 'sr')!;
  assert.equal(sr2.packetCount, 60);
  assert.equal(sr2.octetCount, 6000);
  assert.equal(sr2.rtpTimestamp, (0x100 + Math.round(((next - reportedAt) * 48000) / 1000)) >>> 0);

  // A producer: 95 of 100 sequence numbers (base 65500, across a wrap) received, jitter 12 units.
  const pub = new RtcpReporter('audio', { rng: new SeededRng(4), wallClockOffsetMs: OFFSET, minIntervalMs: 100 });
  pub.configure(0, { ...base, kind: 'audio', localSsrc: 0x2222, sendStreams: [], sendCodec: undefined, receiveClockRates: new Map([[111, 48000]]) });
  const t = pub.nextTimeout()!;
  pub.nativeTotals(t, { sent: [], received: [{ ssrc: 0x3333, received: 95, bytes: 9500, baseSequence: 65500, extendedHighestSequence: 65536 + 63, jitter: 12, clockRate: 48000 }] });
  sent.length = 0;
  runUntilReport(pub, out, sent);
  const rr = sent[0]!.find((p): p is RtcpReceiverReport => p.kind === 'rr')!;
  const block = rr.reports[0]!;
  assert.equal(block.ssrc, 0x3333);
  assert.equal(block.highestSequence, 65536 + 63);
  assert.equal(block.cumulativeLost, 5);
  assert.equal(block.fractionLost, Math.floor((5 * 256) / 100));
  assert.equal(block.jitter, 12);
  assert.equal(collect(pub).inbound![0x3333]!.packetsLost, 5);
  // Nothing new from the engine: no block for that source in the next report (RFC 3550 §6.4.1).
  pub.nativeTotals(pub.nextTimeout()!, { sent: [], received: [{ ssrc: 0x3333, received: 95, bytes: 9500, baseSequence: 65500, extendedHighestSequence: 65536 + 63, jitter: 12, clockRate: 48000 }] });
  sent.length = 0;
  pub.timeout(pub.nextTimeout()!, out);
  assert.equal(sent.length, 0, 'no report without a source heard and without sending');
});
