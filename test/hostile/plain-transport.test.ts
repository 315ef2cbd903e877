// The hostile-input suite against a plain transport's port (docs/scaling.md "Plain transport",
// docs/hostile-input.md): a plain producer (RTP in the clear from a connected remote, comedia off)
// feeds two WebRTC subscribers and a plain UDP sink. Between genuine packets, strangers send garbage,
// clear RTP with the producer's SSRC, RTP/RTCP with lying lengths; the remote itself sends garbage,
// lying RTP/RTCP, a header-extension element past its block, an unnegotiated payload type and an
// unknown SSRC. No forged or malformed packet reaches a subscriber or the sink, every genuine one
// does, nothing crashes or stalls, and every drop is counted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';
import { Router, type PlainTransport, type Producer } from '../../lib/sfu/index.js';
import { garbage, lyingRtcp, lyingRtp, Prng, rtp } from './forge.js';
import { within } from '../integration/peer-helpers.js';
import { closePeers, subscriber, UdpPeer, until, type Subscriber } from '../unit/sfu/room-peers.js';

const SUBSCRIBERS = 2;
const ROUNDS = 6;
const PER_ROUND = 10;
const SSRC = 0x5eed_0001;
const PT = 111;

let mux: UdpMux;
let router: Router;
let plain: PlainTransport;
let producer: Producer;
let remote: UdpPeer;
let strangers: UdpPeer[];
let sink: UdpPeer;
const subs: (Subscriber & { got: string[] })[] = [];
const sinkGot: string[] = [];

before(async () => {
  mux = await UdpMux.bind({ address: '127.0.0.1' });
  router = Router.create(mux);
  remote = await UdpPeer.open();
  strangers = [await UdpPeer.open(), await UdpPeer.open()];
  sink = await UdpPeer.open();
  plain = router.createPlainTransport({ listenIp: '127.0.0.1' });
  plain.connect({ ip: '127.0.0.1', port: remote.port });
  producer = plain.produce({ kind: 'audio', ssrc: SSRC, payloadType: PT, codec: { name: 'opus', clockRate: 48000, channels: 2 } });
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const s = await subscriber(mux, 'audio');
    await router.consume(producer, s.server, s.transceiver);
    const sub = { ...s, got: [] as string[] };
    void (async () => {
      for await (const p of sub.track) sub.got.push(p.payload.toString('latin1'));
    })();
    subs.push(sub);
  }
  const out = router.createPlainTransport({ listenIp: '127.0.0.1' });
  out.connect({ ip: '127.0.0.1', port: sink.port });
  out.consume(producer, { payloadType: 100 });
  void (async () => {
    for (;;) {
      const d = await sink.recv();
      if (d.length >= 12) sinkGot.push(d.subarray(12).toString('latin1'));
    }
  })();
});

after(() => {
  router?.close();
  closePeers(...subs);
  for (const p of [remote, sink, ...(strangers ?? [])]) p?.close();
  mux?.close();
});

let legitSeq = 30_000;
let legitCount = 0;
/** Sends PER_ROUND genuine packets from the remote, leaving a gap of 4 sequence numbers after each. */
async function sendGenuine(round: number): Promise<void> {
  for (let i = 0; i < PER_ROUND; i++) {
    await remote.send(rtp(0x80, PT, legitSeq & 0xffff, SSRC, Buffer.from(`legit:${round}:${i}`)), plain.tuple.localPort);
    legitSeq += 5;
    legitCount++;
  }
}

async function expectOnlyGenuine(what: string): Promise<void> {
  await within((async () => {
    while (subs.some((s) => s.got.length < legitCount) || sinkGot.length < legitCount) await new Promise((r) => setTimeout(r, 10));
  })(), 15_000, `${what}: genuine packets everywhere`);
  await new Promise((r) => setTimeout(r, 100)); // anything forged would have arrived by now
  for (const [i, s] of subs.entries()) {
    assert.deepEqual(s.got.filter((p) => !p.startsWith('legit:')), [], `${what}: subscriber ${i} received a packet that is not genuine`);
    assert.equal(s.got.length, legitCount, `${what}: subscriber ${i} received exactly the genuine packets`);
  }
  assert.deepEqual(sinkGot.filter((p) => !p.startsWith('legit:')), [], `${what}: the plain sink received a packet that is not genuine`);
  assert.equal(sinkGot.length, legitCount);
}

