// SFU legs that are not plain UDP (docs/sfu.md "Legs over TCP"): a publisher whose client sends through
// a real coturn (relay-only, TURN/UDP) and a subscriber whose client reaches the server over ICE-TCP
// only (our passive TcpMux port, RFC 6544), then the other way round (a publisher over ICE-TCP, a
// subscriber through coturn). Every packet reaches the subscriber through the router's native engine:
// forwarded inside the receive batch of the UDP port or of the TCP read, framed for TCP by the
// engine's sink; counters show native forwards and no JavaScript delivery per packet.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCRtpTransceiver } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import '../../lib/policy/default-policies.js';
import { Router } from '../../lib/sfu/index.js';
import { TcpMux } from '../../lib/transport/source/tcp-mux.js';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';
import { coturnSkip, startCoturn, type Coturn } from './coturn.js';
import { within } from './peer-helpers.js';

let turn: Coturn | undefined;
before(async () => {
  if (!coturnSkip) turn = await startCoturn();
});
after(() => turn?.close());

type ClientPath = 'turn' | 'tcp';

/** The client side of a leg: relay-only through coturn, or active ICE-TCP only. */
function client(path: ClientPath): RTCPeerConnection {
  return path === 'turn'
    ? new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceServers: [turn!.iceServer('udp')], iceTransportPolicy: 'relay' })
    : new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceTcpActive: true });
}

/** A description as the other side gets it: over ICE-TCP only the TCP candidates (RFC 6544), so no UDP pair forms. */
function onPath(path: ClientPath, sdp: string): string {
  return path === 'tcp' ? sdp.split('\r\n').filter((l) => !(l.startsWith('a=candidate:') && / udp /i.test(l))).join('\r\n') : sdp;
}

/** Relay candidates of the client trickle once its allocation exists (over ICE-TCP, TCP ones only). */
function trickle(from: RTCPeerConnection, to: RTCPeerConnection, path: ClientPath): void {
  from.onicecandidate = (e) => {
    const line = e.candidate?.candidate ?? '';
    if (path === 'tcp' && / udp /i.test(line)) return;
    void to.addIceCandidate({ candidate: line }).catch(() => undefined);
  };
}

/** One offer/answer round from `offerer` to `answerer`, each description as the other side gets it on `path`. */
async function negotiateOnPath(offerer: RTCPeerConnection, answerer: RTCPeerConnection, path: ClientPath): Promise<void> {
  await offerer.setLocalDescription(await offerer.createOffer());
  await answerer.setRemoteDescription({ type: 'offer', sdp: onPath(path, offerer.localDescription!.sdp) });
  await answerer.setLocalDescription(await answerer.createAnswer());
  await offerer.setRemoteDescription({ type: 'answer', sdp: onPath(path, answerer.localDescription!.sdp) });
}

async function connected(c: RTCPeerConnection, s: RTCPeerConnection, path: ClientPath): Promise<void> {
  await within(Promise.all([c.connected(), s.connected()]), 20_000, `${path} leg connected`);
  const pair = c.mediaTransport!.selectedPair!;
  if (path === 'turn') assert.equal(pair.local.type, 'relay', 'the client sends through coturn');
  else assert.equal(pair.local.protocol, 'tcp', 'the client is on ICE-TCP');
}

async function publisherLeg(mux: UdpMux, tcp: TcpMux, path: ClientPath): Promise<{ c: RTCPeerConnection; s: RTCPeerConnection; source: LocalStreamTrack; transceiver: RTCRtpTransceiver }> {
  const c = client(path);
  const s = new RTCPeerConnection({ udpMux: mux, tcpMux: tcp });
  trickle(c, s, path);
  const source = new LocalStreamTrack({ kind: 'audio' });
  c.addTransceiver(source, { direction: 'sendonly' });
  const transceiver = new Promise<RTCRtpTransceiver>((r) => s.once('track', (e) => r(e.transceiver)));
  await negotiateOnPath(c, s, path);
  await connected(c, s, path);
  return { c, s, source, transceiver: await within(transceiver, 5000, 'publisher track') };
}

