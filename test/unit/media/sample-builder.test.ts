// RtpPacketizer (RFC 3550 §5.1 header fields per frame) and SampleBuilder: reassembly through the
// real RTP wire format, reordering, loss, duplicates, wrap-around, malformed payloads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { SeededRng } from '../../../lib/common/rng.js';
import { RtpPacketizer } from '../../../lib/media/rtp-packetizer.js';
import { SampleBuilder } from '../../../lib/media/sample-builder.js';
import { createDepacketizer, createPacketizer } from '../../../lib/media/codecs.js';
import { FIXTURE_KEYFRAMES, h264AccessUnits, ivfFrames, opusPackets } from './media-fixtures.js';

interface Stream {
  mime: string;
  frames: Buffer[];
  step: number;
}

const STREAMS: Stream[] = [
  { mime: 'video/VP8', frames: ivfFrames('vp8.ivf').map((f) => f.data), step: 3000 },
  { mime: 'video/VP9', frames: ivfFrames('vp9.ivf').map((f) => f.data), step: 3000 },
  { mime: 'video/AV1', frames: ivfFrames('av1.ivf').map((f) => f.data), step: 3000 },
  { mime: 'video/H264', frames: h264AccessUnits(), step: 3000 },
  { mime: 'audio/opus', frames: opusPackets(), step: 960 },
];

// Sends a stream's frames as serialized RTP packets (the bytes a receiver would see).
function send(s: Stream, mtu = 300, initialSequenceNumber = 1000): Buffer[] {
  const rp = new RtpPacketizer(createPacketizer(s.mime), { mtu, payloadType: 96, ssrc: 0x11223344, initialSequenceNumber });
  return s.frames.flatMap((f, k) => rp.packetize(f, (0xfffff000 + k * s.step) >>> 0).map((p) => p.serialize()));
}

// Receives datagrams through a reused buffer, as a socket loop would, so the builder must copy.
function receive(sb: SampleBuilder, datagrams: readonly Buffer[]): ReturnType<SampleBuilder['pop']>[] {
  const scratch = Buffer.alloc(1500);
  const out = [];
  for (const d of datagrams) {
    d.copy(scratch);
    sb.push(RtpPacket.parse(scratch, 0, d.length));
    scratch.fill(0xee);
    for (let s = sb.pop(); s !== undefined; s = sb.pop()) out.push(s);
  }
  return out;
}

test('RtpPacketizer numbers packets, keeps one timestamp per frame and marks the last video packet', () => {
  const frame = ivfFrames('vp8.ivf')[0]!.data;
  const rp = new RtpPacketizer(createPacketizer('video/vp8'), { mtu: 400, headerReserve: 8, payloadType: 96, ssrc: 5, initialSequenceNumber: 65534 });
  const packets = rp.packetize(frame, 1234);
  assert.ok(packets.length > 3);
  packets.forEach((p, k) => {
    assert.equal(p.sequenceNumber, (65534 + k) & 0xffff);
    assert.equal(p.timestamp, 1234);
    assert.equal(p.marker, k === packets.length - 1);
    assert.ok(p.serialize().length <= 400 - 8);
  });
  const unnumbered = new RtpPacketizer(createPacketizer('audio/opus')).packetize(opusPackets()[0]!, 0);
  assert.equal(unnumbered[0]!.sequenceNumber, undefined, 'left for the sender to fill');
  assert.equal(unnumbered[0]!.marker, false);
  assert.throws(() => new RtpPacketizer(createPacketizer('video/VP8'), { mtu: 20 }), { code: 'ERR_MEDIA_MTU' });
  assert.throws(() => createPacketizer('video/H265'), { code: 'ERR_MEDIA_CODEC' });
});

test('every codec: frames sent as RTP come out of the sample builder unchanged, with keyframes flagged', () => {
  for (const s of STREAMS) {
    const sb = new SampleBuilder(createDepacketizer(s.mime));
    const samples = receive(sb, send(s));
    assert.equal(samples.length, s.frames.length, s.mime);
    samples.forEach((sample, k) => {
      assert.deepEqual(sample!.data, s.frames[k], `${s.mime} frame ${k}`);
      assert.equal(sample!.timestamp, (0xfffff000 + k * s.step) >>> 0);
      assert.equal(sample!.packetsLostBefore, 0);
      if (s.mime !== 'audio/opus') assert.equal(sample!.keyframe, FIXTURE_KEYFRAMES.includes(k), `${s.mime} frame ${k}`);
    });
    assert.deepEqual(sb.stats, { samples: s.frames.length, packetsLost: 0, framesDropped: 0, latePackets: 0, duplicatePackets: 0, malformedPackets: 0 });
  }
});

