// A new SFU developer's first room, written from README.md and docs/sfu.md alone with the package's
// public entry points: one Router on one UdpMux port, a publisher of ours (Opus-like audio and VP8
// simulcast with three rids, packetized with the package's Vp8Packetizer), three subscribers whose
// consumers are made on the router's 'producer' event, and a fourth that joins later consuming the
// open producers; a subscriber that leaves is cleaned up on the server (consumers closed with their 'close' event, counters, listeners and timers back); layer
// requests complete with 'layerschange'; the recording tap; pause/resume of a consumer and of a
// producer (audio, and video: a key frame asked for on resume) (docs/sfu.md "Your first SFU").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LocalStreamTrack,
  RTCPeerConnection,
  Router,
  RtcpPictureLossIndication,
  RtpPacket,
  UdpMux,
  type Consumer,
  type MediaStreamTrack,
  type Producer,
  type RTCRtpTransceiver,
} from 'pure-webrtc-transport';
import { RtpPacketizer, Vp8Packetizer, parseVp8PayloadDescriptor } from 'pure-webrtc-transport/media';

const RIDS = ['low', 'mid', 'high'] as const;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits for `cond` (every 10 ms), at most `ms`. */
async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(10);
  }
}

async function negotiate(offerer: RTCPeerConnection, answerer: RTCPeerConnection): Promise<void> {
  await offerer.setLocalDescription(await offerer.createOffer());
  await answerer.setRemoteDescription(offerer.localDescription!);
  await answerer.setLocalDescription(await answerer.createAnswer());
  await offerer.setRemoteDescription(answerer.localDescription!);
}

/** A VP8 frame of `bytes` bytes whose byte 6 names the layer (RFC 6386 §9.1: bit 0 of byte 0 clear = key frame). */
function vp8Frame(layer: number, key: boolean, bytes = 300): Buffer {
  const f = Buffer.alloc(bytes, 0x33);
  f[0] = key ? 0x10 : 0x11;
  f.set([0x9d, 0x01, 0x2a], 3);
  f[6] = layer;
  return f;
}

/** What a subscriber's client receives: packets per kind, and the layer each video packet came from. */
class Viewer {
  audio = 0;
  video = 0;
  readonly videoByLayer = [0, 0, 0];
  audioSsrc = 0;
  videoSsrc = 0;
  constructor(readonly client: RTCPeerConnection) {
    client.on('track', (e) => void this.read(e.track));
  }

  private async read(track: MediaStreamTrack): Promise<void> {
    try {
      for await (const p of track) {
        if (track.kind === 'audio') {
          this.audio++;
          this.audioSsrc = p.ssrc!;
          assert.ok(p.payload.toString().startsWith('audio:'), 'audio payload intact');
        } else {
          this.video++;
          this.videoSsrc = p.ssrc!;
          const d = parseVp8PayloadDescriptor(p.payload);
          assert.ok(d, 'a VP8 descriptor');
          // Only the first packet of a frame carries byte 6 of the frame (one packet per frame here).
          const layer = p.payload[d.headerLength + 6]!;
          this.videoByLayer[layer] = (this.videoByLayer[layer] ?? 0) + 1;
        }
      }
    } catch {
      // the connection closed
    }
  }
}

/**
 * The room: publisher and subscribers are clients of ours on their own sockets; the server side of
 * each is a connection on `mux`. The publisher sends 50 audio packets/s and 30 VP8 frames/s per
 * layer, a key frame of a layer whenever a PLI names its SSRC.
 */
class Room {
  readonly stops: (() => void)[] = [];
  readonly pcs: RTCPeerConnection[] = [];
  plisByLayer = [0, 0, 0];
  private constructor(readonly mux: UdpMux, readonly router: Router) {}

  static async open(): Promise<Room> {
    const mux = await UdpMux.bind({ address: '127.0.0.1' });
    return new Room(mux, Router.create(mux));
  }

  pc(config: ConstructorParameters<typeof RTCPeerConnection>[0]): RTCPeerConnection {
    const pc = new RTCPeerConnection(config);
    this.pcs.push(pc);
    return pc;
  }

