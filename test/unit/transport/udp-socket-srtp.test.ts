// The native SRTP fast path of UdpSocket: routed datagrams are unprotected inside the receive
// batch and protected inside the send flush, with no JS call per packet; hostile input from the
// routed address is refused and counted, and the route keeps working.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { UdpSocket, UdpSrtpStatus, type UdpBatch } from '../../../lib/transport/source/udp-socket.js';
import { SrtpSession } from '../../../lib/srtp/srtp-session.js';
import { SrtpProtectionProfile } from '../../../lib/srtp/srtp-profile.js';

function rtp(seq: number, payload: Buffer, ssrc = 0x11223344): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = 96;
  h.writeUInt16BE(seq, 2);
  h.writeUInt32BE(seq * 960, 4);
  h.writeUInt32BE(ssrc, 8);
  return Buffer.concat([h, payload]);
}

function rtcpRr(ssrc: number): Buffer {
  const b = Buffer.alloc(8);
  b[0] = 0x80;
  b[1] = 201; // RR, no report blocks
  b.writeUInt16BE(1, 2);
  b.writeUInt32BE(ssrc, 4);
  return b;
}

interface Seen {
  status: number;
  data: Buffer;
}

/** Closes sockets and sessions when the test ends, pass or fail (an open socket keeps the run alive). */
function cleanup(t: TestContext, ...things: { close(): void }[]): void {
  t.after(() => things.forEach((x) => x.close()));
}

function collect(s: UdpSocket, count: number, ms = 3000): Promise<Seen[]> {
  return new Promise((resolve) => {
    const got: Seen[] = [];
    const t = setTimeout(() => resolve(got), ms);
    s.onBatch((b: UdpBatch) => {
      for (let i = 0; i < b.count; i++) got.push({ status: b.srtpStatus(i), data: Buffer.from(b.data(i)) });
      if (got.length >= count) {
        clearTimeout(t);
        resolve(got);
      }
    });
  });
}

for (const [name, profile, keyLen, saltLen] of [
  ['AES_CM_128_HMAC_SHA1_80', SrtpProtectionProfile.AES128_CM_HMAC_SHA1_80, 16, 14],
  ['AEAD_AES_128_GCM', SrtpProtectionProfile.AEAD_AES_128_GCM, 16, 12],
] as const) {
  test(`${name}: routed RTP and RTCP are protected at flush and unprotected in the receive batch`, async (t) => {
    const k1 = randomBytes(keyLen), s1 = randomBytes(saltLen), k2 = randomBytes(keyLen), s2 = randomBytes(saltLen);
    const alice = new SrtpSession();
    const bob = new SrtpSession();
    alice.setKeys({ profile, localMasterKey: k1, localMasterSalt: s1, remoteMasterKey: k2, remoteMasterSalt: s2 });
    bob.setKeys({ profile, localMasterKey: k2, localMasterSalt: s2, remoteMasterKey: k1, remoteMasterSalt: s1 });
    const a = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
    const b = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1', recvBufferSize: 4 << 20 });
    cleanup(t, a, b, alice, bob);
    const aToB = a.addSrtpRoute(a.destination(b.address().port, '127.0.0.1'), alice);
    b.addSrtpRoute(b.destination(a.address().port, '127.0.0.1'), bob);
    const N = 300;
    const pending = collect(b, N + 1);
    const sent: Buffer[] = [];
    for (let i = 0; i < N; i++) {
      const p = rtp(1000 + i, randomBytes(i % 1200));
      sent.push(p);
      a.sendSrtp(p, aToB);
    }
    a.sendSrtp(rtcpRr(0x11223344), aToB);
    const got = await pending;
    assert.equal(got.length, N + 1);
    for (let i = 0; i < N; i++) {
      assert.equal(got[i]!.status, UdpSrtpStatus.unprotected);
      assert.deepEqual(got[i]!.data, sent[i]);
    }
    assert.equal(got[N]!.status, UdpSrtpStatus.unprotected);
    assert.deepEqual(got[N]!.data, rtcpRr(0x11223344));
    assert.equal(a.stats.srtpProtected, N + 1);
    assert.equal(b.stats.srtpUnprotected, N + 1);
    assert.equal(bob.stats().rtpUnprotected, N);
  });
}

