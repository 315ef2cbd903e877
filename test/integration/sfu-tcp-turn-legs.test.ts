// SFU legs that are not plain UDP (docs/sfu.md "Legs over TCP"): a publisher whose client sends through
// a real coturn (relay-only, TURN/UDP) and a subscriber whose client reaches the server over ICE-TCP
// only (our passive TcpMux port, RFC 6544), then the other way round (a publisher over ICE-TCP, a
// subscriber through coturn). Every packet reaches the subscriber through the router's native engine:
// forwarded inside the receive batch of the UDP port or of the TCP read, framed for TCP by the
// engine's sink; counters show native forwards and no JavaScript delivery per packet.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCRtpTransceiver } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import '../../lib/policy/default-policies.js';
import { Router } from '../../lib/sfu/index.js';
import { TcpMux } from '../../lib/transport/source/tcp-mux.js';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';
import { coturnSkip, startCoturn, type Coturn } from './coturn.js';
import { until, within } from './peer-helpers.js';

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
        // Not the port's srtpUnprotected: it also counts the clients' RTCP whenever a report falls
        // due, which depends on the machine's speed. The publisher connection's RTP counters count
        // media only, and would count these packets had they gone to JavaScript.
        const rtpInJs = [...pub.transceiver.receiver.streams.values()].reduce((n, st) => n + st.packetsReceived, 0);
        assert.equal(rtpInJs, 0, 'no RTP of the publisher reached its connection in JavaScript');
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

/** Sends `count` packets from the publisher, labelled `label i`, in bursts; resolves when the subscriber has them all. */
async function forwardPackets(pub: { source: LocalStreamTrack }, sub: { track: MediaStreamTrack }, label: string, count: number): Promise<void> {
  const seen = new Set<string>();
  const got = within((async () => {
    while (seen.size < count) {
      const text = (await sub.track.recv()).payload.toString();
      if (text.startsWith(`${label} `)) seen.add(text);
    }
  })(), 30_000, `every "${label}" packet at the subscriber`);
  for (let i = 0; i < count; i++) {
    pub.source.send(new RtpPacket({ timestamp: 960 * (i + 1), payload: Buffer.from(`${label} ${i}`) }));
    if (i % BURST === BURST - 1) await new Promise((r) => setTimeout(r, 5));
  }
  await got;
}

/** Waits (bounded; the poll stops holding the process once it gives up) until `pc`'s selected pair satisfies `ok`. */
async function pairWhere(pc: RTCPeerConnection, ok: (pair: NonNullable<RTCPeerConnection['mediaTransport']>['selectedPair']) => boolean, what: string): Promise<void> {
  await until(() => ok(pc.mediaTransport?.selectedPair), 20_000, what);
}

/**
 * A TCP relay in front of the passive port (as a load balancer would stand): every connection it
 * accepts is piped to `port` on loopback; `drop()` resets the ones open now.
 */
async function tcpRelay(port: number): Promise<{ port: number; drop(): void; close(): void }> {
  const open = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = connect({ host: '127.0.0.1', port });
    open.add(inbound).add(outbound);
    const gone = (): void => {
      inbound.destroy();
      outbound.destroy();
      open.delete(inbound);
      open.delete(outbound);
    };
    inbound.on('error', gone).on('close', gone);
    outbound.on('error', gone).on('close', gone);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const drop = (): void => {
    for (const s of [...open]) s.destroy();
  };
  return { port: (server.address() as AddressInfo).port, drop, close: () => (drop(), server.close()) };
}

/** `sdp` with the passive TCP candidate of port `from` announced on port `to` instead. */
function viaPort(sdp: string, from: number, to: number): string {
  return sdp.split(` ${from} typ host tcptype passive`).join(` ${to} typ host tcptype passive`);
}

/** Runs `body` with the server side and two TCP relays to its passive port, then closes the server and both relays. */
async function withTwoRelays(
  body: (server: Awaited<ReturnType<typeof serverSide>>, first: Awaited<ReturnType<typeof tcpRelay>>, second: Awaited<ReturnType<typeof tcpRelay>>) => Promise<void>,
): Promise<void> {
  const server = await serverSide();
  const first = await tcpRelay(server.tcp.local.port);
  const second = await tcpRelay(server.tcp.local.port);
  try {
    await body(server, first, second);
  } finally {
    server.close();
    first.close();
    second.close();
  }
}

/**
 * A publisher leg over ICE-TCP and a subscriber leg whose client reaches the passive TCP port
 * through the relay on `firstRelay`, connected, with the publisher's track produced and consumed
 * on the subscriber; `offerVia` re-offers the subscriber through another relay.
 */
