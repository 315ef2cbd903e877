// Renegotiation on a live connection (RFC 8829 §5.2.2/§5.3.2): adding a transceiver and a data
// channel, changing direction, stopping a transceiver, rollback (RFC 8829 §4.1.10.2) and an ICE
// restart (RFC 8445 §9) while packets keep flowing over the same DTLS association.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCDataChannel } from '../../lib/peer/index.js';
import { parseSdp } from '../../lib/sdp/parse.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { negotiate, within } from './peer-helpers.js';

function nextTrack(pc: RTCPeerConnection): Promise<MediaStreamTrack> {
  return new Promise((resolve) => pc.once('track', (e) => resolve(e.track)));
}

async function expectPayload(track: MediaStreamTrack, payload: string): Promise<void> {
  for (;;) {
    const p = await within(track.recv(), 5000, `payload ${payload}`);
    if (p.payload.toString() === payload) return;
  }
}

test('add video and a data channel, change direction, stop, on a live connection', { timeout: 30_000 }, async () => {
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const audio = new LocalStreamTrack({ kind: 'audio' });
    const at = pc1.addTransceiver(audio);
    const remoteAudio = nextTrack(pc2);
    await negotiate(pc1, pc2);
    await within(Promise.all([pc1.connected(), pc2.connected()]), 10_000, 'connected');
    const ra = await within(remoteAudio, 5000, 'audio track');
    audio.send(new RtpPacket({ timestamp: 1, payload: Buffer.from('a1') }));
    await expectPayload(ra, 'a1');
    const dtlsBefore = [...(await pc1.getStats()).values()].find((s) => s.type === 'transport')!.localCertificateId;

    // Adding a transceiver makes negotiation needed; the new m-section joins the BUNDLE group.
    const needed = new Promise<void>((resolve) => pc1.once('negotiationneeded', () => resolve()));
    const video = new LocalStreamTrack({ kind: 'video' });
    const vt = pc1.addTransceiver(video);
    const channel = pc1.createDataChannel('late');
    await within(needed, 2000, 'negotiationneeded');
    const remoteVideo = nextTrack(pc2);
    const remoteChannel = new Promise<RTCDataChannel>((resolve) => pc2.once('datachannel', (e) => resolve(e.channel)));
    await negotiate(pc1, pc2);
    const offer = parseSdp(pc1.currentLocalDescription!.sdp);
    assert.deepEqual(offer.groups[0]?.mids, ['0', '1', '2']);
    const rv = await within(remoteVideo, 5000, 'video track');
    video.send(new RtpPacket({ timestamp: 1, payload: Buffer.from('v1') }));
    audio.send(new RtpPacket({ timestamp: 2, payload: Buffer.from('a2') }));
    await expectPayload(rv, 'v1');
    await expectPayload(ra, 'a2');
    const rc = await within(remoteChannel, 10_000, 'datachannel');
    const msg = new Promise<unknown>((resolve) => rc.once('message', (e) => resolve(e.data)));
    channel.send('late hello');
    assert.equal(await within(msg, 5000, 'message'), 'late hello');
    assert.equal(pc1.connectionState, 'connected');

    // Direction: audio becomes inactive; packets sent now are dropped and counted, not sent.
    at.direction = 'inactive';
    await negotiate(pc1, pc2);
    assert.equal(at.currentDirection, 'inactive');
    const before = at.sender.packetsSent;
    audio.send(new RtpPacket({ timestamp: 3, payload: Buffer.from('a3') }));
    assert.equal(at.sender.packetsSent, before);
    assert.ok(at.sender.packetsDropped >= 1);

    // Stop the video transceiver: its m-line is rejected and the remote track ends.
    const ended = new Promise<void>((resolve) => rv.once('ended', () => resolve()));
    vt.stop();
    await negotiate(pc1, pc2);
    await within(ended, 2000, 'remote video ended');
    assert.equal(vt.currentDirection, 'stopped');
    const reoffer = parseSdp(pc1.currentLocalDescription!.sdp);
    assert.equal(reoffer.media[1]!.port, 0);
    assert.equal(pc2.getTransceivers().find((t) => t.mid === '1')!.currentDirection, 'stopped');
    assert.equal([...(await pc1.getStats()).values()].find((s) => s.type === 'transport')!.localCertificateId, dtlsBefore);
    assert.equal(pc1.connectionState, 'connected');
  } finally {
    pc1.close();
    pc2.close();
  }
});

