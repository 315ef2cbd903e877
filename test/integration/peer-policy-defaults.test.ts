// The default policy modules between two real peer connections on loopback: the SDP offers what
// they serve (nack, nack pli, ccm fir, transport-cc; no goog-remb), SR/RR give RTT and the
// remote-inbound/remote-outbound stats, a lost packet is NACKed and repaired by RTX, a keyframe
// request travels as PLI and becomes an event, transport-wide sequence numbers are consecutive
// across streams and transport-cc feedback comes back; RFC 8888 feedback when that module is added;
// a NACK flood is answered within the responder's rate limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack } from '../../lib/peer/index.js';
import { RtpPacketFlags } from '../../lib/peer/rtp-policy.js';
import { congestionControlFeedbackPolicy, defaultPolicyFactories } from '../../lib/policy/default-policies.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { RtcpGenericNack } from '../../lib/rtp/rtcp/generic-nack.js';
import type { RtcpPacket } from '../../lib/rtp/rtcp/compound.js';
import { negotiate, within } from './peer-helpers.js';

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  // The poll stops at the deadline too: one left running after a failure kept the process alive.
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('default modules: truthful SDP, reports and RTT, NACK/RTX, PLI, transport-cc', { timeout: 60_000 }, async () => {
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    assert.deepEqual(pc1.transportPolicies.list().map((m) => m.name), ['transport-cc-feedback']);
    const video = new LocalStreamTrack({ kind: 'video' });
    const audio = new LocalStreamTrack({ kind: 'audio' });
    const tv = pc1.addTransceiver(video, { direction: 'sendonly' });
    pc1.addTransceiver(audio, { direction: 'sendonly' });
    assert.deepEqual(tv.policies.list().map((m) => m.name), ['rtcp-reporter', 'nack-generator', 'nack-responder', 'keyframe-requester']);
    const offer = (await pc1.createOffer()).sdp;
    for (const fb of ['nack', 'nack pli', 'ccm fir', 'transport-cc']) assert.match(offer, new RegExp(`a=rtcp-fb:96 ${fb}\\r\\n`));
    assert.match(offer, /a=rtcp-fb:111 transport-cc\r\n/);
    assert.doesNotMatch(offer, /goog-remb/, 'no REMB module installed: no goog-remb');
    assert.doesNotMatch(offer, /a=rtcp-fb:111 nack/, 'no NACK for audio');
    assert.match(offer, /a=extmap:3 http:\/\/www.ietf.org\/id\/draft-holmer-rmcat-transport-wide-cc-extensions-01/);

    // pc1 loses one video packet on purpose (a module after the responder, which has it in history).
    let dropSeq = -1;
    tv.policies.add({
      name: 'drop-one',
      outgoingRtp: (_now, batch) => {
        for (let i = 0; i < batch.count; i++) if (batch.sequenceNumber[i] === dropSeq && (batch.flags[i]! & RtpPacketFlags.RETRANSMISSION) === 0) batch.flags[i]! |= RtpPacketFlags.DROP;
      },
    });
    const feedbackAt1: RtcpPacket[] = [];
    pc1.transportPolicies.add({ name: 'watch', incomingRtcp: (_now, packets) => void feedbackAt1.push(...packets) });
    const transportSeqs: number[] = [];
    pc2.transportPolicies.add({
      name: 'watch',
      incomingRtp: (_now, batch) => {
        for (let i = 0; i < batch.count; i++) transportSeqs.push(batch.transportSequence[i]!);
      },
    });
    const keyframeEvents: string[] = [];
    pc1.on('policy', (e) => {
      if (e.name === 'keyframe-request') keyframeEvents.push(e.detail.kind);
    });
    const tracks: MediaStreamTrack[] = [];
    pc2.on('track', (e) => tracks.push(e.track));
    await negotiate(pc1, pc2);
    await within(Promise.all([pc1.connected(), pc2.connected()]), 10_000, 'connected');
    await until(() => tracks.length === 2, 5000, 'tracks');
    const remoteVideo = tracks.find((t) => t.kind === 'video')!;
    const seqs: number[] = [];
    void (async () => {
      for await (const p of remoteVideo) seqs.push(p.sequenceNumber!);
    })();
    dropSeq = 30;
    for (let i = 0; i < 150; i++) {
      video.send(new RtpPacket({ sequenceNumber: i, timestamp: i * 3000, marker: true, payload: Buffer.alloc(800, i) }));
      audio.send(new RtpPacket({ sequenceNumber: i, timestamp: i * 960, payload: Buffer.alloc(80, i) }));
      await new Promise((r) => setTimeout(r, 20));
    }
    await until(() => seqs.includes(30), 5000, 'packet 30 repaired by RTX');
    assert.ok(seqs.indexOf(30) > seqs.indexOf(31), 'it came after its successor: a retransmission');

    // Keyframe request: pc2 asks, pc1's application hears it.
    pc2.getTransceivers().find((t) => t.kind === 'video')!.receiver.requestKeyframe();
    await until(() => keyframeEvents.length > 0, 5000, 'keyframe-request event');
    assert.deepEqual(keyframeEvents, ['pli']);

    // Transport-wide sequence numbers: one counter across audio and video, consecutive.
    const sorted = [...transportSeqs].sort((a, b) => a - b);
    assert.ok(sorted.length > 250);
    const missing = sorted[sorted.length - 1]! - sorted[0]! + 1 - new Set(sorted).size;
    assert.equal(missing, 1, 'only the dropped packet lacks a number (its RTX got a fresh one)');
    await until(() => feedbackAt1.some((p) => p.kind === 'transport-cc'), 5000, 'transport-cc feedback');

    // Reports: RTT and the remote views in getStats.
    await until(async () => {
      const s = [...(await pc1.getStats()).values()];
      return s.some((x) => x.type === 'remote-inbound-rtp' && x.kind === 'video' && typeof x.roundTripTime === 'number');
    }, 10_000, 'remote-inbound-rtp with RTT');
    const s1 = [...(await pc1.getStats()).values()];
    const ri = s1.find((x) => x.type === 'remote-inbound-rtp' && x.kind === 'video')!;
    assert.ok((ri.roundTripTime as number) >= 0 && (ri.roundTripTime as number) < 0.5);
    assert.equal(ri.localId, `OT01V${tv.sender.ssrc}`);
    const out = s1.find((x) => x.type === 'outbound-rtp' && x.ssrc === tv.sender.ssrc)!;
    assert.equal(out.remoteId, ri.id);
    assert.ok((out.nackCount as number) >= 1);
    assert.equal(out.pliCount, 1);
    assert.equal(out.firCount, 0);
    assert.ok((out.retransmittedPacketsSent as number) >= 1);
    assert.ok((out.retransmittedBytesSent as number) >= 800);
    await until(async () => [...(await pc2.getStats()).values()].some((x) => x.type === 'remote-outbound-rtp' && x.kind === 'video'), 10_000, 'remote-outbound-rtp');
    const s2 = [...(await pc2.getStats()).values()];
    const inb = s2.find((x) => x.type === 'inbound-rtp' && x.kind === 'video')!;
    assert.ok((inb.nackCount as number) >= 1);
    assert.equal(inb.pliCount, 1);
    assert.equal(typeof inb.jitter, 'number');
    const ro = s2.find((x) => x.type === 'remote-outbound-rtp' && x.kind === 'video')!;
    assert.equal(inb.remoteId, ro.id);
    assert.ok((ro.packetsSent as number) > 0);
  } finally {
    pc1.close();
    pc2.close();
  }
});