async function subscriberViaRelay(server: Awaited<ReturnType<typeof serverSide>>, firstRelay: number) {
  const { mux, tcp, router, legs } = server;
  const pub = await publisherLeg(mux, tcp, 'tcp');
  legs.push(pub);
  const s = new RTCPeerConnection({ udpMux: mux, tcpMux: tcp });
  const c = client('tcp');
  legs.push({ c, s });
  trickle(c, s, 'tcp');
  const transceiver = s.addTransceiver(new LocalStreamTrack({ kind: 'audio' }), { direction: 'sendonly' });
  const trackP = new Promise<MediaStreamTrack>((r) => c.once('track', (e) => r(e.track)));
  const offerVia = async (relay: number): Promise<void> => {
    await s.setLocalDescription(await s.createOffer());
    await c.setRemoteDescription({ type: 'offer', sdp: viaPort(onPath('tcp', s.localDescription!.sdp), tcp.local.port, relay) });
    await c.setLocalDescription(await c.createAnswer());
    await s.setRemoteDescription({ type: 'answer', sdp: onPath('tcp', c.localDescription!.sdp) });
  };
  await offerVia(firstRelay);
  await connected(c, s, 'tcp');
  const sub = { c, s, transceiver, track: await within(trackP, 5000, 'subscriber track') };
  const producer = await router.produce(pub.s, pub.transceiver);
  const consumer = await router.consume(producer, sub.s, sub.transceiver);
  return { pub, sub, consumer, offerVia };
}

test('router: a subscriber over ICE-TCP moved by an ICE restart to another TCP connection keeps receiving through the engine (its sink follows)', { timeout: 90_000 }, async () => {
  await withTwoRelays(async (server, first, second) => {
    const { router } = server;
    const { pub, sub, consumer, offerVia } = await subscriberViaRelay(server, first.port);
    await forwardPackets(pub, sub, 'before', PACKETS);
    const firstRemote = sub.s.mediaTransport!.selectedPair!.remoteAddress.port;

    // ICE restart (RFC 8445 §9) through the second relay: a new TCP connection, a new pair.
    sub.s.restartIce();
    await offerVia(second.port);
    await pairWhere(sub.s, (p) => p?.local.protocol === 'tcp' && p.remoteAddress.port !== firstRemote, 'ICE selects the pair of the second connection');
    await forwardPackets(pub, sub, 'moved', PACKETS);
    // The first connection goes away: nothing depended on it any more.
    first.drop();
    await forwardPackets(pub, sub, 'after', PACKETS);

    const stats = router.stats;
    assert.equal(stats.pairsNotFollowed, 0, `every switch followed: ${JSON.stringify({ followed: stats.pairsFollowed, notFollowed: stats.pairsNotFollowed })}`);
    assert.ok(stats.pairsFollowed >= 1, 'the switch onto the second connection is counted');
    assert.equal(stats.packetsForwarded, 3 * PACKETS, 'every packet forwarded by the engine');
    assert.equal(stats.jsDeliveries, 0, 'no forwarded packet reached JavaScript');
    assert.equal(consumer.getStats().packetsSent, 3 * PACKETS);
    assert.equal(sub.s.mediaTransport!.srtpCounters.protectedInJs, 0, 'the subscriber leg protects nothing in JavaScript');
  });
});

/** TCP handles (sockets and servers) this process holds open now. */
function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap').length;
}

/** A description with its UDP candidates only (an ICE restart onto the UDP port). */
function udpOnly(sdp: string): string {
  return sdp.split('\r\n').filter((l) => !(l.startsWith('a=candidate:') && / tcp /i.test(l))).join('\r\n');
}

