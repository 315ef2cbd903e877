// lib/sfu simulcast and temporal layers over real loopback sockets: a publisher RTCPeerConnection of
// ours sends three rid layers (sendEncodings) of VP8 packets with real payload descriptors (RFC 7741
// §4.2) to a router on one UdpMux port; the router makes ONE producer whose layers it learns as the
// rids' SSRCs arrive. A subscriber asks for layer 0, then 2: it receives only the chosen layer's
// payloads, continuous sequence numbers and PictureIDs, the switch happens at a key frame of layer 2
// (which the router asked the publisher for), and 'layerschange' reports each completed switch;
// truncated VP8 descriptors from the publisher are dropped and counted without stopping forwarding.
// A single-stream producer with VP8 temporal layers: a TL0 consumer gets TID 0 only, gap-free, and
// packets it NACKs from before dropped frames come again numbered as first sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCRtpTransceiver } from '../../../lib/peer/index.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { RtcpGenericNack } from '../../../lib/rtp/rtcp/generic-nack.js';
import { RtcpPictureLossIndication } from '../../../lib/rtp/rtcp/picture-loss-indication.js';
import '../../../lib/policy/default-policies.js';
import { UdpMux } from '../../../lib/transport/source/udp-mux.js';
import { Router, type ConsumerLayers } from '../../../lib/sfu/index.js';
import { within } from '../../integration/peer-helpers.js';
import { closeRouterRig } from './router-rig.js';

const RIDS = ['q', 'h', 'f']; // lowest resolution first

interface Peer {
  client: RTCPeerConnection;
  server: RTCPeerConnection;
}

async function publisher(mux: UdpMux, rids: string[] | undefined): Promise<Peer & { source: LocalStreamTrack; transceiver: RTCRtpTransceiver }> {
  const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const server = new RTCPeerConnection({ udpMux: mux });
  const source = new LocalStreamTrack({ kind: 'video' });
  client.addTransceiver(source, { direction: 'sendonly', ...(rids ? { sendEncodings: rids.map((rid) => ({ rid })) } : {}) });
  const transceiver = new Promise<RTCRtpTransceiver>((r) => server.once('track', (e) => r(e.transceiver)));
  await client.setLocalDescription(await client.createOffer());
  await server.setRemoteDescription(client.localDescription!);
  await server.setLocalDescription(await server.createAnswer());
  await client.setRemoteDescription(server.localDescription!);
  await within(Promise.all([client.connected(), server.connected()]), 15_000, 'publisher connected');
  return { client, server, source, transceiver: await within(transceiver, 5000, 'publisher track') };
}

async function subscriber(mux: UdpMux): Promise<Peer & { transceiver: RTCRtpTransceiver; track: MediaStreamTrack }> {
  const server = new RTCPeerConnection({ udpMux: mux });
  const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const transceiver = server.addTransceiver(new LocalStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
  const track = new Promise<MediaStreamTrack>((r) => client.once('track', (e) => r(e.track)));
  await server.setLocalDescription(await server.createOffer());
  await client.setRemoteDescription(server.localDescription!);
  await client.setLocalDescription(await client.createAnswer());
  await server.setRemoteDescription(client.localDescription!);
  await within(Promise.all([client.connected(), server.connected()]), 15_000, 'subscriber connected');
  return { client, server, transceiver, track: await within(track, 5000, 'subscriber track') };
}

/** VP8 payload: descriptor X|S, I (15-bit PictureID), L (TL0PICIDX), T (TID, Y); then the payload header (P bit) and a marker. */
function vp8(opts: { pid: number; tl0: number; tid: number; sync?: boolean; key: boolean; start: boolean; mark: string }): Buffer {
  const d = [0x80 | (opts.start ? 0x10 : 0), 0xe0, 0x80 | (opts.pid >> 8), opts.pid & 0xff, opts.tl0 & 0xff, (opts.tid << 6) | (opts.sync ? 0x20 : 0)];
  const header = opts.start ? (opts.key ? 0x10 : 0x11) : 0x42;
  return Buffer.concat([Buffer.from(d), Buffer.from([header]), Buffer.from(opts.mark)]);
}
const DESCRIPTOR = 6;
const markOf = (payload: Buffer): string => payload.subarray(DESCRIPTOR + 1).toString();
const pidOf = (payload: Buffer): number => ((payload[2]! & 0x7f) << 8) | payload[3]!;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string): Promise<void> {
  await within((async () => {
    while (!cond()) await sleep(10);
  })(), 10_000, what);
}

