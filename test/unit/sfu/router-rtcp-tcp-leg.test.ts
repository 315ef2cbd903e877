// A subscriber reached over our passive ICE-TCP candidate (RFC 6544, RFC 4571 framing) has its
// compound RTCP consumed by the forwarding engine inside the TCP connection's read batch, as a UDP
// leg's is in the port's receive batch (docs/sfu.md "What a subscriber's RTCP costs", "Legs over
// TCP"): RR (RFC 3550 §6.4.2), PLI (RFC 4585 §6.3.1) and generic NACK (§6.2.1) reach no JavaScript,
// the NACK is answered from the engine's cache through the leg's TCP sink, and this holds after the
// router's last producer closed too. Before, the TCP read ran the engine for producers only, so every
// compound of such a subscriber went to JavaScript. Over real loopback sockets with our own peers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack } from '../../../lib/peer/index.js';
import '../../../lib/policy/default-policies.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { RtcpGenericNack } from '../../../lib/rtp/rtcp/generic-nack.js';
import { RtcpPictureLossIndication } from '../../../lib/rtp/rtcp/picture-loss-indication.js';
import { RtcpReceiverReport } from '../../../lib/rtp/rtcp/receiver-report.js';
import { Router } from '../../../lib/sfu/index.js';
import { TcpMux } from '../../../lib/transport/source/tcp-mux.js';
import { UdpMux } from '../../../lib/transport/source/udp-mux.js';
import { within } from '../../integration/peer-helpers.js';
import { closePeers, publisher, until, type Publisher } from './room-peers.js';

/** A description with its TCP candidates only: no UDP pair can form. */
const tcpOnly = (sdp: string): string =>
  sdp.split('\r\n').filter((l) => !(l.startsWith('a=candidate:') && !/ tcp /i.test(l))).join('\r\n');

test("router: a subscriber over passive ICE-TCP has its RR, PLI and NACK consumed natively in the TCP read, also with no producer left", { timeout: 90_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const tcp = await TcpMux.listen({ address: '127.0.0.1' });
  const router = Router.create(mux);
  let pub: Publisher | undefined;
  const s = new RTCPeerConnection({ udpMux: mux, tcpMux: tcp });
  const c = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceTcpActive: true });
  try {
    pub = await publisher(mux, 'video');
    const producer = await router.produce(pub.server, pub.transceiver);
    c.onicecandidate = (e) => {
      const line = e.candidate?.candidate ?? '';
      if (/ tcp /i.test(line)) void s.addIceCandidate({ candidate: line }).catch(() => undefined);
    };
    const transceiver = s.addTransceiver(new LocalStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
    const trackP = new Promise<MediaStreamTrack>((r) => c.once('track', (e) => r(e.track)));
    await s.setLocalDescription(await s.createOffer());
    await c.setRemoteDescription({ type: 'offer', sdp: tcpOnly(s.localDescription!.sdp) });
    await c.setLocalDescription(await c.createAnswer());
    await s.setRemoteDescription({ type: 'answer', sdp: tcpOnly(c.localDescription!.sdp) });
    await within(Promise.all([c.connected(), s.connected()]), 20_000, 'subscriber connected over ICE-TCP');
    assert.equal(s.mediaTransport!.selectedPair!.local.protocol, 'tcp', 'the leg is on our passive TCP candidate');
    const track = await within(trackP, 5000, 'subscriber track');
    // The client's own reports are left out: the RTCP it sends is what the test sends.
    const clientTransceiver = c.getTransceivers()[0]!;
    clientTransceiver.policies.remove('rtcp-reporter');
    const consumer = await router.consume(producer, s, transceiver);
    const me = clientTransceiver.sender.ssrc;

    const received: number[] = [];
    void (async () => {
      for await (const p of track) received.push(p.sequenceNumber!);
    })();
    let n = 0;
    await within((async () => {
      while (received.length < 20) {
        pub!.source.send(new RtpPacket({ timestamp: 3000 * ++n, payload: Buffer.alloc(400, n & 0xff) }));
        await new Promise((r) => setTimeout(r, 10));
      }
    })(), 20_000, 'media over ICE-TCP');

    const tcpBefore = tcp.stats;
    const before = router.stats;
    const resent = consumer.getStats().retransmittedPacketsSent;
    const last = received[received.length - 1]!;
    const rr = (): RtcpReceiverReport => new RtcpReceiverReport({ ssrc: me, reports: [{
      ssrc: consumer.ssrc, fractionLost: 0, cumulativeLost: 0, highestSequence: last, jitter: 0, lastSr: 0, delaySinceLastSr: 0,
    }] });
    clientTransceiver.sender.sendRtcp([rr()]);
    clientTransceiver.sender.sendRtcp([new RtcpPictureLossIndication(me, consumer.ssrc)]);
    clientTransceiver.sender.sendRtcp([RtcpGenericNack.fromSequenceNumbers(me, consumer.ssrc, [(last - 4) & 0xffff, (last - 2) & 0xffff])]);
    await until(() => router.stats.rtcpCompoundsConsumed - before.rtcpCompoundsConsumed >= 3
      || router.stats.rtcpCompoundsToJs > before.rtcpCompoundsToJs, 10_000, 'the three compounds handled');
    await until(() => consumer.getStats().retransmittedPacketsSent >= resent + 2, 10_000, 'the NACK answered');
    // (A compound handed to JavaScript after the consumed ones would show up within this wait.)
    await new Promise((r) => setTimeout(r, 200));
    let after = router.stats;
    assert.equal(after.rtcpCompoundsToJs, before.rtcpCompoundsToJs, 'no compound of the TCP subscriber handed to JavaScript');
    assert.ok(after.rtcpCompoundsConsumed - before.rtcpCompoundsConsumed >= 3, `RR, PLI and NACK consumed (${after.rtcpCompoundsConsumed - before.rtcpCompoundsConsumed})`);
    assert.equal(after.receiverReportBlocks - before.receiverReportBlocks, 1, 'the RR block read by the engine');
    assert.equal(after.rtcpKeyFrameRequests - before.rtcpKeyFrameRequests, 1, 'the PLI counted by the engine');
    assert.ok(tcp.stats.forwarded - tcpBefore.forwarded >= 3, 'consumed inside the TCP read batch (its frames never reached JavaScript)');

    // The router's only producer closes; its consumer stays open: the TCP leg's RTCP is still consumed.
    producer.close();
    assert.equal(consumer.closed, false);
    const before2 = router.stats;
    clientTransceiver.sender.sendRtcp([rr()]);
    clientTransceiver.sender.sendRtcp([new RtcpPictureLossIndication(me, consumer.ssrc)]);
    await until(() => router.stats.rtcpCompoundsConsumed - before2.rtcpCompoundsConsumed >= 2
      || router.stats.rtcpCompoundsToJs > before2.rtcpCompoundsToJs, 10_000, 'the two compounds handled with no producer');
    await new Promise((r) => setTimeout(r, 200));
    after = router.stats;
    assert.equal(after.rtcpCompoundsToJs, before2.rtcpCompoundsToJs, 'no compound handed to JavaScript with no producer left');
    assert.ok(after.rtcpCompoundsConsumed - before2.rtcpCompoundsConsumed >= 2, 'the RR and the PLI consumed');
    assert.equal(router.stats.pairsNotFollowed, 0);
  } finally {
    router.close();
    c.close();
    s.close();
    closePeers(pub);
    tcp.close();
    mux.close();
  }
});
