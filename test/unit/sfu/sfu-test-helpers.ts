// Shared setup of the lib/sfu loopback tests (router auto-layer tests): connect two peers of ours,
// wait for a condition with a generous deadline, build VP8 payloads (RFC 7741 §4.2 descriptor), the
// four connections of an automatic-layer test and its simulcast publisher (docs/sfu.md).
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCRtpTransceiver } from '../../../lib/peer/index.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { RtcpPictureLossIndication } from '../../../lib/rtp/rtcp/picture-loss-indication.js';
import { BandwidthLayerSelection } from '../../../lib/policy/layer-selection.js';
import { UdpMux } from '../../../lib/transport/source/udp-mux.js';
import { Router, type Producer } from '../../../lib/sfu/index.js';
import { within } from '../../integration/peer-helpers.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits for `cond`, polling every 10 ms; throws after `ms`. Generous by default: on a loaded machine
 * frame timers and the router's looks run late. The poll stops at its deadline (a poll left running
 * would keep the test process alive).
 */
export async function until(cond: () => boolean, what: string, ms = 40_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(10);
  }
}

/** Offer/answer between two peers of ours and both connected (15 s). */
export async function connect(offerer: RTCPeerConnection, answerer: RTCPeerConnection): Promise<void> {
  await offerer.setLocalDescription(await offerer.createOffer());
  await answerer.setRemoteDescription(offerer.localDescription!);
  await answerer.setLocalDescription(await answerer.createAnswer());
  await offerer.setRemoteDescription(answerer.localDescription!);
  await within(Promise.all([offerer.connected(), answerer.connected()]), 15_000, 'connected');
}

/** VP8 payload: descriptor (X, S, I with a 15-bit PictureID) and payload header (P bit), `size` bytes. */
export function vp8(pid: number, key: boolean, start: boolean, size: number): Buffer {
  const b = Buffer.alloc(size, 0x55);
  b[0] = 0x80 | (start ? 0x10 : 0);
  b[1] = 0x80;
  b[2] = 0x80 | ((pid >> 8) & 0x7f);
  b[3] = pid & 0xff;
  b[4] = start ? (key ? 0x10 : 0x11) : 0x42;
  return b;
}

/** The connections of an automatic-layer test: publisher and subscriber, their server sides on one UdpMux. */
export interface AutoLayersRig {
  mux: UdpMux;
  /** Automatic selection moves up after a 500 ms hold and steps down for loss at once. */
  router: Router;
  pubClient: RTCPeerConnection;
  pubServer: RTCPeerConnection;
  subServer: RTCPeerConnection;
  subClient: RTCPeerConnection;
  /** Run first by `close()`: publishers' frame timers. */
  readonly stops: (() => void)[];
  /** Ends the frames, then closes the router, the four connections and the mux. */
  close(): void;
}

export async function autoLayersRig(): Promise<AutoLayersRig> {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux, { layerSelection: () => new BandwidthLayerSelection({ upHoldMs: 500, lossStepMs: 0 }) });
  const pubClient = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const pubServer = new RTCPeerConnection({ udpMux: mux });
  const subServer = new RTCPeerConnection({ udpMux: mux });
  const subClient = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const stops: (() => void)[] = [];
  return {
    mux, router, pubClient, pubServer, subServer, subClient, stops,
    close: () => {
      for (const stop of stops) stop();
      router.close();
      subClient.close();
      subServer.close();
      pubClient.close();
      pubServer.close();
      mux.close();
    },
  };
}

/**
 * Publishes VP8 simulcast from `rig.pubClient`, one layer per rid, a frame every 33 ms with
 * `frameBytes[l]` payload bytes on layer l (in packets of at most 1000 bytes); each layer starts with
 * a key frame and sends one after each PLI for its SSRC. Resolves once the router's producer has all
 * three layers bound (40 s). Its frames run until `rig.close()`.
 */
export async function publishSimulcast(rig: AutoLayersRig, rids: readonly string[], frameBytes: readonly number[]): Promise<Producer> {
  const source = new LocalStreamTrack({ kind: 'video' });
  const pubSender = rig.pubClient.addTransceiver(source, { direction: 'sendonly', sendEncodings: rids.map((rid) => ({ rid })) }).sender;
  const pubTransceiver = new Promise<RTCRtpTransceiver>((r) => rig.pubServer.once('track', (e) => r(e.transceiver)));
  await connect(rig.pubClient, rig.pubServer);
  const ssrcs = pubSender.getParameters().encodings.map((e) => e.ssrc);
  const keyWanted = rids.map(() => true);
  pubSender.on('rtcp', (e) => {
    if (e.packet instanceof RtcpPictureLossIndication && ssrcs.includes(e.packet.mediaSsrc)) keyWanted[ssrcs.indexOf(e.packet.mediaSsrc)] = true;
  });
  let frame = 0;
  const frames = setInterval(() => {
    for (let l = 0; l < rids.length; l++) {
      const key = keyWanted[l]!;
      keyWanted[l] = false;
      const packets = Math.ceil(frameBytes[l]! / 1000);
      for (let k = 0; k < packets; k++) {
        source.send(new RtpPacket({ timestamp: frame * 3000, marker: k === packets - 1, payload: vp8(frame & 0x7fff, key, k === 0, frameBytes[l]! / packets) }), { rid: rids[l]! });
      }
    }
    frame++;
  }, 33);
  rig.stops.push(() => clearInterval(frames));
  const producer = await rig.router.produce(rig.pubServer, await within(pubTransceiver, 5000, 'publisher track'));
  await until(() => [0, 1, 2].every((l) => producer.layerSsrc(l) !== undefined), 'three layers bound');
  return producer;
}

/** Reads `track` to its end in the background so its queue never fills; its end or error is ignored. */
export function drain(track: MediaStreamTrack): void {
  void (async () => {
    for await (const _ of track) {
      // drain
    }
  })().catch(() => undefined);
}
