// Parts of the send-side bandwidth estimator: packet grouping, trendline overuse detection, AIMD
// transitions, acknowledged bitrate, the send history's feedback matching (transport-cc with
// sequence and reference-time wrap, RFC 8888), and hostile feedback being counted, not thrown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InterArrivalGrouper } from '../../../lib/policy/bandwidth-estimator-inter-arrival.js';
import { TrendlineDetector, linearFitSlope } from '../../../lib/policy/bandwidth-estimator-trendline.js';
import { AimdRateController } from '../../../lib/policy/bandwidth-estimator-aimd.js';
import { AckedBitrateEstimator } from '../../../lib/policy/bandwidth-estimator-acked-bitrate.js';
import { SendHistory, unwrap16 } from '../../../lib/policy/bandwidth-estimator-send-history.js';
import { SendSideBandwidthEstimator } from '../../../lib/policy/bandwidth-estimator.js';
import { RtcpTransportCcFeedback } from '../../../lib/rtp/rtcp/transport-cc-feedback.js';
import { RtcpCongestionControlFeedback } from '../../../lib/rtp/rtcp/congestion-control-feedback.js';
import type { PwtError } from '../../../lib/common/errors.js';

test('inter-arrival: packets sent within 5 ms form a group; deltas between the groups\' last packets', () => {
  const g = new InterArrivalGrouper();
  assert.equal(g.add(0, 100, 1000), undefined);
  assert.equal(g.add(3, 104, 1000), undefined); // same group (sent within 5 ms)
  assert.equal(g.add(10, 111, 1000), undefined); // completes group 1, no group before it
  assert.equal(g.add(12, 113, 500), undefined);
  const d = g.add(20, 130, 1000); // completes group 2 (sent 10..12, last arrival 113)
  assert.deepEqual(d, { sendDeltaMs: 12 - 3, arrivalDeltaMs: 113 - 104, arrivalTimeMs: 113, sizeDelta: 1500 - 2000 });
  // A packet sent before the group being built is ignored and counted.
  assert.equal(g.add(15, 131, 100), undefined);
  assert.equal(g.reorderedIgnored, 1);
});

test('inter-arrival: a burst (arrives within 5 ms, gained on its predecessor) joins the group', () => {
  const g = new InterArrivalGrouper();
  g.add(0, 100, 100);
  g.add(8, 102, 100); // sent 8 ms later, arrived 2 ms later: queued behind it, part of the burst
  g.add(30, 130, 100);
  const d = g.add(60, 160, 100);
  assert.equal(d?.sendDeltaMs, 30 - 8);
  assert.equal(d?.arrivalDeltaMs, 130 - 102);
});

test('trendline: growing delay → overusing, shrinking delay → underusing, steady → normal', () => {
  const run = (extraPerGroupMs: number): string[] => {
    const t = new TrendlineDetector();
    const states: string[] = [];
    for (let i = 0; i < 60; i++) states.push(t.update(10 + extraPerGroupMs, 10, i * (10 + extraPerGroupMs)));
    return states;
  };
  assert.ok(run(0).every((s) => s === 'normal'));
  assert.ok(run(2).includes('overusing'));
  assert.ok(run(-2).slice(30).includes('underusing'));
  assert.equal(linearFitSlope([0, 1, 2, 3], [1, 3, 5, 7]), 2);
  assert.equal(linearFitSlope([1, 1], [0, 5]), undefined);
});

test('trendline: the adaptive threshold rises towards a persistent |m| and falls back', () => {
  const t = new TrendlineDetector();
  const start = t.threshold;
  let now = 0;
  // Alternating jitter keeps |m| moderate; the threshold adapts towards it within [6, 600].
  for (let i = 0; i < 400; i++) t.update(i % 2 === 0 ? 14 : 6, 10, (now += 10));
  assert.ok(t.threshold >= 6 && t.threshold <= 600);
  assert.notEqual(t.threshold, start);
});

test('AIMD: normal → increase, overuse → β × acked and hold, underuse → hold; never above 1.5 × acked + 10 kbit/s', () => {
  const a = new AimdRateController({ startBitrate: 1_000_000, minBitrate: 10_000, maxBitrate: 10_000_000, startupIncreasePerSecond: 1.08 });
  a.update(0, 'normal', 1_000_000, 100);
  assert.equal(a.state, 'increase');
  const up = a.update(1000, 'normal', 1_000_000, 100);
  assert.ok(Math.abs(up - 1_080_000) < 1, `multiplicative 8 %/s: ${up}`);
  const down = a.update(1100, 'overusing', 900_000, 100);
  assert.equal(down, 0.85 * 900_000);
  assert.equal(a.state, 'hold');
  assert.equal(a.inStartup, false);
  assert.equal(a.linkCapacity, 900_000);
  assert.equal(a.update(1200, 'underusing', 800_000, 100), down, 'underuse holds');
  // Near the congestion point the increase is additive (about a packet per response time).
  a.update(1300, 'normal', 770_000, 100);
  const add = a.update(2300, 'normal', 770_000, 100) - down;
  assert.ok(add > 0 && add < 60_000, `additive ${add}`);
  // The 1.5 × acked cap.
  const b = new AimdRateController({ startBitrate: 1_000_000, minBitrate: 10_000, maxBitrate: 10_000_000 });
  b.update(0, 'normal', 100_000, 100);
  assert.equal(b.update(1000, 'normal', 100_000, 100), 1_000_000, 'already above the cap: not raised, not cut');
});

