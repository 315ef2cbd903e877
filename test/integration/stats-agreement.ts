// Checks that our getStats and a libwebrtc peer's (wrtc, Chromium) agree about one DTLS
// association: cipher suite, DTLS version, SRTP profile, and each side's certificates.
import assert from 'node:assert/strict';
import type { RTCStats, RTCStatsReport } from '../../lib/peer/stats.js';

// Older libwebrtc (wrtc's M106) names SRTP profiles by their RFC 4568 crypto-suite names; the W3C
// names (ours, and Chromium 156's) are the IANA DTLS-SRTP registry's (docs/peer.md, getStats).
const LIBWEBRTC_SRTP: Readonly<Record<string, string>> = {
  AES_CM_128_HMAC_SHA1_80: 'SRTP_AES128_CM_HMAC_SHA1_80',
  AES_CM_128_HMAC_SHA1_32: 'SRTP_AES128_CM_HMAC_SHA1_32',
  AEAD_AES_128_GCM: 'SRTP_AEAD_AES_128_GCM',
  AEAD_AES_256_GCM: 'SRTP_AEAD_AES_256_GCM',
};

/** The peer's `transport` and `certificate` entries, as its getStats gave them. */
export interface PeerStats {
  transport: RTCStats[];
  certificate: RTCStats[];
}

/** Asserts agreement; returns a one-line summary of what both reported. */
export function assertStatsAgree(ours: RTCStatsReport, theirs: PeerStats): string {
  const transport = [...ours.values()].find((s) => s.type === 'transport' && s.dtlsState === 'connected');
  assert.ok(transport, 'we have a connected transport entry');
  const their = theirs.transport.find((s) => s.dtlsState === 'connected');
  assert.ok(their, 'the peer has a connected transport entry');
  assert.match(String(transport.dtlsCipher), /^TLS_ECDHE_/);
  assert.equal(transport.tlsVersion, 'FEFD');
  assert.match(String(transport.srtpCipher), /^SRTP_/);
  assert.equal(transport.dtlsCipher, their.dtlsCipher, 'same cipher suite, same IANA name');
  assert.equal(transport.tlsVersion, their.tlsVersion, 'same DTLS version');
  const theirSrtp = String(their.srtpCipher);
  assert.equal(transport.srtpCipher, theirSrtp.startsWith('SRTP_') ? theirSrtp : LIBWEBRTC_SRTP[theirSrtp], `same SRTP profile (peer: ${theirSrtp})`);
  if (their.dtlsRole !== undefined) assert.equal(their.dtlsRole, transport.dtlsRole === 'client' ? 'server' : 'client');
  const cert = (list: Iterable<RTCStats>, id: unknown): RTCStats => {
    const c = [...list].find((s) => s.id === id);
    assert.ok(c, `certificate ${String(id)}`);
    return c;
  };
  const ourLocal = cert(ours.values(), transport.localCertificateId);
  const ourRemote = cert(ours.values(), transport.remoteCertificateId);
  const theirLocal = cert(theirs.certificate, their.localCertificateId);
  const theirRemote = cert(theirs.certificate, their.remoteCertificateId);
  assert.match(String(ourRemote.base64Certificate), /^[A-Za-z0-9+/]{100,}={0,2}$/);
  assert.equal(ourRemote.fingerprintAlgorithm, theirLocal.fingerprintAlgorithm);
  assert.equal(ourRemote.fingerprint, String(theirLocal.fingerprint).toUpperCase());
  assert.equal(ourRemote.base64Certificate, theirLocal.base64Certificate);
  assert.equal(ourLocal.fingerprint, String(theirRemote.fingerprint).toUpperCase());
  assert.equal(ourLocal.base64Certificate, theirRemote.base64Certificate);
  return `${String(transport.tlsVersion)} ${String(transport.dtlsCipher)} ${String(transport.srtpCipher)} (peer: ${String(their.srtpCipher)})`;
}