test('hostile datagrams from the routed address are refused and counted; the session survives', async (t) => {
  const k1 = randomBytes(16), s1 = randomBytes(14), k2 = randomBytes(16), s2 = randomBytes(14);
  const profile = SrtpProtectionProfile.AES128_CM_HMAC_SHA1_80;
  const alice = new SrtpSession();
  const bob = new SrtpSession();
  alice.setKeys({ profile, localMasterKey: k1, localMasterSalt: s1, remoteMasterKey: k2, remoteMasterSalt: s2 });
  bob.setKeys({ profile, localMasterKey: k2, localMasterSalt: s2, remoteMasterKey: k1, remoteMasterSalt: s1 });
  const a = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  const b = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  cleanup(t, a, b, alice, bob);
  const route = a.addSrtpRoute(a.destination(b.address().port, '127.0.0.1'), alice);
  b.addSrtpRoute(b.destination(a.address().port, '127.0.0.1'), bob);
  const dest = a.destination(b.address().port, '127.0.0.1');
  const hostile: Buffer[] = [
    Buffer.from([0x80]), // one byte
    rtp(1, Buffer.alloc(0)).subarray(0, 11), // short header
    Buffer.concat([rtp(2, Buffer.alloc(20)), Buffer.alloc(10)]), // plaintext with a bogus tag
    (() => { const p = rtp(3, Buffer.alloc(40)); p[0] = 0x9f; return p; })(), // CSRC count past the end
    (() => { const p = rtp(4, Buffer.alloc(8)); p[0] = 0x90; p.writeUInt16BE(0xffff, 14); return p; })(), // extension length lies
    Buffer.concat([Buffer.from([0x80, 200, 0xff, 0xff]), randomBytes(30)]), // SRTCP with lying length and garbage
    randomBytes(1400).fill(0x81, 0, 1),
  ];
  const pending = collect(b, hostile.length + 2);
  a.sendSrtp(rtp(100, Buffer.from('before')), route);
  a.flush();
  for (const h of hostile) a.sendTo(h, dest);
  a.flush();
  a.sendSrtp(rtp(101, Buffer.from('after')), route);
  const got = await pending;
  assert.equal(got.length, hostile.length + 2);
  assert.equal(got[0]!.status, UdpSrtpStatus.unprotected);
  assert.equal(got[0]!.data.subarray(12).toString(), 'before');
  for (let i = 1; i <= hostile.length; i++) assert.ok(got[i]!.status >= UdpSrtpStatus.refusedBase, `hostile #${i - 1} refused`);
  assert.equal(got[hostile.length + 1]!.status, UdpSrtpStatus.unprotected);
  assert.equal(got[hostile.length + 1]!.data.subarray(12).toString(), 'after');
  assert.equal(b.stats.drops.srtpReceive, hostile.length);
  const reasons = bob.stats().dropped;
  assert.equal(Object.values(reasons).reduce((x, y) => x + y, 0), hostile.length);
});

test('datagrams from an unrouted source and non-RTP datagrams pass through untouched', async (t) => {
  const bob = new SrtpSession();
  bob.setKeys({ profile: SrtpProtectionProfile.AES128_CM_HMAC_SHA1_80, localMasterKey: randomBytes(16), localMasterSalt: randomBytes(14), remoteMasterKey: randomBytes(16), remoteMasterSalt: randomBytes(14) });
  const a = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  const stranger = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  const b = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  cleanup(t, a, b, stranger, bob);
  b.addSrtpRoute(b.destination(a.address().port, '127.0.0.1'), bob);
  const pending = collect(b, 2);
  stranger.send(rtp(1, Buffer.from('stranger')), b.address().port, '127.0.0.1');
  stranger.flush();
  await new Promise((r) => setTimeout(r, 20));
  a.send(Buffer.from([0x00, 0x01, 0x00, 0x00]), b.address().port, '127.0.0.1'); // STUN-looking, from the routed peer
  const got = await pending;
  assert.equal(got[0]!.status, UdpSrtpStatus.none);
  assert.equal(got[0]!.data.subarray(12).toString(), 'stranger');
  assert.equal(got[1]!.status, UdpSrtpStatus.none);
  assert.equal(b.stats.srtpUnprotected, 0);
});

test('sendSrtp on an unkeyed session drops and counts; removed routes refuse new sends', async (t) => {
  const unkeyed = new SrtpSession();
  const a = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  const b = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  cleanup(t, a, b, unkeyed);
  const route = a.addSrtpRoute(a.destination(b.address().port, '127.0.0.1'), unkeyed);
  a.sendSrtp(rtp(1, Buffer.from('x')), route);
  a.flush();
  assert.equal(a.stats.drops.srtpProtect, 1);
  assert.equal(a.stats.packetsSent, 0);
  a.removeSrtpRoute(route);
  assert.throws(() => a.sendSrtp(rtp(2, Buffer.from('x')), route), { code: 'ERR_UDP_SRTP_ROUTE_REMOVED' });
  assert.throws(() => a.addSrtpRoute(a.destination(1, '127.0.0.1'), {} as SrtpSession), { code: 'ERR_UDP_SRTP_ROUTE' });
});
