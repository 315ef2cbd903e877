// MediaRouter (RFC 8843 §9.2 demux of clear RTP/RTCP to transceivers): routing by announced SSRC,
// by the mid extension, by a unique payload type; RTX unwrapping; and hostile input — malformed
// packets, unknown SSRCs, an SSRC flood — counted, never thrown, memory bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../../lib/common/rng.js';
import { MediaRouter } from '../../../lib/peer/media-router.js';
import { RTCRtpReceiver } from '../../../lib/peer/rtp-receiver.js';
import { RTCRtpSender, type SenderOwner } from '../../../lib/peer/rtp-sender.js';
import { RTCRtpTransceiver } from '../../../lib/peer/rtp-transceiver.js';
import { RtpPolicyChain } from '../../../lib/peer/rtp-policy-chain.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { serializeSdesId } from '../../../lib/rtp/extensions/sdes-id.js';
import { RtcpPictureLossIndication } from '../../../lib/rtp/rtcp/picture-loss-indication.js';
import { serializeRtcp } from '../../../lib/rtp/rtcp/compound.js';

const owner: SenderOwner = { mediaTransport: undefined, nextTransportSequence: () => 0, now: () => 0, transportPolicies: new RtpPolicyChain() };

function transceiver(kind: 'audio' | 'video', pts: number[], rtx: [number, number][] = []): RTCRtpTransceiver {
  const rng = new SeededRng(kind === 'audio' ? 1 : 2);
  const t = new RTCRtpTransceiver(kind, new RTCRtpSender(kind, null, owner, rng), new RTCRtpReceiver(kind), 'recvonly', [], () => {});
  t.receiver.params = { clockRates: new Map(pts.map((p) => [p, 90000])), rtxOriginal: new Map(rtx), rids: [] };
  return t;
}

/** Feeds packets as one batch the way the transport does (one buffer, offsets, lengths). */
function feed(router: MediaRouter, packets: Uint8Array[]): void {
  const data = Buffer.concat(packets);
  const starts = new Uint32Array(packets.length);
  const lengths = new Uint32Array(packets.length);
  let at = 0;
  packets.forEach((p, i) => {
    starts[i] = at;
    lengths[i] = p.length;
    at += p.length;
  });
  router.receive(data, starts, lengths, packets.length, 0);
}

function rtp(init: ConstructorParameters<typeof RtpPacket>[0]): Buffer {
  return new RtpPacket({ timestamp: 0, sequenceNumber: 1, payload: Buffer.from('x'), ...init }).serialize();
}

async function drain(t: RTCRtpTransceiver, n: number): Promise<RtpPacket[]> {
  const out: RtpPacket[] = [];
  for (let i = 0; i < n; i++) out.push(await t.receiver.track.recv());
  return out;
}

test('routes by announced SSRC, by mid extension, and by a payload type only one receiver has', async () => {
  const router = new MediaRouter();
  const audio = transceiver('audio', [111]);
  const video = transceiver('video', [96, 98], [[97, 96]]);
  router.bind(audio, '0', [{ ssrc: 10 }]);
  router.bind(video, '1', [{ ssrc: 20, rtxSsrc: 21 }]);
  router.setExtensionIds(4, undefined, undefined);
  const midOne = { id: 4, data: serializeSdesId('1') };
  feed(router, [
    rtp({ ssrc: 10, payloadType: 111, sequenceNumber: 5 }),
    rtp({ ssrc: 30, payloadType: 98, extensions: [midOne] }), // unannounced, found by mid
    rtp({ ssrc: 40, payloadType: 111 }), // unannounced, no mid: only audio has PT 111
  ]);
  const [a1, a2] = await drain(audio, 2);
  assert.equal(a1!.ssrc, 10);
  assert.equal(a2!.ssrc, 40);
  assert.equal((await drain(video, 1))[0]!.ssrc, 30);

  // RTX on the FID SSRC is unwrapped into SSRC 20 with the original PT and sequence number.
  const original = new RtpPacket({ ssrc: 20, payloadType: 96, sequenceNumber: 700, timestamp: 9, payload: Buffer.from('orig') });
  feed(router, [original.serialize()]);
  await drain(video, 1);
  const osn = Buffer.concat([Buffer.from([700 >> 8, 700 & 0xff]), Buffer.from('orig')]);
  feed(router, [rtp({ ssrc: 21, payloadType: 97, sequenceNumber: 3, payload: osn })]);
  const [repaired] = await drain(video, 1);
  assert.equal(repaired!.ssrc, 20);
  assert.equal(repaired!.payloadType, 96);
  assert.equal(repaired!.sequenceNumber, 700);
  assert.equal(repaired!.payload.toString(), 'orig');
});

test('hostile input is counted by reason, never thrown, and learned SSRCs are bounded', () => {
  const router = new MediaRouter();
  const video = transceiver('video', [96]);
  router.bind(video, '0', []);
  const garbage = [Buffer.from([0x80]), Buffer.from([0x90, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 9]), Buffer.alloc(40, 0xff)];
  feed(router, garbage);
  assert.ok(router.drops.rtpMalformed + router.drops.rtcpMalformed >= 2, JSON.stringify(router.drops));
  feed(router, [rtp({ ssrc: 5, payloadType: 50 })]);
  assert.equal(router.drops.rtpUnknownSsrc, 1);
  feed(router, [rtp({ ssrc: 6, payloadType: 96, sequenceNumber: 1, payload: Buffer.from([1]) }).subarray(0, 12)]);
  // An SSRC flood: at most 1024 streams are learned, the rest is dropped and counted.
  for (let i = 0; i < 40; i++) feed(router, Array.from({ length: 64 }, (_, k) => rtp({ ssrc: 1000 + i * 64 + k, payloadType: 96 })));
  assert.ok(router.inboundStreams().length <= 1024);
  assert.ok(router.drops.ssrcLimit >= 2560 - 1024 - 2);
  // Feedback for our sender reaches it; feedback for an unknown media SSRC is treated as
  // transport-wide and goes to every sender; RTCP with nothing to route to is counted.
  let got = 0;
  video.sender.on('rtcp', () => got++);
  feed(router, [serializeRtcp([new RtcpPictureLossIndication(1, video.sender.ssrc)])]);
  feed(router, [serializeRtcp([new RtcpPictureLossIndication(1, 999)])]);
  assert.equal(got, 2);
  const empty = new MediaRouter();
  feed(empty, [serializeRtcp([new RtcpPictureLossIndication(1, 999)])]);
  assert.equal(empty.drops.rtcpUnrouted, 1);
});
