// A subscriber leg's RTCP that is left to JavaScript (docs/sfu.md "What a subscriber's RTCP costs")
// still reaches the router's listener after the leg's ICE selected pair moves between a passive
// ICE-TCP connection and the UDP port (docs/sfu.md "Legs over TCP"), over real loopback sockets with
// our own peers. The router re-points the leg's engine transport there (watchSink); before, that
// also removed the leg's RTCP listener, so after the switch a NACK (RFC 4585 §6.2.1) the engine
// does not consume was answered by nobody and RR blocks left to JavaScript were never read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack } from '../../../lib/peer/index.js';
import '../../../lib/policy/default-policies.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { RtcpGenericNack } from '../../../lib/rtp/rtcp/generic-nack.js';
import type { RtcpEvent } from '../../../lib/peer/rtp-sender.js';
import { Router } from '../../../lib/sfu/index.js';
import { TcpMux } from '../../../lib/transport/source/tcp-mux.js';
import { UdpMux } from '../../../lib/transport/source/udp-mux.js';
import { within } from '../../integration/peer-helpers.js';
import { closePeers, publisher, until, type Publisher } from './room-peers.js';

/** A description with the candidates of one protocol only. */
const only = (protocol: 'tcp' | 'udp', sdp: string): string =>
  sdp.split('\r\n').filter((l) => !(l.startsWith('a=candidate:') && !new RegExp(` ${protocol} `, 'i').test(l))).join('\r\n');

test("router: RTCP left to JavaScript keeps reaching the router after a subscriber's selected pair moves from ICE-TCP to UDP (NACKs answered, then natively again)", { timeout: 90_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const tcp = await TcpMux.listen({ address: '127.0.0.1' });
  const router = Router.create(mux);
  let pub: Publisher | undefined;
  const s = new RTCPeerConnection({ udpMux: mux, tcpMux: tcp });
  const c = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceTcpActive: true });
  try {
    pub = await publisher(mux, 'video');
    const producer = await router.produce(pub.server, pub.transceiver);

    // The subscriber over ICE-TCP only (RFC 6544): its client is active, the server's TcpMux passive.
    let path: 'tcp' | 'udp' = 'tcp';
    c.onicecandidate = (e) => {
      const line = e.candidate?.candidate ?? '';
      if (new RegExp(` ${path} `, 'i').test(line)) void s.addIceCandidate({ candidate: line }).catch(() => undefined);
    };
    const transceiver = s.addTransceiver(new LocalStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
    const trackP = new Promise<MediaStreamTrack>((r) => c.once('track', (e) => r(e.track)));
    const negotiate = async (): Promise<void> => {
      await s.setLocalDescription(await s.createOffer());
      await c.setRemoteDescription({ type: 'offer', sdp: only(path, s.localDescription!.sdp) });
      await c.setLocalDescription(await c.createAnswer());
      await s.setRemoteDescription({ type: 'answer', sdp: only(path, c.localDescription!.sdp) });
    };
    await negotiate();
    await within(Promise.all([c.connected(), s.connected()]), 20_000, 'subscriber connected over ICE-TCP');
    assert.equal(s.mediaTransport!.selectedPair!.local.protocol, 'tcp');
    const track = await within(trackP, 5000, 'subscriber track');
    // The client's own reports are left out: the RTCP it sends is what the test sends.
    const clientTransceiver = c.getTransceivers()[0]!;
    clientTransceiver.policies.remove('rtcp-reporter');
    const consumer = await router.consume(producer, s, transceiver);
    // An application 'rtcp' listener on the consumer's sender: every compound of the leg goes to JavaScript.
    const heard: string[] = [];
    const listener = (e: RtcpEvent): void => void heard.push(e.packet.kind);
    transceiver.sender.on('rtcp', listener);

    const received: number[] = [];
    void (async () => {
      for await (const p of track) received.push(p.sequenceNumber!);
    })();
    let n = 0;
    /** Sends media until `count` more packets reached the subscriber (bounded). */
    const media = async (count: number, what: string): Promise<void> => {
      const target = received.length + count;
      await within((async () => {
        while (received.length < target) {
          pub!.source.send(new RtpPacket({ timestamp: 3000 * ++n, payload: Buffer.alloc(400, n & 0xff) }));
          await new Promise((r) => setTimeout(r, 10));
        }
      })(), 20_000, what);
    };
    const me = clientTransceiver.sender.ssrc;
    /** A NACK for two packets the subscriber got: answered (RTX or not) by the router's JavaScript path or the engine. */
    const nack = async (how: 'js' | 'native', what: string): Promise<void> => {
      const before = router.stats;
      const resent = consumer.getStats().retransmittedPacketsSent;
      const heardBefore = heard.filter((k) => k === 'nack').length;
      const last = received[received.length - 1]!;
      clientTransceiver.sender.sendRtcp([RtcpGenericNack.fromSequenceNumbers(me, consumer.ssrc, [(last - 4) & 0xffff, (last - 2) & 0xffff])]);
      await until(() => consumer.getStats().retransmittedPacketsSent >= resent + 2, 10_000, `the NACK answered (${what})`);
      const after = router.stats;
      if (how === 'js') {
        assert.ok(after.rtcpCompoundsToJs > before.rtcpCompoundsToJs, `the compound reached the router's listener (${what})`);
        await until(() => heard.filter((k) => k === 'nack').length > heardBefore, 10_000, `the application's listener got the NACK (${what})`);
      } else {
        assert.ok(after.rtcpCompoundsConsumed > before.rtcpCompoundsConsumed, `consumed natively (${what})`);
        assert.equal(after.rtcpCompoundsToJs, before.rtcpCompoundsToJs, `no compound to JavaScript (${what})`);
      }
    };

    await media(20, 'media over ICE-TCP');
    await nack('js', 'over ICE-TCP');

    // ICE restart (RFC 8445 §9) offering UDP candidates only: the leg moves from the TCP sink to the port.
    const followed = router.stats.pairsFollowed;
    path = 'udp';
    s.restartIce();
    await negotiate();
    await until(() => s.mediaTransport?.selectedPair?.local.protocol === 'udp', 20_000, 'ICE selects a UDP pair');
    await until(() => router.stats.pairsFollowed > followed, 20_000, 'the engine follows the switch');
    await media(20, 'media over UDP');
    await nack('js', 'after the switch to UDP');

    // The application's listener goes: the leg's RTCP is consumed by the engine again on the new pair.
    transceiver.sender.off('rtcp', listener);
    await new Promise((r) => setTimeout(r, 20));
    // Fresh packets: a number resent less than a resend interval ago is not resent again ("Retransmission").
    await media(20, 'media after the listener went');
    await nack('native', 'after the listener went');
    assert.equal(router.stats.pairsNotFollowed, 0);
    assert.equal(router.stats.jsDeliveries, 0, 'no forwarded packet reached JavaScript');
  } finally {
    router.close();
    c.close();
    s.close();
    closePeers(pub);
    tcp.close();
    mux.close();
  }
});
