// Property tests (fast-check): every packetizer round-trips arbitrary frames at arbitrary MTUs, and
// hostile bytes never make a depacketizer or a container reader throw anything but its typed error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Vp8Depacketizer, Vp8Packetizer } from '../../../lib/media/vp8-payload.js';
import { Vp9Depacketizer, Vp9Packetizer } from '../../../lib/media/vp9-payload.js';
import { H264Depacketizer, H264Packetizer } from '../../../lib/media/h264-payload.js';
import { Av1Depacketizer, Av1Packetizer } from '../../../lib/media/av1-payload.js';
import { OpusDepacketizer } from '../../../lib/media/opus-payload.js';
import { joinAnnexB } from '../../../lib/media/annex-b.js';
import { serializeObuWithSize } from '../../../lib/media/av1-obu.js';
import { readIvf } from '../../../lib/media/ivf.js';
import { readOggOpus } from '../../../lib/media/ogg-opus.js';
import { readAnnexBAccessUnits } from '../../../lib/media/annex-b.js';
import { MediaFormatError } from '../../../lib/media/media-errors.js';
import type { Depacketizer, Packetizer } from '../../../lib/media/payloader.js';
import { fixtureBytes } from './media-fixtures.js';
import { SampleBuilder } from '../../../lib/media/sample-builder.js';
import { createDepacketizer, MEDIA_MIME_TYPES } from '../../../lib/media/codecs.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';

const RUNS = { numRuns: 150, seed: 20261123 };
const mtu = fc.integer({ min: 16, max: 1500 });

function roundTrip(pz: Packetizer, dz: Depacketizer, frame: Buffer, m: number): void {
  const payloads = pz.packetize(frame, m);
  for (const p of payloads) assert.ok(p.length <= m, `payload ${p.length} > mtu ${m}`);
  assert.deepEqual(dz.assemble(payloads), frame);
}

test('VP8 and VP9 (both modes) round-trip arbitrary frames at arbitrary MTUs', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 6000 }), mtu, (bytes, m) => {
      const frame = Buffer.from(bytes);
      roundTrip(new Vp8Packetizer(), new Vp8Depacketizer(), frame, m);
      roundTrip(new Vp9Packetizer(), new Vp9Depacketizer(), frame, m);
      roundTrip(new Vp9Packetizer({ flexibleMode: true }), new Vp9Depacketizer(), frame, m);
    }),
    RUNS,
  );
});

// A NAL unit: header with F=0, any NRI and a type a packetizer sends; body without zero bytes, so
// it can hold no start code and never ends in trailing zeros.
const nalUnit = fc
  .record({
    nri: fc.integer({ min: 0, max: 3 }),
    type: fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 13, 19, 20, 21, 22, 23),
    body: fc.uint8Array({ minLength: 0, maxLength: 2500 }).map((b) => b.map((x) => x | 1)),
  })
  .map((n) => Buffer.concat([Buffer.from([(n.nri << 5) | n.type]), Buffer.from(n.body)]));

test('H.264 mode 1 round-trips arbitrary access units at arbitrary MTUs', () => {
  fc.assert(
    fc.property(fc.array(nalUnit, { minLength: 1, maxLength: 12 }), mtu, (nals, m) => {
      roundTrip(new H264Packetizer(), new H264Depacketizer(), joinAnnexB(nals), m);
    }),
    RUNS,
  );
});

// An OBU with a size field, optional extension header, of a type sent over RTP.
const obu = fc
  .record({
    type: fc.constantFrom(1, 3, 4, 5, 6, 7, 15),
    ext: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
    payload: fc.uint8Array({ minLength: 0, maxLength: 3000 }),
  })
  .map((o) => serializeObuWithSize(Buffer.from(o.ext === undefined ? [o.type << 3] : [(o.type << 3) | 0x04, o.ext]), o.payload));

test('AV1 round-trips arbitrary temporal units at arbitrary MTUs', () => {
  fc.assert(
    fc.property(fc.array(obu, { minLength: 1, maxLength: 10 }), mtu, (obus, m) => {
      roundTrip(new Av1Packetizer(), new Av1Depacketizer(), Buffer.concat([Buffer.from([0x12, 0x00]), ...obus]), m);
    }),
    RUNS,
  );
});

