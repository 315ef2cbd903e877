// lib/sfu simulcast with real browsers: one Chromium page publishes VP8 simulcast (three rids,
// scaleResolutionDownBy 4 / 2 / 1 of a 1280x720 canvas) to our router on one UdpMux port; a second
// Chromium page subscribes through the router. Asking for layer 0, then the highest layer, then layer
// 0 again changes the frame width the subscriber decodes, and 'layerschange' reports the switches.
// The producer does not tap: Chromium reaches its highest layer on the transport-cc feedback the
// publisher connection sends from the engine's arrival log. Skipped without Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { LocalStreamTrack, RTCPeerConnection, type RTCRtpTransceiver } from '../../lib/peer/index.js';
import '../../lib/policy/default-policies.js';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';
import { Router, type ConsumerLayers } from '../../lib/sfu/index.js';
import { launchChromium, SKIP_CHROMIUM } from '../interop/chromium.js';
import { within } from './peer-helpers.js';
import type { TransportCcFeedback } from '../../lib/policy/transport-cc-feedback.js';

const skip = SKIP_CHROMIUM;

const PAGE = `
window.gathered = (pc) => new Promise((resolve) => {
  if (pc.iceGatheringState === 'complete') return resolve(pc.localDescription.sdp);
  pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') resolve(pc.localDescription.sdp); };
});
window.canvasTrack = () => {
  const canvas = document.createElement('canvas');
  canvas.width = 1280;
  canvas.height = 720;
  const g = canvas.getContext('2d');
  let n = 0;
  setInterval(() => {
    g.fillStyle = 'hsl(' + (n++ * 7) % 360 + ',80%,50%)';
    g.fillRect(0, 0, 1280, 720);
    g.fillStyle = '#000';
    for (let i = 0; i < 40; i++) g.fillRect((n * 13 + i * 97) % 1280, (i * 53) % 720, 24, 24);
  }, 33);
  return canvas.captureStream(30).getVideoTracks()[0];
};
window.inboundVideo = async () => {
  const out = { frameWidth: 0, framesDecoded: 0 };
  if (!window.pc) return out;
  (await window.pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') { out.frameWidth = s.frameWidth || 0; out.framesDecoded = s.framesDecoded || 0; }
  });
  return out;
};
`;

async function inbound(page: Page): Promise<{ frameWidth: number; framesDecoded: number }> {
  return (await page.evaluate('window.inboundVideo()')) as { frameWidth: number; framesDecoded: number };
}

async function waitFor<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms: number, what: string): Promise<T> {
  return within((async () => {
    for (;;) {
      const v = await read();
      if (ok(v)) return v;
      await new Promise((r) => setTimeout(r, 200));
    }
  })(), ms, what);
}

