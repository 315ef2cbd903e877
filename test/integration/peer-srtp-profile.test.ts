// RFC 5764 §4.1.1: when the DTLS handshake agrees on no SRTP protection profile and media was
// negotiated, the connection fails with a reason instead of reporting connected without keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection } from '../../lib/peer/index.js';

test('no common SRTP profile: the connection fails with a reason, not connected', { timeout: 20_000 }, async (t) => {
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], srtpProfiles: ['AES128_CM_HMAC_SHA1_32'] });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], srtpProfiles: ['AEAD_AES_128_GCM'] });
  t.after(() => {
    a.close();
    b.close();
  });
  a.addTransceiver(new LocalStreamTrack({ kind: 'audio' }));
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription!);
  const outcome = await Promise.race([
    a.connected().then(() => 'connected', () => a.connectionState),
    new Promise<string>((r) => setTimeout(() => r(`timeout (${a.connectionState})`), 8000)),
  ]);
  assert.equal(outcome, 'failed');
  assert.match(a.failureReason ?? '', /SRTP protection profile/);
});

test('a data-channel-only connection needs no SRTP profile', { timeout: 20_000 }, async (t) => {
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], srtpProfiles: ['AES128_CM_HMAC_SHA1_32'] });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], srtpProfiles: ['AEAD_AES_128_GCM'] });
  t.after(() => {
    a.close();
    b.close();
  });
  a.createDataChannel('only-data');
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription!);
  await a.connected(8000);
  assert.equal(a.connectionState, 'connected');
});
