// Debug logging across the layers of a real loopback connection (ICE, DTLS, SCTP, SDP, peer,
// drops) with every namespace on, and no record carries a key, a password or a private key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { configureLogging, type LogRecord } from '../../lib/common/log.js';
import { DtlsCertificate } from '../../lib/dtls/dtls-certificate.js';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { negotiate, within } from './peer-helpers.js';

test('every layer logs with PWT_DEBUG=*; no secret reaches a record', { timeout: 30_000 }, async (t) => {
  const records: LogRecord[] = [];
  configureLogging({ namespaces: '*', sink: (r) => records.push(r) });
  t.after(() => configureLogging({ namespaces: '', sink: null }));
  const certificate = DtlsCertificate.generate();
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], certificates: [certificate] });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => {
    a.close();
    b.close();
  });
  const track = new LocalStreamTrack({ kind: 'audio' });
  a.addTransceiver(track, { direction: 'sendonly' });
  const channel = a.createDataChannel('log');
  const remote = new Promise<MediaStreamTrack>((resolve) => b.on('track', (e) => resolve(e.track)));
  await negotiate(a, b);
  await within(Promise.all([a.connected(), b.connected()]), 10_000, 'connected');
  if (channel.readyState !== 'open') await within(new Promise((r) => channel.once('open', r)), 5000, 'open');
  channel.send('hello');
  track.send(new RtpPacket({ payload: Buffer.from('media') }));
  await within((await remote).recv(), 5000, 'media');

  // A stranger's datagram is dropped, counted, and logged by reason.
  const stranger = createSocket('udp4');
  const port = Number(/a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 (\d+)/.exec(b.localDescription!.sdp)![1]);
  await new Promise<void>((resolve) => stranger.send(Buffer.from([0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]), port, '127.0.0.1', () => resolve()));
  await within((async () => {
    while (!records.some((r) => r.namespace === 'drop' && /unknown-source|unauthenticatedSource/.test(r.message))) await new Promise((r) => setTimeout(r, 20));
  })(), 5000, 'a drop record');
  stranger.close();

  const namespaces = new Set(records.map((r) => r.namespace));
  for (const ns of ['ice', 'dtls', 'sctp', 'sdp', 'peer', 'drop']) assert.ok(namespaces.has(ns), `records in ${ns}: ${[...namespaces].join(',')}`);
  const text = records.map((r) => r.message).join('\n');
  assert.match(text, /pair 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ succeeded/);
  assert.match(text, /Handshake\(ClientHello\)/);
  assert.match(text, /connected: FEFD TLS_ECDHE_/);
  assert.match(text, /established/);
  // The stranger is not an ICE-authenticated source (counted by the ICE driver or the transport).
  assert.match(text, /(ice-transport unknown-source|transport unauthenticatedSource) \(total 1\)/);

  // Secrets: ICE passwords of both sides, the SRTP keying material, the private key.
  const secrets: string[] = [];
  for (const pc of [a, b]) secrets.push(/a=ice-pwd:(\S+)/.exec(pc.localDescription!.sdp)![1]!);
  const keying = a.mediaTransport!.dtls!.exportKeyingMaterialForTest('EXTRACTOR-dtls_srtp', 56);
  for (let i = 0; i + 16 <= keying.length; i += 8) {
    secrets.push(keying.subarray(i, i + 16).toString('hex'), keying.subarray(i, i + 16).toString('base64'));
  }
  const keyPem = certificate.toPem().privateKey;
  for (const line of keyPem.split('\n')) if (line.length >= 32 && !line.startsWith('-----')) secrets.push(line.slice(0, 32));
  for (const s of secrets) assert.ok(!text.includes(s), 'a secret appears in the log');
  for (const pc of [a, b]) {
    const ufrag = /a=ice-ufrag:(\S+)/.exec(pc.localDescription!.sdp)![1]!;
    assert.ok(!text.includes(ufrag), 'full ICE usernames are shortened');
  }
});
