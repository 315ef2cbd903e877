// NACK generator + responder (RFC 4585 §6.2.1, RFC 4588) on the network simulator, virtual clock:
// loss repaired through RTX, reordering tolerated, retries capped and spaced by RTT, give-up with a
// keyframe request, history bounded, rate limit, retransmission in the original stream without RTX.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RtpPolicyOutput } from '../../../lib/peer/rtp-policy.js';
import { RtpPacketBatch } from '../../../lib/peer/rtp-policy.js';
import { KeyframeRequester } from '../../../lib/policy/keyframe-requester.js';
import { NackGenerator } from '../../../lib/policy/nack-generator.js';
import { NackResponder, wrapRtxBytes } from '../../../lib/policy/nack-responder.js';
import { RtcpGenericNack } from '../../../lib/rtp/rtcp/generic-nack.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { RtcpReceiverReport } from '../../../lib/rtp/rtcp/receiver-report.js';
import { ntpMiddle32FromUnixMs } from '../../../lib/rtp/rtcp/ntp-time.js';
import { RESEND_INTERVAL, resendIntervalMs } from '../../../lib/policy/resend-interval.js';
import { unwrapRtx } from '../../../lib/rtp/rtx.js';
import { MEDIA_SSRC, PolicyPair } from './policy-pair.js';

function missingShare(pair: PolicyPair, sent: number[]): number {
  const got = new Set(pair.b.received.map((p) => p.sequenceNumber));
  return sent.filter((s) => !got.has(s)).length / sent.length;
}

const LOSSY = { seed: 7, aToB: { delayMs: 50, loss: 0.05 }, bToA: { delayMs: 50, loss: 0.05 } };

test('5 % loss, 50 ms delay: NACK + RTX repair all but a few packets; without them 5 % stay lost', () => {
  const withNack = new PolicyPair({ network: LOSSY, sender: [new NackResponder()], receiver: [new NackGenerator(), new KeyframeRequester()] });
  const sent = withNack.runVideo(10_000);
  withNack.runUntil(withNack.now + 2000);
  const repaired = missingShare(withNack, sent);
  const without = new PolicyPair({ network: LOSSY, sender: [], receiver: [] });
  const sentWithout = without.runVideo(10_000);
  without.runUntil(without.now + 2000);
  const lost = missingShare(without, sentWithout);
  console.log(`# NACK sim: ${sent.length} packets; missing ${(repaired * 100).toFixed(2)} % with NACK/RTX, ${(lost * 100).toFixed(2)} % without`);
  assert.ok(lost > 0.03 && lost < 0.08, `without NACK about 5 % are lost (${lost})`);
  assert.ok(repaired < 0.001, `with NACK at most 0.1 % stay lost (${repaired})`);
  const nacks = withNack.a.rtcp.filter((p) => p.kind === 'nack');
  assert.ok(nacks.length > 0, 'NACKs reached the sender');
});

test('reordering within the tolerance sends no NACK', () => {
  const gen = new NackGenerator({ reorderToleranceMs: 10 });
  const pair = new PolicyPair({ network: { seed: 3, aToB: { delayMs: 20, reorder: 0.05, reorderDelayMs: 5 } }, sender: [], receiver: [gen] });
  pair.runVideo(3000);
  pair.runUntil(pair.now + 500);
  assert.equal(pair.a.rtcp.filter((p) => p.kind === 'nack').length, 0);
  // Reordered beyond the tolerance: NACKed (and then the packet arrives: recovered, not given up).
  const late = new NackGenerator({ reorderToleranceMs: 10 });
  const pair2 = new PolicyPair({ network: { seed: 3, aToB: { delayMs: 20, reorder: 0.05, reorderDelayMs: 40 } }, sender: [], receiver: [late] });
  pair2.runVideo(3000);
  pair2.runUntil(pair2.now + 500);
  assert.ok(pair2.a.rtcp.filter((p) => p.kind === 'nack').length > 0);
  assert.equal(late.missingCount(MEDIA_SSRC), 0);
});

test('unanswered NACKs: retries capped and spaced, then give-up with a keyframe request (PLI)', () => {
  const gen = new NackGenerator({ maxRetries: 4, initialRttMs: 60, maxAgeMs: 5000 });
  // The sender does not answer (no responder); the network loses nothing but one packet we drop.
  const pair = new PolicyPair({ network: { seed: 1, aToB: { delayMs: 30 }, bToA: { delayMs: 30 } }, sender: [], receiver: [gen, new KeyframeRequester()] });
  pair.sendMedia(100, 0);
  pair.runUntil(10);
  const before = pair.sendMedia(100, 0);
  pair.skipSequence(); // never sent: lost for good
  const lostSeq = (before + 1) & 0xffff;
  pair.runUntil(20);
  pair.sendMedia(100, 0);
  pair.runUntil(2000);
  const nacks = pair.a.rtcp.filter((p): p is RtcpGenericNack => p.kind === 'nack');
  assert.equal(nacks.length, 4, 'maxRetries NACKs');
  const times = pair.a.rtcp.map((p, i) => (p.kind === 'nack' ? pair.a.rtcpAt[i]! : -1)).filter((t) => t >= 0);
  for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 60, 'retries are one RTT apart (60 ms assumed)');
  for (const n of nacks) assert.deepEqual(n.lostSequenceNumbers(), [lostSeq]);
  assert.ok(pair.b.events.some((e) => e.name === 'nack-give-up' && e.detail.ssrc === MEDIA_SSRC));
  assert.equal(pair.a.rtcp.filter((p) => p.kind === 'pli').length, 1, 'one PLI after giving up');
});

