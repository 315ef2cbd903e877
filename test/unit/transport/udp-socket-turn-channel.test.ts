// UdpSocket TURN channel routes (RFC 8656 §12.4-§12.6, docs/udp.md "TURN channels"): packets queued
// with sendSrtp leave protected AND framed as ChannelData for the server; ChannelData of the routed
// channel from the server is unframed and unprotected inside the receive batch (relayRoute names the
// route); lying lengths are dropped and counted, unknown channels are left for the TURN client.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { UdpSocket, UdpSrtpStatus, type UdpBatch } from '../../../lib/transport/source/udp-socket.js';
import { SrtpSession } from '../../../lib/srtp/srtp-session.js';
import { SrtpProtectionProfile } from '../../../lib/srtp/srtp-profile.js';

function rtp(seq: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = 96;
  h.writeUInt16BE(seq, 2);
  h.writeUInt32BE(seq * 960, 4);
  h.writeUInt32BE(0x0badcafe, 8);
  return Buffer.concat([h, payload]);
}

function channelData(channel: number, data: Uint8Array, claimed = data.length, pad = 0): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(channel, 0);
  h.writeUInt16BE(claimed, 2);
  return Buffer.concat([h, data, Buffer.alloc(pad, 0xee)]);
}

interface Seen {
  status: number;
  relay: number;
  data: Buffer;
}

function collect(s: UdpSocket, count: number, ms = 5000): Promise<Seen[]> {
  return new Promise((resolve) => {
    const got: Seen[] = [];
    const t = setTimeout(() => resolve(got), ms);
    s.onBatch((b: UdpBatch) => {
      for (let i = 0; i < b.count; i++) got.push({ status: b.srtpStatus(i), relay: b.relayRoute(i), data: Buffer.from(b.data(i)) });
      if (got.length >= count) {
        clearTimeout(t);
        resolve(got);
      }
    });
  });
}

function cleanup(t: TestContext, ...things: { close(): void }[]): void {
  t.after(() => things.forEach((x) => x.close()));
}

function keyedPair(): [SrtpSession, SrtpSession] {
  const profile = SrtpProtectionProfile.AES128_CM_HMAC_SHA1_80;
  const k1 = randomBytes(16), s1 = randomBytes(14), k2 = randomBytes(16), s2 = randomBytes(14);
  const a = new SrtpSession();
  const b = new SrtpSession();
  a.setKeys({ profile, localMasterKey: k1, localMasterSalt: s1, remoteMasterKey: k2, remoteMasterSalt: s2 });
  b.setKeys({ profile, localMasterKey: k2, localMasterSalt: s2, remoteMasterKey: k1, remoteMasterSalt: s1 });
  return [a, b];
}

test('a TURN channel route frames and unframes ChannelData natively around SRTP, both ways', async (t) => {
  const [local, peer] = keyedPair();
  const client = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  const server = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' }); // stands in for the TURN server
  cleanup(t, client, server, local, peer);
  const channel = 0x4abc;
  const route = client.addSrtpRoute(client.destination(server.address().port, '127.0.0.1'), local, channel);
  assert.equal(route.channel, channel);

  // Send: each packet leaves as one ChannelData message, unpadded (UDP), holding the SRTP packet.
  const N = 50;
  const atServer = collect(server, N);
  const sent: Buffer[] = [];
  for (let i = 0; i < N; i++) {
    const p = rtp(100 + i, randomBytes(20 + i * 7));
    sent.push(p);
    client.sendSrtp(p, route);
  }
  const framed = await atServer;
  assert.equal(framed.length, N);
  const clear = Buffer.alloc(2048);
  for (let i = 0; i < N; i++) {
    const m = framed[i]!.data;
    assert.equal(m.readUInt16BE(0), channel);
    assert.equal(m.readUInt16BE(2), m.length - 4, 'no padding over UDP');
    const n = peer.unprotectRtp(m.subarray(4), clear);
    assert.deepEqual(clear.subarray(0, n), sent[i]);
  }
  assert.equal(client.stats.channelDataSent, N);
  assert.equal(client.stats.srtpProtected, N);

  // Receive: padded and unpadded ChannelData of the routed channel arrive clear, with the route id.
  const back: Buffer[] = [];
  const atClient = collect(client, N);
  const scratch = Buffer.alloc(2048);
  for (let i = 0; i < N; i++) {
    const p = rtp(500 + i, randomBytes(30 + i));
    back.push(p);
    const n = peer.protectRtp(p, scratch);
    server.send(channelData(channel, scratch.subarray(0, n), n, i % 2 === 0 ? 0 : (4 - (n % 4)) % 4), client.address().port, '127.0.0.1');
  }
  const got = await atClient;
  assert.equal(got.length, N);
  for (let i = 0; i < N; i++) {
    assert.equal(got[i]!.status, UdpSrtpStatus.unprotected);
    assert.equal(got[i]!.relay, route.id);
    assert.deepEqual(got[i]!.data, back[i]);
  }
  assert.equal(client.stats.channelDataReceived, N);

  // Hostile: a length past the datagram (dropped, counted), a channel nobody routed and a
  // ChannelData-looking datagram from another address (both left untouched for the TURN client),
  // DTLS through the channel (unframed, not SRTP), then a genuine packet still gets through.
  const stranger = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  cleanup(t, stranger);
  const n = peer.protectRtp(rtp(900, randomBytes(40)), scratch);
  const genuine = Buffer.from(scratch.subarray(0, n));
  const hostile = collect(client, 5);
  // Each send is flushed at once so that the five arrive in this order from two sockets.
  const from = (s: UdpSocket, d: Buffer): void => {
    s.send(d, client.address().port, '127.0.0.1');
    s.flush();
  };
  const lying = channelData(channel, genuine, genuine.length + 9);
  from(server, lying);
  const unknown = channelData(0x4001, genuine);
  from(server, unknown);
  from(stranger, channelData(channel, genuine));
  const dtls = Buffer.from([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
  from(server, channelData(channel, dtls));
  from(server, channelData(channel, genuine));
  const h = await hostile;
  assert.equal(h.length, 5);
  assert.equal(h[0]!.status, UdpSrtpStatus.channelDataMalformed);
  assert.equal(h[0]!.relay, 0);
  assert.deepEqual(h[1], { status: UdpSrtpStatus.none, relay: 0, data: unknown });
  assert.equal(h[2]!.status, UdpSrtpStatus.none);
  assert.equal(h[2]!.relay, 0);
  assert.deepEqual(h[3], { status: UdpSrtpStatus.none, relay: route.id, data: dtls });
  assert.equal(h[4]!.status, UdpSrtpStatus.unprotected);
  assert.equal(h[4]!.relay, route.id);
  assert.equal(client.stats.drops.channelData, 1);

  // Misuse: a channel number outside 0x4000..0x4FFF is refused with a typed error.
  assert.throws(() => client.addSrtpRoute(client.destination(server.address().port, '127.0.0.1'), local, 0x5000), { code: 'ERR_UDP_SRTP_ROUTE' });
  // A removed route frames nothing more: its ChannelData is left as received.
  client.removeSrtpRoute(route);
  const afterRemoval = collect(client, 1);
  server.send(channelData(channel, genuine), client.address().port, '127.0.0.1');
  const r = await afterRemoval;
  assert.equal(r[0]?.relay, 0);
  assert.equal(r[0]?.data[0], channel >> 8);
});
