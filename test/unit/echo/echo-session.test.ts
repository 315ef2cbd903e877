// EchoSession with one of our peer connections as the client, over UDP loopback: RTP comes back
// on the same m-section with the session's SSRC, the same payload type and continuous sequence
// numbers (even across a gap in what was received); a PLI about the echo is forwarded to the
// sender; messages come back with the same type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EchoSession } from '../../../lib/echo/echo-session.js';
import { messagePlan } from '../../../lib/echo/message-plan.js';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack } from '../../../lib/peer/index.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { RtcpPictureLossIndication } from '../../../lib/rtp/rtcp/picture-loss-indication.js';

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)))]).finally(() => clearTimeout(timer));
}

test('echoes RTP per m-section with its own SSRC, the negotiated PT and continuous sequence numbers', { timeout: 30_000 }, async (t) => {
  const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => client.close());
  const audio = new LocalStreamTrack({ kind: 'audio' });
  const video = new LocalStreamTrack({ kind: 'video' });
  client.addTransceiver(audio, { direction: 'sendrecv' });
  client.addTransceiver(video, { direction: 'sendrecv' });
  const tracks = new Map<string, MediaStreamTrack>();
  client.on('track', (e) => tracks.set(e.track.kind, e.track));
  await client.setLocalDescription();
  const session = await EchoSession.answer('s1', client.localDescription!.sdp, { hostAddresses: ['127.0.0.1'] });
  t.after(() => session.close());
  assert.match(session.answer, /a=sendrecv/);
  await client.setRemoteDescription({ type: 'answer', sdp: session.answer });
  await client.connected(10_000);

  const videoTrack = tracks.get('video')!;
  const got: RtpPacket[] = [];
  const fiveBack = (async () => {
    for await (const p of videoTrack) {
      got.push(p.clone());
      if (got.length === 5) return;
    }
  })();
  // Sequence numbers with a gap (3 is "lost"): the echo still numbers its packets 1 apart.
  for (const seq of [1, 2, 4, 5, 6]) {
    video.send(new RtpPacket({ sequenceNumber: seq, timestamp: seq * 3000, marker: true, payload: Buffer.from(`frame ${seq}`) }));
  }
  await within(fiveBack, 10_000, 'echoed video');
  const sentPt = client.getTransceivers()[1]!.sender.parameters!.payloadType;
  const echoSsrc = session.pc.getTransceivers()[1]!.sender.ssrc;
  assert.deepEqual(got.map((p) => p.payload.toString()), ['frame 1', 'frame 2', 'frame 4', 'frame 5', 'frame 6']);
  for (const p of got) {
    assert.equal(p.ssrc, echoSsrc);
    assert.notEqual(p.ssrc, client.getTransceivers()[1]!.sender.ssrc);
    assert.equal(p.payloadType, sentPt);
    assert.equal(p.marker, true);
  }
  for (let i = 1; i < got.length; i++) assert.equal(got[i]!.sequenceNumber, (got[i - 1]!.sequenceNumber! + 1) & 0xffff);
  // Audio goes back on the audio m-section, not the video one.
  const audioBack = within(tracks.get('audio')!.recv(), 10_000, 'echoed audio');
  audio.send(new RtpPacket({ timestamp: 960, payload: Buffer.from('opus') }));
  assert.equal((await audioBack).payload.toString(), 'opus');
  assert.equal(session.counters.rtp.video.echoed, 5);
  assert.equal(session.counters.rtp.audio.echoed, 1);

  // A PLI about the echoed video reaches the client's own video sender as a PLI about its stream.
  const clientVideo = client.getTransceivers()[1]!.sender;
  const forwarded = new Promise<{ mediaSsrc: number; kind: string }>((resolve) => clientVideo.on('rtcp', (e) => {
    if (e.packet.kind === 'pli') resolve({ mediaSsrc: e.packet.mediaSsrc, kind: e.packet.kind });
  }));
  clientVideo.sendRtcp([new RtcpPictureLossIndication(clientVideo.ssrc, echoSsrc)]);
  assert.deepEqual(await within(forwarded, 10_000, 'forwarded PLI'), { mediaSsrc: clientVideo.ssrc, kind: 'pli' });
  assert.equal(session.counters.keyframeRequestsForwarded, 1);
});

test('echoes data-channel messages with the same type and bytes, including the 100 test messages', { timeout: 30_000 }, async (t) => {
  const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => client.close());
  const channel = client.createDataChannel('echo');
  channel.binaryType = 'nodebuffer';
  await client.setLocalDescription();
  const session = await EchoSession.answer('s2', client.localDescription!.sdp, { hostAddresses: ['127.0.0.1'], iceLite: true });
  t.after(() => session.close());
  assert.match(session.answer, /a=ice-lite/);
  await client.setRemoteDescription({ type: 'answer', sdp: session.answer });
  await within(new Promise((resolve) => channel.once('open', resolve)), 10_000, 'open');
  const plan = messagePlan();
  const back: unknown[] = [];
  const all = new Promise<void>((resolve) => channel.on('message', (e) => {
    back.push(e.data);
    if (back.length === plan.length) resolve();
  }));
  const sent = plan.map((m, i) => (m.binary ? Buffer.alloc(m.size, i) : String.fromCharCode(97 + (i % 26)).repeat(m.size)));
  for (const s of sent) channel.send(s);
  await within(all, 20_000, 'echoed messages');
  for (let i = 0; i < sent.length; i++) {
    const s = sent[i]!;
    if (typeof s === 'string') assert.equal(back[i], s, `message ${i}`);
    else assert.ok(Buffer.isBuffer(back[i]) && s.equals(back[i] as Buffer), `message ${i}`);
  }
  assert.equal(session.counters.messagesEchoed, 100);
  assert.equal(session.snapshot().messagesEchoed, 100);
});

test('an offer that cannot be answered rejects and leaves nothing open', async () => {
  await assert.rejects(EchoSession.answer('bad', 'v=0\r\nthis is not sdp\r\n'));
});