test('a gap larger than the cap is given up at once and a keyframe requested', () => {
  const gen = new NackGenerator({ maxMissing: 100 });
  const pair = new PolicyPair({ network: { seed: 1, aToB: { delayMs: 10 }, bToA: { delayMs: 10 } }, sender: [], receiver: [gen, new KeyframeRequester()] });
  pair.sendMedia(100, 0);
  pair.runUntil(5);
  pair.skipSequence(1000);
  pair.sendMedia(100, 0);
  pair.runUntil(200);
  assert.equal(gen.missingCount(MEDIA_SSRC), 0);
  assert.equal(pair.a.rtcp.filter((p) => p.kind === 'nack').length, 0);
  assert.equal(pair.a.rtcp.filter((p) => p.kind === 'pli').length, 1);
});

function recorder(): RtpPolicyOutput & { rtp: { data: Buffer; retransmission: boolean }[] } {
  const rtp: { data: Buffer; retransmission: boolean }[] = [];
  return { rtp, sendRtcp: () => {}, sendRtp: (data, retransmission) => rtp.push({ data: Buffer.from(data), retransmission }), emit: () => {}, requestKeyframe: () => {} };
}

function responder(options: ConstructorParameters<typeof NackResponder>[0], rtx: boolean): NackResponder {
  const r = new NackResponder(options);
  r.configure(0, {
    kind: 'video', cname: 'c', localSsrc: MEDIA_SSRC, sendStreams: [{ ssrc: MEDIA_SSRC, rtxSsrc: rtx ? 0x2222 : undefined, rid: undefined, kind: 'video' }],
    sendCodec: { payloadType: 96, clockRate: 90000, rtxPayloadType: rtx ? 97 : undefined }, receiveClockRates: new Map(),
    rtcpFeedback: new Set(['nack']), headerExtensions: new Map(), reducedSizeRtcp: true,
  });
  return r;
}

function sendThrough(r: NackResponder, now: number, seqs: number[], size = 200): Buffer[] {
  const out: Buffer[] = [];
  for (const seq of seqs) {
    const p = new RtpPacket({ payloadType: 96, sequenceNumber: seq, timestamp: seq * 10, ssrc: MEDIA_SSRC, payload: Buffer.alloc(size, seq & 0xff) });
    p.setExtension(3, Buffer.from([1, 2]));
    const data = p.serialize();
    const b = new RtpPacketBatch();
    b.reset(data);
    b.push(0, data.length, MEDIA_SSRC, seq, seq * 10, 96, false, size, -1, 0);
    r.outgoingRtp(now, b);
    out.push(data);
  }
  return out;
}

test('responder: RTX carries the original (OSN first, extensions kept); bounded history; once per RTT', () => {
  const r = responder({ historySize: 16 }, true);
  const originals = sendThrough(r, 0, [...Array(40).keys()].map((i) => (65520 + i) & 0xffff));
  const out = recorder();
  r.incomingRtcp(10, [RtcpGenericNack.fromSequenceNumbers(1, MEDIA_SSRC, [65530, 10, 20])], out);
  assert.equal(out.rtp.length, 2, 'only the last 16 packets (8..23) are kept: 65530 is gone');
  const first = RtpPacket.parse(out.rtp[0]!.data);
  assert.equal(first.ssrc, 0x2222);
  assert.equal(first.payloadType, 97);
  const unwrapped = unwrapRtx(first, { ssrc: MEDIA_SSRC, payloadType: 96 })!;
  assert.equal(unwrapped.sequenceNumber, 10);
  assert.deepEqual(unwrapped.payload, RtpPacket.parse(originals[26]!).payload);
  assert.deepEqual(unwrapped.getExtension(3), Buffer.from([1, 2]));
  const second = RtpPacket.parse(out.rtp[1]!.data);
  assert.equal(second.sequenceNumber, (first.sequenceNumber! + 1) & 0xffff, 'RTX sequence numbers are consecutive');
  // The same NACK again 1 ms later: not resent.
  r.incomingRtcp(11, [RtcpGenericNack.fromSequenceNumbers(1, MEDIA_SSRC, [10])], out);
  assert.equal(out.rtp.length, 2);
});

