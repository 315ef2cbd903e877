// API contract of RTCPeerConnection and tracks: misuse throws DOMException-style typed errors with
// stable codes (webrtc-pc §4.4.1), events arrive through on(), addEventListener() and onX alike,
// a throwing listener does not break the connection, and remote tracks end iteration cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, MediaStreamTrack, PeerError, RTCPeerConnection } from '../../../lib/peer/index.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';

function isError(name: string, code?: string): (e: unknown) => boolean {
  return (e) => e instanceof Error && e.name === name && (code === undefined || (e as PeerError).code === code);
}

test('misuse throws typed errors and leaves the state unchanged', async () => {
  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  await assert.rejects(pc.createAnswer(), isError('InvalidStateError', 'ERR_PEER_SIGNALING_STATE'));
  await assert.rejects(pc.addIceCandidate({ candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host' }), isError('InvalidStateError', 'ERR_PEER_NO_REMOTE_DESCRIPTION'));
  await assert.rejects(pc.setLocalDescription({ type: 'rollback' }), isError('InvalidStateError', 'ERR_PEER_SIGNALING_STATE'));
  await assert.rejects(pc.setRemoteDescription({ type: 'pranswer', sdp: '' }), isError('InvalidStateError', 'ERR_PEER_SIGNALING_STATE'));
  await assert.rejects(pc.setLocalDescription({ type: 'pranswer', sdp: 'v=0' }), isError('InvalidStateError', 'ERR_PEER_SIGNALING_STATE'));
  assert.throws(() => pc.addTransceiver('data' as 'audio'), isError('TypeError', 'ERR_PEER_TRACK_KIND'));
  assert.throws(() => pc.addTransceiver('audio', { direction: 'sideways' as 'sendrecv' }), isError('TypeError', 'ERR_PEER_DIRECTION'));
  const t = pc.addTransceiver('video');
  assert.throws(() => {
    t.direction = 'nowhere' as 'sendrecv';
  }, isError('TypeError', 'ERR_PEER_DIRECTION'));
  await assert.rejects(t.sender.replaceTrack(new LocalStreamTrack({ kind: 'audio' })), isError('TypeError', 'ERR_PEER_TRACK_KIND'));
  assert.throws(() => new RTCPeerConnection({ hostAddresses: ['not-an-ip'] }), isError('TypeError', 'ERR_PEER_HOST_ADDRESS'));
  assert.equal(pc.signalingState, 'stable');

  // A bad trickled candidate is an OperationError; the description stays usable.
  const other = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  other.addTransceiver('audio');
  await other.setLocalDescription();
  await pc.setRemoteDescription(other.localDescription!);
  await assert.rejects(pc.addIceCandidate({ candidate: 'candidate:garbage' }), isError('OperationError', 'ERR_PEER_BAD_CANDIDATE'));
  await pc.addIceCandidate({ candidate: '' });
  other.close();

  const waiting = pc.connected();
  pc.close();
  pc.close();
  await assert.rejects(waiting, isError('InvalidStateError', 'ERR_PEER_NOT_CONNECTED'));
  assert.equal(pc.signalingState, 'closed');
  assert.equal(pc.connectionState, 'closed');
  assert.throws(() => pc.addTransceiver('audio'), isError('InvalidStateError', 'ERR_PEER_CLOSED'));
  assert.throws(() => pc.createDataChannel('x'), isError('InvalidStateError', 'ERR_PEER_CLOSED'));
  await assert.rejects(pc.createOffer(), isError('InvalidStateError', 'ERR_PEER_CLOSED'));
  await assert.rejects(pc.connected(), isError('InvalidStateError', 'ERR_PEER_NOT_CONNECTED'));
  assert.ok((await pc.getStats()).size > 0, 'getStats still works after close');
});

test('events reach on(), addEventListener() and onX; a throwing listener is reported, not propagated', async () => {
  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const seen: string[] = [];
  pc.on('signalingstatechange', () => {
    throw new Error('first listener bug');
  });
  pc.on('signalingstatechange', () => seen.push('on'));
  const listener = (): void => {
    seen.push('listener');
  };
  pc.addEventListener('signalingstatechange', listener);
  pc.onsignalingstatechange = () => seen.push('first handler');
  pc.onsignalingstatechange = () => seen.push('handler');
  pc.addEventListener('signalingstatechange', () => {
    throw new Error('listener bug');
  });
  const warnings: string[] = [];
  const onWarning = (w: Error): void => {
    warnings.push(w.message);
  };
  process.on('warning', onWarning);
  pc.addTransceiver('audio');
  await pc.setLocalDescription();
  await new Promise((r) => setImmediate(r));
  process.off('warning', onWarning);
  assert.deepEqual(seen, ['on', 'listener', 'handler']);
  assert.equal(pc.signalingState, 'have-local-offer');
  assert.ok(warnings.some((w) => w.includes('first listener bug')));
  assert.ok(warnings.some((w) => w.includes('Error: listener bug')));
  pc.removeEventListener('signalingstatechange', listener);
  pc.onsignalingstatechange = null;
  assert.equal(pc.onsignalingstatechange, null);
  await pc.setLocalDescription({ type: 'rollback' });
  assert.deepEqual(seen, ['on', 'listener', 'handler', 'on']);
  pc.close();
});

test('negotiationneeded after a completed offer/answer: none while nothing changed, once per direction change on either side', async () => {
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const sent = a.addTransceiver('audio', { direction: 'sendonly' });
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription!);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription!);
    let neededA = 0;
    let neededB = 0;
    a.onnegotiationneeded = () => neededA++;
    b.onnegotiationneeded = () => neededB++;
    // The checks queued by the negotiation itself run, and find nothing to negotiate.
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual([neededA, neededB], [0, 0]);
    // The offerer compares with what it offered, the answerer with the offer intersected with its direction.
    // B answered recvonly to a sendonly offer: sendrecv would still answer recvonly (no change),
    // inactive would not.
    const received = b.getTransceivers()[0]!;
    received.direction = 'sendrecv';
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual([neededA, neededB], [0, 0]);
    sent.direction = 'inactive';
    received.direction = 'inactive';
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual([neededA, neededB], [1, 1]);
    assert.match(a.currentLocalDescription!.sdp, /a=sendonly/);
    assert.match(b.currentRemoteDescription!.sdp, /a=sendonly/);
  } finally {
    a.close();
    b.close();
  }
});

