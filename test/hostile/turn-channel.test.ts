// Hostile TURN ChannelData from the TURN server's OWN address and port (forged IPv4 source over a raw
// socket, raw-udp.py) to a client whose relayed pair runs on the native channel route (RFC 8656 §12;
// docs/udp.md "TURN channels"): lengths past the datagram, channels nobody bound, forged SRTP inside
// the bound channel and stubs too short for a header. Each is dropped and counted by reason, nothing
// throws or crashes, and media keeps flowing both ways through the relay afterwards.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { coturnSkip, startCoturn, type Coturn } from '../integration/coturn.js';
import { connectAudioBothWays, until } from '../integration/turn-test-helpers.js';
import { RawUdp } from './raw-udp.js';
import { counters, delta, FaultWatch, within } from './session.js';

let turn: Coturn | undefined;
let raw: RawUdp | undefined;
let skip: string | false = coturnSkip;
let watch: FaultWatch;

before(async () => {
  watch = new FaultWatch();
  if (skip) return;
  const r = await RawUdp.open();
  if (typeof r === 'string') {
    skip = `raw sockets unavailable (${r}); run as root with python3`;
    return;
  }
  raw = r;
  turn = await startCoturn();
});

after(() => {
  raw?.close();
  turn?.close();
  watch?.dispose();
});

/** Sends tagged packets on `track` (a few per turn) until `remote` delivers one of them. */
async function flows(track: LocalStreamTrack, remote: MediaStreamTrack, tag: string): Promise<void> {
  let stop = false;
  const got = (async () => {
    for (;;) {
      const p = await remote.recv();
      if (p.payload.toString().startsWith(tag)) return;
    }
  })();
  const send = (async () => {
    for (let i = 0; !stop && i < 500; i++) {
      track.send(new RtpPacket({ timestamp: i * 960, payload: Buffer.from(`${tag} ${i}`) }));
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  try {
    await within(got, 15_000, `${tag} media through the relay`);
  } finally {
    stop = true;
    await send;
  }
}

/** Every SRTP drop reason summed (forged packets fail authentication, or a new SSRC is refused first). */
function srtpDrops(moved: Record<string, number>): number {
  return Object.entries(moved).filter(([k]) => k.startsWith('srtp.')).reduce((a, [, v]) => a + v, 0);
}

function channelData(channel: number, data: Uint8Array, claimed = data.length): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(channel, 0);
  h.writeUInt16BE(claimed, 2);
  return Buffer.concat([h, data]);
}

/** SRTP-looking bytes: an RTP header (version 2) and a seeded body that no key authenticates. */
function forgedSrtp(n: number): Buffer {
  const b = Buffer.alloc(60 + (n % 40));
  b[0] = 0x80;
  b[1] = 111;
  b.writeUInt16BE(n & 0xffff, 2);
  b.writeUInt32BE(0x5eed0000 + n, 8);
  for (let i = 12; i < b.length; i++) b[i] = (n * 31 + i * 7) & 0xff;
  return b;
}

test('forged ChannelData from the TURN server address is dropped and counted; relayed media keeps flowing', { timeout: 90_000 }, async (t) => {
  if (skip) return t.skip(skip);
  const faultsFrom = watch.faults.length;
  const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceServers: [turn!.iceServer('udp')], iceTransportPolicy: 'relay' });
  const server = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const { up, down, upRemote, downRemote } = await connectAudioBothWays(client, server, { trickleFrom: 'client', connectMs: 20_000 });
    const ct = client.mediaTransport!;
    await until(() => ct.relayRouted, 10_000, 'the native TURN channel route');
    const [ut, dt] = [await within(upRemote, 5000, 'up track'), await within(downRemote, 5000, 'down track')];

    // The channel number the client uses, seen on the wire (client host socket → server).
    const host = ct.localSockets[0]!.socket.address();
    const clientEnd = { address: '127.0.0.1', port: host.port };
    const serverEnd = { address: '127.0.0.1', port: turn!.port };
    // Media keeps leaving until the sniffer (which starts asynchronously) has seen one.
    let captured: Buffer[] | undefined;
    const seen = raw!.capture(clientEnd, serverEnd, 1, 10_000, 0x40, 0x4f).then((c) => (captured = c));
    for (let i = 0; captured === undefined && i < 2000; i++) {
      up.send(new RtpPacket({ timestamp: i * 960, payload: Buffer.from(`probe ${i}`) }));
      await new Promise((r) => setTimeout(r, 10));
    }
    await seen;
    assert.equal(captured?.length, 1, 'a ChannelData message from the client to the server was seen');
    const channel = captured![0]!.readUInt16BE(0);
    await flows(up, ut, 'before-up');
    await flows(down, dt, 'before-down');

    const c0 = (await counters(client)).counters;
    const K = 40;
    const lying: Buffer[] = [];
    const unknown: Buffer[] = [];
    const forged: Buffer[] = [];
    const stubs: Buffer[] = [];
    for (let i = 0; i < K; i++) {
      const body = forgedSrtp(i);
      lying.push(channelData(channel, body, body.length + 1 + i * 97));
      // Channels are numbered upwards from 0x4000 (lib/ice/turn-client.ts): the top ones are nobody's.
      unknown.push(channelData(0x4fff - (i % 8), body));
      forged.push(channelData(channel, body));
      stubs.push(Buffer.from([0x40 | (i & 0x0f), i & 0xff, 0].slice(0, 1 + (i % 3))));
    }
    for (const set of [lying, unknown, forged, stubs]) await raw!.send(serverEnd, clientEnd, set, 'valid');
    // Everything was handled once the counters show every class (bounded wait, no sleeps).
    let moved: Record<string, number> = {};
    const deadline = Date.now() + 15_000;
    for (;;) {
      moved = delta(c0, (await counters(client)).counters);
      const done = (moved['udp.channelData'] ?? 0) >= K && (moved['turn.unknown-channel'] ?? 0) >= K &&
        srtpDrops(moved) >= K &&
        (moved['turn.malformed'] ?? 0) >= K;
      if (done) break;
      if (Date.now() > deadline) assert.fail(`not every attack class was counted: ${JSON.stringify(moved)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(moved['udp.channelData'], K, 'lengths past the datagram: dropped natively');
    assert.equal(moved['turn.unknown-channel'], K, 'channels nobody bound: counted by the TURN client');
    assert.equal(moved['turn.malformed'], K, 'stubs shorter than a header');
    assert.equal(srtpDrops(moved), K, 'forged SRTP inside the bound channel: refused by SRTP');
    assert.equal(ct.iceDriverStats.relayedMediaInJs.received, 0, 'no forged media reached JavaScript framing');

    // Media still flows both ways through the relay, on the native route.
    await flows(up, ut, 'after-up');
    await flows(down, dt, 'after-down');
    assert.ok(ct.relayRouted);
    watch.assertNone(faultsFrom, 'forged ChannelData');
  } finally {
    client.close();
    server.close();
  }
});