test('receive-only RTT via RTCP XR (RFC 3611 RRTR/DLRR): rcvr-rtt offered and answered, roundTripTime in the receiver\'s remote-outbound-rtp', { timeout: 60_000 }, async () => {
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const bare = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], rtpPolicies: [] });
  let sending = true;
  try {
    bare.addTransceiver('video', { direction: 'recvonly' });
    assert.doesNotMatch((await bare.createOffer()).sdp, /rtcp-xr/, 'no reporter installed: no rcvr-rtt');
    const video = new LocalStreamTrack({ kind: 'video' });
    pc1.addTransceiver(video, { direction: 'sendonly' });
    const offer = (await pc1.createOffer()).sdp;
    assert.match(offer, /a=rtcp-xr:rcvr-rtt=all\r\n/);
    await negotiate(pc1, pc2);
    assert.match(pc2.localDescription!.sdp, /a=rtcp-xr:rcvr-rtt=all\r\n/, 'answered: the receiver\'s reporter serves it');
    await within(Promise.all([pc1.connected(), pc2.connected()]), 10_000, 'connected');
    void (async () => {
      for (let i = 0; sending; i++) {
        video.send(new RtpPacket({ sequenceNumber: i & 0xffff, timestamp: i * 3000, marker: true, payload: Buffer.alloc(500, i) }));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const rtts: number[] = [];
    pc2.on('policy', (e) => {
      if (e.name === 'rtt') rtts.push(e.detail.roundTripTime);
    });
    const remoteOutbound = async () => [...(await pc2.getStats()).values()].find((x) => x.type === 'remote-outbound-rtp' && x.kind === 'video');
    await until(async () => typeof (await remoteOutbound())?.roundTripTime === 'number', 20_000, 'remote-outbound-rtp roundTripTime on the receiver');
    const ro = (await remoteOutbound())!;
    assert.ok((ro.roundTripTime as number) >= 0 && (ro.roundTripTime as number) < 0.5, `loopback RTT (${ro.roundTripTime})`);
    assert.ok((ro.roundTripTimeMeasurements as number) >= 1);
    assert.ok((ro.packetsSent as number) > 0);
    assert.ok(rtts.length >= 1);
  } finally {
    sending = false;
    pc1.close();
    pc2.close();
    bare.close();
  }
});

test('RFC 8888 feedback when installed: ack ccfb offered and answered, ccfb packets reach the sender', { timeout: 30_000 }, async () => {
  const policies = [...defaultPolicyFactories(), congestionControlFeedbackPolicy];
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], rtpPolicies: policies });
  const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], rtpPolicies: policies });
  try {
    const video = new LocalStreamTrack({ kind: 'video' });
    pc1.addTransceiver(video, { direction: 'sendonly' });
    assert.match((await pc1.createOffer()).sdp, /a=rtcp-fb:96 ack ccfb\r\n/);
    const seen: RtcpPacket[] = [];
    pc1.transportPolicies.add({ name: 'watch', incomingRtcp: (_now, packets) => void seen.push(...packets) });
    await negotiate(pc1, pc2);
    assert.match(pc2.localDescription!.sdp, /a=rtcp-fb:96 ack ccfb\r\n/);
    await within(Promise.all([pc1.connected(), pc2.connected()]), 10_000, 'connected');
    for (let i = 0; i < 30; i++) {
      video.send(new RtpPacket({ timestamp: i * 3000, marker: true, payload: Buffer.alloc(500, i) }));
      await new Promise((r) => setTimeout(r, 20));
    }
    await until(() => seen.some((p) => p.kind === 'ccfb'), 5000, 'ccfb feedback');
    const received = seen.filter((p) => p.kind === 'ccfb').flatMap((p) => (p.kind === 'ccfb' ? p.reports.flatMap((r) => r.metrics.filter((m) => m.received)) : []));
    assert.ok(received.length >= 20, `packets reported received (${received.length})`);
  } finally {
    pc1.close();
    pc2.close();
  }
});

