// Answering an unbundled offer (no a=group:BUNDLE: each m-section has its own ICE credentials,
// candidates and fingerprint): one ICE/DTLS transport per m-section on our side. The offerer is
// two of our connections whose one-section offers are merged into one description, so each
// remote transport is a real, independent ICE agent and DTLS endpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCDataChannel } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { parseSdp } from '../../lib/sdp/parse.js';
import { serializeSdp } from '../../lib/sdp/serialize.js';
import { within } from './peer-helpers.js';

/** Offers of `audio` (mid 0) and `video` (mid 0, renamed 1) as one unbundled offer. */
function mergeUnbundled(audioOffer: string, videoOffer: string): string {
  const a = parseSdp(audioOffer);
  const v = parseSdp(videoOffer);
  const video = v.media[0]!;
  video.mid = '1';
  a.media.push(video);
  a.groups = [];
  return serializeSdp(a);
}

/** The answer's section for `mid` alone, as an answer to that one-section offer (mid back to 0). */
function splitAnswer(answer: string, mid: string): string {
  const d = parseSdp(answer);
  d.media = d.media.filter((m) => m.mid === mid);
  d.media[0]!.mid = '0';
  d.groups = [];
  return serializeSdp(d);
}

test('an unbundled offer is answered with one transport per m-section; media flows on both', { timeout: 40_000 }, async (t) => {
  const audioPeer = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const videoPeer = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const answerer = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => {
    audioPeer.close();
    videoPeer.close();
    answerer.close();
  });
  const audio = new LocalStreamTrack({ kind: 'audio' });
  const video = new LocalStreamTrack({ kind: 'video' });
  audioPeer.addTransceiver(audio, { direction: 'sendrecv' });
  videoPeer.addTransceiver(video, { direction: 'sendonly' });
  const tracks = new Map<string, MediaStreamTrack>();
  const both = new Promise<void>((resolve) => answerer.on('track', (e) => {
    tracks.set(e.track.kind, e.track);
    if (tracks.size === 2) resolve();
  }));
  // The answerer sends audio back: its own audio transceiver takes the offered audio m-section.
  const back = new LocalStreamTrack({ kind: 'audio' });
  answerer.addTransceiver(back, { direction: 'sendrecv' });
  await audioPeer.setLocalDescription();
  await videoPeer.setLocalDescription();
  const offer = mergeUnbundled(audioPeer.localDescription!.sdp, videoPeer.localDescription!.sdp);
  assert.doesNotMatch(offer, /a=group:BUNDLE/);
  const ends: number[] = [];
  answerer.on('icecandidate', (e) => {
    if (e.candidate === null) ends.push(Date.now());
  });
  await answerer.setRemoteDescription({ type: 'offer', sdp: offer });
  await answerer.setLocalDescription();
  assert.equal(answerer.iceGatheringState, 'complete', 'host candidates of both transports are gathered');
  const answer = parseSdp(answerer.localDescription!.sdp);
  assert.equal(answer.groups.length, 0, 'no BUNDLE in the answer to an unbundled offer');
  const [sa, sv] = answer.media;
  assert.notEqual(sa!.iceUfrag, sv!.iceUfrag, 'each m-section has its own ICE credentials');
  assert.notEqual(sa!.port, sv!.port, 'and its own port');
  assert.ok(sa!.candidates.length > 0 && sv!.candidates.length > 0);

  await audioPeer.setRemoteDescription({ type: 'answer', sdp: splitAnswer(answerer.localDescription!.sdp, '0') });
  await videoPeer.setRemoteDescription({ type: 'answer', sdp: splitAnswer(answerer.localDescription!.sdp, '1') });
  await within(Promise.all([audioPeer.connected(), videoPeer.connected(), answerer.connected(), both]), 15_000, 'all connected');
  assert.equal(answerer.iceConnectionState === 'connected' || answerer.iceConnectionState === 'completed', true);

  audio.send(new RtpPacket({ payload: Buffer.from('audio over transport 1') }));
  video.send(new RtpPacket({ payload: Buffer.from('video over transport 2') }));
  assert.equal((await within(tracks.get('audio')!.recv(), 5000, 'audio')).payload.toString(), 'audio over transport 1');
  assert.equal((await within(tracks.get('video')!.recv(), 5000, 'video')).payload.toString(), 'video over transport 2');

  // The answerer's audio goes back over the audio m-section's transport.
  back.send(new RtpPacket({ payload: Buffer.from('answerer audio') }));
  assert.equal((await within(audioPeer.getReceivers()[0]!.track.recv(), 5000, 'answerer audio')).payload.toString(), 'answerer audio');

  assert.equal(ends.length, 1, 'one end-of-candidates event for both transports');
  // Stats: two transports, each connected with its own certificate pair and candidate pair.
  const report = await answerer.getStats();
  const transports = [...report.values()].filter((s) => s.type === 'transport');
  assert.deepEqual(transports.map((s) => [s.id, s.dtlsState]).sort(), [['T01', 'connected'], ['T02', 'connected']]);
  for (const tr of transports) assert.equal(report.get(tr.selectedCandidatePairId as string)?.type, 'candidate-pair');
  const inbound = [...report.values()].filter((s) => s.type === 'inbound-rtp');
  assert.deepEqual(inbound.map((s) => [s.kind, s.transportId]).sort(), [['audio', 'T01'], ['video', 'T02']]);
  const remoteCerts = new Set(transports.map((s) => report.get(s.remoteCertificateId as string)?.fingerprint));
  assert.equal(remoteCerts.size, 1, 'both offerer connections share the default certificate');
});