test('hostile payloads never make a depacketizer throw; refusals are counted', () => {
  const depacketizers: Depacketizer[] = [new OpusDepacketizer(), new Vp8Depacketizer(), new Vp9Depacketizer(), new H264Depacketizer(), new Av1Depacketizer()];
  const payload = fc.uint8Array({ minLength: 0, maxLength: 64 });
  fc.assert(
    fc.property(fc.array(payload, { minLength: 0, maxLength: 6 }), (payloads) => {
      for (const dz of depacketizers) {
        const before = Object.values(dz.drops).reduce((a, b) => a + b, 0);
        let refused = 0;
        for (const p of payloads) if (dz.depacketize(p) === undefined) refused++;
        if (dz.assemble(payloads) === undefined) refused++;
        const after = Object.values(dz.drops).reduce((a, b) => a + b, 0);
        // assemble may count one refusal per payload it re-reads, so at least one count per refusal.
        assert.ok(after - before >= refused, 'every refusal is counted');
      }
    }),
    { numRuns: 400, seed: 7 },
  );
});

test('mutated and truncated container files either read or throw MediaFormatError, nothing else', () => {
  const files: [Buffer, (b: Buffer) => unknown][] = [
    [fixtureBytes('vp8.ivf'), readIvf],
    [fixtureBytes('opus.ogg'), readOggOpus],
    [fixtureBytes('h264.h264'), readAnnexBAccessUnits],
  ];
  fc.assert(
    fc.property(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(), (cut, at, value, which) => {
      const [original, read] = files[which % files.length]!;
      const b = Buffer.from(original.subarray(0, original.length - (cut % 64)));
      if (b.length > 0) b[at % b.length] = value;
      try {
        read(b);
      } catch (e) {
        assert.ok(e instanceof MediaFormatError, `unexpected ${String(e)}`);
      }
    }),
    { numRuns: 300, seed: 11 },
  );
});

test('hostile RTP streams never make the sample builder throw, and its buffer stays bounded', () => {
  const packet = fc.record({
    seq: fc.oneof(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 0xffff })),
    ts: fc.constantFrom(0, 3000, 6000, 0xfffffff0),
    marker: fc.boolean(),
    payload: fc.uint8Array({ minLength: 0, maxLength: 40 }),
  });
  fc.assert(
    fc.property(fc.constantFrom(...MEDIA_MIME_TYPES), fc.array(packet, { maxLength: 120 }), (mime, packets) => {
      const sb = new SampleBuilder(createDepacketizer(mime), { maxLate: 16, maxFramePackets: 32 });
      let out = 0;
      for (const p of packets) {
        sb.push(new RtpPacket({ sequenceNumber: p.seq, timestamp: p.ts, marker: p.marker, payload: Buffer.from(p.payload) }));
        for (let s = sb.pop(); s !== undefined; s = sb.pop()) out++;
        // Once popped, only the reordering window or one open frame is held.
        assert.ok(sb.bufferedPackets <= 33, `${sb.bufferedPackets} packets buffered`);
      }
      out += sb.flush().length;
      assert.equal(out, sb.stats.samples);
      const st = sb.stats;
      // Every pushed packet is accounted for: buffered (then emitted or dropped), late or duplicate.
      assert.ok(st.latePackets + st.duplicatePackets <= packets.length);
    }),
    { numRuns: 300, seed: 5 },
  );
});

test('a lossy in-order stream keeps at most the window or one open frame buffered', () => {
  const step = fc.record({ drop: fc.boolean(), newFrame: fc.boolean(), marker: fc.boolean(), payload: fc.uint8Array({ minLength: 1, maxLength: 8 }) });
  let peak = 0;
  fc.assert(
    fc.property(fc.constantFrom(...MEDIA_MIME_TYPES), fc.array(step, { minLength: 50, maxLength: 300 }), (mime, steps) => {
      const sb = new SampleBuilder(createDepacketizer(mime), { maxLate: 16, maxFramePackets: 32 });
      let ts = 0;
      steps.forEach((s, i) => {
        if (s.newFrame && i % 5 === 0) ts += 3000;
        if (s.drop && i % 4 === 0) return;
        sb.push(new RtpPacket({ sequenceNumber: (65_500 + i) & 0xffff, timestamp: ts, marker: s.marker && i % 7 === 0, payload: Buffer.from(s.payload) }));
        while (sb.pop() !== undefined);
        peak = Math.max(peak, sb.bufferedPackets);
        assert.ok(sb.bufferedPackets <= 33, `${sb.bufferedPackets} packets buffered`);
      });
    }),
    { numRuns: 200, seed: 9 },
  );
  assert.ok(peak > 16, `the bound was approached (peak ${peak})`);
});
