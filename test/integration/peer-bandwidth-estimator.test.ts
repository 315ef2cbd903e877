// The bandwidth-estimator and REMB policy modules between two real peer connections on loopback:
// what the SDP offers while they are installed, the pacer holding and releasing every packet,
// transport-cc feedback reaching the estimator (target-bitrate events), and REMB reaching it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { bandwidthEstimationPolicy, BandwidthEstimationPolicy } from '../../lib/policy/bandwidth-estimator-policy.js';
import { rembPolicy, RembPolicy } from '../../lib/policy/remb-policy.js';
import { transportCcFeedbackPolicy } from '../../lib/policy/default-policies.js';
import { negotiate, within } from './peer-helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('estimator + pacer on the sender, transport-cc feedback and REMB on the receiver', { timeout: 60_000 }, async () => {
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], rtpPolicies: [bandwidthEstimationPolicy()] });
  const pc2 = new RTCPeerConnection({
    hostAddresses: ['127.0.0.1'],
    rtpPolicies: [transportCcFeedbackPolicy, rembPolicy()],
  });
  try {
    const video = new LocalStreamTrack({ kind: 'video' });
    pc1.addTransceiver(video, { direction: 'sendonly' });
    const offer = await pc1.createOffer();
    assert.match(offer.sdp, /a=rtcp-fb:\d+ transport-cc/, 'the estimator serves transport-cc: offered');
    assert.match(offer.sdp, /transport-wide-cc-extensions-01/, 'and its header extension');
    assert.doesNotMatch(offer.sdp, /goog-remb/, 'the sender has no REMB module: no goog-remb');
    const targets: number[] = [];
    pc1.on('policy', (e) => {
      if (e.name === 'target-bitrate') targets.push(e.detail.bitrate);
    });
    const remote = new Promise<MediaStreamTrack>((r) => pc2.once('track', (e) => r(e.track)));
    await negotiate(pc1, pc2);
    assert.match(pc2.localDescription!.sdp, /a=rtcp-fb:\d+ transport-cc/);
    await within(Promise.all([pc1.connected(), pc2.connected()]), 10_000, 'connected');
    const track = await within(remote, 5000, 'track');
    const bwe = pc1.transportPolicies.get('bandwidth-estimator') as BandwidthEstimationPolicy;
    const remb = pc2.transportPolicies.get('remb-generator') as RembPolicy;
    assert.ok(bwe instanceof BandwidthEstimationPolicy);
    // The answerer offers REMB only if the offer had it: not negotiated, so the module stays idle.
    assert.equal(remb.generator, undefined);

    // 3 s of 30 fps "video" at the published target, 1000-byte packets.
    let received = 0; // read by the loop below until the connection closes
    let lastSeq = -1;
    let inOrder = true;
    void (async () => {
      for (;;) {
        const p = await track.recv().catch(() => undefined);
        if (!p) return;
        received++;
        if (p.sequenceNumber! <= lastSeq) inOrder = false;
        lastSeq = p.sequenceNumber!;
      }
    })();
    let seq = 0;
    let sent = 0;
    for (let frame = 0; frame < 90; frame++) {
      const target = targets.at(-1) ?? bwe.targetBitrate;
      const packets = Math.max(1, Math.round(target / 8 / 30 / 1000));
      for (let k = 0; k < packets; k++) {
        video.send(new RtpPacket({ sequenceNumber: seq++ & 0xffff, timestamp: frame * 3000, marker: k === packets - 1, payload: Buffer.alloc(1000, k) }));
        sent++;
      }
      await sleep(33);
    }
    await within((async () => {
      while (received < sent) await sleep(20);
    })(), 10_000, `all ${sent} packets (got ${received})`);
    assert.ok(inOrder, 'the pacer keeps the order of a stream');
    assert.ok(bwe.stats.packetsPaced > 0, 'the pacer held and released packets');
    assert.ok(bwe.estimator.stats.feedbackPackets > 10, 'feedback reached the estimator');
    assert.equal(bwe.estimator.stats.feedbackUnknown, 0);
    assert.ok(bwe.estimator.stats.packetsAcked >= sent * 0.9, `acked ${bwe.estimator.stats.packetsAcked} of ${sent}`);
    assert.ok(targets.length > 0 && targets.at(-1)! > 300_000, `loopback is not a bottleneck: the target rose (${targets.join(',')})`);
    // getStats: the target is the selected candidate pair's availableOutgoingBitrate (W3C
    // webrtc-stats); the receiver, without the module, reports none.
    const pairOf = async (pc: RTCPeerConnection): Promise<Record<string, unknown> | undefined> => {
      const report = await pc.getStats();
      const transport = [...report.values()].find((x) => x.type === 'transport') as Record<string, unknown> | undefined;
      return report.get(String(transport?.selectedCandidatePairId)) as Record<string, unknown> | undefined;
    };
    const before = bwe.targetBitrate;
    const pair = await pairOf(pc1);
    const available = pair?.availableOutgoingBitrate as number | undefined;
    assert.ok(available !== undefined && available > 0, `availableOutgoingBitrate ${available}`);
    assert.ok(Math.abs(available - before) <= 0.2 * before, `availableOutgoingBitrate ${available} ≈ target ${before}`);
    assert.equal((await pairOf(pc2))?.availableOutgoingBitrate, undefined);
  } finally {
    pc1.close();
    pc2.close();
  }
});