test('Chromium publishes 3-layer VP8 simulcast through our router; a Chromium subscriber switches layers', { skip, timeout: 150_000 }, async () => {
  const browser = await launchChromium();
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const publisherPc = new RTCPeerConnection({ udpMux: mux });
  const subscriberPc = new RTCPeerConnection({ udpMux: mux });
  try {
    const pub = await browser.context.newPage();
    const sub = await browser.context.newPage();
    await pub.evaluate(PAGE);
    await sub.evaluate(PAGE);

    // The publisher page offers simulcast, lowest layer first (docs/sfu.md "Simulcast and temporal layers").
    const offer = (await pub.evaluate(`(async () => {
      const pc = new RTCPeerConnection();
      window.pc = pc;
      const t = pc.addTransceiver(window.canvasTrack(), { direction: 'sendonly', sendEncodings: [
        { rid: 'q', scaleResolutionDownBy: 4 }, { rid: 'h', scaleResolutionDownBy: 2 }, { rid: 'f', scaleResolutionDownBy: 1 }] });
      t.setCodecPreferences(RTCRtpReceiver.getCapabilities('video').codecs.filter((c) => /VP8|rtx/i.test(c.mimeType)));
      await pc.setLocalDescription();
      return window.gathered(pc);
    })()`)) as string;
    const published = new Promise<RTCRtpTransceiver>((r) => publisherPc.once('track', (e) => r(e.transceiver)));
    await publisherPc.setRemoteDescription({ type: 'offer', sdp: offer });
    await publisherPc.setLocalDescription(await publisherPc.createAnswer());
    assert.match(publisherPc.localDescription!.sdp, /a=simulcast:recv q;h;f/);
    await pub.evaluate(`window.pc.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(publisherPc.localDescription!.sdp)} })`);
    // No tap: the engine consumes every packet, and the publisher connection's transport-cc feedback
    // still acknowledges them from the engine's arrival log, so Chromium's bandwidth estimate grows
    // and it turns on its higher layers (docs/sfu.md "Transport-wide feedback for forwarded packets").
    const producer = await within(router.produce(publisherPc, await within(published, 20_000, 'publisher track'), { tap: false }), 20_000, 'produce');
    assert.deepEqual(producer.spatialLayers, ['q', 'h', 'f']);
    await within((async () => {
      while (producer.layerSsrc(0) === undefined) await new Promise((r) => setTimeout(r, 50));
    })(), 20_000, 'layer 0 bound');

    // The subscriber page answers our offer for one video track.
    const transceiver = subscriberPc.addTransceiver(new LocalStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
    await subscriberPc.setLocalDescription(await subscriberPc.createOffer());
    const answer = (await sub.evaluate(`(async (sdp) => {
      const pc = new RTCPeerConnection();
      window.pc = pc;
      pc.ontrack = (e) => { const v = document.createElement('video'); v.muted = true; v.autoplay = true; v.srcObject = new MediaStream([e.track]); document.body.appendChild(v); };
      await pc.setRemoteDescription({ type: 'offer', sdp });
      await pc.setLocalDescription();
      return window.gathered(pc);
    })(${JSON.stringify(subscriberPc.localDescription!.sdp)})`)) as string;
    await subscriberPc.setRemoteDescription({ type: 'answer', sdp: answer });
    const consumer = await within(router.consume(producer, subscriberPc, transceiver, { preferredLayers: { spatialLayer: 0 } }), 20_000, 'consume');
    const changes: ConsumerLayers[] = [];
    consumer.on('layerschange', (l) => changes.push(l));

    const low = await waitFor(() => inbound(sub), (v) => v.framesDecoded > 10 && v.frameWidth > 0, 40_000, 'the subscriber decodes layer 0');
    assert.equal(low.frameWidth, 320, 'layer 0 is 1280 / 4 wide');
    assert.equal(consumer.currentLayers?.spatialLayer, 0);

    // Chromium adds layers as its bandwidth estimate grows: the highest one must come.
    await within((async () => {
      while (producer.layerSsrc(2) === undefined) await new Promise((r) => setTimeout(r, 100));
    })(), 30_000, 'layer 2 bound (Chromium ramped on our transport-cc feedback)');
    const top = 2;
    consumer.setPreferredLayers({ spatialLayer: top });
    const high = await waitFor(() => inbound(sub), (v) => v.frameWidth > low.frameWidth, 40_000, `the subscriber decodes layer ${top}`);
    assert.equal(high.frameWidth, 1280 / 2 ** (2 - top));
    await within((async () => {
      while (!changes.some((c) => c.spatialLayer === top)) await new Promise((r) => setTimeout(r, 50));
    })(), 5000, 'layerschange');
    assert.equal(consumer.currentLayers?.spatialLayer, top);
    // And down again: the next key frame of layer 0 (asked for) brings the width back.
    consumer.setPreferredLayers({ spatialLayer: 0 });
    await waitFor(() => inbound(sub), (v) => v.frameWidth === 320, 40_000, 'the subscriber decodes layer 0 again');
    assert.equal(consumer.currentLayers?.spatialLayer, 0);
    const stats = router.stats;
    assert.ok(stats.layerSwitches >= 3);
    assert.ok(stats.drops.layer > 0);
    assert.ok(stats.packetsForwarded > 0);
    assert.equal(stats.jsDeliveries, 0, 'no tap: the publisher connection saw none of the forwarded packets');
    const twcc = publisherPc.transportPolicies.get('transport-cc-feedback') as TransportCcFeedback;
    assert.ok(twcc.counters.packetsReported > stats.packetsReceived / 2, `transport-cc feedback acknowledged forwarded packets (${twcc.counters.packetsReported})`);
    // eslint-disable-next-line no-console
    console.log(`simulcast via router: ${low.frameWidth} -> ${high.frameWidth} px, layer ${top}, ${stats.packetsForwarded} forwarded, ${stats.drops.layer} layer drops, ${stats.repairPacketsDropped} RTX packets dropped`);
  } finally {
    router.close();
    publisherPc.close();
    subscriberPc.close();
    mux.close();
    await browser.close();
  }
});
