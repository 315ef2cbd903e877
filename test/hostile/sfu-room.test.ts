// The hostile-input suite against an SFU room (lib/sfu Router, docs/sfu.md): one publisher and three
// subscribers on one UdpMux port, forwarding in the native engine, while strangers, forged packets
// from the publisher's own address (raw socket) and authenticated-but-wrong packets from the
// publisher's real SRTP session (unknown SSRC, malformed header-extension elements, a payload type the
// subscribers never negotiated) and forged consent checks from the publisher's own address (which the
// port's native consent answers must leave to the agent) arrive between genuine packets; a
// subscriber's own SRTCP session sends lying receiver reports (a report count its length cannot
// hold, a cut block) and RRs about SSRCs that are no leg of it. No forged or malformed packet reaches
// a subscriber, every genuine packet does, nothing crashes or stalls, and the counters show the drops.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCRtpTransceiver } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';
import { Router, type Consumer, type Producer } from '../../lib/sfu/index.js';
import { forgeStun, garbage, lyingRtcp, lyingRtp, Prng, rtp } from './forge.js';
import { counters } from './session.js';
import { RawUdp } from './raw-udp.js';
import { within } from '../integration/peer-helpers.js';

const SUBSCRIBERS = 3;
const ROUNDS = 6;
const PER_ROUND = 10;

interface Room {
  mux: UdpMux;
  router: Router;
  producer: Producer;
  publisher: RTCPeerConnection;
  publisherServer: RTCPeerConnection;
  source: LocalStreamTrack;
  subscribers: { client: RTCPeerConnection; server: RTCPeerConnection; track: MediaStreamTrack; got: string[]; consumer: Consumer }[];
}

let room: Room;
let stranger: Socket;
let raw: RawUdp | undefined;
let rawSkip = '';

async function openRoom(): Promise<Room> {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const publisher = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const publisherServer = new RTCPeerConnection({ udpMux: mux });
  const source = new LocalStreamTrack({ kind: 'audio' });
  publisher.addTransceiver(source, { direction: 'sendonly' });
  const t = new Promise<RTCRtpTransceiver>((r) => publisherServer.once('track', (e) => r(e.transceiver)));
  await publisher.setLocalDescription(await publisher.createOffer());
  await publisherServer.setRemoteDescription(publisher.localDescription!);
  await publisherServer.setLocalDescription(await publisherServer.createAnswer());
  await publisher.setRemoteDescription(publisherServer.localDescription!);
  await within(Promise.all([publisher.connected(), publisherServer.connected()]), 15_000, 'publisher connected');
  const producer = await router.produce(publisherServer, await t);
  const subscribers: Room['subscribers'] = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const server = new RTCPeerConnection({ udpMux: mux });
    const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
    const st = server.addTransceiver(new LocalStreamTrack({ kind: 'audio' }), { direction: 'sendonly' });
    const track = new Promise<MediaStreamTrack>((r) => client.once('track', (e) => r(e.track)));
    await server.setLocalDescription(await server.createOffer());
    await client.setRemoteDescription(server.localDescription!);
    await client.setLocalDescription(await client.createAnswer());
    await server.setRemoteDescription(client.localDescription!);
    await within(Promise.all([client.connected(), server.connected()]), 15_000, `subscriber ${i} connected`);
    const consumer = await router.consume(producer, server, st);
    const sub = { client, server, track: await within(track, 5000, 'track'), got: [] as string[], consumer };
    void (async () => {
      for await (const p of sub.track) sub.got.push(p.payload.toString());
    })();
    subscribers.push(sub);
  }
  return { mux, router, producer, publisher, publisherServer, source, subscribers };
}

before(async () => {
  room = await openRoom();
  stranger = createSocket('udp4');
  await new Promise<void>((r) => stranger.bind(0, '127.0.0.1', r));
  const r = await RawUdp.open();
  if (typeof r === 'string') rawSkip = `raw sockets unavailable (${r}); run as root with python3`;
  else raw = r;
});

after(() => {
  raw?.close();
  stranger?.close();
  room?.router.close();
  for (const s of room?.subscribers ?? []) {
    s.client.close();
    s.server.close();
  }
  room?.publisher.close();
  room?.publisherServer.close();
  room?.mux.close();
});

