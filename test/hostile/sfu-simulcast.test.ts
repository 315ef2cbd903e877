// The hostile-input suite against a simulcast room (lib/sfu Router, docs/sfu.md "Simulcast and
// temporal layers"): a publisher sends three rid layers of VP8, two subscribers receive layers 0 and
// 2. Between genuine frames the publisher's own SRTP session sends packets whose VP8 descriptor runs
// past the payload, whose RTP padding count is larger than the payload, a "key frame" on an SSRC
// that carries no rid, and strangers send garbage. Each subscriber receives exactly the genuine
// frames of its layer, nothing crashes or stalls, and the malformed ones are counted per consumer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCRtpTransceiver } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';
import { Router, type Producer } from '../../lib/sfu/index.js';
import { garbage, rtp } from './forge.js';
import { within } from '../integration/peer-helpers.js';

const RIDS = ['q', 'h', 'f'];
const ROUNDS = 6;
const VP8_PT = 96;

interface Room {
  mux: UdpMux;
  router: Router;
  producer: Producer;
  publisher: RTCPeerConnection;
  publisherServer: RTCPeerConnection;
  source: LocalStreamTrack;
  subscribers: { layer: number; client: RTCPeerConnection; server: RTCPeerConnection; track: MediaStreamTrack; got: string[] }[];
}

let room: Room;
let stranger: Socket;
const seqs = [100, 100, 100];

/** A VP8 packet with descriptor X|S, I (15-bit), L, T=0, the payload header (P bit) and a marker. */
function vp8(layer: number, frame: number, k: number, key: boolean): RtpPacket {
  const d = Buffer.from([0x80 | (k === 0 ? 0x10 : 0), 0xe0, 0x80, frame & 0xff, frame & 0xff, 0x00, k === 0 ? (key ? 0x10 : 0x11) : 0x42]);
  return new RtpPacket({ sequenceNumber: seqs[layer]!++ & 0xffff, timestamp: 3000 * (frame + 1), payloadType: VP8_PT, payload: Buffer.concat([d, Buffer.from(`legit:${layer}:${frame}:${k}`)]) });
}

function sendFrame(frame: number, key: boolean): void {
  for (let l = 0; l < 3; l++) for (let k = 0; k < 2; k++) room.source.send(vp8(l, frame, k, key), { rid: RIDS[l]! });
  for (let l = 0; l < 3; l++) seqs[l] = (seqs[l]! + 4) & 0xffff; // a gap for the attacks
}

