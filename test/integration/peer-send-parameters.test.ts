// RTCRtpSender.getParameters/setParameters (webrtc-pc §5.2: transactionId, read-only members,
// encoding checks; active=false stops sending) and replaceTrack, over a real loopback connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, PeerError, RTCPeerConnection, type MediaStreamTrack, type RTCRtpSendParameters } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { negotiate, within } from './peer-helpers.js';

function isError(name: string, code?: string): (e: unknown) => boolean {
  return (e) => e instanceof Error && e.name === name && (code === undefined || (e as PeerError).code === code);
}

const nextTask = (): Promise<void> => new Promise((r) => setImmediate(r));

test('getParameters/setParameters: transactionId and read-only rules, typed errors, nothing changes on error', async (t) => {
  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => pc.close());
  const tr = pc.addTransceiver('video');
  const sender = tr.sender;
  const p = sender.getParameters();
  assert.deepEqual(p.encodings, [{ ssrc: sender.ssrc, active: true, priority: 'low', networkPriority: 'low' }]);
  assert.deepEqual(p.codecs, [], 'nothing negotiated yet');
  assert.deepEqual(p.rtcp, { reducedSize: false });
  assert.equal(sender.getParameters().transactionId, p.transactionId, 'same task, same transaction');

  const modified = (f: (x: RTCRtpSendParameters) => void): RTCRtpSendParameters => {
    const x = sender.getParameters();
    f(x);
    return x;
  };
  const bad = isError('InvalidModificationError', 'ERR_PEER_SEND_PARAMETERS');
  await assert.rejects(sender.setParameters(modified((x) => Object.assign(x, { transactionId: 'other' }))), bad);
  await assert.rejects(sender.setParameters(modified((x) => x.encodings.push({ ...x.encodings[0]! }))), bad);
  await assert.rejects(sender.setParameters(modified((x) => Object.assign(x, { rtcp: { reducedSize: true } }))), bad);
  await assert.rejects(sender.setParameters(modified((x) => Object.assign(x.encodings[0]!, { ssrc: 1 }))), bad);
  await assert.rejects(sender.setParameters(modified((x) => Object.assign(x.encodings[0]!, { scaleResolutionDownBy: 0.5 }))), isError('RangeError', 'ERR_PEER_SEND_PARAMETERS'));
  await assert.rejects(sender.setParameters(modified((x) => Object.assign(x.encodings[0]!, { maxBitrate: -1 }))), isError('RangeError', 'ERR_PEER_SEND_PARAMETERS'));
  await assert.rejects(sender.setParameters(modified((x) => Object.assign(x.encodings[0]!, { priority: 'urgent' }))), isError('TypeError', 'ERR_PEER_SEND_PARAMETERS'));
  assert.deepEqual(sender.getParameters().encodings[0], { ssrc: sender.ssrc, active: true, priority: 'low', networkPriority: 'low' });

  // Parameters from an earlier task are stale.
  const stale = sender.getParameters();
  await nextTask();
  await assert.rejects(sender.setParameters(stale), isError('InvalidStateError', 'ERR_PEER_SEND_PARAMETERS'));

  // A valid change; the event carries it for the application's encoder; the object is used up.
  const events: RTCRtpSendParameters[] = [];
  sender.on('parameterschange', (e) => events.push(e.parameters));
  const ok = sender.getParameters();
  Object.assign(ok.encodings[0]!, { maxBitrate: 300_000, scaleResolutionDownBy: 2, maxFramerate: 15, priority: 'high', networkPriority: 'medium' });
  await sender.setParameters(ok);
  assert.equal(events.length, 1);
  assert.deepEqual(events[0]!.encodings[0], { ssrc: sender.ssrc, active: true, maxBitrate: 300_000, maxFramerate: 15, scaleResolutionDownBy: 2, priority: 'high', networkPriority: 'medium' });
  await assert.rejects(sender.setParameters(ok), isError('InvalidStateError', 'ERR_PEER_SEND_PARAMETERS'));
  await nextTask();
  assert.equal(sender.getParameters().encodings[0]!.maxBitrate, 300_000);

  // Audio has no resolution or frame rate: those members are dropped.
  const audio = pc.addTransceiver('audio').sender;
  const ap = audio.getParameters();
  Object.assign(ap.encodings[0]!, { scaleResolutionDownBy: 4, maxFramerate: 10, maxBitrate: 32_000 });
  await audio.setParameters(ap);
  await nextTask();
  const after = audio.getParameters().encodings[0]!;
  assert.equal(after.maxBitrate, 32_000);
  assert.equal('scaleResolutionDownBy' in after || 'maxFramerate' in after, false);
});