test('REMB: offered on video while installed; the receiver sends REMB and the sender caps its target by it', { timeout: 60_000 }, async () => {
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], rtpPolicies: [bandwidthEstimationPolicy(), rembPolicy()] });
  const pc2 = new RTCPeerConnection({
    hostAddresses: ['127.0.0.1'],
    rtpPolicies: [transportCcFeedbackPolicy, rembPolicy({ startBitrate: 200_000, maxBitrate: 250_000 })],
  });
  try {
    const video = new LocalStreamTrack({ kind: 'video' });
    pc1.addTransceiver(video, { direction: 'sendonly' });
    pc1.addTransceiver('audio', { direction: 'sendonly' });
    const offer = await pc1.createOffer();
    assert.ok(offer.sdp.split('\r\nm=').some((s) => s.startsWith('video') && /goog-remb/.test(s)), 'goog-remb on video');
    assert.ok(offer.sdp.split('\r\nm=').every((s) => !s.startsWith('audio') || !/goog-remb/.test(s)), 'not on audio');
    assert.match(offer.sdp, /abs-send-time/);
    const remote = new Promise<MediaStreamTrack>((r) => pc2.once('track', (e) => { if (e.track.kind === 'video') r(e.track); }));
    await negotiate(pc1, pc2);
    await within(Promise.all([pc1.connected(), pc2.connected()]), 10_000, 'connected');
    await within(remote, 5000, 'track');
    const remb = pc2.transportPolicies.get('remb-generator') as RembPolicy;
    assert.ok(remb.generator, 'REMB negotiated: the generator runs');
    const bwe = pc1.transportPolicies.get('bandwidth-estimator') as BandwidthEstimationPolicy;
    for (let frame = 0; frame < 60; frame++) {
      video.send(new RtpPacket({ timestamp: frame * 3000, payload: Buffer.alloc(800, frame) }));
      await sleep(33);
    }
    await within((async () => {
      while (remb.generator!.stats.rembsSent === 0 || bwe.targetBitrate > 250_000) await sleep(20);
    })(), 10_000, 'REMB caps the target');
    assert.ok(remb.generator!.stats.packets > 0);
    assert.equal(remb.generator!.stats.packetsWithoutSendTime, 0, 'our sender writes abs-send-time');
    assert.ok(bwe.targetBitrate <= 250_000);
  } finally {
    pc1.close();
    pc2.close();
  }
});