test('router: a simulcast producer; a consumer switches from layer 0 to 2 at a key frame, with continuous numbering', { timeout: 90_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const pub = await publisher(mux, RIDS);
  let sub: Awaited<ReturnType<typeof subscriber>> | undefined;
  try {
    const producer = await router.produce(pub.server, pub.transceiver);
    assert.equal(producer.simulcast, true);
    assert.deepEqual(producer.spatialLayers, RIDS);
    await assert.rejects(router.produce(pub.server, pub.transceiver), { code: 'ERR_SFU_PRODUCER_EXISTS' });
    const plis: number[] = [];
    pub.client.getTransceivers()[0]!.sender.on('rtcp', (e) => {
      if (e.packet instanceof RtcpPictureLossIndication) plis.push(e.packet.mediaSsrc);
    });
    const encodings = pub.client.getTransceivers()[0]!.sender.getParameters().encodings;

    // Each layer's first packet reaches the publisher connection's JavaScript, which binds its rid's
    // SSRC; from then on the engine owns the stream.
    const frame = (f: number, layer: number, key: boolean): void => {
      for (let k = 0; k < 2; k++) {
        const payload = vp8({ pid: 1000 * layer + f, tl0: 10 * layer + f, tid: 0, key, start: k === 0, mark: `L${layer}F${f}P${k}` });
        pub.source.send(new RtpPacket({ timestamp: 3000 * (f + 1), marker: k === 1, payload }), { rid: RIDS[layer]! });
      }
    };
    for (let l = 0; l < 3; l++) frame(0, l, false);
    await until(() => [0, 1, 2].every((l) => producer.layerSsrc(l) !== undefined), 'three layers bound');
    assert.deepEqual([0, 1, 2].map((l) => producer.layerSsrc(l)), encodings.map((e) => e.ssrc), 'layer i is rid i');

    sub = await subscriber(mux);
    const consumer = await router.consume(producer, sub.server, sub.transceiver, { preferredLayers: { spatialLayer: 0 } });
    assert.deepEqual(consumer.preferredLayers, { spatialLayer: 0 });
    assert.equal(consumer.currentLayers, null, 'no layer before its key frame');
    const changes: ConsumerLayers[] = [];
    consumer.on('layerschange', (l) => changes.push(l));
    await until(() => plis.includes(producer.layerSsrc(0)!), 'the router asked for a key frame of layer 0');

    const received: { mark: string; seq: number; pid: number; ssrc: number }[] = [];
    let stop = false;
    const reader = (async () => {
      while (!stop) {
        const p = await sub!.track.recv();
        received.push({ mark: markOf(p.payload), seq: p.sequenceNumber!, pid: pidOf(p.payload), ssrc: p.ssrc! });
      }
    })();
    reader.catch(() => undefined);

    // Round 1: a delta frame (not decodable: dropped), then a key frame on every layer, then deltas.
    const expected: string[] = [];
    for (let f = 1; f <= 6; f++) {
      for (let l = 0; l < 3; l++) frame(f, l, f === 2);
      if (f >= 2) expected.push(`L0F${f}P0`, `L0F${f}P1`);
      await sleep(5);
    }
    await until(() => received.length >= expected.length, 'round 1');
    assert.deepEqual(received.map((r) => r.mark), expected, 'only layer 0, from its key frame on');
    await until(() => changes.length >= 1, 'layerschange to layer 0');
    assert.deepEqual(changes[0], { spatialLayer: 0, temporalLayer: 0 });
    assert.deepEqual(consumer.currentLayers, { spatialLayer: 0, temporalLayer: 0 });

    // Round 2: ask for layer 2. Layer 0 goes on until layer 2's key frame (frame 9), then only layer 2.
    const plisBefore = plis.length;
    consumer.setPreferredLayers({ spatialLayer: 2 });
    await until(() => plis.slice(plisBefore).includes(producer.layerSsrc(2)!), 'the router asked for a key frame of layer 2');
    assert.deepEqual(consumer.currentLayers, { spatialLayer: 0, temporalLayer: 0 }, 'no switch before the key frame');
    for (let f = 7; f <= 11; f++) {
      for (let l = 0; l < 3; l++) frame(f, l, f === 9 && l === 2);
      if (f < 9) expected.push(`L0F${f}P0`, `L0F${f}P1`);
      else if (f === 9) expected.push('L0F9P0', 'L0F9P1', 'L2F9P0', 'L2F9P1');
      else expected.push(`L2F${f}P0`, `L2F${f}P1`);
      await sleep(5);
    }
    await until(() => received.length >= expected.length, 'round 2');
    assert.deepEqual(received.map((r) => r.mark), expected, 'layer 2 from its key frame on');
    const firstOf2 = received.findIndex((r) => r.mark.startsWith('L2'));
    assert.equal(received[firstOf2]!.mark, 'L2F9P0', 'the switch happened at the key frame');
    for (let i = 1; i < received.length; i++) {
      assert.equal(received[i]!.seq, (received[i - 1]!.seq + 1) & 0xffff, 'sequence numbers continue without a gap');
      assert.equal(received[i]!.ssrc, consumer.ssrc);
      const newPicture = received[i]!.mark.endsWith('P0');
      assert.equal(received[i]!.pid, (received[i - 1]!.pid + (newPicture ? 1 : 0)) & 0x7fff, 'PictureIDs continue');
    }
    await until(() => changes.length >= 2, 'layerschange to layer 2');
    assert.deepEqual(changes[1], { spatialLayer: 2, temporalLayer: 0 });

    const stats = router.stats;
    assert.equal(stats.jsDeliveries, 0);
    assert.ok(stats.layerSwitches >= 2);
    assert.ok(stats.drops.layer > 0, 'other layers are counted as layer drops');
    const cs = consumer.getStats();
    assert.equal(cs.pwtCurrentSpatialLayer, 2);
    assert.equal(cs.pwtLayerSwitches, 2);
    assert.equal(cs.packetsSent, expected.length);
    // Hostile input from the publisher's own (authenticated) stream: descriptors that run past the
    // payload are dropped and counted, nothing crashes, and forwarding goes on.
    const malformedBefore = router.stats.drops.malformed;
    for (const bad of [[0x90, 0xe0], [0x90, 0x80, 0x80], [0x80]]) pub.source.send(new RtpPacket({ timestamp: 3000 * 13, payload: Buffer.from(bad) }), { rid: 'f' });
    frame(12, 2, false);
    await until(() => received.some((r) => r.mark === 'L2F12P1'), 'forwarding goes on after malformed packets');
    assert.equal(router.stats.drops.malformed - malformedBefore, 3);
    assert.deepEqual(received.slice(-2).map((r) => r.mark), ['L2F12P0', 'L2F12P1']);
    assert.throws(() => consumer.setPreferredLayers({ spatialLayer: 3 }), { name: 'RangeError', code: 'ERR_SFU_LAYER' });
    assert.deepEqual(producer.getStats().pwtSpatialLayers?.map((l) => l.rid), RIDS);
    // The engine counts each layer's packets (the room's layer keeper reads them, docs/sfu.md):
    // every layer was sent, and the layers together are the producer's packets.
    const ps = producer.getStats();
    assert.ok(ps.pwtSpatialLayers!.every((l) => l.packetsReceived > 0), 'each layer counted');
    assert.equal(ps.pwtSpatialLayers!.reduce((n, l) => n + l.packetsReceived, 0), ps.packetsReceived);
    stop = true;
    // Closing the producer removes its layer-binding listener from the receiver (with the per-leg
    // RTCP and transport-cc sources registered beside it).
    assert.ok(pub.transceiver.receiver.boundListeners.size > 0);
    producer.close();
    assert.equal(pub.transceiver.receiver.boundListeners.size, 0);
  } finally {
    closeRouterRig(router, mux, sub, pub);
  }
});

