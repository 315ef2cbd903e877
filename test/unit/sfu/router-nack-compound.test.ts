// lib/sfu Router over real loopback sockets: one compound RTCP packet from a subscriber holding
// several generic NACKs (RFC 4585 §6.2.1) for two consumers' SSRCs is answered in ONE native call
// (docs/sfu.md "Retransmission"): each consumer gets its own packets again, a repeated number in the
// same compound is held back, and a NACK for an SSRC that is no consumer's is left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCRtpTransceiver } from '../../../lib/peer/index.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { RtcpGenericNack } from '../../../lib/rtp/rtcp/generic-nack.js';
// The default policy modules (keyframe requests, NACK generator and responder, RTX) as an SFU runs them.
import '../../../lib/policy/default-policies.js';
import type { Consumer } from '../../../lib/sfu/index.js';
import type { UdpMux } from '../../../lib/transport/source/udp-mux.js';
import { within } from '../../integration/peer-helpers.js';
import { payload } from './room-peers.js';
import { closeRouterRig, routerRig } from './router-rig.js';

/** A subscriber connection with two video transceivers the server sends on. */
interface TwoTrackSubscriber {
  client: RTCPeerConnection;
  server: RTCPeerConnection;
  transceivers: [RTCRtpTransceiver, RTCRtpTransceiver];
  tracks: [MediaStreamTrack, MediaStreamTrack];
}

async function twoTrackSubscriber(mux: UdpMux): Promise<TwoTrackSubscriber> {
  const server = new RTCPeerConnection({ udpMux: mux });
  const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const a = server.addTransceiver(new LocalStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
  const b = server.addTransceiver(new LocalStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
  const tracks: MediaStreamTrack[] = [];
  const both = new Promise<void>((resolve) => client.on('track', (e) => {
    tracks.push(e.track);
    if (tracks.length === 2) resolve();
  }));
  await server.setLocalDescription(await server.createOffer());
  await client.setRemoteDescription(server.localDescription!);
  await client.setLocalDescription(await client.createAnswer());
  await server.setRemoteDescription(client.localDescription!);
  await within(Promise.all([client.connected(), server.connected(), both]), 15_000, 'subscriber connected with two tracks');
  // The client's tracks in the server's transceiver order (by mid).
  const byMid = (t: MediaStreamTrack): number => client.getTransceivers().findIndex((x) => x.receiver.track === t);
  tracks.sort((x, y) => byMid(x) - byMid(y));
  return { client, server, transceivers: [a, b], tracks: [tracks[0]!, tracks[1]!] };
}

/** Waits (bounded) until the consumer has counted `nacks` NACKed sequence numbers. */
async function untilNacked(consumer: Consumer, nacks: number): Promise<void> {
  await within((async () => {
    while (consumer.getStats().pwtNackedPackets < nacks) await new Promise((r) => setTimeout(r, 10));
  })(), 10_000, `${nacks} NACKed numbers at the consumer`);
}

/** The next `n` packets of `track` (bounded). */
async function receive(track: MediaStreamTrack, n: number, what: string): Promise<RtpPacket[]> {
  return within((async () => {
    const out: RtpPacket[] = [];
    while (out.length < n) out.push(await track.recv());
    return out;
  })(), 20_000, what);
}

test('router: one compound with several NACKs for two consumers is answered in one native call', { timeout: 60_000 }, async () => {
  const { mux, router, pub } = await routerRig('video');
  let sub: TwoTrackSubscriber | undefined;
  try {
    const producer = await router.produce(pub.server, pub.transceiver);
    sub = await twoTrackSubscriber(mux);
    const first = await router.consume(producer, sub.server, sub.transceivers[0]);
    const second = await router.consume(producer, sub.server, sub.transceivers[1]);
    const gotA = receive(sub.tracks[0], 20, 'first round, consumer A');
    const gotB = receive(sub.tracks[1], 20, 'first round, consumer B');
    for (let n = 0; n < 20; n++) pub.source.send(new RtpPacket({ timestamp: 3000 * (n + 1), payload: payload(n) }));
    const [a, b] = await Promise.all([gotA, gotB]);
    const seqA = a.map((p) => p.sequenceNumber!);
    const seqB = b.map((p) => p.sequenceNumber!);

    // Count the engine calls: the router's socket is the mux's native socket.
    const socket = mux.nativeSocket!;
    const original = socket.forwardRetransmitCompound.bind(socket);
    const calls: number[] = [];
    socket.forwardRetransmitCompound = (...args: Parameters<typeof original>): number => {
      calls.push(args[3]);
      return original(...args);
    };

    const clientSender = sub.client.getTransceivers()[0]!.sender;
    const againA = receive(sub.tracks[0], 3, 'consumer A resends');
    const againB = receive(sub.tracks[1], 2, 'consumer B resends');
    const compound = [
      RtcpGenericNack.fromSequenceNumbers(clientSender.ssrc, first.ssrc, [seqA[3]!, seqA[4]!]),
      RtcpGenericNack.fromSequenceNumbers(clientSender.ssrc, second.ssrc, [seqB[7]!]),
      RtcpGenericNack.fromSequenceNumbers(clientSender.ssrc, 0x0badcafe, [seqA[5]!]),  // nobody's SSRC
      RtcpGenericNack.fromSequenceNumbers(clientSender.ssrc, first.ssrc, [seqA[12]!, seqA[3]!]),  // seqA[3] repeated
      RtcpGenericNack.fromSequenceNumbers(clientSender.ssrc, second.ssrc, [seqB[15]!]),
    ];
    clientSender.sendRtcp(compound);
    const [resentA, resentB] = await Promise.all([againA, againB]);
    await untilNacked(first, 4);
    await untilNacked(second, 2);

    assert.deepEqual(resentA.map((p) => p.sequenceNumber), [seqA[3], seqA[4], seqA[12]], 'consumer A: its numbers, as first sent');
    assert.deepEqual(resentA.map((p) => p.payload), [payload(3), payload(4), payload(12)]);
    assert.deepEqual(resentB.map((p) => p.sequenceNumber), [seqB[7], seqB[15]], 'consumer B: its numbers');
    assert.deepEqual(resentB.map((p) => p.payload), [payload(7), payload(15)]);
    assert.equal(calls.length, 1, 'one native call for the compound');
    const sa = first.getStats();
    const sb = second.getStats();
    assert.equal(sa.pwtNackedPackets, 4);
    assert.equal(sa.retransmittedPacketsSent, 3);
    assert.equal(sa.pwtDrops['resend-within-rtt'], 1, 'the repeat in the same compound held back');
    assert.equal(sb.pwtNackedPackets, 2);
    assert.equal(sb.retransmittedPacketsSent, 2);
    assert.equal(router.stats.nackedPackets, 6, "the stranger SSRC's NACK counted nowhere");
    assert.equal(router.stats.retransmittedPackets, 5);
    assert.equal(router.stats.nackMisses, 0);
  } finally {
    closeRouterRig(router, mux, sub, pub);
  }
});