async function openRoom(): Promise<Room> {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const publisher = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const publisherServer = new RTCPeerConnection({ udpMux: mux });
  const source = new LocalStreamTrack({ kind: 'video' });
  publisher.addTransceiver(source, { direction: 'sendonly', sendEncodings: RIDS.map((rid) => ({ rid })) });
  const t = new Promise<RTCRtpTransceiver>((r) => publisherServer.once('track', (e) => r(e.transceiver)));
  await publisher.setLocalDescription(await publisher.createOffer());
  await publisherServer.setRemoteDescription(publisher.localDescription!);
  await publisherServer.setLocalDescription(await publisherServer.createAnswer());
  await publisher.setRemoteDescription(publisherServer.localDescription!);
  await within(Promise.all([publisher.connected(), publisherServer.connected()]), 15_000, 'publisher connected');
  const producer = await router.produce(publisherServer, await t);
  room = { mux, router, producer, publisher, publisherServer, source, subscribers: [] };
  // The first packet of each layer binds its rid's SSRC (it reaches the publisher connection's JavaScript).
  for (let l = 0; l < 3; l++) source.send(vp8(l, 0, 1, false), { rid: RIDS[l]! });
  await within((async () => {
    while ([0, 1, 2].some((l) => producer.layerSsrc(l) === undefined)) await new Promise((r) => setTimeout(r, 10));
  })(), 10_000, 'layers bound');
  for (const layer of [0, 2]) {
    const server = new RTCPeerConnection({ udpMux: mux });
    const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
    const st = server.addTransceiver(new LocalStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
    const track = new Promise<MediaStreamTrack>((r) => client.once('track', (e) => r(e.track)));
    await server.setLocalDescription(await server.createOffer());
    await client.setRemoteDescription(server.localDescription!);
    await client.setLocalDescription(await client.createAnswer());
    await server.setRemoteDescription(client.localDescription!);
    await within(Promise.all([client.connected(), server.connected()]), 15_000, `subscriber ${layer} connected`);
    await router.consume(producer, server, st, { preferredLayers: { spatialLayer: layer } });
    const sub = { layer, client, server, track: await within(track, 5000, 'track'), got: [] as string[] };
    void (async () => {
      for await (const p of sub.track) sub.got.push(p.payload.subarray(7).toString());
    })();
    room.subscribers.push(sub);
  }
  return room;
}

before(async () => {
  room = await openRoom();
  stranger = createSocket('udp4');
  await new Promise<void>((r) => stranger.bind(0, '127.0.0.1', r));
});

after(() => {
  stranger?.close();
  room?.router.close();
  for (const s of room?.subscribers ?? []) {
    s.client.close();
    s.server.close();
  }
  room?.publisher.close();
  room?.publisherServer.close();
  room?.mux.close();
});

test("malformed VP8 descriptors and padding from the publisher's own session, a rid-less key frame and strangers' garbage never reach a subscriber", { timeout: 60_000 }, async () => {
  const media = room.publisher.mediaTransport!;
  const srtp = media.srtp!;
  const socket = media.localSockets[0]!.socket;
  const dest = socket.destination(room.mux.local.port, '127.0.0.1');
  const out = Buffer.alloc(2048);
  const protect = (clear: Buffer): Buffer => Buffer.from(out.subarray(0, srtp.protectRtp(clear, out)));
  const dropsBefore = room.router.stats.drops;
  const receivedBefore = room.router.stats.packetsReceived;
  const expected = [0, 2].map(() => [] as string[]);
  const strangerSends: Promise<void>[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    sendFrame(round + 1, round === 0);
    // Before any layer, a consumer starts at the first key frame at or below its target (layer 0's
    // comes first), then switches at its own layer's key frame (docs/sfu.md).
    if (round === 0) expected[1]!.push('legit:0:1:0', 'legit:0:1:1');
    for (const [i, layer] of [0, 2].entries()) expected[i]!.push(`legit:${layer}:${round + 1}:0`, `legit:${layer}:${round + 1}:1`);
    for (let l = 0; l < 3; l++) {
      const ssrc = room.producer.layerSsrc(l)!;
      const base = (seqs[l]! - 4) & 0xffff; // the gap after this layer's genuine frame
      const attacks = [
        rtp(0x80, VP8_PT, base, ssrc, Buffer.from([0x90, 0xe0])), // I/L/T announced, none present
        rtp(0x80, VP8_PT, base + 1, ssrc, Buffer.from([0x90, 0x80, 0x80])), // 15-bit PictureID cut short
        rtp(0xa0, VP8_PT, base + 2, ssrc, Buffer.from([0x90, 0x10, 0x00, 0x05])), // padding count 5 in 4 bytes
      ];
      for (const b of attacks) socket.sendTo(protect(b), dest);
    }
    // A key frame on an SSRC no rid names: no layer, it stays with the publisher connection.
    socket.sendTo(protect(rtp(0x80, VP8_PT, round, 0x0badf00d, Buffer.from([0x90, 0x00, 0x10, 0x00, 0x00]))), dest);
    strangerSends.push(...garbage(6, 300 + round).map((g) => new Promise<void>((r) => stranger.send(g, room.mux.local.port, '127.0.0.1', () => r()))));
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all(strangerSends);
  await within((async () => {
    while (room.subscribers.some((s, i) => s.got.length < expected[i]!.length)) await new Promise((r) => setTimeout(r, 10));
  })(), 15_000, 'genuine frames at both subscribers');
  await new Promise((r) => setTimeout(r, 100)); // anything else would have arrived by now
  for (const [i, s] of room.subscribers.entries()) assert.deepEqual(s.got, expected[i], `subscriber of layer ${s.layer}: exactly its genuine frames`);
  const drops = room.router.stats.drops;
  assert.equal(drops.malformed - dropsBefore.malformed, ROUNDS * 3 * 3 * 2, 'each malformed packet dropped and counted for each consumer');
  assert.equal(room.router.stats.packetsReceived - receivedBefore, ROUNDS * 3 * (2 + 3), 'the engine saw only the layers\' packets');
  assert.equal(room.producer.layerSsrc(0) !== 0x0badf00d && room.producer.layerSsrc(2) !== 0x0badf00d, true);
  assert.equal(room.router.stats.jsDeliveries, 0);
  assert.equal(room.subscribers.every((s) => s.server.connectionState === 'connected'), true);
});
