// EchoSession on a shared UdpMux port with a Router: the port's forwarding engine echoes each
// stream (a producer consumed by the same connection) with no JavaScript per packet. The echo
// carries the session's SSRC and the negotiated payload type, keeps a gap in what was received
// (the client can NACK it), its counters come from the engine, a subscriber of the session's
// packets turns the producer's tap on without doubling the echo, and a PLI about the echo reaches
// the sender. A stream the router cannot take, or a router closed under the session, falls back to
// the JavaScript echo; a port takes one router, and the echo server attaches its own only while
// it runs (none with nativeEcho false).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { EchoSession } from '../../../lib/echo/echo-session.js';
import { startEchoServer } from '../../../lib/echo/echo-server.js';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack } from '../../../lib/peer/index.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { RtcpPictureLossIndication } from '../../../lib/rtp/rtcp/picture-loss-indication.js';
import { Router } from '../../../lib/sfu/router.js';
import { KEYFRAME_REQUEST_INTERVAL_MS, type Producer } from '../../../lib/sfu/producer.js';
import { UdpMux } from '../../../lib/transport/source/udp-mux.js';

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)))]).finally(() => clearTimeout(timer));
}

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Reads `n` packets of `track` (copies), then stops. */
async function take(track: MediaStreamTrack, n: number): Promise<RtpPacket[]> {
  const got: RtpPacket[] = [];
  if (n === 0) return got;
  for await (const p of track) {
    got.push(p.clone());
    if (got.length === n) break;
  }
  return got;
}


interface EchoPair {
  mux: UdpMux;
  router: Router;
  /** Producers the router made, in order. */
  producers: Producer[];
  client: RTCPeerConnection;
  session: EchoSession;
  /** The client's sending track and the track the echo comes back on, per kind. */
  send: Map<string, LocalStreamTrack>;
  back: Map<string, MediaStreamTrack>;
}

/** A client with one sendrecv m-section per kind, answered by an EchoSession on a shared port with a router. */
async function echoPair(t: TestContext, id: string, kinds: readonly ('audio' | 'video')[], offerEdit: (sdp: string) => string = (sdp) => sdp): Promise<EchoPair> {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  t.after(() => mux.close());
  const router = Router.create(mux);
  t.after(() => router.close());
  const producers: Producer[] = [];
  router.on('producer', (p) => producers.push(p));
  const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => client.close());
  const send = new Map<string, LocalStreamTrack>();
  for (const kind of kinds) {
    const track = new LocalStreamTrack({ kind });
    client.addTransceiver(track, { direction: 'sendrecv' });
    send.set(kind, track);
  }
  const back = new Map<string, MediaStreamTrack>();
  client.on('track', (e) => back.set(e.track.kind, e.track));
  await client.setLocalDescription();
  const session = await EchoSession.answer(id, offerEdit(client.localDescription!.sdp), { hostAddresses: ['127.0.0.1'], udpMux: mux, router });
  t.after(() => session.close());
  await client.setRemoteDescription({ type: 'answer', sdp: session.answer });
  await client.connected(10_000);
  await until(() => session.pc.connectionState === 'connected', 10_000, 'the session connected');
  return { mux, router, producers, client, session, send, back };
}