test('active=false stops sending, active=true resumes; replaceTrack swaps the source on the same SSRC', { timeout: 30_000 }, async (t) => {
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => {
    a.close();
    b.close();
  });
  const first = new LocalStreamTrack({ kind: 'audio' });
  const tr = a.addTransceiver(first, { direction: 'sendonly' });
  const remote = new Promise<MediaStreamTrack>((resolve) => b.on('track', (e) => resolve(e.track)));
  await negotiate(a, b);
  await within(Promise.all([a.connected(), b.connected()]), 10_000, 'connected');
  const track = await within(remote, 5000, 'track');
  const sender = tr.sender;
  const p = sender.getParameters();
  assert.equal(p.codecs[0]?.mimeType, 'audio/opus');
  assert.ok(p.rtcp.cname !== undefined && p.rtcp.cname.length > 0);
  assert.ok(a.localDescription!.sdp.includes(`cname:${p.rtcp.cname}`), 'the cname our SDP announces');

  first.send(new RtpPacket({ payload: Buffer.from('one') }));
  assert.equal((await within(track.recv(), 5000, 'one')).payload.toString(), 'one');

  const off = sender.getParameters();
  off.encodings[0]!.active = false;
  await sender.setParameters(off);
  const dropped = sender.packetsDropped;
  const sent = sender.packetsSent;
  for (let i = 0; i < 5; i++) first.send(new RtpPacket({ payload: Buffer.from(`silent ${i}`) }));
  assert.equal(sender.packetsDropped, dropped + 5);
  assert.equal(sender.packetsSent, sent);
  // A retransmission a policy module asks for is not sent for a switched-off encoding either.
  const retransmission = new RtpPacket({ ssrc: sender.ssrc, payloadType: p.codecs[0]!.payloadType, sequenceNumber: 1, timestamp: 1, payload: Buffer.from('rtx') });
  sender.sendFromPolicy(retransmission.serialize(), true);
  assert.equal(sender.packetsDropped, dropped + 6);

  await nextTask();
  const on = sender.getParameters();
  on.encodings[0]!.active = true;
  await sender.setParameters(on);
  first.send(new RtpPacket({ payload: Buffer.from('two') }));
  const two = await within(track.recv(), 5000, 'two');
  assert.equal(two.payload.toString(), 'two', 'nothing sent while inactive arrived');

  // replaceTrack: the new track sends on the same SSRC; the old one is detached.
  const second = new LocalStreamTrack({ kind: 'audio' });
  await sender.replaceTrack(second);
  assert.equal(sender.track, second);
  assert.equal(first.senderCount, 0);
  first.send(new RtpPacket({ payload: Buffer.from('old track') }));
  second.send(new RtpPacket({ payload: Buffer.from('three') }));
  const three = await within(track.recv(), 5000, 'three');
  assert.equal(three.payload.toString(), 'three');
  assert.equal(three.ssrc, two.ssrc);
  assert.equal(three.sequenceNumber, (two.sequenceNumber! + 1) & 0xffff, 'one sequence space across tracks');
  await sender.replaceTrack(null);
  assert.equal(second.senderCount, 0);
  await assert.rejects(sender.replaceTrack(new LocalStreamTrack({ kind: 'video' })), isError('TypeError', 'ERR_PEER_TRACK_KIND'));
  tr.stop();
  await assert.rejects(sender.replaceTrack(second), isError('InvalidStateError', 'ERR_PEER_SENDER_STOPPED'));
  await assert.rejects(sender.setParameters(sender.getParameters()), isError('InvalidStateError', 'ERR_PEER_SENDER_STOPPED'));
});
