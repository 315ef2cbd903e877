// Many peer connections on one shared UDP port (UdpMux) with media both ways: the port's native
// session table (native/udp/udp_session_table.hpp, docs/udp.md) unprotects every connection's
// SRTP/SRTCP inside the receive batch and protects at flush; the counters show that no packet was
// protected or unprotected in JavaScript. Real sockets on loopback, real DTLS-SRTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { RtcpPictureLossIndication } from '../../lib/rtp/rtcp/picture-loss-indication.js';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';
import { within } from './peer-helpers.js';

const CONNECTIONS = 16;
const PACKETS = 20;

interface Pair {
  client: RTCPeerConnection;
  server: RTCPeerConnection;
  up: LocalStreamTrack;
  down: LocalStreamTrack;
  upRemote: MediaStreamTrack;
  downRemote: MediaStreamTrack;
}

async function connect(serverMux: UdpMux, i: number): Promise<Pair> {
  // Clients own their sockets: one 5-tuple per connection (two muxes cannot tell connections apart).
  const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const server = new RTCPeerConnection({ udpMux: serverMux, iceLite: i % 2 === 0 });
  const up = new LocalStreamTrack({ kind: 'audio' });
  client.addTransceiver(up, { direction: 'sendrecv' });
  const upRemote = new Promise<MediaStreamTrack>((r) => server.once('track', (e) => r(e.track)));
  const downRemote = new Promise<MediaStreamTrack>((r) => client.once('track', (e) => r(e.track)));
  await client.setLocalDescription(await client.createOffer());
  await server.setRemoteDescription(client.localDescription!);
  const down = new LocalStreamTrack({ kind: 'audio' });
  server.addTrack(down);
  await server.setLocalDescription(await server.createAnswer());
  await client.setRemoteDescription(server.localDescription!);
  await within(Promise.all([client.connected(), server.connected()]), 15_000, `pair ${i} connected`);
  return { client, server, up, down, upRemote: await within(upRemote, 5000, 'up track'), downRemote: await within(downRemote, 5000, 'down track') };
}

function payload(i: number, n: number, dir: string): Buffer {
  return Buffer.from(`${dir}:${i}:${n}:`.padEnd(60, String.fromCharCode(97 + (i % 26))));
}

async function receiveAll(track: MediaStreamTrack, i: number, dir: string): Promise<void> {
  const got = new Set<number>();
  while (got.size < PACKETS) {
    const p = await track.recv();
    const [d, who, n] = p.payload.toString().split(':');
    assert.equal(d, dir);
    assert.equal(Number(who), i, 'a packet reached the wrong connection');
    assert.ok(p.payload.equals(payload(i, Number(n), dir)), 'payload damaged');
    got.add(Number(n));
  }
}

test(`${CONNECTIONS} connections on one server port: media both ways, SRTP only in the native session table`, { timeout: 120_000 }, async () => {
  const serverMux = await UdpMux.bind({ address: '127.0.0.1' });
  const pairs: Pair[] = [];
  try {
    for (let i = 0; i < CONNECTIONS; i++) pairs.push(await connect(serverMux, i));
    const ports = new Set(pairs.map((p) => /a=candidate:\S+ 1 udp \d+ \S+ (\d+) typ host/.exec(p.server.localDescription!.sdp)![1]));
    assert.deepEqual([...ports], [String(serverMux.local.port)], 'every server connection announces the one mux port');
    const before = serverMux.stats;
    const receivers = pairs.flatMap((p, i) => [
      within(receiveAll(p.upRemote, i, 'up'), 20_000, `pair ${i} up`),
      within(receiveAll(p.downRemote, i, 'down'), 20_000, `pair ${i} down`),
    ]);
    for (let n = 0; n < PACKETS; n++) {
      pairs.forEach((p, i) => {
        p.up.send(new RtpPacket({ timestamp: n * 960, payload: payload(i, n, 'up') }));
        p.down.send(new RtpPacket({ timestamp: n * 960, payload: payload(i, n, 'down') }));
      });
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(receivers);
    // RTCP both ways on every connection (SRTCP through the same table).
    await Promise.all(pairs.map(async (p, i) => {
      const [ct] = p.client.getTransceivers();
      const st = p.server.getTransceivers()[0]!;
      const pli = new Promise<unknown>((r) => ct!.sender.once('rtcp', (e) => r(e.packet)));
      st.sender.sendRtcp([new RtcpPictureLossIndication(st.sender.ssrc, ct!.sender.ssrc)]);
      assert.ok((await within(pli, 5000, `pair ${i} RTCP`)) instanceof RtcpPictureLossIndication);
    }));
    const after = serverMux.stats;
    assert.ok(after.srtpUnprotected - before.srtpUnprotected >= CONNECTIONS * PACKETS, 'the port unprotected natively');
    assert.ok(after.srtpProtected - before.srtpProtected >= CONNECTIONS * PACKETS, 'the port protected natively');
    assert.equal(after.srtpRejected, 0, 'nothing refused');
    for (const [i, p] of pairs.entries()) {
      for (const pc of [p.client, p.server]) {
        const c = pc.mediaTransport!.srtpCounters;
        assert.equal(c.unprotectedInJs, 0, `pair ${i}: SRTP unprotected in JavaScript`);
        assert.equal(c.protectedInJs, 0, `pair ${i}: SRTP protected in JavaScript`);
        assert.ok(c.unprotectedNatively >= PACKETS + (pc === p.client ? 1 : 0), `pair ${i}: native unprotects ${JSON.stringify(c)} ${pc === p.client}`);
        assert.ok(c.protectedNatively >= PACKETS, `pair ${i}: native protects ${c.protectedNatively}`);
      }
    }
  } finally {
    for (const p of pairs) {
      p.client.close();
      p.server.close();
    }
    serverMux.close();
  }
});

test('closing connections removes their routes from the port; the others keep flowing', { timeout: 60_000 }, async () => {
  const serverMux = await UdpMux.bind({ address: '127.0.0.1' });
  const pairs: Pair[] = [];
  try {
    for (let i = 0; i < 4; i++) pairs.push(await connect(serverMux, i));
    assert.equal(serverMux.stats.routes >= 4, true);
    pairs[0]!.client.close();
    pairs[0]!.server.close();
    pairs[1]!.server.close();
    assert.equal(serverMux.stats.transports, 2, 'closed connections left the port');
    // The surviving connections still carry media natively.
    for (const i of [2, 3]) {
      const p = pairs[i]!;
      const got = within(p.upRemote.recv(), 5000, `pair ${i} after closes`);
      p.up.send(new RtpPacket({ timestamp: 1, payload: payload(i, 0, 'up') }));
      assert.ok((await got).payload.equals(payload(i, 0, 'up')));
      assert.equal(p.server.mediaTransport!.srtpCounters.unprotectedInJs, 0);
    }
    // Media from a closed connection's client reaches no one and breaks nothing.
    pairs[1]!.up.send(new RtpPacket({ timestamp: 2, payload: payload(1, 1, 'up') }));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(pairs[2]!.server.connectionState, 'connected');
  } finally {
    for (const p of pairs) {
      p.client.close();
      p.server.close();
    }
    serverMux.close();
  }
});