async function subscriberLeg(mux: UdpMux, tcp: TcpMux, path: ClientPath): Promise<{ c: RTCPeerConnection; s: RTCPeerConnection; transceiver: RTCRtpTransceiver; track: MediaStreamTrack }> {
  const s = new RTCPeerConnection({ udpMux: mux, tcpMux: tcp });
  const c = client(path);
  trickle(c, s, path);
  const transceiver = s.addTransceiver(new LocalStreamTrack({ kind: 'audio' }), { direction: 'sendonly' });
  const track = new Promise<MediaStreamTrack>((r) => c.once('track', (e) => r(e.track)));
  await negotiateOnPath(s, c, path);
  await connected(c, s, path);
  return { c, s, transceiver, track: await within(track, 5000, 'subscriber track') };
}

/** The server side of the leg tests: a UdpMux and a passive TcpMux port under one Router, and the legs made on them. */
async function serverSide(): Promise<{ mux: UdpMux; tcp: TcpMux; router: Router; legs: { c: RTCPeerConnection; s: RTCPeerConnection }[]; close(): void }> {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const tcp = await TcpMux.listen({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const legs: { c: RTCPeerConnection; s: RTCPeerConnection }[] = [];
  return {
    mux, tcp, router, legs,
    /** Closes the router, both connections of every leg, then the ports. */
    close: () => {
      router.close();
      for (const l of legs) {
        l.c.close();
        l.s.close();
      }
      tcp.close();
      mux.close();
    },
  };
}

const PACKETS = 60;
/** Packets sent in one turn before a short pause. */
const BURST = 20;

for (const [pubPath, subPath] of [['turn', 'tcp'], ['tcp', 'turn']] as const) {
  test(`router: a publisher over ${pubPath === 'turn' ? 'TURN' : 'ICE-TCP'} forwarded natively to a subscriber over ${subPath === 'turn' ? 'TURN' : 'ICE-TCP'}`, { timeout: 90_000, skip: coturnSkip }, async (tc) => {
    const server = await serverSide();
    const { mux, tcp, router, legs } = server;
    try {
      const pub = await publisherLeg(mux, tcp, pubPath);
      legs.push(pub);
      const sub = await subscriberLeg(mux, tcp, subPath);
      legs.push(sub);
      const producer = await router.produce(pub.s, pub.transceiver);
      const consumer = await router.consume(producer, sub.s, sub.transceiver);
      const tcpBefore = tcp.stats;

      const seen = new Set<string>();
      const got = within((async () => {
        while (seen.size < PACKETS) {
          const p = await sub.track.recv();
          assert.equal(p.ssrc, sub.transceiver.sender.ssrc, "the subscriber sender's SSRC");
          seen.add(p.payload.toString());
        }
      })(), 30_000, 'every packet at the subscriber');
      for (let i = 0; i < PACKETS; i++) {
        pub.source.send(new RtpPacket({ timestamp: 960 * (i + 1), payload: Buffer.from(`via engine ${i}`) }));
        if (i % BURST === BURST - 1) await new Promise((r) => setTimeout(r, 5));
      }
      await got;
      for (let i = 0; i < PACKETS; i++) assert.ok(seen.has(`via engine ${i}`), `packet ${i}`);

      // The engine did it: every packet matched the producer and went to the consumer natively.
      const stats = router.stats;
      assert.equal(stats.packetsReceived, PACKETS);
      assert.equal(stats.packetsForwarded, PACKETS);
      assert.equal(stats.jsDeliveries, 0, 'no forwarded packet reached JavaScript');
      assert.equal(consumer.getStats().packetsSent, PACKETS);
      assert.equal(pub.transceiver.receiver.streams.get(producer.ssrc)?.packetsReceived ?? 0, 0, "the publisher connection's JavaScript saw none");
      const t = tcp.stats;
      if (pubPath === 'tcp') {
        // Forwarded inside the TCP read batch: those frames never reached JavaScript.
        assert.equal(t.forwarded - tcpBefore.forwarded, PACKETS);
        assert.equal(t.srtpUnprotected - tcpBefore.srtpUnprotected, 0);
      } else {
        // Framed by the engine's sink for the subscriber's TCP connection, one write per turn.
        assert.equal(t.forwardFramesSent - tcpBefore.forwardFramesSent, PACKETS);
        // A UDP receive batch of several frames is one write; how many frames a batch holds depends
        // on how the relayed datagrams met the receive call (one each on an idle machine is
        // possible), so only "never more writes than frames" is asserted; the ratio is printed.
        const writes = t.forwardWrites - tcpBefore.forwardWrites;
        assert.ok(writes > 0 && writes <= PACKETS, `${writes} writes carried ${PACKETS} frames`);
        tc.diagnostic(`${writes} writes carried ${PACKETS} frames`);
        assert.equal(t.forwardDrops - tcpBefore.forwardDrops, 0, 'no frame dropped past the sink limit');
      }
      const sc = sub.s.mediaTransport!.srtpCounters;
      assert.equal(sc.protectedInJs, 0, 'the subscriber leg protects nothing in JavaScript');
    } finally {
      server.close();
    }
  });
}

test("router: a connection relayed by its own TURN allocation is refused with a typed error, not silently left unforwarded", { timeout: 60_000, skip: coturnSkip }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const s = new RTCPeerConnection({ udpMux: mux, iceServers: [turn!.iceServer('udp')], iceTransportPolicy: 'relay' });
  const c = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    s.onicecandidate = (e) => void c.addIceCandidate({ candidate: e.candidate?.candidate ?? '' }).catch(() => undefined);
    c.addTransceiver(new LocalStreamTrack({ kind: 'audio' }), { direction: 'sendonly' });
    const transceiver = new Promise<RTCRtpTransceiver>((r) => s.once('track', (e) => r(e.transceiver)));
    await c.setLocalDescription(await c.createOffer());
    await s.setRemoteDescription(c.localDescription!);
    await s.setLocalDescription(await s.createAnswer());
    await c.setRemoteDescription(s.localDescription!);
    await within(Promise.all([c.connected(), s.connected()]), 20_000, 'connected over the relay');
    assert.equal(s.mediaTransport!.selectedPair!.local.type, 'relay');
    await assert.rejects(router.produce(s, await within(transceiver, 5000, 'track')), { name: 'NotSupportedError', code: 'ERR_SFU_RELAYED_LEG' });
  } finally {
    router.close();
    c.close();
    s.close();
    mux.close();
  }
});

