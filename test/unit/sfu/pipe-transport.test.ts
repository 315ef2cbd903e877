// lib/sfu PipeTransport between two routers in one process, over real loopback sockets
// (docs/scaling.md "Pipe transport"): a publisher on router A reaches a subscriber on router B
// across the pipe (clear and SRTP); a packet lost on the pipe (a relay drops it) is asked for by B's
// subscriber, missed by B's cache, asked for across the pipe and answered from A's cache; B's PLI
// reaches the publisher on A. The default policy modules are not loaded: every NACK is the test's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { RtcpGenericNack } from '../../../lib/rtp/rtcp/generic-nack.js';
import { RtcpPictureLossIndication } from '../../../lib/rtp/rtcp/picture-loss-indication.js';
import { UdpMux } from '../../../lib/transport/source/udp-mux.js';
import { Router } from '../../../lib/sfu/index.js';
import { within } from '../../integration/peer-helpers.js';
import { closePeers, payload, publisher, subscriber, until, UdpPeer, type Publisher, type Subscriber } from './room-peers.js';

/** Relays datagrams between two pipe ends, dropping the RTP packets from `a` whose index is in `drop`. */
class LossyRelay {
  rtpFromA = 0;
  dropped = 0;
  private constructor(readonly peer: UdpPeer, private readonly drop: Set<number>) {}

  static async open(drop: number[]): Promise<LossyRelay> {
    return new LossyRelay(await UdpPeer.open(), new Set(drop));
  }

  start(aPort: number, bPort: number): void {
    this.peer.socket.removeAllListeners('message');
    this.peer.socket.on('message', (m, rinfo) => {
      if (rinfo.port === aPort) {
        const pt = m[1]! & 0x7f;
        if (!(pt >= 64 && pt <= 95) && this.drop.has(this.rtpFromA++)) {
          this.dropped++;
          return;
        }
        this.peer.socket.send(m, bPort, '127.0.0.1');
      } else if (rinfo.port === bPort) {
        this.peer.socket.send(m, aPort, '127.0.0.1');
      }
    });
  }
}

for (const srtp of [false, true]) {
  test(`pipe transport (${srtp ? 'SRTP' : 'clear'}): a publisher on router A reaches a subscriber on router B; a packet lost on the pipe is repaired from A's cache; B's PLI reaches the publisher`, { timeout: 60_000 }, async () => {
    const muxA = await UdpMux.bind({ address: '127.0.0.1' });
    const muxB = await UdpMux.bind({ address: '127.0.0.1' });
    const routerA = Router.create(muxA);
    const routerB = Router.create(muxB);
    const LOST = 7;
    const relay = await LossyRelay.open([LOST]);
    let pub: Publisher | undefined;
    let sub: Subscriber | undefined;
    try {
      pub = await publisher(muxA, 'video');
      const producerA = await routerA.produce(pub.server, pub.transceiver);
      let plisAtPublisher = 0;
      pub.client.getTransceivers()[0]!.sender.on('rtcp', (e) => {
        if (e.packet instanceof RtcpPictureLossIndication) plisAtPublisher++;
      });

      const pipeA = routerA.createPipeTransport({ listenIp: '127.0.0.1', srtp });
      const pipeB = routerB.createPipeTransport({ listenIp: '127.0.0.1', srtp });
      const a = pipeA.getLocalParameters();
      const b = pipeB.getLocalParameters();
      assert.equal(a.srtp !== undefined, srtp, 'SRTP keys in the parameters only when asked for');
      // Both ends talk to the relay, which passes datagrams on (and loses one RTP packet from A).
      relay.start(a.port, b.port);
      pipeA.connect({ ...b, port: relay.peer.port });
      pipeB.connect({ ...a, port: relay.peer.port });

      const consumerA = pipeA.consume(producerA);
      const stream = pipeA.consumerStream(consumerA);
      assert.equal(stream.kind, 'video');
      assert.deepEqual(stream.headerExtensions, producerA.rtp.headerExtensions.filter((e) => !/sdes:(mid|rtp-stream-id|repaired-rtp-stream-id)$|abs-send-time|transport-wide-cc/.test(e.uri)),
        "extension ids carried as the publisher negotiated them, less mid/rid and the per-hop ones");
      const producerB = pipeB.produce({ ...stream, cachePackets: 512 });
      sub = await subscriber(muxB, 'video');
      const consumerB = await routerB.consume(producerB, sub.server, sub.transceiver);

      const COUNT = 20;
      const got = new Map<number, number>(); // payload number -> sequence number seen
      const seqOf: number[] = [];
      const receive = (want: number): Promise<void> => within((async () => {
        while (got.size < want) {
          const p = await sub!.track.recv();
          const n = Number(/packet:(\d+):/.exec(p.payload.toString('latin1'))?.[1]);
          assert.ok(p.payload.equals(payload(n)), 'intact payload');
          assert.equal(p.ssrc, consumerB.ssrc);
          got.set(n, p.sequenceNumber!);
          seqOf[n] = p.sequenceNumber!;
        }
      })(), 20_000, `subscriber receives ${want} packets`);
      const first = receive(COUNT - 1);
      for (let n = 0; n < COUNT; n++) pub.source.send(new RtpPacket({ timestamp: 3000 * (n + 1), payload: payload(n) }));
      await first;
      assert.equal(relay.dropped, 1);
      assert.ok(!got.has(LOST), 'the packet lost on the pipe did not arrive');

      // B's subscriber asks for it by the number it would have had (continuous numbering).
      const wanted = (seqOf[LOST - 1]! + 1) & 0xffff;
      assert.equal(seqOf[LOST + 1], (wanted + 1) & 0xffff);
      const repaired = receive(COUNT);
      const clientSender = sub.client.getTransceivers()[0]!.sender;
      clientSender.sendRtcp([RtcpGenericNack.fromSequenceNumbers(clientSender.ssrc, consumerB.ssrc, [wanted])]);
      await repaired;
      assert.equal(got.get(LOST), wanted, 'repaired with its own sequence number');
      assert.equal(routerB.stats.nackMisses, 1, "B's cache did not hold it");
      assert.equal(routerA.stats.retransmittedPackets, 1, "A answered from its producer's cache");
      assert.equal(consumerA.getStats().retransmittedPacketsSent, 1);
      assert.ok(pipeA.getStats().rtcpReceived >= 1);
      assert.equal(routerA.stats.jsDeliveries + routerB.stats.jsDeliveries, 0, 'no JavaScript per forwarded packet on either router');

      // PLI from B's subscriber, after the merge interval of the requests made at consume time.
      await new Promise((r) => setTimeout(r, 350));
      const sentBefore = producerA.getStats().pwtKeyframeRequestsSent;
      const plisBefore = plisAtPublisher;
      clientSender.sendRtcp([new RtcpPictureLossIndication(clientSender.ssrc, consumerB.ssrc)]);
      await until(() => producerA.getStats().pwtKeyframeRequestsSent === sentBefore + 1, 10_000, "B's PLI reached router A");
      await until(() => plisAtPublisher > plisBefore, 10_000, 'PLI at the publisher');
      assert.equal(pipeA.getStats().spoofedDropped + pipeB.getStats().spoofedDropped, 0);
      if (srtp) assert.equal(pipeA.getStats().srtpDropped! + pipeB.getStats().srtpDropped!, 0);
      else assert.equal(pipeA.getStats().srtpDropped, undefined, 'no SRTP counter on a clear pipe');
    } finally {
      routerA.close();
      routerB.close();
      closePeers(pub, sub);
      relay.peer.close();
      muxA.close();
      muxB.close();
    }
  });
}

