// lib/sfu automatic layer selection from transport-cc feedback (docs/sfu.md "Automatic layer
// selection"; draft-holmer-rmcat-transport-wide-cc-extensions-01 §3) over real loopback sockets: a
// subscriber of ours that negotiated transport-cc and no goog-remb sends feedback about the
// packets the engine forwarded; the engine's send records of the leg feed a send-side estimate, and
// the automatic consumer follows it down (feedback reporting half the packets lost) and back up (all
// received). Feedback naming numbers never sent is counted as unknown and changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, type MediaStreamTrack } from '../../../lib/peer/index.js';
import type { RtpPacketBatch, RtpPolicy } from '../../../lib/peer/rtp-policy.js';
import { RtcpTransportCcFeedback } from '../../../lib/rtp/rtcp/transport-cc-feedback.js';
import '../../../lib/policy/default-policies.js';
import type { TargetLayersChange } from '../../../lib/sfu/index.js';
import { within } from '../../integration/peer-helpers.js';
import { autoLayersRig, connect, drain, publishSimulcast, sleep, until } from './sfu-test-helpers.js';

const RIDS = ['q', 'h', 'f'];
/** Payload bytes per frame of each layer at 30 fps: about 240, 340 and 460 kbit/s (steps under 1.5 ×). */
const FRAME_BYTES = [1000, 1400, 1900];

/** A transport-scope module of the subscriber client: each transport-wide number received and when (µs). */
class Arrivals implements RtpPolicy {
  readonly name = 'test-arrivals';
  readonly seen: { seq: number; atUs: number }[] = [];
  incomingRtp(now: number, batch: RtpPacketBatch): void {
    for (let i = 0; i < batch.count; i++) {
      const seq = batch.transportSequence[i]!;
      if (seq >= 0) this.seen.push({ seq, atUs: Math.round(now * 1000) });
    }
  }
}

/** Written without the serializer's checks: its status count claims more than its chunks cover. */
class LyingFeedback extends RtcpTransportCcFeedback {
  protected override check(): void {
    // no checks: the point is a packet that lies
  }
}

