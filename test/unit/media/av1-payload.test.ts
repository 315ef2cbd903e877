// AV1 over RTP (AOMedia AV1 RTP spec §4.4 aggregation header, §4.5 OBU elements, §5 packetization),
// LEB128 (AV1 spec §4.10.5), keyframe detection (AV1 spec §5.9.2) and fixture round trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Av1Depacketizer, Av1Packetizer, buildAv1Payload, parseAv1Payload } from '../../../lib/media/av1-payload.js';
import { isAv1Keyframe, leb128Size, parseObus, readLeb128, writeLeb128 } from '../../../lib/media/av1-obu.js';
import { FIXTURE_FRAMES, FIXTURE_KEYFRAMES, ivfFrames, TEST_MTUS } from './media-fixtures.js';

test('LEB128 encodes and decodes as AV1 spec §4.10.5 defines it', () => {
  const vectors: [number, number[]][] = [
    [0, [0x00]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [300, [0xac, 0x02]],
    [0xffffffff, [0xff, 0xff, 0xff, 0xff, 0x0f]],
  ];
  for (const [value, bytes] of vectors) {
    assert.deepEqual([...writeLeb128(value)], bytes);
    assert.equal(leb128Size(value), bytes.length);
    assert.deepEqual(readLeb128(Buffer.from(bytes), 0), { value, length: bytes.length });
  }
  // Padded encodings are legal; more than 8 bytes, values of 2^32 and more, and truncation are not.
  assert.deepEqual(readLeb128(Buffer.from([0x80, 0x00]), 0), { value: 0, length: 2 });
  assert.equal(readLeb128(Buffer.alloc(9, 0x80), 0), undefined);
  assert.equal(readLeb128(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x10]), 0), undefined);
  assert.equal(readLeb128(Buffer.from([0x80]), 0), undefined);
});

test('aggregation headers and OBU elements follow AV1 RTP §4.4 and §4.5', () => {
  const a = Buffer.from([0x08, 0x0a, 0x0b]); // sequence header OBU without size field
  const b = Buffer.from([0x30, 0x01]); // frame OBU
  // W=1, N=1: one element, no length field.
  assert.deepEqual([...buildAv1Payload({ continuesFragment: false, fragmentContinues: false, newSequence: true }, [a])], [0x18, ...a]);
  // W=2: the first element has a length, the last does not.
  assert.deepEqual([...buildAv1Payload({ continuesFragment: false, fragmentContinues: false, newSequence: false }, [a, b])], [0x20, 3, ...a, ...b]);
  // Four elements: W=0 and every element has a length field. Z and Y set.
  const four = buildAv1Payload({ continuesFragment: true, fragmentContinues: true, newSequence: false }, [b, b, b, b]);
  assert.deepEqual([...four], [0xc0, 2, ...b, 2, ...b, 2, ...b, 2, ...b]);
  assert.deepEqual(parseAv1Payload(four), {
    header: { continuesFragment: true, fragmentContinues: true, elementCount: 0, newSequence: false },
    elements: [b, b, b, b],
  });
  // N with Z is contradictory (§4.4); W=2 with only one element; an empty element; a length past the end.
  assert.equal(parseAv1Payload(Buffer.from([0x88, 0x30, 0x01])), undefined);
  assert.equal(parseAv1Payload(Buffer.from([0x20, 0x02, 0x30, 0x01])), undefined);
  assert.equal(parseAv1Payload(Buffer.from([0x00, 0x00, 0x30])), undefined);
  assert.equal(parseAv1Payload(Buffer.from([0x00, 0x05, 0x30])), undefined);
  assert.equal(parseAv1Payload(Buffer.from([0x10])), undefined);
});