test('reordering within the window and duplicates do not change the output', () => {
  const rng = new SeededRng(7);
  for (const s of STREAMS) {
    // Each packet moves at most 8 places: sort by index + a random shift of 0..8.
    const datagrams = send(s, 200, 65_500)
      .map((d, i) => ({ d, at: i + (rng.uint32() % 9) }))
      .sort((a, b) => a.at - b.at)
      .map((x) => x.d);
    const withDups = datagrams.flatMap((d, i) => (i % 7 === 0 ? [d, d] : [d]));
    const sb = new SampleBuilder(createDepacketizer(s.mime), { maxLate: 32 });
    const samples = receive(sb, withDups);
    samples.push(...sb.flush());
    // Video starts at its first keyframe; audio at the first packet received, so Opus packets
    // reordered ahead of it are late. After the start nothing is missing.
    const skipped = s.frames.length - samples.length;
    if (s.mime !== 'audio/opus') assert.equal(skipped, 0, s.mime);
    assert.deepEqual(samples.map((x) => x!.data), s.frames.slice(skipped), s.mime);
    assert.equal(sb.stats.latePackets >= skipped, true);
    // A copy that arrives after its frame came out counts as late rather than duplicate.
    assert.equal(sb.stats.duplicatePackets + sb.stats.latePackets, Math.ceil(datagrams.length / 7), s.mime);
    assert.ok(sb.stats.duplicatePackets > 0);
    assert.equal(sb.stats.packetsLost, 0);
  }
});

test('the first frame waits for the window unless it is a keyframe', () => {
  const s = STREAMS[0]!;
  const perFrame = s.frames.map((f, k) =>
    new RtpPacketizer(createPacketizer(s.mime), { mtu: 8000, payloadType: 96, ssrc: 1, initialSequenceNumber: k }).packetize(f, k * 3000),
  );
  // At this MTU every frame is one packet: frame k has sequence number k.
  assert.equal(perFrame[0]!.length, 1);
  const sb = new SampleBuilder(createDepacketizer(s.mime), { maxLate: 4 });
  sb.push(perFrame[1]![0]!);
  assert.equal(sb.pop(), undefined, 'a delta frame first: wait');
  sb.push(perFrame[0]![0]!);
  assert.equal(sb.pop()!.timestamp, 0);
  assert.equal(sb.pop()!.timestamp, 3000);
  const direct = new SampleBuilder(createDepacketizer(s.mime), { maxLate: 4 });
  direct.push(perFrame[0]![0]!);
  assert.equal(direct.pop()!.keyframe, true, 'a keyframe first: at once');
});

test('a lost packet drops its frame only, and the next sample reports the loss', () => {
  for (const s of STREAMS.filter((x) => x.mime !== 'audio/opus')) {
    const rp = new RtpPacketizer(createPacketizer(s.mime), { mtu: 300, payloadType: 96, ssrc: 1, initialSequenceNumber: 10 });
    const perFrame = s.frames.map((f, k) => rp.packetize(f, k * 3000).map((p) => p.serialize()));
    // Lose the second packet of frame 0 (a keyframe, several packets) and all of frame 3.
    assert.ok(perFrame[0]!.length > 2);
    const datagrams = perFrame.flatMap((ps, k) => (k === 0 ? ps.filter((_, i) => i !== 1) : k === 3 ? [] : ps));
    const sb = new SampleBuilder(createDepacketizer(s.mime), { maxLate: 16 });
    const samples = [...receive(sb, datagrams), ...sb.flush()];
    const expected = s.frames.map((_, k) => k).filter((k) => k !== 0 && k !== 3);
    assert.deepEqual(samples.map((x) => x!.timestamp / 3000), expected, s.mime);
    samples.forEach((x) => assert.deepEqual(x!.data, s.frames[x!.timestamp / 3000]));
    assert.equal(samples[0]!.packetsLostBefore, 1);
    assert.equal(samples[0]!.framesDroppedBefore, 1);
    // A frame lost whole shows as lost packets only: nothing of it arrived to drop.
    assert.equal(samples[2]!.packetsLostBefore, perFrame[3]!.length);
    assert.equal(samples[2]!.framesDroppedBefore, 0);
    assert.equal(sb.stats.packetsLost, 1 + perFrame[3]!.length);
    assert.equal(sb.stats.framesDropped, 1);
  }
});