let legitSeq = 20_000;
let legitCount = 0;
/** Sends PER_ROUND genuine packets, leaving a gap of 4 sequence numbers after each for attacks. */
function sendGenuine(round: number): void {
  for (let i = 0; i < PER_ROUND; i++) {
    room.source.send(new RtpPacket({ sequenceNumber: legitSeq & 0xffff, timestamp: legitSeq * 960, payload: Buffer.from(`legit:${round}:${i}`) }));
    legitSeq += 5;
    legitCount++;
  }
}

/** Waits until every subscriber holds every genuine packet and checks it holds nothing else. */
async function expectOnlyGenuine(what: string): Promise<void> {
  await within((async () => {
    while (room.subscribers.some((s) => s.got.length < legitCount)) await new Promise((r) => setTimeout(r, 10));
  })(), 15_000, `${what}: genuine packets at every subscriber`);
  await new Promise((r) => setTimeout(r, 100)); // anything forged would have arrived by now
  for (const [i, s] of room.subscribers.entries()) {
    const foreign = s.got.filter((p) => !p.startsWith('legit:'));
    assert.deepEqual(foreign, [], `${what}: subscriber ${i} received a packet that is not genuine`);
    assert.equal(s.got.length, legitCount, `${what}: subscriber ${i} received exactly the genuine packets`);
  }
}

function sendFromStranger(packets: readonly Buffer[]): Promise<void> {
  return packets.reduce((p, b) => p.then(() => new Promise<void>((r) => stranger.send(b, room.mux.local.port, '127.0.0.1', () => r()))), Promise.resolve());
}

test('strangers: garbage, clear RTP with the producer SSRC, lying RTP/RTCP never reach a subscriber', { timeout: 60_000 }, async () => {
  const r = new Prng(16);
  const before = room.mux.stats;
  const forwardedBefore = room.router.stats.packetsReceived;
  let sent = 0;
  for (let round = 0; round < ROUNDS; round++) {
    sendGenuine(round);
    const attack = [
      ...garbage(8, 100 + round),
      ...Array.from({ length: 8 }, (_, k) => rtp(0x80, 111, k, room.producer.ssrc, Buffer.from(`forged:${round}:${k}`))),
      ...lyingRtp(room.producer.ssrc, r),
      ...lyingRtcp(room.producer.ssrc, r),
    ];
    sent += attack.length;
    await sendFromStranger(attack);
  }
  await expectOnlyGenuine('strangers');
  const after = room.mux.stats;
  assert.equal(after.drops['unknown-sender'] + after.drops['unknown-ufrag'] - before.drops['unknown-sender'] - before.drops['unknown-ufrag'], sent, 'every stranger datagram dropped and counted');
  assert.equal(room.router.stats.packetsReceived - forwardedBefore, ROUNDS * PER_ROUND, 'the engine saw only genuine packets');
});

test("forged at the publisher's own address: SRTP refuses every one, nothing is forwarded", { timeout: 60_000 }, async (t) => {
  if (!raw) {
    t.skip(rawSkip);
    return;
  }
  const pair = room.publisher.mediaTransport!.selectedPair!;
  const src = { address: '127.0.0.1', port: pair.localBase.port };
  const dst = { address: '127.0.0.1', port: room.mux.local.port };
  const r = new Prng(61);
  const rejectedBefore = room.mux.stats.srtpRejected;
  const received = legitCount;
  let sent = 0;
  for (let round = 0; round < ROUNDS; round++) {
    sendGenuine(round);
    const forged = [
      ...Array.from({ length: 6 }, (_, k) => rtp(0x80, 111, (legitSeq + k) & 0xffff, room.producer.ssrc, Buffer.concat([Buffer.from(`forged:${k}:`), r.bytes(40)]))),
      ...lyingRtp(room.producer.ssrc, r).filter((b) => b.length >= 12),
    ];
    sent += forged.length;
    await raw.send(src, dst, forged, 'valid');
  }
  await expectOnlyGenuine('forged source');
  assert.ok(legitCount > received);
  assert.ok(room.mux.stats.srtpRejected - rejectedBefore >= sent - ROUNDS, `SRTP rejected the forged packets (${room.mux.stats.srtpRejected - rejectedBefore} of ${sent})`);
});