test('AIMD past the congestion point: the multiplicative increase doubles its rate every second (8, 16 %/s...) up to 50 %/s; an overuse starts it over', () => {
  const a = new AimdRateController({ startBitrate: 1_000_000, minBitrate: 10_000, maxBitrate: 100_000_000 });
  a.update(0, 'overusing', 1_000_000, 100);
  assert.equal(a.linkCapacity, 1_000_000);
  // Acked far above the congestion point's upper bound: the capacity estimate is dropped.
  let prev = a.update(100, 'normal', 10_000_000, 100);
  assert.equal(a.linkCapacity, undefined);
  const ratios: number[] = [];
  for (let t = 1100; t <= 4100; t += 1000) {
    const next = a.update(t, 'normal', 10_000_000, 100);
    ratios.push(next / prev);
    prev = next;
  }
  const want = [1.08 ** 2, 1.08 ** 4, 1.5, 1.5];
  ratios.forEach((r, i) => assert.ok(Math.abs(r - want[i]!) < 1e-9, `second ${i + 1}: ×${r}, want ×${want[i]}`));
  // An overuse ends the run; the next one starts again at 8 %/s.
  const cut = a.update(4200, 'overusing', 5_000_000, 100);
  a.update(4300, 'normal', 50_000_000, 100);
  const again = a.update(5300, 'normal', 50_000_000, 100);
  // 100 ms at 8 %/s, then a second at 16 %/s (×1.175), not the ×1.5 the run had reached.
  assert.ok(again / cut > 1.16 && again / cut < 1.19, `restarted: ×${again / cut}`);
  assert.throws(() => new SendSideBandwidthEstimator({ increaseAcceleration: 0.5 }), { code: 'ERR_BWE_OPTION' });
  assert.throws(() => new SendSideBandwidthEstimator({ maxAcceleratedIncreasePerSecond: 0.9 }), { code: 'ERR_BWE_OPTION' });
  // increaseAcceleration 1 keeps the draft's constant 8 %/s.
  const c = new AimdRateController({ startBitrate: 1_000_000, minBitrate: 10_000, maxBitrate: 100_000_000, increaseAcceleration: 1 });
  c.update(0, 'overusing', 1_000_000, 100);
  let p = c.update(100, 'normal', 10_000_000, 100);
  for (let t = 1100; t <= 3100; t += 1000) {
    const n = c.update(t, 'normal', 10_000_000, 100);
    assert.ok(Math.abs(n / p - 1.08) < 1e-9, `constant: ×${n / p}`);
    p = n;
  }
});

test('acked bitrate: bytes over the last 500 ms of arrival time, none before 150 ms', () => {
  const a = new AckedBitrateEstimator();
  a.add(0, 1000);
  a.add(100, 1000);
  assert.equal(a.bitrate(), undefined);
  for (let t = 110; t <= 2000; t += 10) a.add(t, 1250); // 1 Mbit/s
  assert.ok(Math.abs(a.bitrate()! - 1_000_000) < 30_000, `${a.bitrate()}`);
});

