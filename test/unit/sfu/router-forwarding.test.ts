// lib/sfu Router over real loopback sockets: one publisher and N subscribers, all RTCPeerConnections
// of ours, the server side of every connection on one UdpMux port. The native engine forwards every
// packet to every subscriber intact (payload check) with the subscriber sender's SSRC and continuous
// sequence numbers and timestamps (also across pause/resume), and its counters show that no
// JavaScript ran per forwarded packet (docs/sfu.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection, type MediaStreamTrack } from '../../../lib/peer/index.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { RtcpGenericNack } from '../../../lib/rtp/rtcp/generic-nack.js';
import { RtcpPictureLossIndication } from '../../../lib/rtp/rtcp/picture-loss-indication.js';
// The default policy modules (keyframe requests, NACK generator and responder, RTX) as an SFU runs them.
import '../../../lib/policy/default-policies.js';
import { UdpMux } from '../../../lib/transport/source/udp-mux.js';
import { Router, type Consumer } from '../../../lib/sfu/index.js';
import { within } from '../../integration/peer-helpers.js';
import { payload, publisher, subscriber, type Subscriber } from './room-peers.js';
import { closeRouterRig, routerRig } from './router-rig.js';

const SUBSCRIBERS = 4;
const PACKETS = 40;

/** Receives `count` packets and checks payload, SSRC and continuity; returns the last seq/ts. */
async function expectPackets(track: MediaStreamTrack, ssrc: number, numbers: number[], prev?: { seq: number; ts: number }): Promise<{ seq: number; ts: number }> {
  let last = prev;
  for (const n of numbers) {
    const p = await track.recv();
    assert.ok(p.payload.equals(payload(n)), `payload of packet ${n} intact`);
    assert.equal(p.ssrc, ssrc, "the subscriber sender's SSRC");
    if (last) {
      assert.equal(p.sequenceNumber, (last.seq + 1) & 0xffff, 'sequence numbers continue without a gap');
      assert.ok(((p.timestamp! - last.ts) >>> 0) > 0 && ((p.timestamp! - last.ts) >>> 0) < 48000 * 5, 'timestamps advance');
    }
    last = { seq: p.sequenceNumber!, ts: p.timestamp! };
  }
  return last!;
}

test(`router: one publisher forwarded natively to ${SUBSCRIBERS} subscribers on one port`, { timeout: 120_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const subs: Subscriber[] = [];
  const pub = await publisher(mux, 'audio');
  try {
    const producer = await router.produce(pub.server, pub.transceiver);
    assert.equal(producer.kind, 'audio');
    for (let i = 0; i < SUBSCRIBERS; i++) subs.push(await subscriber(mux, 'audio'));
    const consumers: Consumer[] = [];
    for (const s of subs) consumers.push(await router.consume(producer, s.server, s.transceiver));
    assert.equal(producer.getStats().pwtConsumers, SUBSCRIBERS);

    let ts = 1000;
    const send = async (numbers: number[]): Promise<void> => {
      for (const n of numbers) {
        pub.source.send(new RtpPacket({ timestamp: (ts += 960), payload: payload(n) }));
        if (n % 10 === 9) await new Promise((r) => setTimeout(r, 5));
      }
    };
    const first = Array.from({ length: PACKETS }, (_, n) => n);
    const received = subs.map((s, i) => within(expectPackets(s.track, s.transceiver.sender.ssrc, first), 20_000, `subscriber ${i} first round`));
    await send(first);
    const lasts = await Promise.all(received);

    const stats = router.stats;
    assert.equal(stats.packetsForwarded, PACKETS * SUBSCRIBERS);
    assert.equal(stats.packetsReceived, PACKETS);
    assert.equal(stats.jsDeliveries, 0, 'no forwarded packet reached JavaScript');
    assert.equal(stats.jsCallbacksPerForwardedPacket, 0);
    assert.ok(stats.batchesWithoutJs > 0, 'batches of only forwarded media skip the JavaScript call');
    // Every receive batch of the port either entered JavaScript once or was consumed by the engine
    // alone: the socket counts the first kind, the engine the second (docs/sfu.md "Data path").
    const port = mux.nativeSocket!.stats;
    assert.equal(port.jsCalls + stats.batchesWithoutJs, port.batches, 'one JavaScript call per batch that needed one, none for the rest');
    assert.ok(port.jsCalls < port.batches);
    const inbound = pub.transceiver.receiver.streams.get(producer.ssrc);
    assert.equal(inbound?.packetsReceived ?? 0, 0, "the publisher connection's JavaScript saw none of the forwarded packets");
    assert.equal(producer.getStats().packetsReceived, PACKETS);
    assert.equal(producer.getStats().pwtForwarded, PACKETS * SUBSCRIBERS);
    for (const c of consumers) assert.equal(c.getStats().packetsSent, PACKETS);

    // Pause subscriber 0 for a round: the others get it, it gets nothing; after resume its sequence
    // numbers continue from where it stopped.
    consumers[0]!.pause();
    const second = Array.from({ length: 10 }, (_, n) => PACKETS + n);
    const others = subs.slice(1).map((s, i) => within(expectPackets(s.track, s.transceiver.sender.ssrc, second, lasts[i + 1]), 20_000, `subscriber ${i + 1} second round`));
    await send(second);
    const lastsAfter = await Promise.all(others);
    assert.equal(consumers[0]!.getStats().pwtDrops.paused, 10);
    consumers[0]!.resume();
    const third = Array.from({ length: 10 }, (_, n) => PACKETS + 10 + n);
    const all = subs.map((s, i) => within(expectPackets(s.track, s.transceiver.sender.ssrc, third, i === 0 ? lasts[0] : lastsAfter[i - 1]), 20_000, `subscriber ${i} third round`));
    await send(third);
    await Promise.all(all);
    assert.equal(router.stats.packetsForwarded, PACKETS * SUBSCRIBERS + 10 * (SUBSCRIBERS - 1) + 10 * SUBSCRIBERS);
    assert.equal(router.stats.jsDeliveries, 0);

    // A subscriber that closes is cleaned up: its consumer closes, the rest go on.
    subs[SUBSCRIBERS - 1]!.server.close();
    assert.ok(consumers[SUBSCRIBERS - 1]!.closed);
    assert.equal(producer.getStats().pwtConsumers, SUBSCRIBERS - 1);
  } finally {
    router.close();
    for (const s of subs) {
      s.client.close();
      s.server.close();
    }
    pub.client.close();
    pub.server.close();
    mux.close();
  }
});

