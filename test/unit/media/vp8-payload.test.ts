// VP8 payload descriptor bytes (RFC 7741 §4.2), keyframe detection (§4.3) and fixture round trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isVp8KeyframeData,
  parseVp8PayloadDescriptor,
  serializeVp8PayloadDescriptor,
  Vp8Depacketizer,
  Vp8Packetizer,
  type Vp8PayloadDescriptor,
} from '../../../lib/media/vp8-payload.js';
import { FIXTURE_FRAMES, FIXTURE_KEYFRAMES, ivfFrames, TEST_MTUS } from './media-fixtures.js';

// Descriptors laid out bit by bit from the figure in RFC 7741 §4.2.
const VECTORS: { name: string; bytes: number[]; d: Vp8PayloadDescriptor }[] = [
  { name: 'no extension: S=1, PID=0', bytes: [0x10], d: { nonReference: false, startOfPartition: true, partitionIndex: 0 } },
  {
    name: 'X, I with M=1: 15-bit PictureID 0x1234',
    bytes: [0x90, 0x80, 0x92, 0x34],
    d: { nonReference: false, startOfPartition: true, partitionIndex: 0, pictureId: 0x1234, pictureIdLong: true },
  },
  {
    name: 'N, PID=3, 7-bit PictureID, TL0PICIDX, TID=2 Y=1, KEYIDX=17',
    bytes: [0xa3, 0xf0, 0x55, 0x07, 0xb1],
    d: {
      nonReference: true,
      startOfPartition: false,
      partitionIndex: 3,
      pictureId: 0x55,
      pictureIdLong: false,
      tl0PicIdx: 7,
      temporalLayerId: 2,
      layerSync: true,
      keyIndex: 17,
    },
  },
  {
    name: 'T without K: the KEYIDX bits are ignored',
    bytes: [0x80, 0x20, 0x40],
    d: { nonReference: false, startOfPartition: false, partitionIndex: 0, temporalLayerId: 1, layerSync: false },
  },
  {
    name: 'K without T',
    bytes: [0x80, 0x10, 0x1f],
    d: { nonReference: false, startOfPartition: false, partitionIndex: 0, keyIndex: 31 },
  },
];

test('payload descriptors serialize to the RFC 7741 §4.2 bit layout and parse back', () => {
  for (const v of VECTORS) {
    assert.deepEqual([...serializeVp8PayloadDescriptor(v.d)], v.bytes, v.name);
    const parsed = parseVp8PayloadDescriptor(Buffer.from([...v.bytes, 0xaa]));
    assert.ok(parsed, v.name);
    assert.equal(parsed.headerLength, v.bytes.length, v.name);
    assert.deepEqual(parsed.descriptor, v.d, v.name);
  }
});

test('every truncated descriptor is rejected', () => {
  for (const v of VECTORS) {
    for (let n = 0; n < v.bytes.length; n++) {
      const parsed = parseVp8PayloadDescriptor(Buffer.from(v.bytes.slice(0, n)));
      assert.equal(parsed, undefined, `${v.name} cut to ${n}`);
    }
  }
  const dz = new Vp8Depacketizer();
  assert.equal(dz.depacketize(Buffer.from([0x90, 0x80, 0x92])), undefined);
  assert.equal(dz.depacketize(Buffer.from([0x10])), undefined, 'a descriptor without data');
  assert.equal(dz.drops.truncated, 2);
});

test('out-of-range descriptor fields throw ERR_MEDIA_FIELD', () => {
  const base = { nonReference: false, startOfPartition: true, partitionIndex: 0 };
  assert.throws(() => serializeVp8PayloadDescriptor({ ...base, partitionIndex: 8 }), { code: 'ERR_MEDIA_FIELD' });
  assert.throws(() => serializeVp8PayloadDescriptor({ ...base, pictureId: 0x8000 }), { code: 'ERR_MEDIA_FIELD' });
  assert.throws(() => serializeVp8PayloadDescriptor({ ...base, pictureId: 0x80, pictureIdLong: false }), { code: 'ERR_MEDIA_FIELD' });
  assert.throws(() => new Vp8Packetizer({ initialPictureId: -1 }), { code: 'ERR_MEDIA_FIELD' });
});

test('keyframes are detected on the fixture frames and on their first payloads (RFC 7741 §4.3)', () => {
  const frames = ivfFrames('vp8.ivf');
  assert.equal(frames.length, FIXTURE_FRAMES);
  const pz = new Vp8Packetizer();
  const dz = new Vp8Depacketizer();
  frames.forEach((f, k) => {
    const key = FIXTURE_KEYFRAMES.includes(k);
    assert.equal(isVp8KeyframeData(f.data), key, `frame ${k}`);
    const payloads = pz.packetize(f.data, 1200);
    assert.equal(dz.depacketize(payloads[0]!)!.keyframe, key, `frame ${k}`);
    for (const p of payloads.slice(1)) assert.equal(dz.depacketize(p)!.keyframe, false);
  });
});

test('packetize → depacketize round trips every fixture frame at every MTU', () => {
  const frames = ivfFrames('vp8.ivf');
  for (const mtu of TEST_MTUS) {
    const pz = new Vp8Packetizer({ initialPictureId: 0x7ffe });
    const dz = new Vp8Depacketizer();
    frames.forEach((f, k) => {
      const payloads = pz.packetize(f.data, mtu);
      assert.equal(payloads.length, Math.ceil(f.data.length / (mtu - 4)), `frame ${k} at ${mtu}`);
      payloads.forEach((p, i) => {
        assert.ok(p.length <= mtu);
        const parsed = parseVp8PayloadDescriptor(p)!;
        assert.equal(parsed.descriptor.startOfPartition, i === 0);
        assert.equal(parsed.descriptor.partitionIndex, 0);
        // The 15-bit PictureID advances once per frame and wraps (RFC 7741 §4.2).
        assert.equal(parsed.descriptor.pictureId, (0x7ffe + k) & 0x7fff);
        assert.equal(dz.depacketize(p)!.frameStart, i === 0);
      });
      assert.deepEqual(dz.assemble(payloads), f.data, `frame ${k} at ${mtu}`);
    });
  }
});

test('a packetizer without PictureID writes a one-byte descriptor', () => {
  const pz = new Vp8Packetizer({ initialPictureId: null });
  const payloads = pz.packetize(Buffer.alloc(40, 7), 16);
  assert.equal(payloads.length, 3);
  assert.deepEqual([...payloads.map((p) => p[0])], [0x10, 0x00, 0x00]);
});

test('assemble refuses a frame whose first payload does not start it', () => {
  const pz = new Vp8Packetizer();
  const dz = new Vp8Depacketizer();
  const payloads = pz.packetize(Buffer.alloc(100, 1), 50);
  assert.equal(dz.assemble(payloads.slice(1)), undefined);
  assert.equal(dz.drops.malformed, 1);
  assert.equal(dz.assemble([]), undefined);
});
