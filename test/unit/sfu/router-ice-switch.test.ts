// lib/sfu's engine follows a subscriber's ICE selected-pair switch after consume() (docs/sfu.md
// "Limits"; RFC 8445 §9 ICE restart), over real loopback sockets with our own peers: the subscriber
// reaches the router's port through a UDP relay of the test (as a client behind a NAT would), which
// then moves the subscriber to another port of its own, like a NAT rebinding or a network change,
// and the application restarts ICE. The old port forwards nothing any more: forwarded media keeps
// reaching the subscriber only because the engine now sends to the newly selected pair, natively.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCRtpTransceiver } from '../../../lib/peer/index.js';
import '../../../lib/policy/default-policies.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { UdpMux } from '../../../lib/transport/source/udp-mux.js';
import { Router } from '../../../lib/sfu/index.js';
import { within } from '../../integration/peer-helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

/**
 * The subscriber's path to the router: the subscriber talks to `client` (its idea of the router),
 * the router talks to the current server-facing socket (its idea of the subscriber). `move()` puts
 * a new server-facing socket in place; the old one drops what it receives from then on.
 */
class Relay {
  private subscriber: RemoteInfo | undefined;
  private current: Socket;
  private readonly sockets: Socket[] = [];
  private constructor(readonly client: Socket, server: Socket, routerPort: number) {
    this.current = server;
    client.on('message', (msg, from) => {
      this.subscriber = from;
      this.current.send(msg, routerPort, '127.0.0.1');
    });
    this.listen(server);
  }

  static async create(routerPort: number): Promise<Relay> {
    return new Relay(await bound(), await bound(), routerPort);
  }

  get serverPort(): number {
    return this.current.address().port;
  }

  async move(): Promise<void> {
    const next = await bound();
    this.listen(next);
    this.current = next;
  }

  private listen(s: Socket): void {
    this.sockets.push(s);
    s.on('message', (msg) => {
      if (s !== this.current) return;
      if (this.subscriber) this.client.send(msg, this.subscriber.port, this.subscriber.address);
    });
  }

  close(): void {
    for (const s of [this.client, ...this.sockets]) s.close();
  }
}

/** Rewrites the port of every IPv4 loopback host candidate in `sdp` to `port`. */
const candidatesAt = (sdp: string, port: number): string => sdp.replace(/(a=candidate:\S+ \d+ udp \d+ 127\.0\.0\.1 )\d+( typ host)/gi, `$1${port}$2`);

test('router: a subscriber whose selected pair changes (ICE restart after it moved) keeps receiving forwarded media natively', { timeout: 60_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const relay = await Relay.create(mux.local.port);
  const pubClient = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const pubServer = new RTCPeerConnection({ udpMux: mux });
  const subServer = new RTCPeerConnection({ udpMux: mux });
  const subClient = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  let stop = false;
  try {
    const source = new LocalStreamTrack({ kind: 'audio' });
    pubClient.addTransceiver(source, { direction: 'sendonly' });
    const pubTransceiver = new Promise<RTCRtpTransceiver>((r) => pubServer.once('track', (e) => r(e.transceiver)));
    await pubClient.setLocalDescription(await pubClient.createOffer());
    await pubServer.setRemoteDescription(pubClient.localDescription!);
    await pubServer.setLocalDescription(await pubServer.createAnswer());
    await pubClient.setRemoteDescription(pubServer.localDescription!);
    await within(Promise.all([pubClient.connected(), pubServer.connected()]), 15_000, 'publisher connected');
    const producer = await router.produce(pubServer, await within(pubTransceiver, 5000, 'publisher track'));

    // The subscriber only knows the relay's client-facing port; the router only the server-facing one.
    const subTransceiver = subServer.addTransceiver(new LocalStreamTrack({ kind: 'audio' }), { direction: 'sendonly' });
    const subTrack = new Promise<MediaStreamTrack>((r) => subClient.once('track', (e) => r(e.track)));
    const negotiate = async (): Promise<void> => {
      const offer = await subServer.createOffer();
      await subServer.setLocalDescription(offer);
      await subClient.setRemoteDescription({ type: 'offer', sdp: candidatesAt(subServer.localDescription!.sdp, relay.client.address().port) });
      await subClient.setLocalDescription(await subClient.createAnswer());
      await subServer.setRemoteDescription({ type: 'answer', sdp: candidatesAt(subClient.localDescription!.sdp, relay.serverPort) });
    };
    await negotiate();
    await within(Promise.all([subServer.connected(), subClient.connected()]), 15_000, 'subscriber connected through the relay');
    const consumer = await router.consume(producer, subServer, subTransceiver);
    const track = await within(subTrack, 5000, 'subscriber track');
    assert.equal(subServer.mediaTransport!.selectedPair!.remoteAddress.port, relay.serverPort);

    let received = 0;
    void (async () => {
      for await (const _ of track) received++;
    })();
    void (async () => {
      for (let i = 0; !stop; i++) {
        source.send(new RtpPacket({ timestamp: i * 960, payload: Buffer.alloc(100, i) }));
        await sleep(10);
      }
    })();
    const waitFor = async (n: number, what: string): Promise<void> => within((async () => {
      while (received < n) await sleep(10);
    })(), 15_000, what);
    await waitFor(20, 'forwarded packets before the move');

    // The subscriber moves to another port; the application restarts ICE (RFC 8445 §9).
    await relay.move();
    subServer.restartIce();
    await negotiate();
    await within((async () => {
      while (subServer.mediaTransport?.selectedPair?.remoteAddress.port !== relay.serverPort) await sleep(10);
    })(), 15_000, 'ICE selects the pair through the new port');
    const atSwitch = received;
    await waitFor(atSwitch + 50, "forwarded packets after the switch");
    assert.ok(router.stats.pairsFollowed >= 1, 'the engine followed the switch');
    const sent = consumer.getStats().packetsSent;
    assert.ok(sent >= received, 'the consumer leg sent them (engine counters)');
    assert.equal(router.stats.jsDeliveries, 0, 'no JavaScript per forwarded packet');
    assert.equal(router.stats.pairsNotFollowed, 0);
    assert.equal(subServer.connectionState, 'connected');
  } finally {
    stop = true;
    router.close();
    for (const pc of [pubClient, pubServer, subServer, subClient]) pc.close();
    relay.close();
    mux.close();
  }
});
