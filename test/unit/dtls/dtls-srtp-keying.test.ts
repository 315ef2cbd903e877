// DTLS-SRTP end to end (RFC 5764 section 4.2): after the handshake each DtlsTransport keys a
// native SrtpSession without the keys entering JavaScript, and SRTP/SRTCP protected by one
// end unprotects at the other, in both role assignments and for every profile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SrtpSession } from '../../../lib/srtp/srtp-session.js';
import type { SrtpProfileName } from '../../../lib/dtls/srtp-profile.js';
import type { PwtError } from '../../../lib/common/errors.js';
import { makePair, pumpLossless } from './dtls-pair.js';

function rtpPacket(seq: number, ssrc: number, payload: number): Buffer {
  const p = Buffer.alloc(12 + payload);
  p[0] = 0x80;
  p[1] = 96;
  p.writeUInt16BE(seq, 2);
  p.writeUInt32BE(seq * 90, 4);
  p.writeUInt32BE(ssrc, 8);
  for (let i = 12; i < p.length; i++) p[i] = (i * 7 + seq) & 0xff;
  return p;
}

function rtcpSenderReport(ssrc: number): Buffer {
  const p = Buffer.alloc(28);
  p[0] = 0x80;
  p[1] = 200;
  p.writeUInt16BE(6, 2);
  p.writeUInt32BE(ssrc, 4);
  return p;
}

const PROFILES: SrtpProfileName[] = ['AEAD_AES_128_GCM', 'AEAD_AES_256_GCM', 'AES128_CM_HMAC_SHA1_80', 'AES128_CM_HMAC_SHA1_32'];

for (const profile of PROFILES) {
  test(`${profile}: SRTP and SRTCP protected by either end unprotect at the other`, () => {
    const p = makePair({ srtpProfiles: [profile] });
    p.client.start(0);
    p.server.start(0);
    pumpLossless(p);
    assert.equal(p.client.srtpProfile, profile);
    const clientSrtp = new SrtpSession();
    const serverSrtp = new SrtpSession();
    assert.equal(p.client.keySrtp(clientSrtp), true);
    assert.equal(p.server.keySrtp(serverSrtp), true);
    for (const [from, to, ssrc] of [
      [clientSrtp, serverSrtp, 0x1111],
      [serverSrtp, clientSrtp, 0x2222],
    ] as const) {
      for (let seq = 1; seq <= 20; seq++) {
        const clear = rtpPacket(seq, ssrc, 100 + seq);
        const wire = Buffer.alloc(clear.length + 64);
        const n = from.protectRtp(clear, wire);
        assert.ok(n > clear.length);
        const out = Buffer.alloc(n);
        const m = to.unprotectRtp(wire.subarray(0, n), out);
        assert.equal(m, clear.length, `seq ${seq}`);
        assert.deepEqual(out.subarray(0, m), clear);
        // The sender cannot read its own packets: each direction has its own key.
        assert.ok(from.unprotectRtp(wire.subarray(0, n), Buffer.alloc(n)) < 0);
      }
      const sr = rtcpSenderReport(ssrc);
      const wire = Buffer.alloc(sr.length + 64);
      const n = from.protectRtcp(sr, wire);
      const out = Buffer.alloc(n);
      assert.equal(to.unprotectRtcp(wire.subarray(0, n), out), sr.length);
      assert.deepEqual(out.subarray(0, sr.length), sr);
    }
    clientSrtp.close();
    serverSrtp.close();
  });
}

test('keySrtp refuses before connected and for a non-session; a failed transport never keys', () => {
  const p = makePair();
  const session = new SrtpSession();
  assert.throws(() => p.client.keySrtp(session), (e: PwtError) => e.code === 'ERR_DTLS_STATE');
  p.client.start(0);
  p.server.start(0);
  pumpLossless(p);
  // @ts-expect-error not a session
  assert.throws(() => p.client.keySrtp({}), (e: PwtError) => e.code === 'ERR_DTLS_ARGUMENT');
  // A foreign native object is refused by the SRTP binding's type tag: false, not a crash.
  assert.equal(p.client.keySrtp({ nativeHandle: {} }), false);
  assert.equal(session.keyed, false);
  assert.equal(p.client.keySrtp(session), true);
  assert.equal(session.keyed, true);
  session.close();
});