test('late packets, malformed payloads and unnumbered packets', () => {
  const sb = new SampleBuilder(createDepacketizer('video/VP8'), { maxLate: 4 });
  const vp8 = (seq: number, ts: number, marker: boolean, payload: number[]): RtpPacket =>
    new RtpPacket({ sequenceNumber: seq, timestamp: ts, marker, payload: Buffer.from(payload) });
  // First byte of VP8 data with P=0: a keyframe, so it comes out at once.
  sb.push(vp8(1, 100, true, [0x10, 0x00, 0x02]));
  assert.deepEqual(sb.pop()!.data, Buffer.from([0x00, 0x02]));
  sb.push(vp8(0, 90, true, [0x10, 0x01]));
  assert.equal(sb.stats.latePackets, 1);
  // A frame whose second payload is only a descriptor (no data) is malformed and dropped.
  sb.push(vp8(2, 200, false, [0x10, 0x05]));
  sb.push(vp8(3, 200, true, [0x00]));
  assert.equal(sb.pop(), undefined);
  assert.equal(sb.stats.malformedPackets, 1);
  assert.equal(sb.stats.framesDropped, 1);
  sb.push(vp8(4, 300, true, [0x10, 0x07]));
  const s = sb.pop()!;
  assert.deepEqual([...s.data], [0x07]);
  assert.equal(s.framesDroppedBefore, 1);
  assert.throws(() => sb.push(new RtpPacket({ timestamp: 1 })), { code: 'ERR_MEDIA_PACKET' });
  assert.throws(() => new SampleBuilder(createDepacketizer('audio/opus'), { maxLate: 0 }), { code: 'ERR_MEDIA_MAX_LATE' });
});

test('a frame that never ends is dropped at maxFramePackets, keeping the buffer bounded', () => {
  const sb = new SampleBuilder(createDepacketizer('video/VP8'), { maxFramePackets: 5 });
  const pkt = (seq: number, ts: number, marker: boolean, first: boolean): RtpPacket =>
    new RtpPacket({ sequenceNumber: seq, timestamp: ts, marker, payload: Buffer.from([first ? 0x10 : 0x00, 0x00, seq]) });
  for (let seq = 0; seq < 12; seq++) {
    sb.push(pkt(seq, 100, false, seq === 0));
    assert.equal(sb.pop(), undefined);
  }
  assert.equal(sb.stats.framesDropped, 1);
  // The next frame starts cleanly (S=1) and comes out.
  sb.push(pkt(12, 200, true, true));
  const s = sb.pop()!;
  assert.equal(s.timestamp, 200);
  assert.equal(s.framesDroppedBefore, 1);
  assert.throws(() => new SampleBuilder(createDepacketizer('video/VP8'), { maxFramePackets: 0 }), { code: 'ERR_MEDIA_MAX_FRAME' });
});

test('property: under any loss and bounded reordering, every sample is an original frame, in order', () => {
  const s = STREAMS[3]!; // H.264: frame starts are only known from markers and timestamps
  const datagrams = send(s, 200, 65_000);
  fc.assert(
    fc.property(
      fc.array(fc.boolean(), { minLength: datagrams.length, maxLength: datagrams.length }),
      fc.array(fc.nat(6), { minLength: datagrams.length, maxLength: datagrams.length }),
      (keep, shifts) => {
        const order = datagrams.map((d, i) => ({ d, at: i + shifts[i]! })).filter((_, i) => keep[i] || i % 3 !== 0);
        order.sort((a, b) => a.at - b.at);
        const sb = new SampleBuilder(createDepacketizer(s.mime), { maxLate: 10 });
        const samples = [...receive(sb, order.map((o) => o.d)), ...sb.flush()];
        let last = -1;
        for (const x of samples) {
          const k = ((x!.timestamp - 0xfffff000) >>> 0) / s.step;
          assert.ok(k > last, 'in order, no repeats');
          assert.deepEqual(x!.data, s.frames[k]);
          last = k;
        }
        if (order.length === datagrams.length) assert.equal(samples.length, s.frames.length);
      },
    ),
    { numRuns: 60, seed: 42 },
  );
});