test('router: VP8 temporal layers of one stream; a TL0 consumer gets TID 0 only without sequence or PictureID gaps, and its NACKs are answered', { timeout: 60_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const pub = await publisher(mux, undefined);
  let sub: Awaited<ReturnType<typeof subscriber>> | undefined;
  try {
    const producer = await router.produce(pub.server, pub.transceiver);
    assert.equal(producer.simulcast, false);
    sub = await subscriber(mux);
    const consumer = await router.consume(producer, sub.server, sub.transceiver, { preferredLayers: { spatialLayer: 0, temporalLayer: 0 } });
    const pattern = [0, 2, 1, 2];
    for (let f = 0; f < 12; f++) {
      const tid = pattern[f % 4]!;
      for (let k = 0; k < 2; k++) {
        const payload = vp8({ pid: 500 + f, tl0: Math.floor(f / 4), tid, key: f === 0, start: k === 0, mark: `F${f}T${tid}P${k}` });
        pub.source.send(new RtpPacket({ timestamp: 3000 * (f + 1), payload }));
      }
      await sleep(2);
    }
    const got: { mark: string; seq: number; pid: number }[] = [];
    for (let i = 0; i < 6; i++) {
      const p = await within(sub.track.recv(), 10_000, 'TL0 packet');
      got.push({ mark: markOf(p.payload), seq: p.sequenceNumber!, pid: pidOf(p.payload) });
    }
    assert.deepEqual(got.map((g) => g.mark), ['F0T0P0', 'F0T0P1', 'F4T0P0', 'F4T0P1', 'F8T0P0', 'F8T0P1']);
    for (let i = 1; i < got.length; i++) {
      assert.equal(got[i]!.seq, (got[i - 1]!.seq + 1) & 0xffff, 'no sequence gap for the dropped frames');
      assert.equal(got[i]!.pid, got[i - 1]!.pid + (i % 2 === 0 ? 1 : 0), 'no PictureID gap for the dropped frames');
    }
    assert.equal(consumer.getStats().pwtDrops.layer, 18);
    assert.deepEqual(consumer.currentLayers, { spatialLayer: 0, temporalLayer: 0 });
    // The subscriber lost two packets from before dropped frames (a viewer on a lossy link under a
    // lower temporal layer): its NACK is answered from the cache, each packet numbered as it was
    // first sent (sequence number, PictureID), though the drops moved the offsets since
    // (docs/sfu.md "Retransmission").
    const lost = [got[1]!, got[2]!];
    const clientSender = sub.client.getTransceivers()[0]!.sender;
    clientSender.sendRtcp([RtcpGenericNack.fromSequenceNumbers(clientSender.ssrc, consumer.ssrc, lost.map((g) => g.seq))]);
    const again: { mark: string; seq: number; pid: number }[] = [];
    for (let i = 0; i < lost.length; i++) {
      const p = await within(sub.track.recv(), 10_000, 'retransmission');
      again.push({ mark: markOf(p.payload), seq: p.sequenceNumber!, pid: pidOf(p.payload) });
    }
    assert.deepEqual(again.sort((a, b) => a.seq - b.seq), lost);
    assert.equal(consumer.getStats().retransmittedPacketsSent, 2);
    assert.equal(router.stats.nackMisses, 0);
    assert.throws(() => consumer.setPreferredLayers({ spatialLayer: 1 }), { code: 'ERR_SFU_LAYER' });
    assert.throws(() => consumer.setPreferredLayers({ spatialLayer: 0, temporalLayer: 4 }), { code: 'ERR_SFU_LAYER' });
  } finally {
    closeRouterRig(router, mux, sub, pub);
  }
});
