// RTCP reporter timing on the virtual clock (lib/policy/rtcp-reporter.ts): timer reconsideration
// (RFC 3550 §6.3.6) defers a report when the group grew since the timer was set, reverse
// reconsideration (§6.3.4) brings it closer when members leave, and past 50 members a leaving
// participant's BYE waits (BYE reconsideration, §6.3.7).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../../lib/common/rng.js';
import { RtpPacketBatch, type RtpPolicyOutput, type RtpPolicyParameters } from '../../../lib/peer/rtp-policy.js';
import { RtcpReporter } from '../../../lib/policy/rtcp-reporter.js';
import { RTCP_INTERVAL_COMPENSATION, rtcpIntervalMs } from '../../../lib/policy/rtcp-interval.js';
import type { RtcpPacket } from '../../../lib/rtp/rtcp/compound.js';
import { RtcpGoodbye } from '../../../lib/rtp/rtcp/goodbye.js';

const PT = 111;
const params: RtpPolicyParameters = {
  kind: 'audio', cname: 'reconsider', localSsrc: 0x1234, sendStreams: [], sendCodec: undefined,
  receiveClockRates: new Map([[PT, 48000]]), rtcpFeedback: new Set(), headerExtensions: new Map(), reducedSizeRtcp: false,
};

function recorder(): { out: RtpPolicyOutput; sent: { at: number; packets: RtcpPacket[] }[]; clock: { now: number } } {
  const sent: { at: number; packets: RtcpPacket[] }[] = [];
  const clock = { now: 0 };
  return { sent, clock, out: { sendRtcp: (p) => sent.push({ at: clock.now, packets: [...p] }), sendRtp: () => {}, emit: () => {}, requestKeyframe: () => {} } };
}

/** One 100-byte packet from each of `count` sources starting at SSRC `first`, received at `now`. */
function hear(r: RtcpReporter, now: number, first: number, count: number): void {
  const batch = new RtpPacketBatch();
  for (let done = 0; done < count; ) {
    batch.reset(Buffer.alloc(100));
    for (; done < count && batch.push(0, 100, first + done, 1, 0, PT, false, 88, -1, 0); done++);
    r.incomingRtp(now, batch);
  }
}

/** Runs timeouts at the reporter's deadlines until `until`. */
function runTo(r: RtcpReporter, rec: ReturnType<typeof recorder>, until: number): void {
  for (let i = 0; i < 1000; i++) {
    const at = r.nextTimeout();
    if (at === undefined || at > until) return;
    rec.clock.now = at;
    r.timeout(at, rec.out);
  }
}

test('rtcp_interval (RFC 3550 §A.7): Tmin, halved at first, bandwidth share, randomization and compensation', () => {
  const base = { members: 2, senders: 1, weSent: true, rtcpBytesPerSecond: 400, averageRtcpSize: 100, initial: false, minIntervalMs: 5000 };
  assert.equal(rtcpIntervalMs(base, 0.5), 5000 / RTCP_INTERVAL_COMPENSATION);
  assert.equal(rtcpIntervalMs({ ...base, initial: true }, 0.5), 2500 / RTCP_INTERVAL_COMPENSATION);
  assert.equal(rtcpIntervalMs(base, 0), 2500 / RTCP_INTERVAL_COMPENSATION);
  // 61 members all sending: 100 B × 61 / 400 B/s = 15.25 s, above Tmin.
  assert.equal(rtcpIntervalMs({ ...base, members: 61, senders: 61 }, 0.5), 15_250 / RTCP_INTERVAL_COMPENSATION);
  // 1 sender of 61: receivers share 75 % among 60 (20 s); the sender 25 % alone (1 s → Tmin).
  assert.equal(rtcpIntervalMs({ ...base, members: 61, senders: 1, weSent: false }, 0.5), 20_000 / RTCP_INTERVAL_COMPENSATION);
  assert.equal(rtcpIntervalMs({ ...base, members: 61, senders: 1, weSent: true }, 0.5), 5000 / RTCP_INTERVAL_COMPENSATION);
});

