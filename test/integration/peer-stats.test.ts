// getStats() between two of our connections over loopback: certificate entries (webrtc-stats
// RTCCertificateStats) and the transport entry's negotiated DTLS version, cipher suite and SRTP
// profile as the native engine reports them; no entry carries a blank field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCStats, type RTCStatsReport } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { DtlsCertificate } from '../../lib/dtls/dtls-certificate.js';
import type { SrtpProfileName } from '../../lib/dtls/srtp-profile.js';
import { negotiate, within } from './peer-helpers.js';

function byType(report: RTCStatsReport, type: string): RTCStats[] {
  return [...report.values()].filter((s) => s.type === type);
}

function only(report: RTCStatsReport, type: string): RTCStats {
  const list = byType(report, type);
  assert.equal(list.length, 1, `one ${type} entry`);
  return list[0]!;
}

/** Every member of every entry has a value: no undefined, null, NaN or empty string, at any depth. */
function assertNoBlankFields(report: RTCStatsReport): void {
  const visit = (v: unknown, path: string): void => {
    assert.ok(v !== undefined && v !== null && v !== '' && !Number.isNaN(v), `blank field ${path}`);
    if (typeof v === 'object') for (const [k, x] of Object.entries(v as object)) visit(x, `${path}.${k}`);
  };
  for (const s of report.values()) visit(s, s.id);
}

function sdpFingerprint(sdp: string): string {
  const m = /a=fingerprint:sha-256 (\S+)/.exec(sdp);
  assert.ok(m, 'a=fingerprint in the description');
  return m[1]!.toUpperCase();
}

async function connectedPair(t: { after(fn: () => void): void }, profiles?: SrtpProfileName[]): Promise<[RTCPeerConnection, RTCPeerConnection]> {
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], ...(profiles ? { srtpProfiles: profiles } : {}) });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], certificates: [DtlsCertificate.generate({ keyType: 'rsa' })] });
  t.after(() => {
    a.close();
    b.close();
  });
  a.addTransceiver(new LocalStreamTrack({ kind: 'audio' }));
  a.createDataChannel('stats');
  await negotiate(a, b);
  await within(Promise.all([a.connected(), b.connected()]), 10_000, 'both connected');
  return [a, b];
}

test('before negotiation: the peer-connection entry and our certificate, nothing invented', async (t) => {
  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => pc.close());
  const report = await pc.getStats();
  assert.deepEqual([...report.values()].map((s) => s.type).sort(), ['certificate', 'peer-connection']);
  const cert = only(report, 'certificate');
  const x509 = new X509Certificate(Buffer.from(cert.base64Certificate as string, 'base64'));
  assert.equal(cert.fingerprint, x509.fingerprint256);
  assert.equal(cert.fingerprintAlgorithm, 'sha-256');
  assertNoBlankFields(report);
});

test('certificates and transport: what both engines negotiated, each side consistent with the other', { timeout: 30_000 }, async (t) => {
  const [a, b] = await connectedPair(t);
  const ra = await a.getStats();
  const rb = await b.getStats();
  assertNoBlankFields(ra);
  assertNoBlankFields(rb);
  const ta = only(ra, 'transport');
  const tb = only(rb, 'transport');
  // DTLS 1.2 (RFC 6347) and one IANA suite name on both ends (its key type is the DTLS server's).
  assert.equal(ta.tlsVersion, 'FEFD');
  assert.equal(tb.tlsVersion, 'FEFD');
  assert.equal(ta.dtlsCipher, tb.dtlsCipher);
  assert.match(ta.dtlsCipher as string, /^TLS_ECDHE_(ECDSA|RSA)_WITH_AES_(128|256)_GCM_SHA(256|384)$|^TLS_ECDHE_(ECDSA|RSA)_WITH_CHACHA20_POLY1305_SHA256$/);
  assert.equal(ta.srtpCipher, 'SRTP_AEAD_AES_128_GCM');
  assert.equal(tb.srtpCipher, 'SRTP_AEAD_AES_128_GCM');
  assert.deepEqual([ta.dtlsRole, tb.dtlsRole].sort(), ['client', 'server']);
  assert.equal(ta.iceRole, 'controlling');
  assert.equal(tb.iceRole, 'controlled');
  assert.equal(ta.dtlsState, 'connected');
  assert.ok((ta.packetsSent as number) > 0 && (ta.bytesReceived as number) > 0);
  // The selected pair exists in the report and refers to candidates in it.
  const pair = ra.get(ta.selectedCandidatePairId as string);
  assert.equal(pair?.type, 'candidate-pair');
  assert.equal(ra.get(pair!.localCandidateId as string)?.type, 'local-candidate');
  assert.equal(ra.get(pair!.remoteCandidateId as string)?.type, 'remote-candidate');
  // Certificates: ours is the one our SDP announces; the peer's is the other side's own.
  const aLocal = ra.get(ta.localCertificateId as string)!;
  const aRemote = ra.get(ta.remoteCertificateId as string)!;
  const bLocal = rb.get(tb.localCertificateId as string)!;
  const bRemote = rb.get(tb.remoteCertificateId as string)!;
  assert.equal(aLocal.fingerprint, sdpFingerprint(a.localDescription!.sdp));
  assert.equal(bLocal.fingerprint, sdpFingerprint(b.localDescription!.sdp));
  assert.notEqual(aLocal.fingerprint, bLocal.fingerprint);
  assert.equal(aRemote.fingerprint, bLocal.fingerprint);
  assert.equal(aRemote.base64Certificate, bLocal.base64Certificate);
  assert.equal(bRemote.base64Certificate, aLocal.base64Certificate);
  for (const c of [aLocal, aRemote]) {
    const x509 = new X509Certificate(Buffer.from(c.base64Certificate as string, 'base64'));
    assert.equal(c.fingerprint, x509.fingerprint256, 'fingerprint is the SHA-256 of the DER');
    assert.equal(c.fingerprintAlgorithm, 'sha-256');
  }
  assert.equal(new X509Certificate(Buffer.from(bLocal.base64Certificate as string, 'base64')).publicKey.asymmetricKeyType, 'rsa');
  assert.equal(byType(ra, 'certificate').length, 2);
});