test('pipe transport: SRTP parameters must match; strangers on the pipe port are dropped', { timeout: 30_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const stranger = await UdpPeer.open();
  try {
    const clear = router.createPipeTransport({ listenIp: '127.0.0.1' });
    const secure = router.createPipeTransport({ listenIp: '127.0.0.1', srtp: { profile: 'AES128_CM_HMAC_SHA1_80' } });
    const gcm = router.createPipeTransport({ listenIp: '127.0.0.1', srtp: true });
    assert.throws(() => clear.connect(secure.getLocalParameters()), { code: 'ERR_SFU_PIPE_SRTP' });
    assert.throws(() => secure.connect(clear.getLocalParameters()), { code: 'ERR_SFU_PIPE_SRTP' });
    assert.throws(() => secure.connect(gcm.getLocalParameters()), { code: 'ERR_SFU_PIPE_SRTP' });
    assert.throws(() => gcm.connect({ ...gcm.getLocalParameters(), srtp: { profile: 'AEAD_AES_128_GCM', keyBase64: 'AAAA' } }), { code: 'ERR_SFU_PIPE_SRTP' });
    secure.connect({ ip: '127.0.0.1', port: stranger.port + 1, srtp: secure.getLocalParameters().srtp! });
    assert.throws(() => secure.connect(secure.getLocalParameters()), { code: 'ERR_SFU_PIPE_CONNECTED' });
    const onSecure = secure.produce({ kind: 'video', ssrc: 1, payloadType: 96, codec: { name: 'VP8', clockRate: 90000 } });
    const otherMux = await UdpMux.bind({ address: '127.0.0.1' });
    const otherRouter = Router.create(otherMux);
    try {
      const otherPipe = otherRouter.createPipeTransport({ listenIp: '127.0.0.1' });
      assert.throws(() => otherPipe.consume(onSecure), { code: 'ERR_SFU_OTHER_ROUTER', name: 'InvalidAccessError' });
    } finally {
      otherRouter.close();
      otherMux.close();
    }
    // Clear RTP from a stranger at an SRTP pipe: no route, rejected.
    const rtp = new RtpPacket({ payloadType: 96, sequenceNumber: 1, timestamp: 1, ssrc: 1, payload: payload(0) }).serialize();
    await stranger.send(rtp, secure.tuple.localPort);
    await until(() => secure.getStats().spoofedDropped === 1, 10_000, 'stranger dropped');
    assert.equal(router.stats.packetsReceived, 0);
  } finally {
    router.close();
    stranger.close();
    mux.close();
  }
});
