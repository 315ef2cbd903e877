// One side of the automatic layer selection test (test/net/sfu-auto-layers.test.ts), run inside its
// own network namespace. `sfu`: a router on one UdpMux port, a publisher of ours on the same host
// sending three VP8 simulcast layers with temporal layers (RFC 7741 §4.2 descriptors, TIDs 0,2,1,2)
// that answers PLIs with key frames, and the SFU end of the subscriber connection with an automatic
// layer consumer; it prints each target and layer change. `subscriber`: our RTCPeerConnection that
// receives the consumer's video and answers with REMB (lib/policy's module), or with `transport-cc`
// as the fourth argument only with transport-cc feedback (the SFU estimates from it, docs/sfu.md
// "Automatic layer selection"). Signalling is JSON lines on stdin/stdout, relayed by the test.
import { LocalStreamTrack, RTCPeerConnection, type RTCRtpTransceiver } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { RtcpPictureLossIndication } from '../../lib/rtp/rtcp/picture-loss-indication.js';
import { defaultPolicyFactories, transportCcFeedbackPolicy } from '../../lib/policy/default-policies.js';
import { rembPolicy } from '../../lib/policy/remb-policy.js';
import { BandwidthLayerSelection } from '../../lib/policy/layer-selection.js';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';
import { Router } from '../../lib/sfu/index.js';
import { childSignalling } from './child-signalling.js';

const [role, address, durationArg, feedbackArg] = process.argv.slice(2);
const transportCc = feedbackArg === 'transport-cc';
const durationMs = Number(durationArg ?? 60_000);
const { say, next } = childSignalling(durationMs);

/** REMB and abs-send-time instead of transport-cc feedback: the subscriber's estimate reaches the SFU as REMB. */
const policies = () => [...defaultPolicyFactories().filter((f) => f.name !== transportCcFeedbackPolicy.name), rembPolicy({ startBitrate: 1_000_000 })];
/**
 * Every connection's modules: REMB, or the defaults (transport-cc feedback, no REMB). With
 * transport-cc the publisher's packets carry the transport-wide element too: the engine writes each
 * leg's number into that element (docs/sfu.md "RTP rewriting"), it adds none.
 */
const feedbackPolicies = () => (transportCc ? defaultPolicyFactories() : policies());

const RIDS = ['q', 'h', 'f'];
/** Each spatial layer's bitrate (bits/s of payload); per 4 frames TID 0 carries 60 %, TID 1 20 %, TID 2 2 × 10 %. */
const LAYER_BPS = [150_000, 250_000, 400_000];
const FPS = 30;
const PATTERN = [0, 2, 1, 2];
const SHARE = [0.6, 0.1, 0.2, 0.1];

/** VP8 payload descriptor (X, S, I with a 15-bit PictureID, L, T with TID and Y) and payload header (P bit). */
function vp8(pid: number, tl0: number, tid: number, sync: boolean, key: boolean, start: boolean, size: number): Buffer {
  const d = Buffer.from([0x80 | (start ? 0x10 : 0), 0xe0, 0x80 | ((pid >> 8) & 0x7f), pid & 0xff, tl0 & 0xff, (tid << 6) | (sync ? 0x20 : 0)]);
  const body = Buffer.alloc(Math.max(1, size - d.length), 0x55);
  body[0] = start ? (key ? 0x10 : 0x11) : 0x42;
  return Buffer.concat([d, body]);
}

