// lib/sfu Router over real loopback sockets: a subscriber that repeats a NACK (RFC 4585 §6.2.1)
// within one round trip gets the packet resent once, the repeat counted as 'resend-within-rtt'
// (docs/sfu.md "Retransmission"); a NACK after the longest resend interval (1 s) is answered again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { RtcpGenericNack } from '../../../lib/rtp/rtcp/generic-nack.js';
// The default policy modules (keyframe requests, NACK generator and responder, RTX) as an SFU runs them.
import '../../../lib/policy/default-policies.js';
import type { Consumer } from '../../../lib/sfu/index.js';
import { within } from '../../integration/peer-helpers.js';
import { payload, subscriber, type Subscriber } from './room-peers.js';
import { closeRouterRig, routerRig } from './router-rig.js';

/** Waits (bounded) until the consumer has counted `nacks` NACKed sequence numbers. */
async function untilNacked(consumer: Consumer, nacks: number): Promise<void> {
  await within((async () => {
    while (consumer.getStats().pwtNackedPackets < nacks) await new Promise((r) => setTimeout(r, 10));
  })(), 10_000, `${nacks} NACKed numbers at the consumer`);
}

test('router: two NACKs for one packet in quick succession are answered with one RTX and the repeat is counted; after the round trip it is resent again', { timeout: 60_000 }, async () => {
  const { mux, router, pub } = await routerRig('video');
  let sub: Subscriber | undefined;
  try {
    const producer = await router.produce(pub.server, pub.transceiver);
    sub = await subscriber(mux, 'video');
    const consumer = await router.consume(producer, sub.server, sub.transceiver);
    assert.ok(sub.transceiver.sender.getParameters().codecs.some((c) => c.mimeType === 'video/rtx'), 'the subscriber negotiated RTX');
    const first = Array.from({ length: 20 }, (_, n) => n);
    const got = within((async () => {
      let seq = -1;
      for (let i = 0; i < first.length; i++) {
        const p = await sub!.track.recv();
        assert.ok(p.payload.equals(payload(i)), `payload of packet ${i} intact`);
        seq = p.sequenceNumber!;
      }
      return seq;
    })(), 20_000, 'first round');
    for (const n of first) pub.source.send(new RtpPacket({ timestamp: 3000 * (n + 1), payload: payload(n) }));
    const last = await got;
    const wanted = (last - 5) & 0xffff;  // packet 14, by the number the subscriber saw
    const clientSender = sub.client.getTransceivers()[0]!.sender;
    const nack = (): RtcpGenericNack => RtcpGenericNack.fromSequenceNumbers(clientSender.ssrc, consumer.ssrc, [wanted]);
    const resent = async (): Promise<void> => {
      const p = await sub!.track.recv();
      assert.equal(p.sequenceNumber, wanted, 'the NACKed packet again, as first numbered');
      assert.ok(p.payload.equals(payload(14)), 'the cached payload');
    };

    // The same NACK twice in one compound packet: one RTX, one suppressed resend.
    const once = within(resent(), 10_000, 'the retransmission');
    clientSender.sendRtcp([nack(), nack()]);
    await once;
    await untilNacked(consumer, 2);
    let s = consumer.getStats();
    assert.equal(s.retransmittedPacketsSent, 1, 'answered once');
    assert.equal(s.pwtDrops['resend-within-rtt'], 1, 'the repeat within the round trip counted');
    assert.equal(router.stats.drops['resend-within-rtt'], 1);
    assert.equal(router.stats.retransmittedPackets, 1);
    assert.equal(router.stats.nackMisses, 0, 'a suppressed resend is not a miss');

    // Past the longest interval (1 s, whatever RTT the leg measured meanwhile): answered again.
    await new Promise((r) => setTimeout(r, 1_100));
    const again = within(resent(), 10_000, 'the second retransmission');
    clientSender.sendRtcp([nack()]);
    await again;
    await untilNacked(consumer, 3);
    s = consumer.getStats();
    assert.equal(s.retransmittedPacketsSent, 2);
    assert.equal(s.pwtDrops['resend-within-rtt'], 1);
    for (const [reason, n] of Object.entries(s.pwtDrops)) if (reason !== 'resend-within-rtt') assert.equal(n, 0, `no ${reason} drop`);
  } finally {
    closeRouterRig(router, mux, sub, pub);
  }
});