for (const then of ['tcp', 'udp'] as const) {
  test(`router: a subscriber over ICE-TCP whose only connection drops mid-forwarding: the engine stops sending there (sink-closed), pairsLost counts it, an ICE restart onto ${then === 'tcp' ? 'a new TCP connection' : 'a UDP pair'} is followed, and closing releases it all`, { timeout: 90_000 }, async () => {
    const handlesBefore = tcpHandles();
    await withTwoRelays(async (server, first, second) => {
      const { tcp, router } = server;
      const { pub, sub, consumer, offerVia } = await subscriberViaRelay(server, first.port);
      await forwardPackets(pub, sub, 'before', PACKETS);
      assert.equal(router.stats.pairsLost, 0, 'nothing lost while the connection is open');
      const firstRemote = sub.s.mediaTransport!.selectedPair!.remoteAddress.port;

      // The subscriber's only connection is reset while the publisher keeps sending: a burst before
      // the reset, one after it (the server may not have seen the close yet), then bursts until the
      // server has seen it.
      let sent = PACKETS;
      const send = (label: string, n: number): void => {
        for (let i = 0; i < n; i++, sent++) pub.source.send(new RtpPacket({ timestamp: 960 * (sent + 1), payload: Buffer.from(`${label} ${i}`) }));
      };
      send('cut', BURST);
      // Closed, not only reset: through a relay that still listened, the subscriber's active side
      // would reconnect at once (docs/ice.md "Our active side reconnects") and nothing would be lost.
      first.close();
      send('cut', BURST);
      await until(() => router.stats.pairsLost > 0, 20_000, 'the closed connection is counted as a lost pair');
      // The "cut" packets still on their way from the publisher reach the engine after the close
      // and are dropped too: wait until it has seen all of them before counting the next ones.
      await until(() => router.stats.packetsReceived === sent, 20_000, `the engine saw all ${sent} packets sent so far`);
      const writesAtLoss = tcp.stats.forwardWrites;
      // From now on every copy for the subscriber is dropped in the engine, none written anywhere.
      const droppedAtLoss = router.stats.drops['sink-closed'];
      send('lost', PACKETS);
      await until(() => router.stats.drops['sink-closed'] >= droppedAtLoss + PACKETS, 20_000, 'the packets for the closed connection are dropped as sink-closed');
      const lost = router.stats;
      assert.equal(lost.pairsLost, 1, 'one connection lost, counted once');
      assert.equal(lost.drops['sink-closed'], droppedAtLoss + PACKETS, 'each packet for the closed connection dropped once');
      assert.equal(consumer.getStats().pwtDrops['sink-closed'], lost.drops['sink-closed'], "the consumer's own drop count says the same");
      assert.equal(tcp.stats.forwardWrites, writesAtLoss, 'nothing more written for the subscriber');
      assert.equal(lost.pairsNotFollowed, 0);

      // ICE restart (RFC 8445 §9): through the second relay (a new TCP connection), or offering UDP
      // candidates only (a pair on the router's port); the engine follows either.
      const followedBefore = lost.pairsFollowed;
      sub.s.restartIce();
      if (then === 'tcp') {
        await offerVia(second.port);
        await pairWhere(sub.s, (p) => p?.local.protocol === 'tcp' && p.remoteAddress.port !== firstRemote, 'ICE selects the pair of the new connection');
      } else {
        sub.c.onicecandidate = (e) => {
          const line = e.candidate?.candidate ?? '';
          if (!/ tcp /i.test(line)) void sub.s.addIceCandidate({ candidate: line }).catch(() => undefined);
        };
        await sub.s.setLocalDescription(await sub.s.createOffer());
        await sub.c.setRemoteDescription({ type: 'offer', sdp: udpOnly(sub.s.localDescription!.sdp) });
        await sub.c.setLocalDescription(await sub.c.createAnswer());
        await sub.s.setRemoteDescription({ type: 'answer', sdp: udpOnly(sub.c.localDescription!.sdp) });
        await pairWhere(sub.s, (p) => p?.local.protocol === 'udp', 'ICE selects a UDP pair');
      }
      await until(() => router.stats.pairsFollowed > followedBefore, 20_000, 'the switch onto the new pair is followed');
      await forwardPackets(pub, sub, 'after', PACKETS);
      sent += PACKETS;

      const stats = router.stats;
      assert.equal(stats.pairsLost, 1, 'the new connection is not a lost one');
      assert.equal(stats.pairsNotFollowed, 0, `every switch followed: ${JSON.stringify({ followed: stats.pairsFollowed, notFollowed: stats.pairsNotFollowed })}`);
      assert.equal(stats.packetsReceived, sent, 'the engine saw every packet of the publisher');
      // Every copy either went to the subscriber's connection of the moment or was dropped as sink-closed.
      const cs = consumer.getStats();
      assert.equal(cs.packetsSent + cs.pwtDrops['sink-closed'], sent, `${cs.packetsSent} sent + ${cs.pwtDrops['sink-closed']} dropped`);
      for (const [reason, n] of Object.entries(cs.pwtDrops)) if (reason !== 'sink-closed') assert.equal(n, 0, `no ${reason} drop`);
      assert.equal(stats.jsDeliveries, 0, 'no forwarded packet reached JavaScript');
      assert.equal(sub.s.mediaTransport!.srtpCounters.protectedInJs, 0, 'the subscriber leg protects nothing in JavaScript');

      // Closing the subscriber releases its leg: the consumer closes, its connection (if any) goes.
      sub.s.close();
      sub.c.close();
      assert.equal(consumer.closed, true, "the subscriber's consumer is closed with its connection");
      await until(() => tcp.stats.connectionsOpen === 1, 20_000, "only the publisher's connection stays open on the port");
      assert.equal(router.stats.pairsLost, 1, 'closing the connection is not a lost pair');
    });
    // Every socket and server of the test is gone (the port, the relays, both clients' connections).
    await until(() => tcpHandles() <= handlesBefore, 20_000, `TCP handles back to ${handlesBefore} (now ${tcpHandles()})`);
  });
}

