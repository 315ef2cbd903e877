// lib/sfu PipeTransport with rtx: true (docs/scaling.md "RTX on pipes", RFC 4588 §4) between two
// routers over real loopback sockets: a relay loses one RTP packet on the pipe; B's subscriber asks
// for it, B's cache misses, the NACK crosses the pipe on the producer's media SSRC (clear pipe: read
// off the wire) and A answers as RTX (own SSRC, payload type and
// sequence numbers, OSN first); B unwraps it natively and the subscriber gets the original packet.
// Hostile RTX on the pipe (unknown RTX SSRC, no OSN, padding eating the OSN, wrong payload type) is
// dropped and counted. The default policy modules are not loaded: every NACK is the test's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { RtcpGenericNack } from '../../../lib/rtp/rtcp/generic-nack.js';
import { tryParseRtcp } from '../../../lib/rtp/rtcp/compound.js';
import { UdpMux } from '../../../lib/transport/source/udp-mux.js';
import { Router } from '../../../lib/sfu/index.js';
import { within } from '../../integration/peer-helpers.js';
import { closePeers, payload, publisher, subscriber, until, UdpPeer, type Publisher, type Subscriber } from './room-peers.js';

/** Relays datagrams between two pipe ends, dropping the `drop`-th RTP packet from `a` and keeping the RTP it passes on from `a`. */
class LossyRelay {
  rtpFromA = 0;
  dropped: Buffer[] = [];
  passed: Buffer[] = [];
  /** What B sent towards A (its RTCP: reports and the NACKs its cache missed). */
  fromB: Buffer[] = [];
  private constructor(readonly peer: UdpPeer, private readonly drop: number) {}

  static async open(drop: number): Promise<LossyRelay> {
    return new LossyRelay(await UdpPeer.open(), drop);
  }

  start(aPort: number, bPort: number): void {
    this.peer.socket.removeAllListeners('message');
    this.peer.socket.on('message', (m, rinfo) => {
      if (rinfo.port === aPort) {
        const pt = m[1]! & 0x7f;
        if (!(pt >= 64 && pt <= 95)) {
          if (this.rtpFromA++ === this.drop) {
            this.dropped.push(m);
            return;
          }
          this.passed.push(m);
        }
        this.peer.socket.send(m, bPort, '127.0.0.1');
      } else if (rinfo.port === bPort) {
        this.fromB.push(m);
        this.peer.socket.send(m, aPort, '127.0.0.1');
      }
    });
  }
}

/** A clear RTP packet's payload offset (RFC 3550 §5.1, §5.3.1). */
function payloadAt(m: Buffer): number {
  let at = 12 + 4 * (m[0]! & 0x0f);
  if (m[0]! & 0x10) at += 4 + 4 * m.readUInt16BE(at + 2);
  return at;
}

