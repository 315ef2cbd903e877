// Differential test against werift-rtp (pure TypeScript SRTP) for the profiles it implements
// (SRTP_AES128_CM_HMAC_SHA1_80 and SRTP_AEAD_AES_128_GCM): ours -> werift and werift -> ours
// over seeded random RTP and RTCP packets, including a sequence-number wrap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpPacket, SrtcpSession as WeriftSrtcp, SrtpSession as WeriftSrtp } from 'werift-rtp';
import { SeededRng } from '../../../lib/common/rng.js';
import { SRTP_MAX_OVERHEAD, type SrtpProtectionProfile } from '../../../lib/srtp/index.js';
import { keyMaterial, rtcp, rtp, sessionPair } from './srtp-fixtures.js';

function weriftPair(profile: SrtpProtectionProfile): { srtp: WeriftSrtp; srtcp: WeriftSrtcp } {
  // werift's "local" is ours "remote" (fixtures: tx has local = seed 1, remote = seed 2).
  const a = keyMaterial(profile, 1);
  const b = keyMaterial(profile, 2);
  const keys = { localMasterKey: b.key, localMasterSalt: b.salt, remoteMasterKey: a.key, remoteMasterSalt: a.salt };
  return { srtp: new WeriftSrtp({ keys, profile }), srtcp: new WeriftSrtcp({ keys, profile }) };
}

for (const profile of [0x0001, 0x0007] as const) {
  test(`profile ${profile}: ours <-> werift-rtp over 1500 random RTP and 300 RTCP packets`, () => {
    const rng = new SeededRng(profile);
    // tx talks to werift; mirror (= the fixture's other end) has werift's sending keys.
    const { tx, rx: mirror } = sessionPair(profile);
    const peer = weriftPair(profile);
    const buf = Buffer.alloc(1600);
    let seq = 65000;
    let identical = 0;
    for (let n = 0; n < 1500; n++) {
      seq = (seq + 1 + (rng.uint32() % 8 === 0 ? rng.uint32() % 20 : 0)) & 0xffff;
      const clear = rtp({ seq, ssrc: 0x1234 + (n % 3), payload: rng.uint32() % 1300 });
      // ours -> werift
      const len = tx.protectRtp(clear, buf);
      const ours = Buffer.from(buf.subarray(0, len));
      const decrypted = peer.srtp.decrypt(ours);
      assert.deepEqual(decrypted.subarray(0, clear.length), clear, `werift decrypts ours (n=${n})`);
      // werift -> ours (tx is werift's far end).
      const parsed = RtpPacket.deSerialize(clear);
      const theirs = peer.srtp.encrypt(parsed.payload, parsed.header);
      // `mirror` holds werift's sending keys: same keys, same index, so the same bytes.
      const mirrorLen = mirror.protectRtp(clear, buf);
      if (buf.subarray(0, mirrorLen).equals(theirs)) identical++;
      const m = tx.unprotectRtp(theirs, buf);
      assert.equal(m, clear.length, `ours unprotects werift (n=${n})`);
      assert.deepEqual(buf.subarray(0, m), clear);
    }
    assert.equal(identical, 1500, 'byte-identical SRTP from both implementations');
    for (let n = 0; n < 300; n++) {
      const clear = rtcp(0x5678, 4 * (rng.uint32() % 100), 200 + (n % 5));
      const out = Buffer.alloc(clear.length + SRTP_MAX_OVERHEAD);
      const len = tx.protectRtcp(clear, out);
      assert.deepEqual(peer.srtcp.decrypt(out.subarray(0, len)).subarray(0, clear.length), clear, 'werift decrypts our SRTCP');
      const theirs = peer.srtcp.encrypt(clear);
      const m = tx.unprotectRtcp(theirs, out);
      assert.equal(m, clear.length, 'ours unprotects werift SRTCP');
      assert.deepEqual(out.subarray(0, m), clear);
    }
    assert.equal(tx.stats().dropped.authFailed, 0);
  });
}
