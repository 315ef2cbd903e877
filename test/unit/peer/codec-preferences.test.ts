// RTCRtpTransceiver.setCodecPreferences (webrtc-pc §5.4) and RTCRtpSender/Receiver.getCapabilities:
// what offers and answers carry under preferences, RTX on or off, typed errors for codecs we lack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerError, RTCPeerConnection, RTCRtpReceiver, RTCRtpSender } from '../../../lib/peer/index.js';
import { parseSdp } from '../../../lib/sdp/parse.js';

function isError(name: string, code?: string): (e: unknown) => boolean {
  return (e) => e instanceof Error && e.name === name && (code === undefined || (e as PeerError).code === code);
}

/** Codec names and fmtp of the first m-section of `kind`, in SDP order. */
function offered(sdp: string, kind: string): { name: string; pt: number; fmtp: string }[] {
  const section = parseSdp(sdp).media.find((m) => m.kind === kind)!;
  return section.codecs.map((c) => ({ name: c.name, pt: c.payloadType, fmtp: Object.entries(c.parameters).map(([k, v]) => `${k}=${v}`).join(';') }));
}

test('getCapabilities lists our codecs per kind, RTX as one entry, null for another kind', () => {
  const video = RTCRtpReceiver.getCapabilities('video')!;
  const names = video.codecs.map((c) => c.mimeType);
  assert.deepEqual([...new Set(names)], ['video/VP8', 'video/VP9', 'video/H264', 'video/AV1', 'video/rtx']);
  assert.ok(video.codecs.some((c) => c.mimeType === 'video/H264' && c.sdpFmtpLine?.includes('profile-level-id=42e01f')));
  assert.ok(video.headerExtensions.some((e) => e.uri.includes('sdes:mid')));
  const audio = RTCRtpSender.getCapabilities('audio')!;
  assert.deepEqual(audio.codecs[0], { mimeType: 'audio/opus', clockRate: 48000, channels: 2, sdpFmtpLine: 'minptime=10;useinbandfec=1' });
  assert.equal(RTCRtpSender.getCapabilities('application'), null);
});

test('offers carry the preferred codecs in order; RTX only when listed; empty list resets', async (t) => {
  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => pc.close());
  const tr = pc.addTransceiver('video');
  const h264 = RTCRtpReceiver.getCapabilities('video')!.codecs.find((c) => c.mimeType === 'video/H264' && c.sdpFmtpLine === 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f')!;
  tr.setCodecPreferences([h264, { mimeType: 'video/vp8', clockRate: 90000 }, { mimeType: 'video/rtx', clockRate: 90000 }]);
  let codecs = offered((await pc.createOffer()).sdp, 'video');
  assert.deepEqual(codecs.map((c) => c.name), ['H264', 'rtx', 'VP8', 'rtx']);
  assert.match(codecs[0]!.fmtp, /profile-level-id=42e01f/);

  tr.setCodecPreferences([{ mimeType: 'video/VP9', clockRate: 90000 }]);
  codecs = offered((await pc.createOffer()).sdp, 'video');
  assert.deepEqual(codecs.map((c) => c.name), ['VP9'], 'no rtx entry: RTX is left out');

  // A preference without sdpFmtpLine selects every variant of that codec, in our order.
  tr.setCodecPreferences([{ mimeType: 'video/H264', clockRate: 90000 }]);
  codecs = offered((await pc.createOffer()).sdp, 'video');
  assert.deepEqual(codecs.map((c) => c.name), ['H264', 'H264', 'H264', 'H264']);

  tr.setCodecPreferences([]);
  codecs = offered((await pc.createOffer()).sdp, 'video');
  assert.deepEqual([...new Set(codecs.map((c) => c.name))], ['VP8', 'rtx', 'VP9', 'H264', 'AV1']);
});

test('codecs we do not support are an InvalidModificationError and change nothing', async (t) => {
  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => pc.close());
  const video = pc.addTransceiver('video');
  const audio = pc.addTransceiver('audio');
  video.setCodecPreferences([{ mimeType: 'video/VP8', clockRate: 90000 }]);
  const bad = isError('InvalidModificationError', 'ERR_PEER_CODEC_PREFERENCES');
  assert.throws(() => video.setCodecPreferences([{ mimeType: 'video/H265', clockRate: 90000 }]), bad);
  assert.throws(() => video.setCodecPreferences([{ mimeType: 'audio/opus', clockRate: 48000 }]), bad);
  assert.throws(() => video.setCodecPreferences([{ mimeType: 'video/VP8', clockRate: 48000 }]), bad);
  assert.throws(() => video.setCodecPreferences([{ mimeType: 'video/VP9', clockRate: 90000, sdpFmtpLine: 'profile-id=2' }]), bad);
  assert.throws(() => video.setCodecPreferences([{ mimeType: 'video/rtx', clockRate: 90000 }]), bad);
  assert.throws(() => audio.setCodecPreferences([{ mimeType: 'audio/rtx', clockRate: 48000 }]), bad, 'our audio has no RTX');
  assert.throws(() => audio.setCodecPreferences([{ mimeType: 'audio/opus', clockRate: 48000, channels: 1 }]), bad);
  assert.throws(() => audio.setCodecPreferences('opus' as unknown as []), isError('TypeError', 'ERR_PEER_CODEC_PREFERENCES'));
  assert.deepEqual(offered((await pc.createOffer()).sdp, 'video').map((c) => c.name), ['VP8']);
});

test('the answerer\'s preferences decide the answer; subsequent offers keep payload types', async (t) => {
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => {
    a.close();
    b.close();
  });
  const ta = a.addTransceiver('video');
  const tb = b.addTransceiver('video');
  tb.setCodecPreferences([{ mimeType: 'video/AV1', clockRate: 90000 }, { mimeType: 'video/VP8', clockRate: 90000 }, { mimeType: 'video/rtx', clockRate: 90000 }]);
  await a.setLocalDescription();
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription();
  assert.equal(tb.mid, ta.mid, 'the free transceiver took the offered m-section');
  const answer = offered(b.localDescription!.sdp, 'video');
  assert.deepEqual(answer.map((c) => c.name), ['AV1', 'rtx', 'VP8', 'rtx']);
  await a.setRemoteDescription(b.localDescription!);
  assert.equal(ta.sender.getParameters().codecs[0]?.mimeType, 'video/AV1');
  assert.equal(tb.sender.getParameters().codecs[0]?.mimeType, 'video/AV1');

  // Now a prefers VP8 only: the next offer carries VP8 with its negotiated payload type.
  const vp8 = answer.find((c) => c.name === 'VP8')!;
  ta.setCodecPreferences([{ mimeType: 'video/VP8', clockRate: 90000 }]);
  const next = offered((await a.createOffer()).sdp, 'video');
  assert.deepEqual(next.map((c) => [c.name, c.pt]), [['VP8', vp8.pt]]);
});