test('hostile: a flood of NACKs for every packet does not turn the sender into an amplifier', { timeout: 30_000 }, async () => {
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const video = new LocalStreamTrack({ kind: 'video' });
    const t = pc1.addTransceiver(video, { direction: 'sendonly' });
    await negotiate(pc1, pc2);
    await within(Promise.all([pc1.connected(), pc2.connected()]), 10_000, 'connected');
    const first = 1000;
    for (let i = 0; i < 300; i++) video.send(new RtpPacket({ sequenceNumber: first + i, timestamp: i * 3000, payload: Buffer.alloc(1000, i) }));
    await new Promise((r) => setTimeout(r, 200));
    // The remote asks for all 300 packets, 50 times over, through its own sender's RTCP path.
    const remoteSender = pc2.getTransceivers()[0]!.sender;
    const all = [...Array(300).keys()].map((i) => first + i);
    for (let k = 0; k < 50; k++) remoteSender.sendRtcp([RtcpGenericNack.fromSequenceNumbers(remoteSender.ssrc, t.sender.ssrc, all)]);
    await new Promise((r) => setTimeout(r, 500));
    const out = [...(await pc1.getStats()).values()].find((s) => s.type === 'outbound-rtp' && s.ssrc === t.sender.ssrc)!;
    const asked = 50 * 300 * 1000;
    assert.ok((out.nackCount as number) >= 40, `NACKs arrived (${String(out.nackCount)})`);
    assert.ok((out.pwtNackRateLimited as number) > 0, 'the rate limit held some back');
    assert.ok((out.retransmittedBytesSent as number) < asked / 20, `retransmitted ${String(out.retransmittedBytesSent)} B of ${asked} B asked for`);
    assert.equal(pc1.connectionState, 'connected');
  } finally {
    pc1.close();
    pc2.close();
  }
});