test('timer reconsideration: a group that grew before the deadline defers the report to tp + T', () => {
  const grown = new RtcpReporter('audio', { rng: new SeededRng(5), wallClockOffsetMs: 0 });
  const steady = new RtcpReporter('audio', { rng: new SeededRng(5), wallClockOffsetMs: 0 });
  const a = recorder();
  const b = recorder();
  grown.configure(0, params);
  steady.configure(0, params);
  hear(steady, 100, 1000, 1);
  hear(grown, 100, 1000, 60);
  const deadline = grown.nextTimeout()!;
  assert.equal(deadline, steady.nextTimeout(), 'the same first deadline (set at join, same seed)');
  assert.ok(deadline < 3100, `first deadline from Tmin/2 (${deadline})`);
  // One source: the report goes out at the deadline.
  b.clock.now = deadline;
  steady.timeout(deadline, b.out);
  assert.equal(b.sent.length, 1);
  // 61 members at the floor bandwidth: T = 100 B × 61 / 400 B/s = 15.25 s × [0.5, 1.5] / (e − 3/2) from tp = 0.
  a.clock.now = deadline;
  grown.timeout(deadline, a.out);
  assert.equal(a.sent.length, 0, 'reconsidered: not sent at the deadline');
  assert.equal(grown.counters.reportsReconsidered, 1);
  const moved = grown.nextTimeout()!;
  assert.ok(moved >= (15_250 * 0.5) / RTCP_INTERVAL_COMPENSATION - 1 && moved <= (15_250 * 1.5) / RTCP_INTERVAL_COMPENSATION + 1, `tp + T (${moved})`);
  runTo(grown, a, 60_000);
  assert.ok(a.sent.length >= 1 && a.sent[0]!.at >= moved, `sent at ${a.sent[0]?.at}, not before ${moved}`);
  // Consecutive reports of the large group stay at least T_min-scaled apart (none at the small group's pace).
  for (let i = 1; i < a.sent.length; i++) assert.ok(a.sent[i]!.at - a.sent[i - 1]!.at >= (15_250 * 0.5) / RTCP_INTERVAL_COMPENSATION - 1);
});

test('reverse reconsideration: when members leave by BYE, the next report and tp move closer in the ratio members / pmembers', () => {
  const r = new RtcpReporter('audio', { rng: new SeededRng(7), wallClockOffsetMs: 0 });
  const rec = recorder();
  r.configure(0, params);
  hear(r, 100, 1000, 60);
  let reportAt = 0;
  for (let i = 0; i < 20 && rec.sent.length === 0; i++) {
    reportAt = r.nextTimeout()!;
    rec.clock.now = reportAt;
    r.timeout(reportAt, rec.out);
  }
  assert.equal(rec.sent.length, 1, 'the first report went out');
  const tn = r.nextTimeout()!;
  const tc = reportAt + 1000;
  assert.ok(tn > tc + 1000, 'the next report is far: 61 members');
  // 59 of the 60 sources leave: members 61 → 2.
  r.incomingRtcp(tc, [new RtcpGoodbye(Array.from({ length: 59 }, (_, i) => 1000 + i))], rec.out);
  const expected = tc + (2 / 61) * (tn - tc);
  assert.ok(Math.abs(r.nextTimeout()! - expected) < 1e-6, `tn' = tc + (2/61)(tn − tc): ${r.nextTimeout()} vs ${expected}`);
});

test('BYE reconsideration: past 50 members the BYE waits as if joining a group of leavers; at 50 or fewer it goes at once', () => {
  const many = new RtcpReporter('audio', { rng: new SeededRng(11), wallClockOffsetMs: 0 });
  const rec = recorder();
  many.configure(0, params);
  hear(many, 100, 1000, 60);
  rec.clock.now = 500;
  many.stop(500, rec.out);
  assert.equal(rec.sent.length, 0, 'not at once with 61 members');
  const first = many.nextTimeout()!;
  // members = 1, initial: T = Tmin/2 × [0.5, 1.5] / (e − 3/2) from tp = 500.
  assert.ok(first >= 500 + (2500 * 0.5) / RTCP_INTERVAL_COMPENSATION - 1 && first <= 500 + (2500 * 1.5) / RTCP_INTERVAL_COMPENSATION + 1, `${first}`);
  // Other members' BYEs are counted meanwhile, and do not end the wait by themselves.
  many.incomingRtcp(600, [new RtcpGoodbye([1000]), new RtcpGoodbye([1001])], rec.out);
  runTo(many, rec, 60_000);
  assert.equal(rec.sent.length, 1, 'one BYE');
  assert.ok(rec.sent[0]!.at >= first);
  assert.deepEqual(rec.sent[0]!.packets.map((p) => p.kind), ['rr', 'sdes', 'bye']);
  assert.equal(many.nextTimeout(), undefined, 'nothing after the BYE');

  const few = new RtcpReporter('audio', { rng: new SeededRng(11), wallClockOffsetMs: 0 });
  const rec2 = recorder();
  few.configure(0, params);
  hear(few, 100, 1000, 49);
  few.stop(500, rec2.out);
  assert.equal(rec2.sent.length, 1, '50 members: at once');
  assert.equal(rec2.sent[0]!.packets.at(-1)!.kind, 'bye');
});
