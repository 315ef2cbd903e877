// Provisional answers (RFC 8829 §4.1.8.1, webrtc-pc §4.4.1.5-6): have-local-pranswer and
// have-remote-pranswer, media and data flowing on the pranswer, then the final answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, PeerError, RTCPeerConnection, type MediaStreamTrack } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { within } from './peer-helpers.js';

/** The type of a description, or null (a function, so earlier asserts do not narrow the getter). */
function typeOf(d: { type: string } | null): string | null {
  return d === null ? null : d.type;
}

function isError(name: string, code?: string): (e: unknown) => boolean {
  return (e) => e instanceof Error && e.name === name && (code === undefined || (e as PeerError).code === code);
}

test('pranswer then answer: states, descriptions, media on the provisional answer', { timeout: 30_000 }, async (t) => {
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => {
    a.close();
    b.close();
  });
  const track = new LocalStreamTrack({ kind: 'audio' });
  a.addTransceiver(track, { direction: 'sendonly' });
  const channel = a.createDataChannel('early');
  const remote = new Promise<MediaStreamTrack>((resolve) => b.on('track', (e) => resolve(e.track)));
  const statesA: string[] = [];
  const statesB: string[] = [];
  a.on('signalingstatechange', () => statesA.push(a.signalingState));
  b.on('signalingstatechange', () => statesB.push(b.signalingState));

  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription!);
  const provisional = await b.createAnswer();
  await b.setLocalDescription({ type: 'pranswer', sdp: provisional.sdp });
  assert.equal(String(b.signalingState), 'have-local-pranswer');
  assert.equal(typeOf(b.pendingLocalDescription), 'pranswer');
  assert.equal(typeOf(b.currentLocalDescription), null);
  assert.equal(typeOf(b.pendingRemoteDescription), 'offer');
  // A provisional answer cannot be rolled back (webrtc-pc §4.4.1.5) and is not an offer state.
  await assert.rejects(b.setLocalDescription({ type: 'rollback' }), isError('InvalidStateError', 'ERR_PEER_SIGNALING_STATE'));
  await assert.rejects(b.setLocalDescription({ type: 'offer', sdp: provisional.sdp }), isError('InvalidStateError', 'ERR_PEER_SIGNALING_STATE'));

  await a.setRemoteDescription({ type: 'pranswer', sdp: b.localDescription!.sdp });
  assert.equal(String(a.signalingState), 'have-remote-pranswer');
  assert.equal(typeOf(a.pendingRemoteDescription), 'pranswer');
  assert.equal(typeOf(a.currentRemoteDescription), null);
  await assert.rejects(a.createAnswer(), isError('InvalidStateError', 'ERR_PEER_SIGNALING_STATE'));

  // The provisional answer starts ICE, DTLS and SRTP: media and data flow before the final answer.
  await within(Promise.all([a.connected(), b.connected()]), 10_000, 'connected on the pranswer');
  track.send(new RtpPacket({ payload: Buffer.from('provisional') }));
  const remoteTrack = await within(remote, 5000, 'track event');
  assert.equal((await within(remoteTrack.recv(), 5000, 'recv')).payload.toString(), 'provisional');
  if (channel.readyState !== 'open') await within(new Promise((r) => channel.once('open', r)), 5000, 'data channel open');

  // A second pranswer is allowed; then the final answer (implicit) completes the exchange.
  await b.setLocalDescription({ type: 'pranswer', sdp: provisional.sdp });
  await a.setRemoteDescription({ type: 'pranswer', sdp: b.localDescription!.sdp });
  await b.setLocalDescription();
  assert.equal(String(b.signalingState), 'stable');
  assert.equal(typeOf(b.currentLocalDescription), 'answer');
  assert.equal(typeOf(b.currentRemoteDescription), 'offer');
  assert.equal(typeOf(b.pendingRemoteDescription), null);
  await a.setRemoteDescription(b.localDescription!);
  assert.equal(String(a.signalingState), 'stable');
  assert.equal(typeOf(a.currentRemoteDescription), 'answer');
  assert.equal(typeOf(a.pendingRemoteDescription), null);
  assert.equal(a.connectionState, 'connected');
  track.send(new RtpPacket({ payload: Buffer.from('final') }));
  assert.equal((await within(remoteTrack.recv(), 5000, 'recv after answer')).payload.toString(), 'final');

  await new Promise((r) => setImmediate(r));
  assert.deepEqual(statesA, ['have-local-offer', 'have-remote-pranswer', 'stable']);
  assert.deepEqual(statesB, ['have-remote-offer', 'have-local-pranswer', 'stable']);
});

test('pranswer in the wrong state is an InvalidStateError and changes nothing', async (t) => {
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => a.close());
  a.addTransceiver('audio');
  await a.setLocalDescription();
  const offer = a.localDescription!.sdp;
  await assert.rejects(a.setLocalDescription({ type: 'pranswer', sdp: offer }), isError('InvalidStateError', 'ERR_PEER_SIGNALING_STATE'));
  assert.equal(String(a.signalingState), 'have-local-offer');
  await assert.rejects(a.setRemoteDescription({ type: 'bogus' as 'offer', sdp: offer }), isError('TypeError', 'ERR_PEER_SDP_TYPE'));
  assert.equal(String(a.signalingState), 'have-local-offer');
});