async function sfu(): Promise<void> {
  const mux = await UdpMux.bind({ address: address! });
  // A short hold: the test climbs several steps after the limit is lifted.
  const router = Router.create(mux, { layerSelection: () => new BandwidthLayerSelection({ upHoldMs: 1000 }) });
  // The publisher, on this host (loopback traffic: not behind the rate limit).
  const pubClient = new RTCPeerConnection({ hostAddresses: [address!], rtpPolicies: feedbackPolicies() });
  const pubServer = new RTCPeerConnection({ udpMux: mux, rtpPolicies: feedbackPolicies() });
  const source = new LocalStreamTrack({ kind: 'video' });
  const pubSender = pubClient.addTransceiver(source, { direction: 'sendonly', sendEncodings: RIDS.map((rid) => ({ rid })) }).sender;
  const pubTransceiver = new Promise<RTCRtpTransceiver>((r) => pubServer.once('track', (e) => r(e.transceiver)));
  await pubClient.setLocalDescription(await pubClient.createOffer());
  await pubServer.setRemoteDescription(pubClient.localDescription!);
  await pubServer.setLocalDescription(await pubServer.createAnswer());
  await pubClient.setRemoteDescription(pubServer.localDescription!);
  await Promise.all([pubClient.connected(), pubServer.connected()]);
  const ssrcs = pubSender.getParameters().encodings.map((e) => e.ssrc);
  const keyWanted = RIDS.map(() => true);
  pubSender.on('rtcp', (e) => {
    if (e.packet instanceof RtcpPictureLossIndication) {
      const layer = ssrcs.indexOf(e.packet.mediaSsrc);
      if (layer >= 0) keyWanted[layer] = true;
    }
  });
  let frame = 0;
  const sendFrame = (): void => {
    const tid = PATTERN[frame % 4]!;
    for (let l = 0; l < RIDS.length; l++) {
      const key = keyWanted[l]! && tid === 0;
      if (key) keyWanted[l] = false;
      const bytes = Math.round((LAYER_BPS[l]! / 8 / FPS) * 4 * SHARE[frame % 4]!);
      const packets = Math.ceil(bytes / 1000);
      for (let k = 0; k < packets; k++) {
        const payload = vp8(frame & 0x7fff, Math.floor(frame / 4), tid, tid > 0 && frame % 4 !== 3, key, k === 0, Math.round(bytes / packets));
        source.send(new RtpPacket({ timestamp: frame * 3000, marker: k === packets - 1, payload }), { rid: RIDS[l]! });
      }
    }
    frame++;
  };
  const frames = setInterval(sendFrame, 1000 / FPS);
  sendFrame();
  const producer = await router.produce(pubServer, await pubTransceiver);

  // The SFU end of the subscriber connection (our offer, the subscriber answers).
  const subServer = new RTCPeerConnection({ udpMux: mux, rtpPolicies: feedbackPolicies() });
  const subTransceiver = subServer.addTransceiver(new LocalStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
  await subServer.setLocalDescription(await subServer.createOffer());
  say({ type: 'sdp', sdp: subServer.localDescription!.sdp });
  const answer = await next();
  await subServer.setRemoteDescription({ type: 'answer', sdp: answer.sdp! });
  const consumer = await router.consume(producer, subServer, subTransceiver, { autoLayers: true });
  consumer.on('targetlayerschange', (c) => say({ type: 'target', ...c, estimateBps: c.estimateBps ?? null }));
  consumer.on('layerschange', (l) => say({ type: 'layers', ...l }));
  say({ type: 'start', autoLayers: consumer.autoLayers });
  const status = setInterval(() => {
    const s = consumer.getStats();
    say({ type: 'status', target: consumer.targetLayers, current: consumer.currentLayers, packetsSent: s.packetsSent, jsDeliveries: router.stats.jsDeliveries });
  }, 1000);
  await next(); // 'stop'
  clearInterval(status);
  clearInterval(frames);
  say({ type: 'done', jsDeliveries: router.stats.jsDeliveries, autoLayers: consumer.autoLayers, transportCcFeedback: router.stats.autoLayerFeedback.transportCcFeedback });
  router.close();
  subServer.close();
  pubClient.close();
  pubServer.close();
  mux.close();
}

async function subscriber(): Promise<void> {
  const pc = new RTCPeerConnection({ hostAddresses: [address!], rtpPolicies: feedbackPolicies() });
  pc.on('track', (e) => {
    void (async () => {
      for await (const _ of e.track) {
        // Read everything: the REMB module has seen each packet as it arrived.
      }
    })().catch(() => undefined);
  });
  const offer = await next();
  await pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp! });
  await pc.setLocalDescription(await pc.createAnswer());
  say({ type: 'sdp', sdp: pc.localDescription!.sdp, feedback: /goog-remb/.test(pc.localDescription!.sdp) ? 'remb' : /transport-cc/.test(pc.localDescription!.sdp) ? 'transport-cc' : 'none' });
  await next(); // 'stop'
  pc.close();
}

(role === 'sfu' ? sfu() : subscriber()).catch((err: unknown) => {
  say({ type: 'error', message: String((err as Error)?.stack ?? err) });
  process.exit(2);
});