test('on a shared port with a router the engine echoes RTP: own SSRC, negotiated PT, gaps kept, no JavaScript per packet', { timeout: 30_000 }, async (t) => {
  const { router, producers, client, session, send, back: tracks } = await echoPair(t, 'n1', ['audio', 'video']);
  const audio = send.get('audio')!;
  const video = send.get('video')!;
  // Both streams become producers consumed by their own m-sections once the session connects.
  await until(() => producers.length === 2 && producers.every((p) => p.getStats().pwtConsumers === 1), 10_000, 'the native echo');

  const videoBack = take(tracks.get('video')!, 5);
  // Sequence numbers with a gap (3 is "lost"): the engine keeps it, so the client can ask for it.
  for (const seq of [1, 2, 4, 5, 6]) {
    video.send(new RtpPacket({ sequenceNumber: seq, timestamp: seq * 3000, marker: true, payload: Buffer.from(`frame ${seq}`) }));
  }
  const got = await within(videoBack, 10_000, 'echoed video');
  const sentPt = client.getTransceivers()[1]!.sender.parameters!.payloadType;
  const echoSsrc = session.pc.getTransceivers()[1]!.sender.ssrc;
  assert.deepEqual(got.map((p) => p.payload.toString()), ['frame 1', 'frame 2', 'frame 4', 'frame 5', 'frame 6']);
  for (const p of got) {
    assert.equal(p.ssrc, echoSsrc);
    assert.equal(p.payloadType, sentPt);
  }
  const steps = got.slice(1).map((p, i) => (p.sequenceNumber! - got[i]!.sequenceNumber! + 0x10000) & 0xffff);
  assert.deepEqual(steps, [1, 2, 1, 1]);
  const audioBack = within(tracks.get('audio')!.recv(), 10_000, 'echoed audio');
  audio.send(new RtpPacket({ timestamp: 960, payload: Buffer.from('opus') }));
  assert.equal((await audioBack).payload.toString(), 'opus');

  // The engine counted them; nothing reached JavaScript.
  assert.equal(session.counters.rtp.video.received, 5);
  assert.equal(session.counters.rtp.video.echoed, 5);
  assert.equal(session.counters.rtp.audio.echoed, 1);
  assert.equal(session.snapshot().rtp.video.echoed, 5);
  assert.deepEqual(session.snapshot().nativeEcho, ['audio', 'video']);
  const s = router.stats;
  assert.equal(s.packetsReceived, 6);
  assert.equal(s.packetsForwarded, 6);
  assert.equal(s.jsDeliveries, 0);

  // A subscriber of the session's video turns the producer's tap on: it gets the packets, and the
  // client still gets each echo once.
  const seen: string[] = [];
  const unsubscribe = session.subscribe('video', (p) => seen.push(p.payload.toString()));
  assert.equal(router.stats.tappingProducers, 1);
  const twoBack = take(tracks.get('video')!, 2);
  for (const seq of [7, 8]) video.send(new RtpPacket({ sequenceNumber: seq, timestamp: seq * 3000, payload: Buffer.from(`frame ${seq}`) }));
  assert.deepEqual((await within(twoBack, 10_000, 'echo while tapped')).map((p) => p.payload.toString()), ['frame 7', 'frame 8']);
  await until(() => seen.length === 2, 10_000, 'the tapped packets');
  assert.deepEqual(seen, ['frame 7', 'frame 8']);
  unsubscribe();
  assert.equal(router.stats.tappingProducers, 0);
  // One more packet: had JavaScript echoed a tapped packet too, it would arrive here first.
  const lastBack = take(tracks.get('video')!, 1);
  video.send(new RtpPacket({ sequenceNumber: 9, timestamp: 27000, payload: Buffer.from('frame 9') }));
  assert.deepEqual((await within(lastBack, 10_000, 'echo after the tap')).map((p) => p.payload.toString()), ['frame 9']);
  assert.equal(session.counters.rtp.video.echoed, 8);

  // A PLI about the echoed video reaches the client's video sender as a PLI about its own stream.
  // Past the merge window of the keyframe request consume() made for the new consumer, the PLI is
  // one request of its own.
  await new Promise((resolve) => setTimeout(resolve, KEYFRAME_REQUEST_INTERVAL_MS + 50));
  const videoProducer = producers.find((p) => p.kind === 'video')!;
  const before = videoProducer.getStats();
  const forwardedBefore = session.counters.keyframeRequestsForwarded;
  const clientVideo = client.getTransceivers()[1]!.sender;
  const forwarded = new Promise<number>((resolve) => clientVideo.on('rtcp', (e) => {
    if (e.packet.kind === 'pli') resolve(e.packet.mediaSsrc);
  }));
  clientVideo.sendRtcp([new RtcpPictureLossIndication(clientVideo.ssrc, echoSsrc)]);
  await until(() => videoProducer.getStats().pwtKeyframeRequestsSent > before.pwtKeyframeRequestsSent, 10_000, 'the keyframe request');
  assert.equal(await within(forwarded, 10_000, 'forwarded PLI'), clientVideo.ssrc);
  const after = videoProducer.getStats();
  assert.equal(after.pwtKeyframeRequestsSent, before.pwtKeyframeRequestsSent + 1);
  assert.equal(after.pwtKeyframeRequestsMerged, before.pwtKeyframeRequestsMerged);
  assert.equal(session.counters.keyframeRequestsForwarded, forwardedBefore + 1);

  // The counts survive the close (folded before the router closes the producers), also when the
  // connection itself is closed.
  session.pc.close();
  assert.equal(session.counters.rtp.video.echoed, 8);
  assert.equal(session.counters.rtp.audio.received, 1);
});