for (const srtp of [false, true]) {
  test(`pipe transport with RTX (${srtp ? 'SRTP' : 'clear'}): a packet lost on the pipe is answered by A as RTX, unwrapped by B and delivered to B's subscriber; hostile RTX is dropped and counted`, { timeout: 60_000 }, async () => {
    const muxA = await UdpMux.bind({ address: '127.0.0.1' });
    const muxB = await UdpMux.bind({ address: '127.0.0.1' });
    const routerA = Router.create(muxA);
    const routerB = Router.create(muxB);
    const LOST = 7;
    const relay = await LossyRelay.open(LOST);
    let pub: Publisher | undefined;
    let sub: Subscriber | undefined;
    try {
      pub = await publisher(muxA, 'video');
      const producerA = await routerA.produce(pub.server, pub.transceiver);
      const pipeA = routerA.createPipeTransport({ listenIp: '127.0.0.1', srtp, rtx: true });
      const pipeB = routerB.createPipeTransport({ listenIp: '127.0.0.1', srtp, rtx: true });
      const a = pipeA.getLocalParameters();
      const b = pipeB.getLocalParameters();
      assert.equal(a.rtx, true);
      relay.start(a.port, b.port);
      pipeA.connect({ ...b, port: relay.peer.port });
      pipeB.connect({ ...a, port: relay.peer.port });

      const consumerA = pipeA.consume(producerA);
      const stream = pipeA.consumerStream(consumerA);
      const rtx = stream.rtx!;
      assert.ok(rtx, 'the stream names its RTX SSRC and payload type');
      assert.notEqual(rtx.ssrc, stream.ssrc);
      assert.notEqual(rtx.payloadType, stream.payloadType);
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
      assert.equal(relay.dropped.length, 1);
      assert.ok(!got.has(LOST), 'the packet lost on the pipe did not arrive');
      const lostOnPipe = relay.dropped[0]!;

      const wanted = (seqOf[LOST - 1]! + 1) & 0xffff;
      const repaired = receive(COUNT);
      const clientSender = sub.client.getTransceivers()[0]!.sender;
      clientSender.sendRtcp([RtcpGenericNack.fromSequenceNumbers(clientSender.ssrc, consumerB.ssrc, [wanted])]);
      await repaired;
      assert.equal(got.get(LOST), wanted, 'repaired with its own sequence number');
      assert.equal(routerB.stats.nackMisses, 1, "B's cache did not hold it");
      assert.equal(routerA.stats.retransmittedPackets, 1, "A answered from its producer's cache");

      // What crossed the pipe: one RTX packet on the RTX SSRC and payload type, with sequence numbers of its own.
      const rtxOnPipe = relay.passed.filter((m) => m.readUInt32BE(8) === rtx.ssrc);
      assert.equal(rtxOnPipe.length, 1, 'one RTX packet crossed the pipe');
      const r = rtxOnPipe[0]!;
      assert.equal(r[1]! & 0x7f, rtx.payloadType);
      assert.equal(relay.passed.filter((m) => m.readUInt32BE(8) === stream.ssrc && m.readUInt16BE(2) === lostOnPipe.readUInt16BE(2)).length, 0,
        'the lost packet was not sent again in the original stream');
      if (!srtp) {
        // B asked upstream on the producer's media SSRC, not on its RTX SSRC (RFC 4588 §4: a NACK
        // names the original stream), for the number the packet had on the pipe.
        const upstream = relay.fromB.flatMap((m) => tryParseRtcp(m) ?? []).filter((p): p is RtcpGenericNack => p instanceof RtcpGenericNack);
        assert.equal(upstream.length, 1, 'one NACK crossed the pipe');
        assert.equal(upstream[0]!.mediaSsrc, stream.ssrc);
        assert.deepEqual(upstream[0]!.lostSequenceNumbers(), [lostOnPipe.readUInt16BE(2)]);
        // RFC 4588 §4: the OSN, then the original payload.
        assert.equal(r.readUInt16BE(payloadAt(r)), lostOnPipe.readUInt16BE(2), 'OSN is the lost packet sequence number');
        assert.ok(r.subarray(payloadAt(r) + 2).equals(lostOnPipe.subarray(payloadAt(lostOnPipe))), 'the original payload follows the OSN');
      }
      await until(() => pipeA.getStats().rtxSent === 1 && pipeB.getStats().rtxReceived === 1, 10_000, 'RTX counted on both ends');
      assert.equal(pipeB.getStats().rtxDropped, 0);
      assert.equal(routerA.stats.jsDeliveries + routerB.stats.jsDeliveries, 0, 'no JavaScript per forwarded packet on either router');
      if (srtp) {
        assert.equal(pipeA.getStats().srtpDropped! + pipeB.getStats().srtpDropped!, 0);
        return;
      }

      // Hostile RTX from the pipe's remote address (the relay) at B's clear pipe.
      const toB = (p: RtpPacket): Promise<void> => relay.peer.send(p.serialize(), b.port);
      const forwardedBefore = producerB.getStats().packetsReceived;
      const unknownBefore = pipeB.getStats().unknownSsrcDropped;
      const osnOnly = (ssrc: number, pt: number, seq: number, bytes: Buffer): RtpPacket =>
        new RtpPacket({ payloadType: pt, sequenceNumber: seq, timestamp: 1, ssrc, payload: bytes });
      const wrongSsrc = [12345, 12346, 12347].find((v) => v !== rtx.ssrc && v !== stream.ssrc)!;
      await toB(osnOnly(wrongSsrc, rtx.payloadType, 100, Buffer.from([0, 5, 1, 2]))); // wrong RTX SSRC
      await toB(osnOnly(rtx.ssrc, rtx.payloadType, 101, Buffer.from([7]))); // one byte: no OSN
      await toB(osnOnly(rtx.ssrc, rtx.payloadType, 102, Buffer.alloc(0))); // empty payload
      await toB(osnOnly(rtx.ssrc, stream.payloadType, 103, Buffer.from([0, 5, 1, 2]))); // RTX SSRC with the media payload type
      // Padding (RFC 3550 §5.1) that leaves one payload byte.
      const padded = osnOnly(rtx.ssrc, rtx.payloadType, 104, Buffer.from([0, 5, 0, 3])).serialize();
      padded[0] = padded[0]! | 0x20;
      await relay.peer.send(padded, b.port);
      await until(() => pipeB.getStats().rtxDropped === 4 && pipeB.getStats().unknownSsrcDropped === unknownBefore + 1, 10_000, 'hostile RTX dropped and counted');
      assert.equal(pipeB.getStats().rtxReceived, 1, 'none of them restored');
      assert.equal(producerB.getStats().packetsReceived, forwardedBefore, 'none reached the stream');

      // The pipe still carries media afterwards.
      const after = receive(COUNT + 1);
      pub.source.send(new RtpPacket({ timestamp: 3000 * (COUNT + 1), payload: payload(COUNT) }));
      await after;
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

test('pipe transport RTX: both ends must agree; a producer names an RTX stream only on a pipe with rtx', { timeout: 30_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  try {
    const withRtx = router.createPipeTransport({ listenIp: '127.0.0.1', rtx: true });
    const without = router.createPipeTransport({ listenIp: '127.0.0.1' });
    assert.equal(without.getLocalParameters().rtx, undefined);
    assert.throws(() => withRtx.connect(without.getLocalParameters()), { code: 'ERR_SFU_PIPE_RTX' });
    assert.throws(() => without.connect(withRtx.getLocalParameters()), { code: 'ERR_SFU_PIPE_RTX' });
    assert.throws(() => router.createPipeTransport({ listenIp: '127.0.0.1', rtx: 'yes' as unknown as boolean }), { code: 'ERR_SFU_PIPE_RTX' });
    const base = { kind: 'video', ssrc: 1, payloadType: 96, codec: { name: 'VP8', clockRate: 90000 } } as const;
    assert.throws(() => without.produce({ ...base, rtx: { ssrc: 2, payloadType: 97 } }), { code: 'ERR_SFU_PIPE_RTX' });
    assert.throws(() => withRtx.produce({ ...base, rtx: { ssrc: 1, payloadType: 97 } }), { code: 'ERR_SFU_PIPE_RTX' });
    assert.throws(() => withRtx.produce({ ...base, rtx: { ssrc: 2, payloadType: 96 } }), { code: 'ERR_SFU_PIPE_RTX' });
    assert.throws(() => withRtx.produce({ ...base, rtx: { ssrc: 2, payloadType: 70 } }), { code: 'ERR_SFU_PLAIN_PAYLOAD_TYPE' });
    const p = withRtx.produce({ ...base, rtx: { ssrc: 2, payloadType: 97 } });
    // The RTX SSRC is taken on this transport, as a media SSRC would be.
    assert.throws(() => withRtx.produce({ ...base, ssrc: 3, rtx: { ssrc: 2, payloadType: 97 } }), { code: 'ERR_SFU_PRODUCER_EXISTS' });
    assert.deepEqual(withRtx.getStats().rtxReceived, 0);
    assert.equal(without.getStats().rtxSent, undefined, 'no RTX counters on a pipe without rtx');
    p.close();
    // Closed with its producer: the RTX SSRC is free again.
    withRtx.produce({ ...base, rtx: { ssrc: 2, payloadType: 97 } });
  } finally {
    router.close();
    mux.close();
  }
});
