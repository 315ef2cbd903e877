// Interop with werift 0.24 (a TypeScript WebRTC stack) over UDP: werift answers our offer and we
// answer werift's offer; RTP flows both ways through ICE+DTLS+SRTP and a data channel carries
// messages both ways. This is the "answer that peer accepts" check, end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as werift from 'werift';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCDataChannel } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { until, within } from './peer-helpers.js';

async function weriftLocal(pc: werift.RTCPeerConnection): Promise<string> {
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => {
      pc.iceGatheringStateChange.subscribe((s) => {
        if (s === 'complete') resolve();
      });
    });
  }
  return pc.localDescription!.sdp;
}

function weriftPc(): werift.RTCPeerConnection {
  return new werift.RTCPeerConnection({ iceAdditionalHostAddresses: ['127.0.0.1'], iceUseIpv6: false });
}

test('werift answers our offer: audio both ways and a data channel', { timeout: 30_000 }, async () => {
  const ours = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const theirs = weriftPc();
  try {
    const track = new LocalStreamTrack({ kind: 'audio' });
    ours.addTransceiver(track);
    const channel = ours.createDataChannel('chat');
    const theirTransceiver = new Promise<werift.RTCRtpTransceiver>((resolve) => theirs.onTransceiverAdded.subscribe((t) => resolve(t)));
    const received = new Promise<werift.RtpPacket>((resolve) => {
      theirs.onTrack.subscribe((t) => t.onReceiveRtp.subscribe((rtp) => resolve(rtp)));
    });
    const theirChannel = new Promise<werift.RTCDataChannel>((resolve) => theirs.onDataChannel.subscribe((dc) => resolve(dc)));
    const ourTrack = new Promise<MediaStreamTrack>((resolve) => ours.on('track', (e) => resolve(e.track)));

    await ours.setLocalDescription();
    await theirs.setRemoteDescription({ type: 'offer', sdp: ours.localDescription!.sdp });
    const wt = await within(theirTransceiver, 5000, 'werift transceiver');
    wt.setDirection('sendrecv');
    await theirs.setLocalDescription(await theirs.createAnswer());
    await ours.setRemoteDescription({ type: 'answer', sdp: await weriftLocal(theirs) });
    await within(ours.connected(), 15_000, 'connected');

    track.send(new RtpPacket({ timestamp: 100, payload: Buffer.from('to werift') }));
    const rtp = await within(received, 10_000, 'werift received RTP');
    assert.equal(rtp.payload.toString(), 'to werift');

    const back = new werift.RtpPacket(
      new werift.RtpHeader({ payloadType: 111, sequenceNumber: 7, timestamp: 960, ssrc: wt.sender.ssrc, marker: true }),
      Buffer.from('from werift'),
    );
    const mine = await within(ourTrack, 5000, 'our track');
    const got = mine.recv();
    wt.sender.sendRtp(back);
    const packet = await within(got, 10_000, 'we received RTP');
    assert.equal(packet.payload.toString(), 'from werift');
    assert.equal(packet.sequenceNumber, 7);

    const dc = await within(theirChannel, 10_000, 'werift datachannel');
    const toThem = new Promise<string>((resolve) => dc.onMessage.subscribe((m) => resolve(m.toString())));
    if (channel.readyState !== 'open') await within(new Promise((r) => channel.once('open', r)), 5000, 'open');
    channel.send('hi werift');
    assert.equal(await within(toThem, 5000, 'werift message'), 'hi werift');
    const toUs = new Promise<unknown>((resolve) => channel.once('message', (e) => resolve(e.data)));
    dc.send('hi ours');
    assert.equal(await within(toUs, 5000, 'our message'), 'hi ours');
  } finally {
    ours.close();
    await theirs.close();
  }
});

test('we answer werift’s offer: video from werift and a data channel it opened', { timeout: 30_000 }, async () => {
  const ours = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const theirs = weriftPc();
  const offered: werift.RTCDtlsTransport[] = [];
  try {
    const wt = theirs.addTransceiver('video', { direction: 'sendrecv' });
    const dc = theirs.createDataChannel('from-werift');
    const ourTrack = new Promise<MediaStreamTrack>((resolve) => ours.on('track', (e) => resolve(e.track)));
    const ourChannel = new Promise<RTCDataChannel>((resolve) => ours.on('datachannel', (e) => resolve(e.channel)));
    await theirs.setLocalDescription(await theirs.createOffer());
    // werift 0.24 (bundlePolicy max-compat) gives each m-line of its offer a transport that gathers
    // its own UDP sockets; once our answer bundles them it keeps the first and forgets the others
    // without closing them, so close() leaves their sockets open (they kept the test process
    // alive). Kept here and stopped at the end through werift's own RTCDtlsTransport.stop().
    offered.push(...theirs.dtlsTransports);
    await ours.setRemoteDescription({ type: 'offer', sdp: await weriftLocal(theirs) });
    await ours.setLocalDescription();
    await theirs.setRemoteDescription({ type: 'answer', sdp: ours.localDescription!.sdp });
    await within(ours.connected(), 15_000, 'connected');

    const mine = await within(ourTrack, 5000, 'our track');
    const got = mine.recv();
    const pt = wt.codecs[0]!.payloadType;
    wt.sender.sendRtp(new werift.RtpPacket(new werift.RtpHeader({ payloadType: pt, sequenceNumber: 1, timestamp: 3000, ssrc: wt.sender.ssrc, marker: true }), Buffer.from('vp8 frame')));
    const packet = await within(got, 10_000, 'video from werift');
    assert.equal(packet.payload.toString(), 'vp8 frame');
    assert.equal(packet.payloadType, pt);

    const channel = await within(ourChannel, 10_000, 'our datachannel');
    assert.equal(channel.label, 'from-werift');
    const toUs = new Promise<unknown>((resolve) => channel.once('message', (e) => resolve(e.data)));
    dc.send('hello from werift');
    assert.equal(await within(toUs, 5000, 'message'), 'hello from werift');
  } finally {
    ours.close();
    await theirs.close();
    await Promise.allSettled(offered.map((t) => t.stop()));
  }
});

test('after both connections close, neither stack holds a socket: the process can exit without --test-force-exit', { timeout: 30_000 }, async () => {
  const open = (): string[] => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap' || r === 'TCPSocketWrap' || r === 'TCPServerWrap');
  await until(() => open().length === 0, 20_000, `sockets still open: ${open().join(', ')}`);
});