test("router: a subscriber's NACK is answered from the producer's cache as RTX; its PLIs reach the publisher merged", { timeout: 60_000 }, async () => {
  const { mux, router, pub } = await routerRig('video');
  let sub: Subscriber | undefined;
  try {
    const producer = await router.produce(pub.server, pub.transceiver);
    const publisherSender = pub.client.getTransceivers()[0]!.sender;
    let plisAtPublisher = 0;
    publisherSender.on('rtcp', (e) => {
      if (e.packet instanceof RtcpPictureLossIndication) plisAtPublisher++;
    });
    sub = await subscriber(mux, 'video');
    const consumer = await router.consume(producer, sub.server, sub.transceiver);
    const params = sub.transceiver.sender.getParameters();
    assert.ok(params.codecs.some((c) => c.mimeType === 'video/rtx'), 'the subscriber negotiated RTX');
    const first = Array.from({ length: 20 }, (_, n) => n);
    const got = within(expectPackets(sub.track, consumer.ssrc, first), 20_000, 'first round');
    for (const n of first) pub.source.send(new RtpPacket({ timestamp: 3000 * (n + 1), payload: payload(n) }));
    const last = await got;
    // Ask again for packets 15 and 17 (by the sequence numbers the subscriber saw).
    const wanted = [(last.seq - 4) & 0xffff, (last.seq - 2) & 0xffff];
    const publisherSent = pub.transceiver.receiver.streams.get(producer.ssrc)?.packetsReceived ?? 0;
    const again: { seq: number; payload: Buffer }[] = [];
    const repaired = within((async () => {
      while (again.length < 2) {
        const p = await sub!.track.recv();
        again.push({ seq: p.sequenceNumber!, payload: Buffer.from(p.payload) });
      }
    })(), 10_000, 'retransmissions');
    const clientSender = sub.client.getTransceivers()[0]!.sender;
    clientSender.sendRtcp([RtcpGenericNack.fromSequenceNumbers(clientSender.ssrc, consumer.ssrc, wanted)]);
    await repaired;
    assert.deepEqual(again.map((a) => a.seq).sort(), [...wanted].sort());
    for (const a of again) assert.ok(a.payload.equals(payload(15 + (((a.seq - wanted[0]!) & 0xffff) === 0 ? 0 : 2))), 'the cached payload');
    const stats = consumer.getStats();
    assert.equal(stats.retransmittedPacketsSent, 2);
    assert.equal(stats.pwtNackedPackets, 2);
    assert.equal(router.stats.retransmittedPackets, 2);
    assert.equal(router.stats.nackMisses, 0);
    assert.equal(pub.transceiver.receiver.streams.get(producer.ssrc)?.packetsReceived ?? 0, publisherSent, 'the publisher was not asked again');
    assert.ok(producer.getStats().pwtCached >= 20);

    // Keyframe requests: one when the video consumer was created, then three PLIs in one compound
    // packet from the subscriber: consumed by the engine, all three counted, one request per consumer
    // per poll to the publisher's keyframe module (docs/sfu.md "What a subscriber's RTCP costs").
    const pli = (): RtcpPictureLossIndication => new RtcpPictureLossIndication(clientSender.ssrc, consumer.ssrc);
    const requestsBefore = router.stats.rtcpKeyFrameRequests;
    clientSender.sendRtcp([pli(), pli(), pli()]);
    await within((async () => {
      while (producer.getStats().pwtKeyframeRequestsSent + producer.getStats().pwtKeyframeRequestsMerged < 2) await new Promise((r) => setTimeout(r, 10));
    })(), 10_000, 'keyframe requests');
    assert.equal(router.stats.rtcpKeyFrameRequests - requestsBefore, 3, 'the three PLIs counted');
    await new Promise((r) => setTimeout(r, 200));
    const k = producer.getStats();
    assert.equal(k.pwtKeyframeRequestsSent + k.pwtKeyframeRequestsMerged, 2, 'one request for the compound');
    await within((async () => {
      while (plisAtPublisher < k.pwtKeyframeRequestsSent) await new Promise((r) => setTimeout(r, 10));
    })(), 10_000, 'PLIs at the publisher');
  } finally {
    closeRouterRig(router, mux, sub, pub);
  }
});