  /** A subscriber: the server offers one sendonly audio and one sendonly video transceiver. */
  async subscriber(): Promise<{ server: RTCPeerConnection; audio: RTCRtpTransceiver; video: RTCRtpTransceiver; viewer: Viewer }> {
    const server = this.pc({ udpMux: this.mux });
    const client = this.pc({ hostAddresses: ['127.0.0.1'] });
    const audio = server.addTransceiver(new LocalStreamTrack({ kind: 'audio' }), { direction: 'sendonly' });
    const video = server.addTransceiver(new LocalStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
    const viewer = new Viewer(client);
    await negotiate(server, client);
    await Promise.all([server.connected(), client.connected()]);
    return { server, audio, video, viewer };
  }

  /** The publisher; resolves with the server connection's two transceivers once connected. */
  async publisher(): Promise<{ server: RTCPeerConnection; audio: RTCRtpTransceiver; video: RTCRtpTransceiver }> {
    const client = this.pc({ hostAddresses: ['127.0.0.1'] });
    const server = this.pc({ udpMux: this.mux });
    const mic = new LocalStreamTrack({ kind: 'audio' });
    const camera = new LocalStreamTrack({ kind: 'video' });
    client.addTransceiver(mic, { direction: 'sendonly' });
    const videoSender = client.addTransceiver(camera, { direction: 'sendonly', sendEncodings: RIDS.map((rid) => ({ rid })) }).sender;
    // One 'track' event per rid, all with the same transceiver (docs/sfu.md "Simulcast").
    const transceivers = new Map<string, RTCRtpTransceiver>();
    server.on('track', (e) => transceivers.set(e.transceiver.kind, e.transceiver));
    await negotiate(client, server);
    await Promise.all([client.connected(), server.connected()]);
    const ssrcs = videoSender.getParameters().encodings.map((e) => e.ssrc);
    const keyWanted = [true, true, true];
    videoSender.on('rtcp', (e) => {
      if (e.packet instanceof RtcpPictureLossIndication) {
        const l = ssrcs.indexOf(e.packet.mediaSsrc);
        if (l >= 0) {
          keyWanted[l] = true;
          this.plisByLayer[l]!++;
        }
      }
    });
    const packetizers = RIDS.map(() => new RtpPacketizer(new Vp8Packetizer()));
    let frame = 0;
    const video = setInterval(() => {
      for (let l = 0; l < RIDS.length; l++) {
        const key = keyWanted[l]!;
        keyWanted[l] = false;
        for (const p of packetizers[l]!.packetize(vp8Frame(l, key), frame * 3000)) camera.send(p, { rid: RIDS[l]! });
      }
      frame++;
    }, 33);
    let n = 0;
    const audio = setInterval(() => mic.send(new RtpPacket({ timestamp: ++n * 960, payload: Buffer.from(`audio:${n}`) })), 20);
    this.stops.push(() => clearInterval(video), () => clearInterval(audio));
    await until(() => transceivers.size === 2, 'both publisher tracks');
    return { server, audio: transceivers.get('audio')!, video: transceivers.get('video')! };
  }

  close(): void {
    for (const stop of this.stops) stop();
    this.router.close();
    for (const pc of this.pcs) pc.close();
    this.mux.close();
  }
}

/** Timers and other handles of this process by kind, and its listeners (what the soak tests compare). */
function handles(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  out.processListeners = (['uncaughtException', 'unhandledRejection', 'warning', 'exit', 'beforeExit'] as const).reduce((n, e) => n + process.listenerCount(e), 0);
  return out;
}

test('your first SFU: a publisher, three subscribers made on the producer event, one leaves and is cleaned up, one joins late', { timeout: 120_000 }, async () => {
  const room = await Room.open();
  const { router } = room;
  try {
    const subs = [await room.subscriber(), await room.subscriber(), await room.subscriber()];
    // The room's rule: every subscriber consumes every producer, made on the router's 'producer' event.
    const consumers = new Map<RTCPeerConnection, Consumer[]>();
    const pending: Promise<unknown>[] = [];
    const producers: Producer[] = [];
    // The room's open producers, for a subscriber that joins later (docs/sfu.md: subscribe()).
    const open = new Set<Producer>();
    const consume = (s: (typeof subs)[number], producer: Producer): void => {
      const transceiver = producer.kind === 'audio' ? s.audio : s.video;
      pending.push(router.consume(producer, s.server, transceiver).then((c) => {
        consumers.set(s.server, [...(consumers.get(s.server) ?? []), c]);
      }));
    };
    router.on('producer', (producer) => {
      producers.push(producer);
      open.add(producer);
      producer.on('close', () => open.delete(producer));
      for (const s of subs) consume(s, producer);
    });
    const baseHandles = handles();
    const pub = await room.publisher();
    const audioProducer = await router.produce(pub.server, pub.audio);
    const videoProducer = await router.produce(pub.server, pub.video);
    assert.deepEqual(producers, [audioProducer, videoProducer], "'producer' fired once per produce()");
    assert.deepEqual(videoProducer.spatialLayers, [...RIDS]);
    await until(() => pending.length === 6, 'six consume() calls');
    await Promise.all(pending);

    // Every subscriber receives audio and the top layer (the default; until its first key frame a
    // lower layer's key frame may start the stream, docs/sfu.md "When switches happen").
    const videoConsumers = [...consumers.values()].map((list) => list.find((c) => c.kind === 'video')!);
    await until(() => videoConsumers.every((c) => c.currentLayers?.spatialLayer === 2), 'every video consumer on the top layer');
    const top = subs.map((s) => s.viewer.videoByLayer[2]!);
    await until(() => subs.every((s, i) => s.viewer.audio >= 20 && s.viewer.videoByLayer[2]! >= top[i]! + 20), 'every subscriber receives audio and video');
    const lower = subs.map((s) => s.viewer.videoByLayer[0]! + s.viewer.videoByLayer[1]!);
    await sleep(200);
    for (const [i, s] of subs.entries()) {
      assert.equal(s.viewer.audioSsrc, s.audio.sender.ssrc, "the subscriber sender's SSRC");
      assert.equal(s.viewer.videoSsrc, s.video.sender.ssrc);
      assert.equal(s.viewer.videoByLayer[0]! + s.viewer.videoByLayer[1]!, lower[i], 'only the top layer once it arrived');
    }
    const stats = router.stats;
    assert.equal(stats.jsDeliveries, 0, 'no forwarded packet reached JavaScript');
    assert.equal(stats.jsCallbacksPerForwardedPacket, 0);
    assert.equal(videoProducer.getStats().pwtConsumers, 3);
    assert.deepEqual(videoProducer.getStats().pwtSpatialLayers?.map((l) => l.rid), [...RIDS]);

    // Subscriber 2 leaves: the application learns it from its signaling and closes its connection.
    const leaving = subs[2]!;
    const gone = consumers.get(leaving.server)!;
    assert.equal(gone.length, 2);
    const closes = gone.map((c) => new Promise<void>((r) => c.once('close', () => r())));
    const listenersBefore = leaving.audio.sender.listenerCount('rtcp') + leaving.video.sender.listenerCount('rtcp');
    assert.ok(listenersBefore >= 2, "the router listens to each consumer sender's RTCP");
    leaving.server.close();
    await Promise.all(closes);
    assert.ok(gone.every((c) => c.closed));
    assert.equal(leaving.audio.sender.listenerCount('rtcp') + leaving.video.sender.listenerCount('rtcp'), 0, 'the router removed its listeners');
    assert.equal(leaving.server.listenerCount('policy'), 0);
    assert.equal(leaving.server.listenerCount('connectionstatechange'), 0);
    assert.equal(audioProducer.getStats().pwtConsumers, 2);
    assert.equal(videoProducer.getStats().pwtConsumers, 2);
    assert.throws(() => gone[0]!.getStats(), { name: 'InvalidStateError', code: 'ERR_SFU_CONSUMER_CLOSED' });
    // The others go on, and nothing is sent to the one that left. What the engine sent it before
    // the close may still be on its way over loopback: counted from 50 forwarded packets later.
    const closedAt = router.stats.packetsForwarded;
    await until(() => router.stats.packetsForwarded > closedAt + 50, 'forwarding goes on');
    const sentBefore = router.stats.packetsForwarded;
    const left = { audio: leaving.viewer.audio, video: leaving.viewer.video };
    await until(() => router.stats.packetsForwarded > sentBefore + 200, 'forwarding goes on');
    assert.equal(leaving.viewer.audio + leaving.viewer.video, left.audio + left.video, 'nothing reaches the subscriber that left');

    // A subscriber that joins after the publisher: no 'producer' event comes for it, it consumes
    // the room's open producers when it joins, and receives audio and video like the others.
    const late = await room.subscriber();
    subs.push(late);
    assert.equal(open.size, 2);
    for (const producer of open) consume(late, producer);
    await Promise.all(pending);
    assert.equal(consumers.get(late.server)?.length, 2);
    assert.equal(audioProducer.getStats().pwtConsumers, 3);
    assert.equal(videoProducer.getStats().pwtConsumers, 3);
    await until(() => late.viewer.audio >= 20 && late.viewer.video >= 20, 'the late subscriber receives audio and video');
    assert.equal(late.viewer.audioSsrc, late.audio.sender.ssrc);
    assert.equal(late.viewer.videoSsrc, late.video.sender.ssrc);

    // The publisher leaves: its producers close ('close'), consumers hear 'producerclose' and the
    // application closes them; with the router closed no timer of the SFU is left.
    const producerClosed = new Promise<void>((r) => videoProducer.once('close', () => r()));
    const consumerHeard = new Promise<void>((r) => consumers.get(subs[0]!.server)![1]!.once('producerclose', () => r()));
    for (const stop of room.stops.splice(0)) stop();
    pub.server.close();
    await Promise.all([producerClosed, consumerHeard]);
    assert.ok(audioProducer.closed && videoProducer.closed);
    assert.equal(open.size, 0, "the room's open producers: none");
    router.close();
    for (const list of consumers.values()) assert.ok(list.every((c) => c.closed), 'router.close() closes every consumer');
    for (const s of subs) s.server.close();
    await sleep(100);
    const after = handles();
    for (const [kind, n] of Object.entries(after)) {
      if (kind === 'Timeout' || kind === 'processListeners') assert.ok(n <= (baseHandles[kind] ?? 0), `${kind}: ${baseHandles[kind] ?? 0} → ${n}`);
    }
  } finally {
    room.close();
  }
});

test('layers, the recording tap and pause/resume of a consumer and a producer', { timeout: 120_000 }, async () => {
  const room = await Room.open();
  const { router } = room;
  try {
    const sub = await room.subscriber();
    const pub = await room.publisher();
    const video = await router.produce(pub.server, pub.video);
    const audio = await router.produce(pub.server, pub.audio);
    const consumer = await router.consume(video, sub.server, sub.video, { preferredLayers: { spatialLayer: 0 } });
    const audioConsumer = await router.consume(audio, sub.server, sub.audio);
    const changes: number[] = [];
    consumer.on('layerschange', (l) => changes.push(l.spatialLayer));
    await until(() => consumer.currentLayers?.spatialLayer === 0 && sub.viewer.videoByLayer[0]! > 10, 'layer 0 arrives');
    assert.deepEqual(changes, [0]);
    assert.equal(consumer.getStats().pwtCurrentSpatialLayer, 0);

    // 2. Up to layer 2: the switch completes at that layer's key frame (the router asks with a PLI).
    const plis = room.plisByLayer[2]!;
    consumer.setPreferredLayers({ spatialLayer: 2 });
    assert.deepEqual(consumer.preferredLayers, { spatialLayer: 2 });
    await until(() => changes.length === 2, "'layerschange' to layer 2");
    assert.deepEqual(changes, [0, 2]);
    assert.ok(room.plisByLayer[2]! > plis, 'a key frame of layer 2 was asked for');
    assert.equal(consumer.currentLayers?.spatialLayer, 2);
    const s2 = consumer.getStats();
    assert.equal(s2.pwtCurrentSpatialLayer, 2);
    assert.equal(s2.pwtLayerSwitches, 2);
    const atSwitch = sub.viewer.videoByLayer[0]!;
    await until(() => sub.viewer.videoByLayer[2]! > 10, 'layer 2 arrives');
    assert.ok(sub.viewer.videoByLayer[0]! <= atSwitch + 1, 'layer 0 stopped');
    // Down to layer 1.
    consumer.setPreferredLayers({ spatialLayer: 1 });
    await until(() => changes.length === 3, "'layerschange' to layer 1");
    assert.equal(changes[2], 1);

    // 3. The recording tap: the publisher connection's JavaScript sees the audio packets too, on the
    // receiver's track (read in the background until the connection closes).
    const tapped: number[] = [];
    const mic = pub.audio.receiver.track;
    void (async () => {
      for await (const p of mic) tapped.push(p.sequenceNumber!);
    })().catch(() => undefined);
    const forwardedBeforeTap = router.stats.packetsForwarded;
    assert.equal(router.stats.tappingProducers, 0);
    audio.tap = true;
    assert.equal(router.stats.tappingProducers, 1);
    await until(() => tapped.length >= 20, 'tapped packets in JavaScript');
    assert.ok(router.stats.jsDeliveries >= 20);
    assert.ok(router.stats.jsCallbacksPerForwardedPacket > 0);
    assert.ok(router.stats.packetsForwarded > forwardedBeforeTap, 'forwarding goes on while tapping');
    audio.tap = false;
    assert.equal(router.stats.tappingProducers, 0, 'no producer taps any more');
    await sleep(100);
    const tappedAtOff = tapped.length;
    const deliveries = router.stats.jsDeliveries;
    const forwarded = router.stats.packetsForwarded;
    const heard = sub.viewer.audio;
    await until(() => sub.viewer.audio > heard + 20, 'audio still forwarded with the tap off');
    assert.equal(router.stats.jsDeliveries, deliveries, 'no JavaScript delivery with the tap off');
    assert.equal(tapped.length, tappedAtOff, 'the track gets nothing with the tap off');
    // Per forwarded packet since the tap went off: 0.
    assert.equal((router.stats.jsDeliveries - deliveries) / (router.stats.packetsForwarded - forwarded), 0);

    // 4a. Pause a consumer: nothing reaches the subscriber, drops count as 'paused'.
    consumer.pause();
    assert.equal(consumer.paused, true);
    const paused = { sent: consumer.getStats().packetsSent, got: sub.viewer.video };
    await sleep(500);
    const ps = consumer.getStats();
    assert.equal(ps.pwtPaused, true);
    assert.equal(ps.packetsSent, paused.sent, 'no RTP sent while paused');
    assert.equal(sub.viewer.video, paused.got, 'no RTP received while paused');
    assert.ok(ps.pwtDrops.paused > 0);
    assert.ok(audioConsumer.getStats().packetsSent > 0 && !audioConsumer.paused, 'the other consumer is not paused');
    const plisBefore = room.plisByLayer[1]!;
    consumer.resume();
    assert.equal(consumer.getStats().pwtPaused, false);
    await until(() => room.plisByLayer[1]! > plisBefore, 'a key frame asked for on resume', 10_000);
    await until(() => sub.viewer.video > paused.got + 10, 'video again after resume');

    // 4b. Pause the producer: none of its consumers sends; its own counters go on.
    audio.pause();
    assert.equal(audio.paused, true);
    assert.equal(audio.getStats().pwtPaused, true);
    const a = { sent: audioConsumer.getStats().packetsSent, received: audio.getStats().packetsReceived, got: sub.viewer.audio };
    await sleep(500);
    assert.equal(audioConsumer.getStats().packetsSent, a.sent, 'a paused producer forwards nothing');
    assert.equal(sub.viewer.audio, a.got);
    assert.ok(audio.getStats().packetsReceived > a.received, 'the paused producer still receives');
    assert.equal(audioConsumer.paused, false, "the consumer's own state is unchanged");
    assert.equal(audioConsumer.producerPaused, true);
    const inbound = audio.getStats();
    assert.equal(inbound.packetsLost, 0, 'nothing lost on loopback (W3C inbound-rtp packetsLost)');
    assert.ok(inbound.jitter !== undefined && inbound.jitter >= 0 && inbound.jitter < 1, `jitter in seconds: ${inbound.jitter}`);
    const dropped = audioConsumer.getStats().pwtDrops.paused;
    assert.ok(dropped > 0, "a paused producer's copies count as the consumer's 'paused' drops");
    audio.resume();
    assert.equal(audio.getStats().pwtPaused, false);
    assert.equal(audioConsumer.producerPaused, false);
    await until(() => sub.viewer.audio > a.got + 10, 'audio again after the producer resumed');
    // 4c. Pause and resume the video producer: on resume the router asks the publisher for a key
    // frame of every layer (the subscriber's decoder needs one), one request for the stream. The
    // consumer is on layer 1, so nothing else asks for layers 0 and 2.
    video.pause();
    const v = { sent: consumer.getStats().packetsSent, got: sub.viewer.video };
    await sleep(500);
    assert.equal(consumer.getStats().packetsSent, v.sent, 'a paused video producer forwards nothing');
    assert.equal(consumer.producerPaused, true);
    const plisAtResume = [...room.plisByLayer];
    video.resume();
    await until(() => room.plisByLayer.every((n, l) => n > plisAtResume[l]!), 'a key frame of every layer asked for on the producer resume', 10_000);
    await until(() => sub.viewer.video > v.got + 10, 'video again after the producer resumed');
    // Resume twice, pause twice: no-ops.
    audio.resume();
    consumer.resume();
    consumer.pause();
    consumer.pause();
    consumer.resume();
    assert.equal(consumer.paused, false);
  } finally {
    room.close();
  }
});
