// lib/sfu PlainTransport over real loopback sockets (docs/scaling.md "Plain transport"): RTP sent in
// the clear from a UDP socket of the test is forwarded natively to a WebRTC subscriber of ours,
// rewritten; a WebRTC publisher's stream is sent in the clear to a UDP sink that can NACK and PLI;
// datagrams from anyone but the remote are dropped and counted; comedia learns the first sender.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { RtcpGenericNack } from '../../../lib/rtp/rtcp/generic-nack.js';
import { RtcpPictureLossIndication } from '../../../lib/rtp/rtcp/picture-loss-indication.js';
import { serializeRtcp } from '../../../lib/rtp/rtcp/compound.js';
import { UdpMux } from '../../../lib/transport/source/udp-mux.js';
import { Router } from '../../../lib/sfu/index.js';
import { within } from '../../integration/peer-helpers.js';
import { closePeers, payload, publisher, subscriber, until, UdpPeer, type Publisher, type Subscriber } from './room-peers.js';

const SSRC = 0x1234_5678;
const OPUS = { name: 'opus', clockRate: 48000, channels: 2 } as const;

function rtp(n: number, tag = 'packet', ssrc = SSRC, payloadType = 100): Buffer {
  return new RtpPacket({ payloadType, sequenceNumber: (40000 + n) & 0xffff, timestamp: 960 * n, ssrc, payload: payload(n, tag) }).serialize();
}

test('plain transport: RTP from a UDP socket reaches a WebRTC subscriber rewritten; strangers are dropped and counted', { timeout: 60_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const sender = await UdpPeer.open();
  const stranger = await UdpPeer.open();
  let sub: Subscriber | undefined;
  try {
    const plain = router.createPlainTransport({ listenIp: '127.0.0.1' });
    plain.connect({ ip: '127.0.0.1', port: sender.port });
    const port = plain.tuple.localPort;
    assert.equal(plain.tuple.remotePort, sender.port);
    const producer = plain.produce({ kind: 'audio', ssrc: SSRC, payloadType: 100, codec: OPUS });
    assert.equal(producer.kind, 'audio');
    assert.equal(producer.transceiver, null);
    sub = await subscriber(mux, 'audio');
    const consumer = await router.consume(producer, sub.server, sub.transceiver);
    const subscriberPt = sub.transceiver.sender.getParameters().codecs.find((c) => c.mimeType.toLowerCase() === 'audio/opus')!.payloadType;

    // The stranger goes first (same SSRC, and garbage): the kernel queues in arrival order, so by the
    // time the sender's packets arrive the stranger's have been judged.
    for (let n = 0; n < 5; n++) await stranger.send(rtp(n, 'stranger'), port);
    for (const junk of [Buffer.from([0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0]), Buffer.from('hello'), Buffer.alloc(3, 0x80)]) await stranger.send(junk, port);
    await sender.send(Buffer.from([0x00, 0x01, 0x00, 0x00]), port); // STUN-looking, from the remote: not RTP
    await until(() => plain.getStats().spoofedDropped + plain.getStats().notRtpDropped === 9, 10_000, 'stranger datagrams judged');

    const COUNT = 20;
    let last: number | undefined;
    const got = within((async () => {
      for (let n = 0; n < COUNT; n++) {
        const p: RtpPacket = await sub!.track.recv();
        assert.ok(p.payload.equals(payload(n)), `packet ${n}: the sender's payload, intact and in order`);
        assert.equal(p.ssrc, consumer.ssrc, "the subscriber sender's SSRC");
        assert.equal(p.payloadType, subscriberPt, "the subscriber's payload type");
        if (last !== undefined) assert.equal(p.sequenceNumber, (last + 1) & 0xffff, 'continuous sequence numbers');
        last = p.sequenceNumber!;
      }
    })(), 20_000, 'subscriber receives the plain stream');
    for (let n = 0; n < COUNT; n++) await sender.send(rtp(n), port);
    await got;

    const s = plain.getStats();
    assert.equal(s.spoofedDropped, 5, "the stranger's RTP with the producer's SSRC was dropped");
    assert.equal(s.notRtpDropped, 4, 'datagrams that are not RTP/RTCP were dropped, from anyone');
    assert.equal(s.packetsAccepted, COUNT);
    assert.equal(producer.getStats().packetsReceived, COUNT);
    assert.equal(router.stats.packetsForwarded, COUNT);
    assert.equal(router.stats.jsDeliveries, 0);
    // An unknown SSRC from the remote is no producer's: dropped and counted, not forwarded.
    await sender.send(rtp(99, 'other', 0x0bad_cafe), port);
    await until(() => plain.getStats().unknownSsrcDropped === 1, 10_000, 'unknown SSRC counted');
    assert.equal(router.stats.packetsForwarded, COUNT);

    plain.close();
    assert.ok(producer.closed, 'closing the transport closes its producers');
    assert.ok(consumer.closed === false, 'WebRTC consumers stay (they forward nothing until switched)');
  } finally {
    router.close();
    closePeers(sub);
    sender.close();
    stranger.close();
    mux.close();
  }
});