test('a stream the router cannot take (no a=ssrc in the offer) is echoed in JavaScript', { timeout: 30_000 }, async (t) => {
  // No a=ssrc in the offer: the router cannot make a producer before the first packet names it.
  const withoutSsrc = (sdp: string): string => sdp.split('\r\n').filter((l) => !l.startsWith('a=ssrc')).join('\r\n');
  const { router, producers, session, send, back } = await echoPair(t, 'n2', ['audio'], withoutSsrc);
  const audio = send.get('audio')!;
  const twoBack = take(back.get('audio')!, 2);
  for (const seq of [1, 3]) audio.send(new RtpPacket({ sequenceNumber: seq, timestamp: seq * 960, payload: Buffer.from(`opus ${seq}`) }));
  const got = await within(twoBack, 10_000, 'echoed audio');
  assert.deepEqual(got.map((p) => p.payload.toString()), ['opus 1', 'opus 3']);
  // The JavaScript echo numbers its own sequence: no gap.
  assert.equal((got[1]!.sequenceNumber! - got[0]!.sequenceNumber! + 0x10000) & 0xffff, 1);
  assert.equal(producers.length, 0);
  assert.equal(router.stats.packetsReceived, 0);
  assert.equal(session.counters.rtp.audio.echoed, 2);
  assert.deepEqual(session.snapshot().nativeEcho, []);
});

test('the router closed under a live session: the JavaScript echo takes over, the counts so far stay', { timeout: 30_000 }, async (t) => {
  const { mux, router, producers, session, send, back: tracks } = await echoPair(t, 'n3', ['audio']);
  const audio = send.get('audio')!;
  const back = tracks.get('audio')!;
  // One engine per port: a second router is refused with a typed error, the first keeps working.
  assert.throws(() => Router.create(mux), { code: 'ERR_SFU_ATTACH' });
  await until(() => producers.length === 1 && producers[0]!.getStats().pwtConsumers === 1, 10_000, 'the native echo');
  const first = take(back, 2);
  for (const seq of [1, 2]) audio.send(new RtpPacket({ sequenceNumber: seq, timestamp: seq * 960, payload: Buffer.from(`opus ${seq}`) }));
  assert.deepEqual((await within(first, 10_000, 'the native echo')).map((p) => p.payload.toString()), ['opus 1', 'opus 2']);
  assert.equal(session.counters.rtp.audio.echoed, 2);
  assert.deepEqual(session.snapshot().nativeEcho, ['audio']);

  router.close();
  const next = take(back, 2);
  for (const seq of [3, 4]) audio.send(new RtpPacket({ sequenceNumber: seq, timestamp: seq * 960, payload: Buffer.from(`opus ${seq}`) }));
  assert.deepEqual((await within(next, 10_000, 'the JavaScript echo')).map((p) => p.payload.toString()), ['opus 3', 'opus 4']);
  assert.equal(session.counters.rtp.audio.received, 4);
  assert.equal(session.counters.rtp.audio.echoed, 4);
  assert.deepEqual(session.snapshot().nativeEcho, []);
  // The port is free again.
  Router.create(mux).close();
});

test('startEchoServer on a shared port attaches its own router until it closes; nativeEcho false attaches none', { timeout: 30_000 }, async (t) => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  t.after(() => mux.close());
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'], udpMux: mux });
  assert.throws(() => Router.create(mux), { code: 'ERR_SFU_ATTACH' });
  await server.close();
  const plain = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'], udpMux: mux, nativeEcho: false });
  const router = Router.create(mux);
  await plain.close();
  // A server given a router uses it and leaves it attached.
  const shared = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'], udpMux: mux, router });
  await shared.close();
  assert.equal(router.closed, false);
  assert.throws(() => Router.create(mux), { code: 'ERR_SFU_ATTACH' });
  router.close();
});
