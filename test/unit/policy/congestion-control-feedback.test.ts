// RFC 8888 congestion control feedback on the network simulator: every RTP packet of each SSRC is
// reported once (received flag, arrival time offset before the report timestamp in 1/1024 s),
// lost ones as not received, a repair arriving later is not reported again; nothing is sent unless
// `ack ccfb` was negotiated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CongestionControlFeedback } from '../../../lib/policy/congestion-control-feedback.js';
import { NackGenerator } from '../../../lib/policy/nack-generator.js';
import { NackResponder } from '../../../lib/policy/nack-responder.js';
import type { RtcpCongestionControlFeedback } from '../../../lib/rtp/rtcp/congestion-control-feedback.js';
import { MEDIA_SSRC, PolicyPair } from './policy-pair.js';

const FEEDBACK = [{ type: 'ack', parameter: 'ccfb' }, { type: 'nack' }];

test('every packet reported once with its arrival offset; losses as not received; repairs not reported twice', () => {
  const ccfb = new CongestionControlFeedback({ wallClockOffsetMs: 0 });
  const pair = new PolicyPair({
    network: { seed: 8, aToB: { delayMs: 20, loss: 0.05, jitterMs: 5 }, bToA: { delayMs: 20 } },
    sender: [new NackResponder()], receiver: [new NackGenerator(), ccfb], feedback: FEEDBACK,
  });
  const sent = pair.runVideo(3000, 2_000_000);
  pair.runUntil(pair.now + 500);
  const fbs = pair.a.rtcp.filter((p): p is RtcpCongestionControlFeedback => p.kind === 'ccfb');
  assert.ok(fbs.length >= 25, `about one per 100 ms (${fbs.length})`);
  const media = new Map<number, boolean>();
  for (const [i, f] of fbs.entries()) {
    const at = pair.a.rtcpAt[pair.a.rtcp.indexOf(f)]!;
    for (const b of f.reports) {
      for (const [k, m] of b.metrics.entries()) {
        const seq = (b.beginSequence + k) & 0xffff;
        assert.equal(b.ssrc, MEDIA_SSRC);
        assert.ok(!media.has(seq), `sequence ${seq} reported once (feedback ${i})`);
        media.set(seq, m.received);
        if (m.received) assert.ok(m.arrivalTimeOffset <= Math.ceil(((at - 0) * 1024) / 1000), 'offset before the report time');
      }
    }
  }
  const receivedOriginals = new Set(pair.b.received.filter((p, i, all) => all.indexOf(p) === i).map((p) => p.sequenceNumber));
  const reportedReceived = [...media].filter(([, r]) => r).length;
  const lost = [...media].filter(([, r]) => !r).length;
  assert.ok(lost > 0 && lost < sent.length * 0.1, `losses reported as not received (${lost})`);
  assert.ok(reportedReceived + lost >= sent.length - 2, 'every sent sequence number reported');
  assert.ok(receivedOriginals.size >= reportedReceived);
  assert.ok(pair.b.received.length > reportedReceived, 'NACK repairs arrived and were not reported as new arrivals');
});

test('ccfb not negotiated: nothing is sent', () => {
  const pair = new PolicyPair({ network: { seed: 1, aToB: { delayMs: 10 } }, sender: [], receiver: [new CongestionControlFeedback()] });
  pair.runVideo(500);
  pair.runUntil(pair.now + 300);
  assert.equal(pair.a.rtcp.filter((p) => p.kind === 'ccfb').length, 0);
});