test('send history: transport-cc matches across the 16-bit sequence wrap and the 24-bit reference-time wrap', () => {
  const h = new SendHistory();
  for (let i = 0; i < 10; i++) h.onPacketSent(i, { transportSeq: (65530 + i) & 0xffff, size: 100 + i });
  const refWrapUs = (2 ** 24 - 1) * 64_000;
  // Arrivals 65530..65539 (wrapping to 3): seq 65532 lost, the rest 1 ms apart from the last reference unit.
  const arrivals = Array.from({ length: 10 }, (_, i) => (i === 2 ? null : refWrapUs + 1000 * (i + 1)));
  const fb = RtcpTransportCcFeedback.fromArrivals({ senderSsrc: 1, mediaSsrc: 2, baseSequenceNumber: 65530, feedbackPacketCount: 0 }, arrivals);
  const r = h.onTransportCc(fb);
  assert.equal(r.lost, 1);
  assert.equal(r.unknown, 0);
  assert.equal(r.received.length, 9);
  assert.deepEqual(r.received.map((p) => p.size), [100, 101, 103, 104, 105, 106, 107, 108, 109]);
  assert.equal(r.newestSendTimeMs, 9);
  // Next feedback: reference time wrapped to 0; arrival times keep increasing.
  for (let i = 10; i < 12; i++) h.onPacketSent(i, { transportSeq: (65530 + i) & 0xffff, size: 200 });
  const fb2 = RtcpTransportCcFeedback.fromArrivals({ senderSsrc: 1, mediaSsrc: 2, baseSequenceNumber: 4, feedbackPacketCount: 1 }, [100_000, 101_000]);
  const r2 = h.onTransportCc(fb2);
  assert.equal(r2.received.length, 2);
  assert.ok(r2.received[0]!.arrivalTimeMs! > r.received.at(-1)!.arrivalTimeMs!, 'unwrapped past the reference wrap');
  // The packet reported lost, reported received later, turns the loss back.
  const late = RtcpTransportCcFeedback.fromArrivals({ senderSsrc: 1, mediaSsrc: 2, baseSequenceNumber: 65532, feedbackPacketCount: 2 }, [refWrapUs + 20_000]);
  assert.equal(h.onTransportCc(late).lost, -1);
  // Reports of packets never sent are counted as unknown.
  const bogus = RtcpTransportCcFeedback.fromArrivals({ senderSsrc: 1, mediaSsrc: 2, baseSequenceNumber: 30000, feedbackPacketCount: 3 }, [1, 2, 3]);
  assert.equal(h.onTransportCc(bogus).unknown, 3);
  assert.equal(unwrap16(65535, 2), 65538);
  assert.equal(unwrap16(3, 65534), -2);
});

test('send history: RFC 8888 feedback matches by SSRC and RTP sequence number', () => {
  const h = new SendHistory();
  for (let i = 0; i < 4; i++) h.onPacketSent(10 * i, { ssrc: 0xabc, rtpSeq: 100 + i, size: 1000 });
  const fb = new RtcpCongestionControlFeedback(1, [
    {
      ssrc: 0xabc,
      beginSequence: 100,
      metrics: [
        { received: true, ecn: 0, arrivalTimeOffset: 40 },
        { received: false, ecn: 0, arrivalTimeOffset: 0 },
        { received: true, ecn: 0, arrivalTimeOffset: 20 },
        { received: true, ecn: 0, arrivalTimeOffset: 0x1fff },
      ],
    },
    { ssrc: 0xdef, beginSequence: 1, metrics: [{ received: true, ecn: 0, arrivalTimeOffset: 1 }] },
  ], 65536 * 5);
  const r = h.onCongestionControlFeedback(fb);
  assert.equal(r.lost, 1);
  assert.equal(r.unknown, 1);
  assert.equal(r.received.length, 3);
  const [a, b, c] = r.received;
  assert.ok(Math.abs(a!.arrivalTimeMs! - (5000 - (40 * 1000) / 1024)) < 1e-9);
  assert.ok(Math.abs(b!.arrivalTimeMs! - (5000 - (20 * 1000) / 1024)) < 1e-9);
  assert.equal(c!.arrivalTimeMs, undefined, 'received without a time');
});

test('send history: a feedback claiming 65535 statuses (run-length chunks, no deltas) costs lookups only for what it holds', () => {
  const h = new SendHistory();
  for (let i = 0; i < 100; i++) h.onPacketSent(i, { transportSeq: 1000 + i, size: 500 });
  const chunks = Array.from({ length: 8 }, () => ({ type: 'run-length' as const, status: 1, runLength: 8191 }));
  chunks.push({ type: 'run-length', status: 1, runLength: 65535 - 8 * 8191 });
  const fb = new RtcpTransportCcFeedback({ senderSsrc: 1, mediaSsrc: 2, baseSequenceNumber: 990, referenceTime: 5, feedbackPacketCount: 0 }, 65535, chunks, []);
  const r = h.onTransportCc(fb);
  assert.equal(r.received.length, 100, 'the 100 packets held, "received" with the missing deltas read as 0');
  assert.equal(r.unknown, 65535 - 100);
  assert.equal(r.lost, 0);
});

test('estimator: garbage feedback is counted, never thrown; bad options throw a RangeError', () => {
  const e = new SendSideBandwidthEstimator();
  const fb = RtcpTransportCcFeedback.fromArrivals({ senderSsrc: 1, mediaSsrc: 2, baseSequenceNumber: 7, feedbackPacketCount: 0 }, [1000, null, 3000]);
  e.onTransportCcFeedback(10, fb);
  assert.equal(e.stats.feedbackUnknown, 3);
  assert.equal(e.targetBitrate, 300_000);
  assert.throws(() => new SendSideBandwidthEstimator({ minBitrate: 0 }), (err: PwtError) => err.name === 'RangeError' && err.code === 'ERR_BWE_OPTION');
  assert.throws(() => new SendSideBandwidthEstimator({ startBitrate: 10, minBitrate: 100 }), (err: PwtError) => err.code === 'ERR_BWE_OPTION');
});
