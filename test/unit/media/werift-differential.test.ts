// Differential check against an independent implementation (werift-rtp's depacketizers): the
// payloads our packetizers make for the fixtures read back the same in werift, field by field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AV1RtpPayload, H264RtpPayload, Vp8RtpPayload, Vp9RtpPayload } from 'werift-rtp';
import { Vp8Depacketizer, Vp8Packetizer, parseVp8PayloadDescriptor } from '../../../lib/media/vp8-payload.js';
import { Vp9Depacketizer, Vp9Packetizer } from '../../../lib/media/vp9-payload.js';
import { H264Depacketizer, H264Packetizer } from '../../../lib/media/h264-payload.js';
import { Av1Packetizer } from '../../../lib/media/av1-payload.js';
import { parseObus } from '../../../lib/media/av1-obu.js';
import { h264AccessUnits, ivfFrames, FIXTURE_KEYFRAMES } from './media-fixtures.js';

const MTUS = [100, 600, 1200];

test('werift reads our VP8 payloads: PictureID, S/PID, data and keyframe flag', () => {
  const dz = new Vp8Depacketizer();
  for (const mtu of MTUS) {
    const pz = new Vp8Packetizer({ initialPictureId: 300 });
    ivfFrames('vp8.ivf').forEach((f, k) => {
      for (const p of pz.packetize(f.data, mtu)) {
        const w = Vp8RtpPayload.deSerialize(p);
        const ours = parseVp8PayloadDescriptor(p)!.descriptor;
        assert.equal(w.pictureId, ours.pictureId);
        assert.equal(w.sBit === 1, ours.startOfPartition);
        assert.equal(w.pid, ours.partitionIndex);
        assert.deepEqual(w.payload, dz.depacketize(p)!.data);
        assert.equal(w.isKeyframe, dz.depacketize(p)!.keyframe, `frame ${k}`);
      }
    });
  }
});

test('werift reads our VP9 payloads in both modes: picture ID, B/E/P, P_DIFF, SS size, data', () => {
  const dz = new Vp9Depacketizer();
  for (const flexibleMode of [false, true]) {
    for (const mtu of MTUS) {
      const pz = new Vp9Packetizer({ flexibleMode, initialPictureId: 1000 });
      ivfFrames('vp9.ivf').forEach((f, k) => {
        const payloads = pz.packetize(f.data, mtu);
        payloads.forEach((p, i) => {
          const w = Vp9RtpPayload.deSerialize(p);
          assert.equal(w.pictureId, 1000 + k);
          assert.equal(w.bBit, i === 0 ? 1 : 0);
          assert.equal(w.eBit, i === payloads.length - 1 ? 1 : 0);
          assert.equal(w.pBit, FIXTURE_KEYFRAMES.includes(k) ? 0 : 1);
          assert.equal(w.fBit, flexibleMode ? 1 : 0);
          if (flexibleMode && !FIXTURE_KEYFRAMES.includes(k)) assert.deepEqual(w.pDiff, [1]);
          if (i === 0 && FIXTURE_KEYFRAMES.includes(k)) assert.deepEqual([w.width, w.height], [[320], [240]]);
          assert.deepEqual(w.payload, dz.depacketize(p)!.data);
          assert.equal(w.isKeyframe, dz.depacketize(p)!.keyframe);
        });
      });
    }
  }
});

test('werift rebuilds the same Annex B access units from our H.264 payloads (STAP-A, FU-A)', () => {
  for (const mtu of MTUS) {
    const pz = new H264Packetizer();
    const dz = new H264Depacketizer();
    for (const au of h264AccessUnits()) {
      const payloads = pz.packetize(au, mtu);
      const parts: Buffer[] = [];
      let fragment: Buffer | undefined;
      for (const p of payloads) {
        const w = H264RtpPayload.deSerialize(p, fragment);
        fragment = w.fragment;
        if (w.payload) parts.push(w.payload);
      }
      assert.deepEqual(Buffer.concat(parts), dz.assemble(payloads));
      assert.deepEqual(Buffer.concat(parts), au);
    }
  }
});

test('werift rebuilds the same OBUs from our AV1 payloads and sees the same keyframes', () => {
  for (const mtu of MTUS) {
    const pz = new Av1Packetizer();
    ivfFrames('av1.ivf').forEach((f, k) => {
      const payloads = pz.packetize(f.data, mtu).map((p) => AV1RtpPayload.deSerialize(p));
      assert.equal(payloads[0]!.isKeyframe, FIXTURE_KEYFRAMES.includes(k));
      // werift writes the last OBU without a size field and no temporal delimiter.
      const theirs = parseObus(AV1RtpPayload.getFrame(payloads), true)!;
      const original = parseObus(f.data)!.filter((o) => o.type !== 2);
      assert.deepEqual(theirs.map((o) => [o.type, o.payload]), original.map((o) => [o.type, o.payload]), `temporal unit ${k} at ${mtu}`);
    });
  }
});