test("router: a tapping producer also delivers to the publisher connection's JavaScript (recording), until the tap is off", { timeout: 60_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const pub = await publisher(mux, 'audio');
  let sub: Subscriber | undefined;
  try {
    const producer = await router.produce(pub.server, pub.transceiver, { tap: true });
    assert.equal(producer.tap, true);
    sub = await subscriber(mux, 'audio');
    await router.consume(producer, sub.server, sub.transceiver);
    const tapped = pub.transceiver.receiver.track;
    const first = Array.from({ length: 10 }, (_, n) => n);
    const atSubscriber = within(expectPackets(sub.track, sub.transceiver.sender.ssrc, first), 20_000, 'subscriber, tap on');
    const atPublisherJs = within((async () => {
      for (const n of first) assert.ok((await tapped.recv()).payload.equals(payload(n)), 'the tapped packet as received');
    })(), 20_000, 'tap');
    for (const n of first) pub.source.send(new RtpPacket({ timestamp: 960 * (n + 1), payload: payload(n) }));
    const last = await atSubscriber;
    await atPublisherJs;
    assert.equal(router.stats.jsDeliveries, 10);
    assert.equal(router.stats.jsCallbacksPerForwardedPacket, 1);
    producer.tap = false;
    const second = Array.from({ length: 10 }, (_, n) => 10 + n);
    const more = within(expectPackets(sub.track, sub.transceiver.sender.ssrc, second, last), 20_000, 'subscriber, tap off');
    for (const n of second) pub.source.send(new RtpPacket({ timestamp: 960 * (n + 1), payload: payload(n) }));
    await more;
    assert.equal(router.stats.jsDeliveries, 10, 'no JavaScript delivery once the tap is off');
    assert.equal(router.stats.packetsForwarded, 20);
  } finally {
    closeRouterRig(router, mux, sub, pub);
  }
});

test('router: misuse throws typed errors', { timeout: 60_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const pub = await publisher(mux, 'audio');
  const stranger = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const t = stranger.addTransceiver('audio');
    await assert.rejects(router.produce(stranger, t), { name: 'InvalidAccessError', code: 'ERR_SFU_OTHER_PORT' });
    const producer = await router.produce(pub.server, pub.transceiver);
    await assert.rejects(router.produce(pub.server, pub.transceiver), { code: 'ERR_SFU_PRODUCER_EXISTS' });
    producer.close();
    assert.throws(() => producer.getStats(), { name: 'InvalidStateError', code: 'ERR_SFU_PRODUCER_CLOSED' });
    router.close();
    await assert.rejects(router.produce(pub.server, pub.transceiver), { code: 'ERR_SFU_ROUTER_CLOSED' });
  } finally {
    router.close();
    stranger.close();
    pub.client.close();
    pub.server.close();
    mux.close();
  }
});