test('negotiationneeded fires once per change while stable; icecandidate ends with null', async () => {
  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  let needed = 0;
  pc.onnegotiationneeded = () => needed++;
  pc.addTransceiver('audio');
  pc.addTransceiver('video');
  await new Promise((r) => setImmediate(r));
  assert.equal(needed, 1);
  const candidates: (string | null)[] = [];
  const done = new Promise<void>((resolve) => {
    pc.onicecandidate = (e) => {
      candidates.push(e.candidate?.candidate ?? null);
      if (e.candidate === null) resolve();
    };
  });
  await pc.setLocalDescription();
  await done;
  assert.match(candidates[0]!, /^candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/);
  assert.equal(candidates.at(-1), null);
  assert.equal(pc.iceGatheringState, 'complete');
  assert.match(pc.localDescription!.sdp, /a=candidate:.* 127\.0\.0\.1 /);
  assert.match(pc.localDescription!.sdp, /a=end-of-candidates/);
  pc.close();
});

test('tracks: a remote track queues, iterates and ends; a local track refuses recv and sending after stop', async () => {
  const remote = new MediaStreamTrack({ kind: 'video', remote: true });
  remote.push(new RtpPacket({ payloadType: 96, sequenceNumber: 1, timestamp: 0, ssrc: 1, payload: Buffer.from('a') }));
  remote.push(new RtpPacket({ payloadType: 96, sequenceNumber: 2, timestamp: 0, ssrc: 1, payload: Buffer.from('b') }));
  const pending = remote.recv();
  assert.equal((await pending).payload.toString(), 'a');
  const got: string[] = [];
  const iterate = (async () => {
    for await (const p of remote) got.push(p.payload.toString());
  })();
  await new Promise((r) => setImmediate(r));
  remote.push(new RtpPacket({ payloadType: 96, sequenceNumber: 3, timestamp: 0, ssrc: 1, payload: Buffer.from('c') }));
  await new Promise((r) => setImmediate(r));
  let ended = 0;
  remote.onended = () => ended++;
  remote.stop();
  await iterate;
  assert.deepEqual(got, ['b', 'c']);
  assert.equal(ended, 1);
  await assert.rejects(remote.recv(), isError('InvalidStateError', 'ERR_PEER_TRACK_ENDED'));

  // The queue is bounded: the oldest packets go first and are counted.
  const flood = new MediaStreamTrack({ kind: 'audio', remote: true });
  for (let i = 0; i < 3000; i++) flood.push(new RtpPacket({ payloadType: 0, sequenceNumber: i, timestamp: 0, ssrc: 1 }));
  assert.equal(flood.droppedPackets, 3000 - 1024);
  assert.equal((await flood.recv()).sequenceNumber, 3000 - 1024);

  const local = new LocalStreamTrack({ kind: 'audio' });
  assert.throws(() => local.recv(), isError('InvalidStateError', 'ERR_PEER_TRACK_LOCAL'));
  local.stop();
  assert.throws(() => local.send(new RtpPacket({ payload: Buffer.from('x') })), isError('InvalidStateError', 'ERR_PEER_TRACK_ENDED'));
  assert.throws(() => new LocalStreamTrack({ kind: 'text' as 'audio' }), isError('TypeError', 'ERR_PEER_TRACK_KIND'));
});