test('responder: the history is made at the first packet sent; NACKs before it are neither answered nor counted', () => {
  const r = responder({ historySize: 16 }, false);
  assert.equal(r.historyBytes, 0, 'configured with NACK, nothing sent: no ring yet');
  const out = recorder();
  // Packets another sender sent (an SFU engine's leg): not this module's to answer or count.
  r.incomingRtcp(5, [RtcpGenericNack.fromSequenceNumbers(1, MEDIA_SSRC, [1, 2, 3])], out);
  assert.equal(out.rtp.length, 0);
  const before: Record<string, unknown>[] = [];
  r.collectStats({ outbound: (_ssrc, s) => before.push(s), inbound: () => {}, remoteInbound: () => {}, remoteOutbound: () => {}, transport: () => {} });
  assert.deepEqual(before, [], 'no NACK or not-in-history count for a stream it never sent');
  sendThrough(r, 10, [1, 2, 3]);
  assert.ok(r.historyBytes >= 16 * 1500, `the ring exists once a packet went through (${r.historyBytes} bytes)`);
  r.incomingRtcp(20, [RtcpGenericNack.fromSequenceNumbers(1, MEDIA_SSRC, [2])], out);
  assert.equal(out.rtp.length, 1, 'answered from the ring');
});

test('resend interval: RTT + 5 ms within [20 ms, 1 s], 100 ms before an RTT is measured', () => {
  assert.equal(resendIntervalMs(undefined), RESEND_INTERVAL.unknownRttMs);
  assert.equal(resendIntervalMs(0), 20);
  assert.equal(resendIntervalMs(15), 20);
  assert.equal(resendIntervalMs(40), 45);
  assert.equal(resendIntervalMs(995), 1000);
  assert.equal(resendIntervalMs(60_000), 1000);
  assert.equal(resendIntervalMs(Number.NaN), 100);
});

test('responder: a repeated NACK is answered once per resend interval (100 ms unmeasured, then RTT + 5 ms from an RR)', () => {
  const wallClockOffsetMs = 1_700_000_000_000;
  const r = responder({ historySize: 64, wallClockOffsetMs }, true);
  sendThrough(r, 0, [...Array(10).keys()]);
  const out = recorder();
  const nack = (): RtcpGenericNack => RtcpGenericNack.fromSequenceNumbers(1, MEDIA_SSRC, [4]);
  r.incomingRtcp(10, [nack()], out);
  r.incomingRtcp(109, [nack()], out);
  assert.equal(out.rtp.length, 1, 'no RTT yet: held back for 100 ms');
  r.incomingRtcp(110, [nack()], out);
  assert.equal(out.rtp.length, 2, 'resent 100 ms later');
  // An RR whose LSR/DLSR give 200 ms: our SR left at 150 (NTP of now + offset), the receiver held it 50 ms.
  const lastSr = ntpMiddle32FromUnixMs(150 + wallClockOffsetMs);
  const rr = new RtcpReceiverReport({ ssrc: 1, reports: [{ ssrc: MEDIA_SSRC, fractionLost: 0, cumulativeLost: 0, highestSequence: 9, jitter: 0, lastSr, delaySinceLastSr: Math.round(50 * 65.536) }] });
  r.incomingRtcp(400, [rr, nack()], out);
  assert.equal(out.rtp.length, 3);
  r.incomingRtcp(604, [nack()], out);
  assert.equal(out.rtp.length, 3, 'within RTT + 5 ms (205 ms)');
  r.incomingRtcp(606, [nack()], out);
  assert.equal(out.rtp.length, 4, 'resent after RTT + 5 ms');
});

test('responder without RTX resends the original packet; the rate limit holds back a flood', () => {
  const r = responder({ maxBitrate: 100_000, historySize: 600 }, false);
  const originals = sendThrough(r, 0, [...Array(500).keys()], 1000);
  const out = recorder();
  r.incomingRtcp(10, [RtcpGenericNack.fromSequenceNumbers(1, MEDIA_SSRC, [...Array(500).keys()])], out);
  assert.deepEqual(out.rtp[0]!.data, originals[0]);
  // 100 kbit/s: a burst of 10 kbit (4 packets of ~1 kB x 8 bits... at least the 4-packet floor).
  assert.ok(out.rtp.length >= 1 && out.rtp.length <= 5, `rate-limited (${out.rtp.length})`);
  const stats: Record<string, number> = {};
  r.collectStats({ inbound: () => {}, outbound: (_s, f) => Object.assign(stats, f), remoteInbound: () => {}, remoteOutbound: () => {}, transport: () => {} });
  assert.equal(stats.nackCount, 1);
  assert.ok(stats.pwtNackRateLimited! > 400);
});

test('wrapRtxBytes drops padding and refuses inconsistent headers', () => {
  const p = new RtpPacket({ payloadType: 96, sequenceNumber: 9, timestamp: 1, ssrc: 5, payload: Buffer.from('abc'), paddingSize: 4 });
  const bytes = p.serialize();
  const rtx = RtpPacket.parse(wrapRtxBytes(bytes, 6, 97, 100)!);
  assert.deepEqual(unwrapRtx(rtx, { ssrc: 5, payloadType: 96 })!.payload, Buffer.from('abc'));
  assert.equal(wrapRtxBytes(Buffer.alloc(8), 6, 97, 1), null);
  const badExt = Buffer.from(bytes);
  badExt[0] = badExt[0]! | 0x10;
  assert.equal(wrapRtxBytes(badExt.subarray(0, 14), 6, 97, 1), null);
});
