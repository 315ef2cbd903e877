// VP9 payload descriptors (RFC 9628 §4.2 flexible and non-flexible mode, §4.2.1 SS), frame header
// keyframe detection (VP9 bitstream §6.2) and fixture round trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseVp9PayloadDescriptor,
  serializeVp9PayloadDescriptor,
  Vp9Depacketizer,
  Vp9Packetizer,
  type Vp9PayloadDescriptor,
} from '../../../lib/media/vp9-payload.js';
import { parseVp9FrameHeader } from '../../../lib/media/vp9-frame-header.js';
import { FIXTURE_FRAMES, FIXTURE_KEYFRAMES, ivfFrames, TEST_MTUS } from './media-fixtures.js';

const flags = { interPicturePredicted: false, flexibleMode: false, beginningOfFrame: false, endOfFrame: false, notUpperReference: false };

// Laid out bit by bit from the figures in RFC 9628 §4.2 (flexible / non-flexible) and §4.2.1 (SS).
const VECTORS: { name: string; bytes: number[]; d: Vp9PayloadDescriptor }[] = [
  {
    name: 'flexible mode, inter picture, 15-bit picture ID, layer indices, two P_DIFFs',
    bytes: [0xf8, 0x92, 0x34, 0x20, 0x03, 0x04],
    d: {
      ...flags,
      interPicturePredicted: true,
      flexibleMode: true,
      beginningOfFrame: true,
      pictureId: 0x1234,
      pictureIdLong: true,
      layer: { temporalId: 1, switchingUp: false, spatialId: 0, interLayerDependency: false },
      referenceDiffs: [1, 2],
    },
  },
  {
    name: 'non-flexible key frame: 7-bit picture ID, layer indices + TL0PICIDX, SS with size and picture group',
    bytes: [0xae, 0x05, 0x10, 0x2a, 0x18, 0x01, 0x40, 0x00, 0xf0, 0x01, 0x04, 0x01],
    d: {
      ...flags,
      beginningOfFrame: true,
      endOfFrame: true,
      pictureId: 5,
      pictureIdLong: false,
      layer: { temporalId: 0, switchingUp: true, spatialId: 0, interLayerDependency: false },
      tl0PicIdx: 0x2a,
      scalabilityStructure: {
        spatialLayers: [{ width: 320, height: 240 }],
        pictureGroup: [{ temporalId: 0, switchingUp: false, referenceDiffs: [1] }],
      },
    },
  },
  {
    name: 'SS with two spatial layers and neither sizes nor picture group',
    bytes: [0x02, 0x20],
    d: { ...flags, scalabilityStructure: { spatialLayers: [{}, {}] } },
  },
  {
    name: 'upper spatial layer, inter-layer dependency, Z bit',
    bytes: [0x25, 0x43, 0x09],
    d: {
      ...flags,
      endOfFrame: true,
      notUpperReference: true,
      layer: { temporalId: 2, switchingUp: false, spatialId: 1, interLayerDependency: true },
      tl0PicIdx: 9,
    },
  },
];

test('payload descriptors serialize to the RFC 9628 §4.2 bit layout and parse back', () => {
  for (const v of VECTORS) {
    assert.deepEqual([...serializeVp9PayloadDescriptor(v.d)], v.bytes, v.name);
    const parsed = parseVp9PayloadDescriptor(Buffer.from([...v.bytes, 0xaa]));
    assert.ok(parsed, v.name);
    assert.equal(parsed.headerLength, v.bytes.length, v.name);
    assert.deepEqual(parsed.descriptor, v.d, v.name);
  }
});

test('every truncated descriptor is rejected, and so are four P_DIFFs', () => {
  for (const v of VECTORS) {
    for (let n = 0; n < v.bytes.length; n++) {
      assert.equal(parseVp9PayloadDescriptor(Buffer.from(v.bytes.slice(0, n))), undefined, `${v.name} cut to ${n}`);
    }
  }
  // F=1, P=1, then P_DIFF bytes all with N=1: RFC 9628 allows at most 3 references.
  assert.equal(parseVp9PayloadDescriptor(Buffer.from([0x58, 0x03, 0x03, 0x03, 0x03, 0xaa])), undefined);
  assert.throws(() => serializeVp9PayloadDescriptor({ ...flags, flexibleMode: true, interPicturePredicted: true }), { code: 'ERR_MEDIA_FIELD' });
  assert.throws(() => serializeVp9PayloadDescriptor({ ...flags, pictureId: 0x8000 }), { code: 'ERR_MEDIA_FIELD' });
});