test('strangers at a plain port: garbage, clear RTP with the producer SSRC, lying RTP/RTCP are dropped and counted', { timeout: 60_000 }, async () => {
  const r = new Prng(18);
  const before = plain.getStats();
  const receivedBefore = producer.getStats().packetsReceived;
  let rtpLooking = 0;
  let other = 0;
  for (let round = 0; round < ROUNDS; round++) {
    await sendGenuine(round);
    const attack = [
      ...garbage(8, 300 + round),
      ...Array.from({ length: 8 }, (_, k) => rtp(0x80, PT, (legitSeq - 4 + k) & 0xffff, SSRC, Buffer.from(`forged:${round}:${k}`))),
      ...lyingRtp(SSRC, r),
      ...lyingRtcp(SSRC, r),
    ];
    for (const b of attack) {
      if (b.length >= 8 && b[0]! >= 128 && b[0]! <= 191) rtpLooking++;
      else other++;
    }
    const from = strangers[round % strangers.length]!;
    for (const b of attack) await from.send(b, plain.tuple.localPort);
    // One round at a time: the socket's receive buffer is the kernel's default, and a burst far
    // beyond it would be dropped by the kernel (uncounted by us) rather than judged.
    const judged = (): number => plain.getStats().spoofedDropped - before.spoofedDropped + plain.getStats().notRtpDropped - before.notRtpDropped;
    await until(() => judged() === rtpLooking + other, 10_000, `round ${round}: stranger datagrams judged (${judged()} of ${rtpLooking + other})`);
  }
  await expectOnlyGenuine('strangers');
  const s = plain.getStats();
  assert.equal(s.spoofedDropped - before.spoofedDropped, rtpLooking, "every stranger's RTP/RTCP dropped and counted");
  assert.equal(s.notRtpDropped - before.notRtpDropped, other, "every stranger's non-RTP datagram dropped and counted");
  assert.equal(producer.getStats().packetsReceived - receivedBefore, ROUNDS * PER_ROUND, 'the engine saw only genuine packets');
  assert.equal(router.stats.jsDeliveries, 0);
});

test('malformed from the remote itself: garbage, lying RTP/RTCP, bad extension, wrong payload type, unknown SSRC', { timeout: 60_000 }, async () => {
  const r = new Prng(81);
  const before = plain.getStats();
  const dropsBefore = router.stats.drops;
  for (let round = 0; round < ROUNDS; round++) {
    await sendGenuine(round);
    const base = legitSeq - 5;
    const attack = [
      ...garbage(6, 700 + round).filter((b) => b.length < 8 || b[0]! < 128 || b[0]! > 191),
      ...lyingRtcp(SSRC, r),
      rtp(0x90, PT, base + 1, SSRC, Buffer.concat([Buffer.from([0xbe, 0xde, 0x00, 0x01, 0x1f, 0x00, 0x00, 0x00]), Buffer.from(`malformed:${round}`)])),
      rtp(0x80, 96, base + 2, SSRC, Buffer.from(`wrong-pt:${round}`)),
      rtp(0x80, PT, base + 3, (SSRC ^ 0x5a5a5a5a) >>> 0, Buffer.from(`other-ssrc:${round}`)),
      rtp(0x8f, PT, base + 4, SSRC, r.bytes(8)), // 15 CSRCs announced, 2 present
    ];
    for (const b of attack) await remote.send(b, plain.tuple.localPort);
  }
  await expectOnlyGenuine('from the remote');
  const s = plain.getStats();
  assert.equal(s.spoofedDropped, before.spoofedDropped, 'the remote is not a stranger');
  assert.ok(s.notRtpDropped > before.notRtpDropped, 'non-RTP from the remote dropped and counted');
  assert.equal(s.unknownSsrcDropped - before.unknownSsrcDropped, ROUNDS, 'unknown SSRC dropped and counted');
  assert.ok(s.rtcpMalformed > before.rtcpMalformed, 'RTCP that does not parse is counted');
  const drops = router.stats.drops;
  const consumers = SUBSCRIBERS + 1;
  assert.equal(drops.malformed - dropsBefore.malformed, 2 * ROUNDS * consumers, 'malformed RTP dropped per consumer and counted');
  assert.equal(drops['payload-type'] - dropsBefore['payload-type'], ROUNDS * consumers, 'unnegotiated payload type dropped per consumer');
  // Forwarding goes on after all of it.
  await sendGenuine(ROUNDS);
  await expectOnlyGenuine('after the attacks');
  assert.equal(RtpPacket.tryParse(Buffer.alloc(3)), null);
});
