// Signed state cookie (RFC 9260 section 5.1.3 and 5.1.5): round trip, forgery and staleness.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openCookie, signCookie, type CookieState } from '../../../lib/sctp/state-cookie.js';
import { RtoEstimator } from '../../../lib/sctp/rto.js';

const state: CookieState = {
  localTag: 1, peerTag: 2, localInitialTsn: 3, peerInitialTsn: 0xffffffff, peerARwnd: 65536,
  peerOutboundStreams: 10, peerInboundStreams: 20, forwardTsn: true, interleaving: false, reconfig: true, peerZeroChecksum: true, createdAt: 1234.5,
};
const key = Buffer.alloc(32, 9);

test('a cookie opens to the state it was made from', () => {
  assert.deepEqual(openCookie(signCookie(state, key), key, 2000, 60000), state);
});

test('a modified cookie or another key is refused; an old one is stale', () => {
  const c = signCookie(state, key);
  const bad = Buffer.from(c);
  bad[0] ^= 1;
  assert.equal(openCookie(bad, key, 2000, 60000), 'bad-cookie');
  assert.equal(openCookie(c, Buffer.alloc(32, 8), 2000, 60000), 'bad-cookie');
  assert.equal(openCookie(c.subarray(1), key, 2000, 60000), 'bad-cookie');
  assert.equal(openCookie(c, key, 1234.5 + 60001, 60000), 'stale-cookie');
});

test('RTO follows RFC 9260 section 6.3.1 and is clamped', () => {
  const r = new RtoEstimator({ rtoInitial: 1000, rtoMin: 100, rtoMax: 5000 });
  assert.equal(r.rto, 1000);
  r.measure(200);
  assert.equal(r.srtt, 200);
  assert.equal(r.rttvar, 100);
  assert.equal(r.rto, 600);
  r.measure(100);
  assert.equal(r.rttvar, 0.75 * 100 + 0.25 * 100);
  assert.equal(r.srtt, 0.875 * 200 + 0.125 * 100);
  assert.equal(r.rto, r.srtt! + 4 * r.rttvar);
  for (let i = 0; i < 10; i++) r.backOff();
  assert.equal(r.rto, 5000);
  for (let i = 0; i < 50; i++) r.measure(1);
  assert.equal(r.rto, 100);
});