test('keyframes are detected on the fixture frames and on their first payloads', () => {
  const frames = ivfFrames('vp9.ivf');
  assert.equal(frames.length, FIXTURE_FRAMES);
  for (const flexibleMode of [false, true]) {
    const pz = new Vp9Packetizer({ flexibleMode });
    const dz = new Vp9Depacketizer();
    frames.forEach((f, k) => {
      const key = FIXTURE_KEYFRAMES.includes(k);
      const header = parseVp9FrameHeader(f.data);
      assert.ok(header);
      assert.equal(header.keyframe, key, `frame ${k}`);
      if (key) assert.deepEqual([header.width, header.height], [320, 240]);
      const payloads = pz.packetize(f.data, 1200);
      const first = parseVp9PayloadDescriptor(payloads[0]!)!.descriptor;
      assert.equal(first.interPicturePredicted, !key);
      // RFC 9628 §4.2.1: the SS with the resolution rides on key frames.
      assert.deepEqual(first.scalabilityStructure, key ? { spatialLayers: [{ width: 320, height: 240 }] } : undefined);
      assert.deepEqual(first.referenceDiffs, flexibleMode && !key ? [1] : undefined);
      assert.equal(dz.depacketize(payloads[0]!)!.keyframe, key);
    });
  }
});

test('packetize → depacketize round trips every fixture frame at every MTU, in both modes', () => {
  const frames = ivfFrames('vp9.ivf');
  for (const flexibleMode of [false, true]) {
    for (const mtu of TEST_MTUS) {
      const pz = new Vp9Packetizer({ flexibleMode, initialPictureId: 0x7fff });
      const dz = new Vp9Depacketizer();
      frames.forEach((f, k) => {
        const payloads = pz.packetize(f.data, mtu);
        payloads.forEach((p, i) => {
          assert.ok(p.length <= mtu, `payload of ${p.length} > ${mtu}`);
          const d = parseVp9PayloadDescriptor(p)!.descriptor;
          assert.equal(d.beginningOfFrame, i === 0);
          assert.equal(d.endOfFrame, i === payloads.length - 1);
          assert.equal(d.pictureId, (0x7fff + k) & 0x7fff);
          assert.equal(d.flexibleMode, flexibleMode);
          const dp = dz.depacketize(p)!;
          assert.equal(dp.frameStart, i === 0);
          assert.equal(dp.frameEnd, i === payloads.length - 1);
        });
        assert.deepEqual(dz.assemble(payloads), f.data, `frame ${k} at ${mtu}`);
      });
    }
  }
});

test('assemble refuses frames missing their first or last payload', () => {
  const pz = new Vp9Packetizer();
  const dz = new Vp9Depacketizer();
  const payloads = pz.packetize(ivfFrames('vp9.ivf')[0]!.data, 200);
  assert.ok(payloads.length > 2);
  assert.equal(dz.assemble(payloads.slice(1)), undefined);
  assert.equal(dz.assemble(payloads.slice(0, -1)), undefined);
  assert.equal(dz.drops.malformed, 2);
  assert.equal(dz.depacketize(Buffer.from([0x80])), undefined);
  assert.equal(dz.drops.truncated, 1);
});

test('the frame header parser reads show-existing and intra-only frames and rejects non-VP9 data', () => {
  // frame_marker=2, profile 0, show_existing_frame=1, frame_to_show=3.
  assert.deepEqual(parseVp9FrameHeader(Buffer.from([0x8b, 0x00])), { profile: 0, showExistingFrame: true, keyframe: false, intraOnly: false });
  assert.equal(parseVp9FrameHeader(Buffer.from([0x00, 0x00])), undefined);
  assert.equal(parseVp9FrameHeader(Buffer.alloc(0)), undefined);
  // A key frame header cut before its size is refused.
  assert.equal(parseVp9FrameHeader(ivfFrames('vp9.ivf')[0]!.data.subarray(0, 5)), undefined);
});