test('rollback of a local and of a remote offer restores stable and undoes created transceivers', { timeout: 20_000 }, async () => {
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    pc1.addTransceiver('audio');
    await pc1.setLocalDescription(await pc1.createOffer());
    assert.equal(pc1.signalingState, 'have-local-offer');
    await pc1.setLocalDescription({ type: 'rollback' });
    assert.equal(pc1.signalingState, 'stable');
    assert.equal(pc1.localDescription, null);

    await pc1.setLocalDescription(await pc1.createOffer());
    await pc2.setRemoteDescription(pc1.localDescription!);
    assert.equal(pc2.getTransceivers().length, 1);
    await pc2.setRemoteDescription({ type: 'rollback' });
    assert.equal(pc2.signalingState, 'stable');
    assert.equal(pc2.getTransceivers().length, 0, 'the transceiver the offer created is gone');
    assert.equal(pc2.remoteDescription, null);
    await assert.rejects(pc2.setRemoteDescription({ type: 'rollback' }), (e: Error & { code?: string }) => e.name === 'InvalidStateError');

    // After the rollbacks a full negotiation still works.
    await pc2.setRemoteDescription(pc1.localDescription!);
    await pc2.setLocalDescription(await pc2.createAnswer());
    await pc1.setRemoteDescription(pc2.localDescription!);
    await within(Promise.all([pc1.connected(), pc2.connected()]), 10_000, 'connected');
  } finally {
    pc1.close();
    pc2.close();
  }
});

test('restartIce mid-call: new credentials, packets keep flowing, same DTLS association', { timeout: 30_000 }, async () => {
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  let timer: NodeJS.Timeout | undefined;
  try {
    const audio = new LocalStreamTrack({ kind: 'audio' });
    pc1.addTransceiver(audio);
    const remote = nextTrack(pc2);
    await negotiate(pc1, pc2);
    await within(Promise.all([pc1.connected(), pc2.connected()]), 10_000, 'connected');
    const track = await within(remote, 5000, 'track');
    let sent = 0;
    timer = setInterval(() => audio.send(new RtpPacket({ timestamp: sent * 960, payload: Buffer.from(`p${sent++}`) })), 5);
    let received = 0;
    const reader = (async () => {
      for await (const _ of track) received++;
    })();
    await within(new Promise<void>((r) => { const c = setInterval(() => { if (received >= 20) { clearInterval(c); r(); } }, 5); }), 5000, 'first packets');

    const ufragBefore = parseSdp(pc1.currentLocalDescription!.sdp).media[0]!.iceUfrag;
    const remoteUfragBefore = parseSdp(pc2.currentLocalDescription!.sdp).media[0]!.iceUfrag;
    const needed = new Promise<void>((resolve) => pc1.once('negotiationneeded', () => resolve()));
    pc1.restartIce();
    await within(needed, 2000, 'negotiationneeded after restartIce');
    await negotiate(pc1, pc2);
    assert.notEqual(parseSdp(pc1.currentLocalDescription!.sdp).media[0]!.iceUfrag, ufragBefore);
    assert.notEqual(parseSdp(pc2.currentLocalDescription!.sdp).media[0]!.iceUfrag, remoteUfragBefore, 'the answerer restarts too');
    const atRestart = received;
    await within(new Promise<void>((r) => { const c = setInterval(() => { if (received >= atRestart + 40) { clearInterval(c); r(); } }, 5); }), 10_000, 'packets after the restart');
    assert.equal(pc1.connectionState, 'connected');
    assert.equal(pc2.connectionState, 'connected');
    const t2 = [...(await pc2.getStats()).values()].find((s) => s.type === 'transport')!;
    assert.equal(t2.iceLocalUsernameFragment, parseSdp(pc2.currentLocalDescription!.sdp).media[0]!.iceUfrag);
    clearInterval(timer);
    pc2.close();
    await within(reader, 2000, 'iteration ends when the connection closes');
  } finally {
    clearInterval(timer);
    pc1.close();
    pc2.close();
  }
});

test('the answerer renegotiates: it offers a new track back, the DTLS roles stay', { timeout: 20_000 }, async () => {
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    pc1.addTransceiver(new LocalStreamTrack({ kind: 'audio' }));
    await negotiate(pc1, pc2);
    await within(Promise.all([pc1.connected(), pc2.connected()]), 10_000, 'connected');
    const role = async (pc: RTCPeerConnection): Promise<unknown> => [...(await pc.getStats()).values()].find((s) => s.type === 'transport')!.dtlsRole;
    const roles = [await role(pc1), await role(pc2)];
    const video = new LocalStreamTrack({ kind: 'video' });
    pc2.addTransceiver(video);
    const remoteVideo = nextTrack(pc1);
    await negotiate(pc2, pc1);
    assert.match(pc1.currentLocalDescription!.sdp, /a=setup:passive/, 'pc1, the DTLS server, answers passive');
    video.send(new RtpPacket({ timestamp: 1, payload: Buffer.from('back') }));
    await expectPayload(await within(remoteVideo, 5000, 'video track on pc1'), 'back');
    assert.deepEqual([await role(pc1), await role(pc2)], roles);
    assert.equal(pc1.connectionState, 'connected');
  } finally {
    pc1.close();
    pc2.close();
  }
});