test("plain transport: a WebRTC publisher's stream goes to a UDP sink in the clear; the sink's NACK is answered, its PLI reaches the publisher", { timeout: 60_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const sink = await UdpPeer.open();
  let pub: Publisher | undefined;
  try {
    pub = await publisher(mux, 'video');
    const producer = await router.produce(pub.server, pub.transceiver);
    let plisAtPublisher = 0;
    pub.client.getTransceivers()[0]!.sender.on('rtcp', (e) => {
      if (e.packet instanceof RtcpPictureLossIndication) plisAtPublisher++;
    });
    const plain = router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true });
    plain.connect({ ip: '127.0.0.1', port: sink.port });
    const consumer = plain.consume(producer, { ssrc: 0xabcd, payloadType: 96 });
    assert.deepEqual(plain.consumerStream(consumer), {
      kind: 'video', ssrc: 0xabcd, payloadType: 96, codec: { name: producer.rtp.codecs[0]!.mimeType.split('/')[1], clockRate: 90000 }, headerExtensions: [],
    });
    assert.equal(producer.getStats().pwtConsumers, 1);

    const COUNT = 10;
    const seen: RtpPacket[] = [];
    const got = within((async () => {
      while (seen.length < COUNT) {
        const d = await sink.recv();
        if (d[1]! >= 200 && d[1]! <= 206) continue; // RTCP (none expected, tolerated)
        seen.push(RtpPacket.parse(Buffer.from(d)));
      }
    })(), 20_000, 'sink receives the stream');
    for (let n = 0; n < COUNT; n++) pub.source.send(new RtpPacket({ timestamp: 3000 * (n + 1), payload: payload(n) }));
    await got;
    seen.forEach((p, n) => {
      assert.equal(p.ssrc, 0xabcd);
      assert.equal(p.payloadType, 96);
      assert.ok(p.payload.equals(payload(n)), `packet ${n} intact, in the clear`);
      if (n > 0) assert.equal(p.sequenceNumber, (seen[n - 1]!.sequenceNumber! + 1) & 0xffff);
      assert.equal(p.extensions.length, 0, 'no extension the sink did not ask for');
    });

    // The sink NACKs packet 4: answered from the producer's cache, same sequence number and payload.
    const wanted = seen[4]!.sequenceNumber!;
    const again = within((async () => {
      for (;;) {
        const d = await sink.recv();
        if (d[1]! >= 200 && d[1]! <= 206) continue;
        return RtpPacket.parse(Buffer.from(d));
      }
    })(), 10_000, 'retransmission');
    await sink.send(serializeRtcp([RtcpGenericNack.fromSequenceNumbers(0x5151, 0xabcd, [wanted])]), plain.tuple.localPort);
    const r = await again;
    assert.equal(r.sequenceNumber, wanted);
    assert.ok(r.payload.equals(payload(4)));
    assert.equal(consumer.getStats().retransmittedPacketsSent, 1);

    // The sink's PLI, after the merge interval of the request made when the consumer was created.
    await new Promise((res) => setTimeout(res, 350));
    const before = producer.getStats().pwtKeyframeRequestsSent;
    await sink.send(serializeRtcp([new RtcpPictureLossIndication(0x5151, 0xabcd)]), plain.tuple.localPort);
    await until(() => producer.getStats().pwtKeyframeRequestsSent === before + 1, 10_000, 'keyframe request from the sink');
    await until(() => plisAtPublisher >= before + 1, 10_000, 'PLI at the publisher');
    assert.ok(plain.getStats().rtcpReceived >= 2);
  } finally {
    router.close();
    closePeers(pub);
    sink.close();
    mux.close();
  }
});

