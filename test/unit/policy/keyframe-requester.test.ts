// Keyframe requester (RFC 4585 §6.3.1 PLI, RFC 5104 §4.3.1 FIR) on the network simulator: many
// requests within the interval become one upstream PLI; FIR with increasing command sequence numbers
// when only `ccm fir` was negotiated; received PLI/FIR become `keyframe-request` events, a repeated
// FIR sequence number does not; nothing is sent when no keyframe feedback was negotiated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyframeRequester } from '../../../lib/policy/keyframe-requester.js';
import type { RtcpFullIntraRequest } from '../../../lib/rtp/rtcp/full-intra-request.js';
import { MEDIA_SSRC, PolicyPair } from './policy-pair.js';

function started(feedback?: { type: string; parameter?: string }[]): PolicyPair {
  const pair = new PolicyPair({
    network: { seed: 5, aToB: { delayMs: 20 }, bToA: { delayMs: 20 } },
    sender: [new KeyframeRequester()],
    receiver: [new KeyframeRequester({ minIntervalMs: 300 })],
    ...(feedback ? { feedback } : {}),
  });
  pair.sendMedia(100, 0);
  pair.runUntil(50);
  return pair;
}

test('100 requests in 100 ms from downstream consumers become one PLI; the next waits for the interval', () => {
  const pair = started();
  for (let i = 0; i < 100; i++) {
    pair.now += 1;
    assert.equal(pair.b.chain.requestKeyframe(), true);
  }
  pair.runUntil(pair.now + 100);
  assert.equal(pair.a.rtcp.filter((p) => p.kind === 'pli').length, 1, 'one PLI upstream');
  // The merged requests are answered once the interval has passed.
  pair.runUntil(pair.now + 400);
  assert.equal(pair.a.rtcp.filter((p) => p.kind === 'pli').length, 2);
  pair.runUntil(pair.now + 1000);
  assert.equal(pair.a.rtcp.filter((p) => p.kind === 'pli').length, 2, 'nothing more without a request');
  // The sender's module turned each PLI into an event for the encoder.
  assert.equal(pair.a.events.filter((e) => e.name === 'keyframe-request' && e.detail.ssrc === MEDIA_SSRC).length, 2);
});

test('only ccm fir negotiated: FIR with a new sequence number each time; a repeated FIR is no new request', () => {
  const pair = started([{ type: 'ccm', parameter: 'fir' }]);
  pair.b.chain.requestKeyframe(MEDIA_SSRC);
  pair.runUntil(pair.now + 400);
  pair.b.chain.requestKeyframe(MEDIA_SSRC);
  pair.runUntil(pair.now + 400);
  const firs = pair.a.rtcp.filter((p): p is RtcpFullIntraRequest => p.kind === 'fir');
  assert.deepEqual(firs.map((f) => f.entries[0]!.sequenceNumber), [1, 2]);
  assert.equal(firs[0]!.mediaSsrc, 0, 'media source SSRC 0 (RFC 5104 §4.3.1.2)');
  assert.equal(pair.a.events.filter((e) => e.name === 'keyframe-request').length, 2);
  // The network repeats the second FIR: same sequence number, no new event.
  pair.a.chain.rtcpInput().push(firs[1]!);
  pair.a.chain.incomingRtcp(pair.now);
  assert.equal(pair.a.events.filter((e) => e.name === 'keyframe-request').length, 2);
});

test('no keyframe feedback negotiated: requests are refused, nothing is sent', () => {
  const pair = started([{ type: 'nack' }]);
  assert.equal(pair.b.chain.requestKeyframe(), false);
  pair.runUntil(pair.now + 500);
  assert.equal(pair.a.rtcp.length, 0);
});

test('a request before any stream arrived goes out for the first one; an unknown SSRC is refused', () => {
  const pair = new PolicyPair({
    network: { seed: 5, aToB: { delayMs: 20 }, bToA: { delayMs: 20 } },
    sender: [new KeyframeRequester()],
    receiver: [new KeyframeRequester()],
  });
  assert.equal(pair.b.chain.requestKeyframe(12345), false);
  assert.equal(pair.b.chain.requestKeyframe(), true);
  pair.runUntil(100);
  assert.equal(pair.a.rtcp.length, 0, 'nothing to ask yet');
  pair.sendMedia(100, 0);
  pair.runUntil(200);
  assert.equal(pair.a.rtcp.filter((p) => p.kind === 'pli').length, 1);
});