test('router: an automatic consumer follows the send-side estimate from a transport-cc-only subscriber', { timeout: 240_000 }, async () => {
  const rig = await autoLayersRig();
  const { router, subServer, subClient } = rig;
  let feedback: NodeJS.Timeout | undefined;
  try {
    const producer = await publishSimulcast(rig, RIDS, FRAME_BYTES);

    const arrivals = new Arrivals();
    subClient.transportPolicies.add(arrivals);
    const subTransceiver = subServer.addTransceiver(new LocalStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
    const subTrack = new Promise<MediaStreamTrack>((r) => subClient.once('track', (e) => r(e.track)));
    await connect(subServer, subClient);
    assert.match(subClient.localDescription!.sdp, /a=rtcp-fb:\d+ transport-cc/, 'transport-cc negotiated');
    assert.doesNotMatch(subClient.localDescription!.sdp, /goog-remb/, 'no REMB');
    const consumer = await router.consume(producer, subServer, subTransceiver, { autoLayers: true });
    drain(await within(subTrack, 5000, 'subscriber track'));
    const targets: TargetLayersChange[] = [];
    consumer.on('targetlayerschange', (c) => targets.push(c));
    await until(() => consumer.currentLayers?.spatialLayer === 2, 'layer 2 sent');

    // The client's own transport-cc module reports every packet received (loopback): its feedback is
    // fed to the leg's estimator, look after look, and none is ignored. (Whether the target stays on
    // layer 2 is not asserted: on a loaded machine loopback delay can grow like congestion.)
    await until(() => router.stats.autoLayerFeedback.transportCcFeedback >= 10, 'feedback from the client fed the estimate');
    const looksBefore = router.stats.autoLayerLooks;
    const clientFed = router.stats.autoLayerFeedback.transportCcFeedback;
    await until(() => router.stats.autoLayerLooks >= looksBefore + 4, 'four more looks');
    await until(() => router.stats.autoLayerFeedback.transportCcFeedback > clientFed, 'more feedback fed');
    assert.equal(router.stats.autoLayerFeedback.transportCcIgnored, 0, 'no feedback ignored');
    assert.equal(router.stats.autoLayerConsumers, 1);

    // From now on the test writes the client's feedback: first half of the packets reported lost.
    assert.ok(subClient.transportPolicies.remove('transport-cc-feedback'));
    const clientSender = subClient.getTransceivers()[0]!.sender;
    let lossy = true;
    let next = 0;
    let count = 0;
    feedback = setInterval(() => {
      const batch = arrivals.seen.splice(0);
      if (batch.length === 0) return;
      const base = batch[0]!.seq;
      const arrivalsUs: (number | null)[] = [];
      for (const a of batch) {
        const i = (a.seq - base + 65536) % 65536;
        if (i > 2000) continue;  // reordered across the base: left out
        while (arrivalsUs.length < i) arrivalsUs.push(null);
        arrivalsUs[i] = lossy && (a.seq & 1) === 1 ? null : a.atUs;
      }
      next = (base + arrivalsUs.length) % 65536;
      clientSender.sendRtcp([RtcpTransportCcFeedback.fromArrivals({ senderSsrc: clientSender.ssrc, mediaSsrc: consumer.ssrc, baseSequenceNumber: base, feedbackPacketCount: count++ & 0xff }, arrivalsUs)]);
    }, 100);
    await until(() => targets.some((c) => c.reason === 'estimate' && c.spatialLayer === 0), 'a move to layer 0 for the lossy feedback', 60_000);
    const down = targets.find((c) => c.reason === 'estimate' && c.spatialLayer === 0)!;
    assert.ok(down.estimateBps !== undefined && down.estimateBps < 1_000_000, `the send-side estimate (${down.estimateBps} bit/s) moved it`);
    await until(() => consumer.currentLayers?.spatialLayer === 0, "'layerschange' to layer 0 (at its key frame)");

    // Everything received again: the estimate grows with what is acknowledged, one step at a time.
    lossy = false;
    await until(() => consumer.currentLayers?.spatialLayer === 2, 'back up to layer 2', 90_000);
    const ups = targets.filter((c) => c.reason === 'estimate' && targets.indexOf(c) > targets.indexOf(down));
    assert.ok(ups.some((c) => c.spatialLayer === 1), 'through layer 1');

    // Hostile: feedback for numbers the engine never sent on this leg counts as unknown.
    clearInterval(feedback);
    feedback = undefined;
    const before = router.stats.autoLayerFeedback;
    const far = (next + 30_000) % 65536;
    clientSender.sendRtcp([RtcpTransportCcFeedback.fromArrivals({ senderSsrc: clientSender.ssrc, mediaSsrc: consumer.ssrc, baseSequenceNumber: far, feedbackPacketCount: count++ & 0xff }, [1_000_000, 1_001_000, null])]);
    await until(() => router.stats.autoLayerFeedback.transportCcFeedback > before.transportCcFeedback, 'the stray feedback was fed');
    assert.equal(router.stats.autoLayerFeedback.transportCcUnknown - before.transportCcUnknown, 3, 'its three numbers are unknown');
    assert.equal(consumer.currentLayers?.spatialLayer, 2);
    // Hostile: a feedback whose status count claims 500 numbers but whose chunks cover 14 is dropped
    // by the subscriber connection's RTCP parser and counted; it never reaches the estimate.
    const malformed = async (): Promise<number> => {
      for (const s of (await subServer.getStats()).values()) {
        const drops = (s as { pwtDrops?: { media?: { rtcpMalformed?: number } } }).pwtDrops;
        if (drops?.media?.rtcpMalformed !== undefined) return drops.media.rtcpMalformed;
      }
      return -1;
    };
    const malformedBefore = await malformed();
    assert.ok(malformedBefore >= 0, 'the transport stats carry the media drops');
    const fedBefore = router.stats.autoLayerFeedback.transportCcFeedback;
    const lying = new LyingFeedback({ senderSsrc: clientSender.ssrc, mediaSsrc: consumer.ssrc, baseSequenceNumber: next, referenceTime: 0, feedbackPacketCount: count++ & 0xff },
      500, [{ type: 'status-vector', symbolSize: 1, symbols: new Array<number>(14).fill(1) }], new Array<number>(14).fill(4));
    clientSender.sendRtcp([lying]);
    const deadline = performance.now() + 20_000;
    while ((await malformed()) === malformedBefore) {
      assert.ok(performance.now() < deadline, 'timed out: the lying feedback counted as malformed');
      await sleep(20);
    }
    assert.equal(router.stats.autoLayerFeedback.transportCcFeedback, fedBefore, 'not fed');
    assert.equal(router.stats.jsDeliveries, 0);
  } finally {
    if (feedback) clearInterval(feedback);
    rig.close();
  }
});