test('two BUNDLE groups: the second group (video + data channel) gets its own transport', { timeout: 40_000 }, async (t) => {
  const audioPeer = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const videoPeer = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const answerer = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => {
    audioPeer.close();
    videoPeer.close();
    answerer.close();
  });
  const audio = new LocalStreamTrack({ kind: 'audio' });
  const video = new LocalStreamTrack({ kind: 'video' });
  audioPeer.addTransceiver(audio, { direction: 'sendonly' });
  videoPeer.addTransceiver(video, { direction: 'sendonly' });
  const channel = videoPeer.createDataChannel('on the second transport');
  const tracks = new Map<string, MediaStreamTrack>();
  answerer.on('track', (e) => tracks.set(e.track.kind, e.track));
  const remoteChannel = new Promise<RTCDataChannel>((resolve) => answerer.on('datachannel', (e) => resolve(e.channel)));
  await audioPeer.setLocalDescription();
  await videoPeer.setLocalDescription();
  // Offer: [audio 0] in BUNDLE 0, [video 1, data 2] in BUNDLE 1 2 (the video peer's mids 0, 1 renamed).
  const a = parseSdp(audioPeer.localDescription!.sdp);
  const v = parseSdp(videoPeer.localDescription!.sdp);
  v.media[0]!.mid = '1';
  v.media[1]!.mid = '2';
  a.media.push(v.media[0]!, v.media[1]!);
  a.groups = [{ semantics: 'BUNDLE', mids: ['0'] }, { semantics: 'BUNDLE', mids: ['1', '2'] }];
  await answerer.setRemoteDescription({ type: 'offer', sdp: serializeSdp(a) });
  await answerer.setLocalDescription();
  const answer = parseSdp(answerer.localDescription!.sdp);
  assert.deepEqual(answer.groups.map((g) => g.mids), [['0'], ['1', '2']]);
  assert.notEqual(answer.media[0]!.iceUfrag, answer.media[1]!.iceUfrag);
  const forAudio = parseSdp(answerer.localDescription!.sdp);
  forAudio.media = [forAudio.media[0]!];
  forAudio.groups = [{ semantics: 'BUNDLE', mids: ['0'] }];
  const forVideo = parseSdp(answerer.localDescription!.sdp);
  forVideo.media = [forVideo.media[1]!, forVideo.media[2]!];
  forVideo.media[0]!.mid = '0';
  forVideo.media[1]!.mid = '1';
  forVideo.groups = [{ semantics: 'BUNDLE', mids: ['0', '1'] }];
  await audioPeer.setRemoteDescription({ type: 'answer', sdp: serializeSdp(forAudio) });
  await videoPeer.setRemoteDescription({ type: 'answer', sdp: serializeSdp(forVideo) });
  await within(Promise.all([audioPeer.connected(), videoPeer.connected(), answerer.connected()]), 15_000, 'all connected');

  const dc = await within(remoteChannel, 10_000, 'data channel over the second transport');
  const got = new Promise<unknown>((resolve) => dc.once('message', (e) => resolve(e.data)));
  if (channel.readyState !== 'open') await within(new Promise((r) => channel.once('open', r)), 5000, 'open');
  channel.send('over transport 2');
  assert.equal(await within(got, 5000, 'message'), 'over transport 2');
  video.send(new RtpPacket({ payload: Buffer.from('video') }));
  audio.send(new RtpPacket({ payload: Buffer.from('audio') }));
  await within((async () => {
    while (tracks.size < 2) await new Promise((r) => setTimeout(r, 20));
  })(), 5000, 'two tracks');
  assert.equal((await within(tracks.get('video')!.recv(), 5000, 'video')).payload.toString(), 'video');
  assert.equal((await within(tracks.get('audio')!.recv(), 5000, 'audio')).payload.toString(), 'audio');
});
