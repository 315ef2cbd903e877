// lib/sfu automatic layer selection over real loopback sockets (docs/sfu.md "Automatic layer
// selection"): a publisher of ours sends three VP8 simulcast layers of different bitrates; the
// subscriber's REMB (sent by the test from the subscriber connection) and receiver reports move an
// automatic consumer down at once and back up after the hold, never above its preferred layers; off,
// the consumer goes back to its preferred layers; misuse throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, type MediaStreamTrack } from '../../../lib/peer/index.js';
import { RtcpReceiverEstimatedMaxBitrate } from '../../../lib/rtp/rtcp/receiver-estimated-max-bitrate.js';
import { RtcpReceiverReport } from '../../../lib/rtp/rtcp/receiver-report.js';
import '../../../lib/policy/default-policies.js';
import type { ConsumerLayers, TargetLayersChange } from '../../../lib/sfu/index.js';
import { within } from '../../integration/peer-helpers.js';
import { autoLayersRig, connect, drain, publishSimulcast, until } from './sfu-test-helpers.js';

const RIDS = ['q', 'h', 'f'];
/** Payload bytes per frame of each layer at 30 fps: about 120, 360 and 960 kbit/s. */
const FRAME_BYTES = [500, 1500, 4000];

test('router: an automatic consumer follows the subscriber\'s REMB and loss reports under its preferred layers', { timeout: 240_000 }, async () => {
  const rig = await autoLayersRig();
  const { router, subServer, subClient } = rig;
  try {
    const producer = await publishSimulcast(rig, RIDS, FRAME_BYTES);

    const subTransceiver = subServer.addTransceiver(new LocalStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
    const subTrack = new Promise<MediaStreamTrack>((r) => subClient.once('track', (e) => r(e.track)));
    await connect(subServer, subClient);
    const consumer = await router.consume(producer, subServer, subTransceiver, { autoLayers: true, preferredLayers: { spatialLayer: 1 } });
    assert.equal(consumer.autoLayers, true);
    assert.deepEqual(consumer.targetLayers, { spatialLayer: 1, temporalLayer: 3 }, 'starts at its preferred layers');
    drain(await within(subTrack, 5000, 'subscriber track'));
    const targets: TargetLayersChange[] = [];
    const switches: ConsumerLayers[] = [];
    consumer.on('targetlayerschange', (c) => targets.push(c));
    consumer.on('layerschange', (l) => switches.push(l));
    await until(() => consumer.currentLayers?.spatialLayer === 1, 'layer 1 sent');

    // The subscriber's estimate as REMB from its connection (transport-wide: every sender sees it).
    const clientSender = subClient.getTransceivers()[0]!.sender;
    const remb = (bps: number): void => clientSender.sendRtcp([new RtcpReceiverEstimatedMaxBitrate(clientSender.ssrc, bps, [consumer.ssrc])]);
    remb(200_000);
    await until(() => targets.some((c) => c.reason === 'estimate' && c.spatialLayer === 0), 'a move to layer 0 for the low estimate');
    const low = targets.find((c) => c.reason === 'estimate' && c.spatialLayer === 0)!;
    assert.equal(low.estimateBps, 200_000);
    assert.ok(low.bitrateBps > 0 && low.bitrateBps <= 200_000, `layer 0 (measured ${low.bitrateBps} bit/s) fits the estimate`);
    await until(() => switches.some((l) => l.spatialLayer === 0), "'layerschange' to layer 0 (at its key frame)");

    // A high estimate: back up after the hold, but never above the preferred layer 1.
    const rembs = setInterval(() => remb(20_000_000), 100);
    try {
      await until(() => consumer.currentLayers?.spatialLayer === 1, 'back up to layer 1');
      // Six more looks (1.5 s of them) under the high estimate: none goes above the cap.
      const looks = router.stats.autoLayerLooks;
      await until(() => router.stats.autoLayerLooks >= looks + 6, 'six more looks');
      assert.ok(targets.every((c) => c.spatialLayer <= 1), 'the preferred layers are the cap');
      // A loss report (fraction lost 50 %) about the consumer's stream: one step down at once.
      const before = targets.length;
      clientSender.sendRtcp([new RtcpReceiverReport({ ssrc: clientSender.ssrc, reports: [{ ssrc: consumer.ssrc, fractionLost: 128, cumulativeLost: 10, highestSequence: 0, jitter: 0, lastSr: 0, delaySinceLastSr: 0 }] })]);
      await until(() => targets.slice(before).some((c) => c.reason === 'loss'), 'a step down for loss');
    } finally {
      clearInterval(rembs);
    }

    // Off: the target goes back to the preferred layers; the estimate no longer moves it.
    consumer.setAutoLayers(false);
    assert.deepEqual(consumer.targetLayers, { spatialLayer: 1, temporalLayer: 3 });
    const afterOff = targets.length;
    // The driver no longer holds the consumer, so no estimate can move it.
    assert.equal(router.stats.autoLayerConsumers, 0, 'no consumer under automatic selection');
    const looksOff = router.stats.autoLayerLooks;
    remb(100_000);
    await until(() => consumer.currentLayers?.spatialLayer === 1, 'layer 1 again');
    assert.equal(targets.length, afterOff, 'no automatic move while off');
    assert.equal(router.stats.autoLayerLooks, looksOff, 'no look taken while no consumer is automatic');
    // Preferred layers move the target directly while off, and cap it while on.
    consumer.setPreferredLayers({ spatialLayer: 2 });
    assert.deepEqual(consumer.targetLayers, { spatialLayer: 2, temporalLayer: 3 });
    assert.equal(router.stats.jsDeliveries, 0);
    consumer.close();
    assert.throws(() => consumer.setAutoLayers(true), { code: 'ERR_SFU_CONSUMER_CLOSED' });
  } finally {
    rig.close();
  }
});