test('router: a subscriber over ICE-TCP whose ICE restart selects a UDP pair keeps receiving: the engine moves it from the TCP sink to the port', { timeout: 90_000 }, async () => {
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
    await forwardPackets(pub, sub, 'tcp', PACKETS);

    // ICE restart (RFC 8445 §9) offering UDP candidates only: the new pair is on the UDP port.
    sub.c.onicecandidate = (e) => {
      const line = e.candidate?.candidate ?? '';
      if (!/ tcp /i.test(line)) void sub.s.addIceCandidate({ candidate: line }).catch(() => undefined);
    };
    sub.s.restartIce();
    await sub.s.setLocalDescription(await sub.s.createOffer());
    await sub.c.setRemoteDescription({ type: 'offer', sdp: udpOnly(sub.s.localDescription!.sdp) });
    await sub.c.setLocalDescription(await sub.c.createAnswer());
    await sub.s.setRemoteDescription({ type: 'answer', sdp: udpOnly(sub.c.localDescription!.sdp) });
    await pairWhere(sub.s, (p) => p?.local.protocol === 'udp', 'ICE selects a UDP pair');
    await forwardPackets(pub, sub, 'udp', PACKETS);
    const stats = router.stats;
    assert.equal(stats.pairsNotFollowed, 0, `the switch off the TCP sink is followed: ${JSON.stringify({ followed: stats.pairsFollowed, notFollowed: stats.pairsNotFollowed })}`);
    assert.ok(stats.pairsFollowed >= 1);
    assert.equal(stats.packetsForwarded, 2 * PACKETS, 'every packet forwarded by the engine');
    assert.equal(stats.jsDeliveries, 0);
  } finally {
    server.close();
  }
});

/** The ICE driver's SRTP session setter, which a rekey goes through (the connection's route is rebuilt on the same pair). */
function rebuildRoute(pc: RTCPeerConnection): void {
  const media = pc.mediaTransport as unknown as { driver: { setSrtpSession(s: unknown): void }; srtp: unknown };
  media.driver.setSrtpSession(undefined);
  media.driver.setSrtpSession(media.srtp);
}

test('router: TCP legs whose routes are rebuilt on the same pair (as a rekey rebuilds them) keep the engine, publisher and subscriber', { timeout: 90_000 }, async () => {
  const server = await serverSide();
  const { mux, tcp, router, legs } = server;
  try {
    const pub = await publisherLeg(mux, tcp, 'tcp');
    legs.push(pub);
    const sub = await subscriberLeg(mux, tcp, 'tcp');
    legs.push(sub);
    const producer = await router.produce(pub.s, pub.transceiver);
    await router.consume(producer, sub.s, sub.transceiver);
    await forwardPackets(pub, sub, 'before', PACKETS);
    const pubRoute = pub.s.mediaTransport!.tcpLegRoute;
    const subRoute = sub.s.mediaTransport!.tcpLegRoute;
    rebuildRoute(pub.s);
    rebuildRoute(sub.s);
    assert.ok(pub.s.mediaTransport!.tcpLegRoute && pub.s.mediaTransport!.tcpLegRoute !== pubRoute, "the publisher's route was rebuilt");
    assert.ok(sub.s.mediaTransport!.tcpLegRoute && sub.s.mediaTransport!.tcpLegRoute !== subRoute, "the subscriber's route was rebuilt");
    const before = tcp.stats;
    await forwardPackets(pub, sub, 'rebuilt', PACKETS);
    const t = tcp.stats;
    assert.equal(t.forwarded - before.forwarded, PACKETS, 'the rebuilt publisher route still runs the engine in its read batches');
    // (The port's srtpUnprotected also counts both clients' RTCP, whenever their reports fall due: not asserted.)
    assert.equal(pub.transceiver.receiver.streams.get(producer.ssrc)?.packetsReceived ?? 0, 0, "the publisher connection's JavaScript saw no RTP");
    const stats = router.stats;
    assert.equal(stats.packetsForwarded, 2 * PACKETS);
    assert.equal(stats.jsDeliveries, 0);
    assert.equal(stats.pairsNotFollowed, 0);
  } finally {
    server.close();
  }
});
