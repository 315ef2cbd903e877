// Which of a subscriber's NACKs the engine consumes (docs/sfu.md "What a subscriber's RTCP costs")
// follows what the leg's consumers forward, over real loopback sockets: a leg whose consumer's
// producer is a pipe producer leaves its NACKs to JavaScript, which asks the misses upstream across
// the pipe (docs/scaling.md); once that pipe producer is closed (its consumer stays open and
// forwards nothing) nothing is to be asked upstream, so the engine consumes the leg's NACKs again
// (counted as nackUnknownProducer, nothing sent) instead of handing each compound to JavaScript.
// The default policy modules are not loaded: every RTCP packet of the subscriber is the test's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { RtcpGenericNack } from '../../../lib/rtp/rtcp/generic-nack.js';
import { UdpMux } from '../../../lib/transport/source/udp-mux.js';
import { Router } from '../../../lib/sfu/index.js';
import { within } from '../../integration/peer-helpers.js';
import { closePeers, payload, publisher, subscriber, until, type Publisher, type Subscriber } from './room-peers.js';

test("router: a leg's NACKs go to JavaScript (and upstream) while its consumer's pipe producer is open, and to the engine once it is closed", { timeout: 60_000 }, async () => {
  const muxA = await UdpMux.bind({ address: '127.0.0.1' });
  const muxB = await UdpMux.bind({ address: '127.0.0.1' });
  const routerA = Router.create(muxA);
  const routerB = Router.create(muxB);
  let pub: Publisher | undefined;
  let local: Publisher | undefined;
  let sub: Subscriber | undefined;
  try {
    pub = await publisher(muxA, 'video');
    const producerA = await routerA.produce(pub.server, pub.transceiver);
    const pipeA = routerA.createPipeTransport({ listenIp: '127.0.0.1' });
    const pipeB = routerB.createPipeTransport({ listenIp: '127.0.0.1' });
    pipeA.connect(pipeB.getLocalParameters());
    pipeB.connect(pipeA.getLocalParameters());
    const consumerA = pipeA.consume(producerA);
    const producerB = pipeB.produce({ ...pipeA.consumerStream(consumerA), cachePackets: 512 });
    // Another producer on B: the engine runs a port's receive batch only while it has a producer
    // (without one every compound reaches JavaScript, whatever the leg's rule).
    local = await publisher(muxB, 'audio');
    await routerB.produce(local.server, local.transceiver);
    sub = await subscriber(muxB, 'video');
    const consumerB = await routerB.consume(producerB, sub.server, sub.transceiver);

    let last = -1;
    let count = 0;
    const arrived = within((async () => {
      while (count < 20) {
        last = (await sub!.track.recv()).sequenceNumber!;
        count++;
      }
    })(), 20_000, 'the subscriber receives 20 packets across the pipe');
    for (let n = 0; n < 20; n++) pub.source.send(new RtpPacket({ timestamp: 3000 * (n + 1), payload: payload(n) }));
    await arrived;

    const clientSender = sub.client.getTransceivers()[0]!.sender;
    // A number not sent yet: no cache holds it, so it is a miss (docs/sfu.md "Retransmission").
    const notYet = (last + 100) & 0xffff;
    const nack = (): void => clientSender.sendRtcp([RtcpGenericNack.fromSequenceNumbers(clientSender.ssrc, consumerB.ssrc, [notYet])]);

    // 1. The pipe producer is open: the compound reaches JavaScript and the miss is asked upstream.
    const b1 = routerB.stats;
    const pipeRtcp = pipeA.getStats().rtcpReceived;
    nack();
    await until(() => routerB.stats.nackMisses > b1.nackMisses, 10_000, "B's engine missed the number");
    await until(() => pipeA.getStats().rtcpReceived > pipeRtcp, 10_000, 'the miss was asked for across the pipe');
    const a1 = routerB.stats;
    assert.equal(a1.rtcpCompoundsToJs, b1.rtcpCompoundsToJs + 1, 'the compound reached the router in JavaScript');
    assert.equal(a1.rtcpCompoundsConsumed, b1.rtcpCompoundsConsumed, 'not consumed natively');
    await until(() => routerA.stats.nackMisses >= 1, 10_000, "A's engine looked the number up (not sent yet there either)");

    // 2. The pipe producer closes; its consumer stays open, in the leg, forwarding nothing.
    producerB.close();
    assert.equal(consumerB.closed, false);
    const b2 = routerB.stats;
    const pipeRtcp2 = pipeA.getStats().rtcpReceived;
    nack();
    await until(() => routerB.stats.rtcpCompoundsConsumed > b2.rtcpCompoundsConsumed, 10_000, 'the NACK consumed natively after the close');
    const a2 = routerB.stats;
    assert.equal(a2.rtcpCompoundsToJs, b2.rtcpCompoundsToJs, 'no compound handed to JavaScript');
    assert.equal(a2.nackUnknownProducer, b2.nackUnknownProducer + 1, 'counted as a NACK of a closed producer');
    assert.equal(a2.nackMisses, b2.nackMisses, 'not a miss');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(pipeA.getStats().rtcpReceived, pipeRtcp2, 'nothing asked upstream');
  } finally {
    routerA.close();
    routerB.close();
    closePeers(pub, local, sub);
    muxA.close();
    muxB.close();
  }
});