test('srtpCipher follows the profile the engines agreed on', { timeout: 30_000 }, async (t) => {
  const [a, b] = await connectedPair(t, ['AES128_CM_HMAC_SHA1_80']);
  assert.equal(only(await a.getStats(), 'transport').srtpCipher, 'SRTP_AES128_CM_HMAC_SHA1_80');
  assert.equal(only(await b.getStats(), 'transport').srtpCipher, 'SRTP_AES128_CM_HMAC_SHA1_80');
});

test('getStats(selector), sender.getStats(), receiver.getStats(): one stream and what it refers to', { timeout: 30_000 }, async (t) => {
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => {
    a.close();
    b.close();
  });
  const audio = new LocalStreamTrack({ kind: 'audio' });
  const video = new LocalStreamTrack({ kind: 'video' });
  const ta = a.addTransceiver(audio, { direction: 'sendonly' });
  const tv = a.addTransceiver(video, { direction: 'sendonly' });
  a.createDataChannel('not selected');
  const tracks: MediaStreamTrack[] = [];
  const both = new Promise<void>((resolve) => b.on('track', (e) => {
    tracks.push(e.track);
    if (tracks.length === 2) resolve();
  }));
  await negotiate(a, b);
  await within(Promise.all([a.connected(), b.connected(), both]), 10_000, 'connected with two tracks');
  audio.send(new RtpPacket({ payload: Buffer.from('a') }));
  video.send(new RtpPacket({ payload: Buffer.from('v') }));
  const audioTrack = tracks.find((x) => x.kind === 'audio')!;
  await within(Promise.all(tracks.map((x) => x.recv())), 5000, 'both packets');

  const sent = await ta.sender.getStats();
  const types = [...sent.values()].map((s) => s.type);
  assert.deepEqual(types.filter((x) => x.endsWith('-rtp')), ['outbound-rtp']);
  assert.equal(only(sent, 'outbound-rtp').ssrc, ta.sender.ssrc);
  for (const type of ['transport', 'codec', 'candidate-pair', 'local-candidate', 'remote-candidate', 'certificate']) {
    assert.ok(types.includes(type), `the sender's stats refer to a ${type}`);
  }
  assert.ok(!types.includes('data-channel') && !types.includes('peer-connection'));
  assert.equal(only(sent, 'codec').mimeType, 'audio/opus');
  assert.deepEqual([...(await a.getStats(audio)).keys()].sort(), [...sent.keys()].sort(), 'the track selects its sender');
  assert.equal(only(await a.getStats(tv.sender), 'outbound-rtp').ssrc, tv.sender.ssrc);

  const receiver = b.getReceivers().find((r) => r.kind === 'audio')!;
  const got = await receiver.getStats();
  assert.deepEqual([...got.values()].filter((s) => s.type.endsWith('-rtp')).map((s) => [s.type, s.kind]), [['inbound-rtp', 'audio']]);
  assert.equal(only(got, 'inbound-rtp').packetsReceived, 1);
  assert.ok(got.has(only(got, 'inbound-rtp').transportId as string));
  assert.deepEqual([...(await b.getStats(audioTrack)).keys()].sort(), [...got.keys()].sort(), 'the remote track selects its receiver');

  await assert.rejects(a.getStats(receiver), (e: Error & { code?: string }) => e.name === 'InvalidAccessError' && e.code === 'ERR_PEER_STATS_SELECTOR');
  await assert.rejects(a.getStats(new LocalStreamTrack({ kind: 'audio' })), (e: Error) => e.name === 'InvalidAccessError');
  assert.ok((await a.getStats(null)).size > sent.size, 'null selects everything');
});