test('keyframes are detected on the fixture temporal units and on their first payloads (N bit)', () => {
  const frames = ivfFrames('av1.ivf');
  assert.equal(frames.length, FIXTURE_FRAMES);
  const pz = new Av1Packetizer();
  const dz = new Av1Depacketizer();
  frames.forEach((f, k) => {
    const key = FIXTURE_KEYFRAMES.includes(k);
    assert.equal(isAv1Keyframe(f.data), key, `temporal unit ${k}`);
    const payloads = pz.packetize(f.data, 1200);
    assert.equal(parseAv1Payload(payloads[0]!)!.header.newSequence, key);
    assert.equal(dz.depacketize(payloads[0]!)!.keyframe, key);
    for (const p of payloads.slice(1)) assert.equal(parseAv1Payload(p)!.header.newSequence, false);
  });
});

test('packetize → assemble restores every fixture temporal unit byte for byte at every MTU', () => {
  const frames = ivfFrames('av1.ivf');
  let fragmented = 0;
  for (const mtu of TEST_MTUS) {
    const pz = new Av1Packetizer();
    const dz = new Av1Depacketizer();
    frames.forEach((f, k) => {
      const payloads = pz.packetize(f.data, mtu);
      payloads.forEach((p, i) => {
        assert.ok(p.length <= mtu, `payload of ${p.length} > ${mtu}`);
        const parsed = parseAv1Payload(p)!;
        assert.ok(parsed);
        if (parsed.header.fragmentContinues) fragmented++;
        // No temporal delimiter and no obu_size field goes on the wire (AV1 RTP §5).
        if (!parsed.header.continuesFragment || parsed.elements.length > 1) {
          const first = parsed.header.continuesFragment ? parsed.elements.slice(1) : parsed.elements;
          for (const e of first) {
            assert.notEqual((e[0]! >> 3) & 0x0f, 2);
            assert.equal(e[0]! & 0x02, 0);
          }
        }
        // The first payload of a temporal unit starts it; a continuation never does.
        const start = dz.depacketize(p)!.frameStart;
        if (i === 0) assert.equal(start, true, `payload ${i}`);
        if (parsed.header.continuesFragment) assert.equal(start, false, `payload ${i}`);
      });
      assert.deepEqual(dz.assemble(payloads), f.data, `temporal unit ${k} at ${mtu}`);
    });
  }
  assert.ok(fragmented > 0, 'OBU fragmentation was exercised');
});

test('assemble refuses lost fragments and adds size fields to OBUs sent without them', () => {
  const dz = new Av1Depacketizer();
  const payloads = new Av1Packetizer().packetize(ivfFrames('av1.ivf')[0]!.data, 300);
  assert.ok(payloads.length > 3);
  assert.equal(dz.assemble(payloads.slice(1)), undefined);
  assert.equal(dz.assemble(payloads.slice(0, -1)), undefined);
  assert.equal(dz.assemble([payloads[0]!, payloads[2]!]), undefined);
  assert.equal(dz.assemble([]), undefined);
  // One padding OBU (type 15) without size field → temporal delimiter + the OBU with obu_size = 2.
  assert.deepEqual([...dz.assemble([Buffer.from([0x10, 0x78, 0xaa, 0xbb])])!], [0x12, 0x00, 0x7a, 0x02, 0xaa, 0xbb]);
});

test('OBU parsing rejects the forbidden bit and sizes past the end', () => {
  assert.equal(parseObus(Buffer.from([0x92, 0x00])), undefined);
  assert.equal(parseObus(Buffer.from([0x32, 0x05, 0x00])), undefined);
  assert.equal(parseObus(Buffer.from([0x30, 0x00])), undefined, 'no size field outside an RTP element');
  assert.deepEqual(parseObus(Buffer.from([0x12, 0x00]))!.map((o) => o.type), [2]);
  assert.throws(() => new Av1Packetizer().packetize(Buffer.from([0x12, 0x00]), 1200), { code: 'ERR_MEDIA_FRAME' });
  assert.throws(() => new Av1Packetizer().packetize(Buffer.from([0x32, 0x09]), 1200), { code: 'ERR_MEDIA_FRAME' });
});