test("authenticated but wrong, from the publisher's own SRTP session: unknown SSRC, malformed extensions, unnegotiated payload type", { timeout: 60_000 }, async () => {
  const media = room.publisher.mediaTransport!;
  const srtp = media.srtp!;
  const socket = media.localSockets[0]!.socket;
  const dest = socket.destination(room.mux.local.port, '127.0.0.1');
  const out = Buffer.alloc(2048);
  const protect = (clear: Buffer): Buffer => Buffer.from(out.subarray(0, srtp.protectRtp(clear, out)));
  const dropsBefore = room.router.stats.drops;
  for (let round = 0; round < ROUNDS; round++) {
    sendGenuine(round);
    const base = legitSeq - 5; // the gap after the last genuine packet
    const badExtension = rtp(0x90, 111, base + 1, room.producer.ssrc, Buffer.concat([
      Buffer.from([0xbe, 0xde, 0x00, 0x01, 0x1f, 0x00, 0x00, 0x00]), // one-byte element of 16 bytes in a 4-byte block
      Buffer.from(`malformed:${round}`),
    ]));
    const wrongPt = rtp(0x80, 100, base + 2, room.producer.ssrc, Buffer.from(`wrong-pt:${round}`));
    const unknownSsrc = rtp(0x80, 111, base + 3, (room.producer.ssrc ^ 0x5a5a5a5a) >>> 0, Buffer.from(`other-ssrc:${round}`));
    for (const b of [badExtension, wrongPt, unknownSsrc]) socket.sendTo(protect(b), dest);
  }
  await expectOnlyGenuine('authenticated but wrong');
  const drops = room.router.stats.drops;
  assert.equal(drops.malformed - dropsBefore.malformed, ROUNDS * SUBSCRIBERS, 'malformed extension elements: dropped per consumer and counted');
  assert.equal(drops['payload-type'] - dropsBefore['payload-type'], ROUNDS * SUBSCRIBERS, 'unnegotiated payload type: dropped per consumer and counted');
  assert.equal(room.router.stats.jsDeliveries, 0);
});

