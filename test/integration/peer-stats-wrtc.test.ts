// getStats() agrees with libwebrtc's (@roamhq/wrtc, in a child process) about the same DTLS
// association over loopback: both certificates, the DTLS cipher suite and version, the SRTP profile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { LocalStreamTrack, RTCPeerConnection, type RTCStats } from '../../lib/peer/index.js';
import { within } from './peer-helpers.js';

// libwebrtc names SRTP profiles by their RFC 4568 crypto-suite names; the W3C names (ours) are the
// IANA DTLS-SRTP registry's (docs/peer.md, getStats).
const LIBWEBRTC_SRTP: Readonly<Record<string, string>> = {
  AES_CM_128_HMAC_SHA1_80: 'SRTP_AES128_CM_HMAC_SHA1_80',
  AES_CM_128_HMAC_SHA1_32: 'SRTP_AES128_CM_HMAC_SHA1_32',
  AEAD_AES_128_GCM: 'SRTP_AEAD_AES_128_GCM',
  AEAD_AES_256_GCM: 'SRTP_AEAD_AES_256_GCM',
};

interface WrtcStats {
  connectionState: string;
  transport: RTCStats[];
  certificate: RTCStats[];
}

test('our transport and certificate stats match what libwebrtc reports for the same connection', { timeout: 40_000 }, async (t) => {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./wrtc-stats-peer.mjs', import.meta.url))], { stdio: 'pipe' });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const lines = createInterface({ input: child.stdout });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const call = <T>(msg: object, ms: number): Promise<T> =>
    within(new Promise<T>((resolve) => {
      waiting.push((line) => resolve(JSON.parse(line) as T));
      child.stdin.write(`${JSON.stringify(msg)}\n`);
    }), ms, `wrtc child reply (stderr: ${stderr})`);

  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => pc.close());
  pc.addTransceiver(new LocalStreamTrack({ kind: 'audio' }), { direction: 'sendonly' });
  pc.createDataChannel('stats');
  await pc.setLocalDescription(await pc.createOffer());
  const answer = await call<{ sdp?: string; error?: string }>({ cmd: 'answer', sdp: pc.localDescription!.sdp }, 15_000);
  assert.ok(answer.sdp, answer.error);
  await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
  await pc.connected(10_000);
  const theirs = await call<WrtcStats>({ cmd: 'stats' }, 15_000);
  assert.equal(theirs.connectionState, 'connected');
  const ours = await pc.getStats();
  const transport = [...ours.values()].find((s) => s.type === 'transport')!;
  const their = theirs.transport.find((s) => s.dtlsState === 'connected');
  assert.ok(their, 'libwebrtc has a connected transport entry');

  assert.match(String(transport.dtlsCipher), /^TLS_ECDHE_/);
  assert.equal(transport.tlsVersion, 'FEFD');
  assert.match(String(transport.srtpCipher), /^SRTP_/);
  assert.equal(transport.dtlsCipher, their.dtlsCipher, 'same cipher suite, same IANA name');
  assert.equal(transport.tlsVersion, their.tlsVersion, 'same DTLS version');
  assert.equal(transport.srtpCipher, LIBWEBRTC_SRTP[their.srtpCipher as string], `same SRTP profile (libwebrtc: ${String(their.srtpCipher)})`);
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
  t.diagnostic(`agreed: ${String(transport.tlsVersion)} ${String(transport.dtlsCipher)} ${String(transport.srtpCipher)} (libwebrtc: ${String(their.srtpCipher)})`);
});