test('plain transport: comedia learns the first sender; a later source is dropped; consumers go to the learned address', { timeout: 60_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const first = await UdpPeer.open();
  const second = await UdpPeer.open();
  try {
    const plain = router.createPlainTransport({ listenIp: '127.0.0.1', comedia: true });
    const producer = plain.produce({ kind: 'audio', ssrc: SSRC, payloadType: 100, codec: OPUS });
    assert.equal(plain.tuple.remotePort, undefined, 'no remote before the first datagram');
    const port = plain.tuple.localPort;
    // Loop the producer back to the same remote: what the first sender sends comes back to it.
    const consumer = plain.consume(producer, { ssrc: 0x77, payloadType: 111 });
    await first.send(rtp(0), port);
    const back = await within(first.recv(), 10_000, 'the learned remote receives the consumer');
    const p = RtpPacket.parse(back);
    assert.equal(p.ssrc, 0x77);
    assert.ok(p.payload.equals(payload(0)));
    assert.equal(plain.tuple.remotePort, first.port);
    assert.equal(plain.getStats().remoteLearned, 1);
    await second.send(rtp(1, 'second'), port);
    await until(() => plain.getStats().spoofedDropped === 1, 10_000, 'the second source dropped');
    assert.equal(producer.getStats().packetsReceived, 1);
    assert.equal(consumer.getStats().packetsSent, 1);
  } finally {
    router.close();
    first.close();
    second.close();
    mux.close();
  }
});

test('plain transport: misuse throws typed errors', { timeout: 20_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  try {
    assert.throws(() => router.createPlainTransport({ listenIp: 'nowhere' }), { code: 'ERR_SFU_PLAIN_LISTEN_IP' });
    const plain = router.createPlainTransport({ listenIp: '127.0.0.1' });
    assert.throws(() => plain.produce({ kind: 'audio', ssrc: 0, payloadType: 100, codec: OPUS }), { code: 'ERR_SFU_PLAIN_SSRC' });
    assert.throws(() => plain.produce({ kind: 'audio', ssrc: 5, payloadType: 72, codec: OPUS }), { code: 'ERR_SFU_PLAIN_PAYLOAD_TYPE' });
    assert.throws(() => plain.produce({ kind: 'audio', ssrc: 5, payloadType: 100, codec: { name: '', clockRate: 0 } }), { code: 'ERR_SFU_PLAIN_CODEC' });
    plain.produce({ kind: 'audio', ssrc: 5, payloadType: 100, codec: OPUS });
    assert.throws(() => plain.produce({ kind: 'audio', ssrc: 5, payloadType: 100, codec: OPUS }), { code: 'ERR_SFU_PRODUCER_EXISTS' });
    plain.connect({ ip: '127.0.0.1', port: 9 });
    assert.throws(() => plain.connect({ ip: '127.0.0.1', port: 9 }), { code: 'ERR_SFU_PLAIN_CONNECTED' });
    router.close();
    assert.ok(plain.closed, 'the router closes its transports');
    assert.throws(() => router.createPlainTransport({ listenIp: '127.0.0.1' }), { code: 'ERR_SFU_ROUTER_CLOSED' });
  } finally {
    router.close();
    mux.close();
  }
});