test("forged consent checks at the publisher's own address: never answered natively, the agent drops and counts them", { timeout: 60_000 }, async (t) => {
  if (!raw) {
    t.skip(rawSkip);
    return;
  }
  const socket = room.mux.nativeSocket!;
  // Every connection's selected pair is on the port: its consent checks are answered natively.
  assert.equal(socket.consentStats.registrations, 1 + SUBSCRIBERS);
  const pair = room.publisher.mediaTransport!.selectedPair!;
  const src = { address: '127.0.0.1', port: pair.localBase.port };
  const dst = { address: '127.0.0.1', port: room.mux.local.port };
  const server = room.publisherServer.mediaTransport!.ice.localCredentials;
  const client = room.publisher.mediaTransport!.ice.localCredentials;
  const user = `${server.ufrag}:${client.ufrag}`;
  const per = 2; // of each kind per round
  const declined0 = socket.consentStats.declined;
  const server0 = (await counters(room.publisherServer)).counters;
  const client0 = (await counters(room.publisher)).counters;
  for (let round = 0; round < ROUNDS; round++) {
    sendGenuine(round);
    // The right USERNAME and the publisher's role (ICE-CONTROLLING), so only the integrity checks refuse them.
    const forged = [
      ...Array.from({ length: per }, () => forgeStun({ username: user, integrityKey: 'not-the-password-0123456', fingerprint: true })),
      ...Array.from({ length: per }, () => forgeStun({ username: user, integrityKey: server.password, corruptIntegrity: true, fingerprint: true })),
      ...Array.from({ length: per }, () => forgeStun({ username: user, integrityKey: server.password, fingerprint: true, corruptFingerprint: true })),
    ];
    await raw.send(src, dst, forged, 'valid');
  }
  const each = ROUNDS * per;
  await expectOnlyGenuine('forged consent checks');
  const wait = Date.now() + 15_000;
  let moved: Record<string, number> = {};
  while (Date.now() < wait) {
    const now = (await counters(room.publisherServer)).counters;
    moved = Object.fromEntries(Object.keys(now).map((k) => [k, (now[k] ?? 0) - (server0[k] ?? 0)]));
    if ((moved['ice.bad-integrity'] ?? 0) >= 2 * each && (moved['ice.bad-fingerprint'] ?? 0) >= each) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(moved['ice.bad-integrity'], 2 * each, 'bad MESSAGE-INTEGRITY: dropped by the agent and counted');
  assert.equal(moved['ice.bad-fingerprint'], each, 'bad FINGERPRINT: dropped by the agent and counted');
  assert.ok(socket.consentStats.declined - declined0 >= 3 * each, 'left to JavaScript by the native responder');
  // An answer to a forged request would reach the real publisher as an unmatched response.
  const client1 = (await counters(room.publisher)).counters;
  assert.equal((client1['ice.unmatched-response'] ?? 0) - (client0['ice.unmatched-response'] ?? 0), 0, 'a forged check was answered');
});

test("authenticated but lying receiver reports from a subscriber's own SRTCP session: dropped and counted, forwarding goes on", { timeout: 60_000 }, async () => {
  const sub = room.subscribers[0]!;
  const media = sub.client.mediaTransport!;
  const srtp = media.srtp!;
  const socket = media.localSockets[0]!.socket;
  const dest = socket.destination(room.mux.local.port, '127.0.0.1');
  const out = Buffer.alloc(2048);
  const protect = (clear: Buffer): Buffer => Buffer.from(out.subarray(0, srtp.protectRtcp(clear, out)));
  const legSsrc = sub.consumer.ssrc;
  const block = (ssrc: number, fraction: number): Buffer => {
    const b = Buffer.alloc(24);
    b.writeUInt32BE(ssrc >>> 0, 0);
    b[4] = fraction;
    b.writeUInt32BE(7, 8);
    return b;
  };
  const rr = (count: number, blocks: Buffer): Buffer => {
    const h = Buffer.alloc(8);
    h[0] = 0x80 | count;
    h[1] = 201;
    h.writeUInt16BE((8 + blocks.length) / 4 - 1, 2);
    h.writeUInt32BE(0x5eed, 4);
    return Buffer.concat([h, blocks]);
  };
  const lengthPastEnd = (b: Buffer): Buffer => {
    b.writeUInt16BE(b.length / 4 + 3, 2);
    return b;
  };
  const server0 = (await counters(sub.server)).counters;
  const stats0 = room.router.stats;
  const lying = [
    rr(31, block(legSsrc, 0xee)), // 31 blocks claimed, one present: about the leg, never to be believed
    Buffer.concat([rr(1, block(legSsrc, 0xee)), Buffer.from([0x81, 201, 0x00])]), // a cut header after a good RR
    lengthPastEnd(rr(1, block(legSsrc, 0xee))), // its length runs past the end
  ];
  const strangers = rr(2, Buffer.concat([block(0x0badc0de, 1), block(0x0badc0df, 2)])); // well formed, nobody's SSRC
  for (let round = 0; round < ROUNDS; round++) {
    sendGenuine(round);
    for (const b of [...lying, strangers]) socket.sendTo(protect(b), dest);
  }
  await expectOnlyGenuine('lying receiver reports');
  const wait = Date.now() + 15_000;
  let moved = 0;
  while (Date.now() < wait) {
    moved = ((await counters(sub.server)).counters['media.rtcpMalformed'] ?? 0) - (server0['media.rtcpMalformed'] ?? 0);
    if (moved >= lying.length * ROUNDS && room.router.stats.receiverReportBlocksUnknownSsrc - stats0.receiverReportBlocksUnknownSsrc >= 2 * ROUNDS) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(moved, lying.length * ROUNDS, 'each lying compound dropped by the connection and counted (the engine never reads it)');
  assert.equal(room.router.stats.receiverReportBlocksUnknownSsrc - stats0.receiverReportBlocksUnknownSsrc, 2 * ROUNDS, 'blocks about unknown SSRCs counted');
  assert.notEqual(sub.consumer.getStats().pwtRemoteInbound?.fractionLost, 0xee / 256, 'no lying block reached the leg');
  assert.equal(room.router.stats.jsDeliveries, 0);
});