test('router: a subscriber over ICE-TCP whose ICE restart selects a UDP pair is counted as not followed, never as followed while packets go into the old sink', { timeout: 90_000 }, async () => {
  const server = await serverSide();
  const { mux, tcp, router, legs } = server;
  try {
    const pub = await publisherLeg(mux, tcp, 'tcp');
    legs.push(pub);
    const sub = await subscriberLeg(mux, tcp, 'tcp');
    legs.push(sub);
    const producer = await router.produce(pub.s, pub.transceiver);
    await router.consume(producer, sub.s, sub.transceiver);
    assert.equal(sub.s.mediaTransport!.selectedPair!.local.protocol, 'tcp');

    // ICE restart (RFC 8445 §9) offering UDP candidates only: the new pair is on the UDP port.
    const udpOnly = (sdp: string): string => sdp.split('\r\n').filter((l) => !(l.startsWith('a=candidate:') && / tcp /i.test(l))).join('\r\n');
    sub.c.onicecandidate = (e) => {
      const line = e.candidate?.candidate ?? '';
      if (!/ tcp /i.test(line)) void sub.s.addIceCandidate({ candidate: line }).catch(() => undefined);
    };
    sub.s.restartIce();
    await sub.s.setLocalDescription(await sub.s.createOffer());
    await sub.c.setRemoteDescription({ type: 'offer', sdp: udpOnly(sub.s.localDescription!.sdp) });
    await sub.c.setLocalDescription(await sub.c.createAnswer());
    await sub.s.setRemoteDescription({ type: 'answer', sdp: udpOnly(sub.c.localDescription!.sdp) });
    await within((async () => {
      while (sub.s.mediaTransport?.selectedPair?.local.protocol !== 'udp') await new Promise((r) => setTimeout(r, 10));
    })(), 20_000, 'ICE selects a UDP pair');
    const stats = router.stats;
    assert.ok(stats.pairsNotFollowed >= 1, `the switch off the TCP sink is reported: ${JSON.stringify(stats)}`);
    assert.equal(stats.pairsFollowed, 0, 'the engine still writes into the TCP sink: not followed');
  } finally {
    server.close();
  }
});
