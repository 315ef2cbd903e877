// H.264 over RTP (RFC 6184): STAP-A (§5.7.1) and FU-A (§5.8) bytes, packetization modes 0 and 1
// (§6.2, §6.3), keyframe detection, and fixture round trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFuA, buildStapA, H264Depacketizer, H264Packetizer } from '../../../lib/media/h264-payload.js';
import { h264NalType, isH264Keyframe, splitAnnexB } from '../../../lib/media/annex-b.js';
import { FIXTURE_FRAMES, FIXTURE_KEYFRAMES, h264AccessUnits, TEST_MTUS } from './media-fixtures.js';

const SPS = Buffer.from([0x67, 0x42, 0xc0, 0x1e]);
const PPS = Buffer.from([0x68, 0xce, 0x3c, 0x80]);

test('STAP-A of SPS and PPS matches the layout of RFC 6184 §5.7.1 Figure 7', () => {
  // STAP-A NAL header (F=0, NRI=3, type 24), then 16-bit size + NAL unit for each.
  assert.deepEqual([...buildStapA([SPS, PPS])], [0x78, 0x00, 0x04, ...SPS, 0x00, 0x04, ...PPS]);
  // NRI is the largest of the aggregated units' NRI, F their OR (RFC 6184 §5.7).
  assert.equal(buildStapA([Buffer.from([0x06, 1]), Buffer.from([0x41, 2])])[0], 0x58);
  assert.equal(buildStapA([Buffer.from([0x86, 1]), Buffer.from([0x01, 2])])[0], 0x98);
});

test('FU-A fragments carry the indicator and S/E headers of RFC 6184 §5.8', () => {
  const idr = Buffer.concat([Buffer.from([0x65]), Buffer.alloc(30, 0xab)]);
  const frags = buildFuA(idr, 16);
  // 30 body bytes at 14 per fragment: 3 fragments of 10 bytes.
  assert.deepEqual(frags.map((f) => [f[0], f[1], f.length]), [
    [0x7c, 0x85, 12],
    [0x7c, 0x05, 12],
    [0x7c, 0x45, 12],
  ]);
  const dz = new H264Depacketizer();
  assert.deepEqual(dz.assemble(frags), Buffer.concat([Buffer.from([0, 0, 0, 1]), idr]));
  assert.equal(dz.depacketize(frags[0]!)!.keyframe, true);
  assert.equal(dz.depacketize(frags[1]!)!.frameStart, false);
});

test('the fixture splits into 20 access units with IDR pictures at 0 and 10', () => {
  const aus = h264AccessUnits();
  assert.equal(aus.length, FIXTURE_FRAMES);
  aus.forEach((au, k) => assert.equal(isH264Keyframe(au), FIXTURE_KEYFRAMES.includes(k), `access unit ${k}`));
  // Key access units start SPS, PPS (x264 adds an SEI to the first one).
  assert.deepEqual(splitAnnexB(aus[10]!).map((u) => h264NalType(u.data)), [7, 8, 5, 5]);
});

test('mode 1 round trips every access unit at every MTU, aggregating and fragmenting', () => {
  const aus = h264AccessUnits();
  let stapA = 0;
  let fuA = 0;
  for (const mtu of TEST_MTUS) {
    const pz = new H264Packetizer();
    const dz = new H264Depacketizer();
    aus.forEach((au, k) => {
      const payloads = pz.packetize(au, mtu);
      for (const p of payloads) {
        assert.ok(p.length <= mtu, `payload of ${p.length} > ${mtu}`);
        if ((p[0]! & 0x1f) === 24) stapA++;
        if ((p[0]! & 0x1f) === 28) fuA++;
      }
      assert.equal(dz.depacketize(payloads[0]!)!.keyframe, FIXTURE_KEYFRAMES.includes(k), `access unit ${k} at ${mtu}`);
      assert.deepEqual(dz.assemble(payloads), au, `access unit ${k} at ${mtu}`);
    });
  }
  assert.ok(stapA > 0 && fuA > 0, 'both STAP-A and FU-A were exercised');
});

test('mode 0 sends single NAL unit packets only and refuses a NAL unit over the MTU', () => {
  const aus = h264AccessUnits();
  const pz = new H264Packetizer({ packetizationMode: 0 });
  const dz = new H264Depacketizer();
  for (const au of aus) {
    const payloads = pz.packetize(au, 65_000);
    assert.equal(payloads.length, splitAnnexB(au).length);
    for (const p of payloads) assert.ok((p[0]! & 0x1f) >= 1 && (p[0]! & 0x1f) <= 23);
    assert.deepEqual(dz.assemble(payloads), au);
  }
  assert.throws(() => pz.packetize(aus[0]!, 1200), { code: 'ERR_MEDIA_FRAME' });
});

test('access unit delimiters and filler data are not sent', () => {
  const au = Buffer.from([0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x0c, 0xff, 0, 0, 1, 0x41, 0x9a, 0x02]);
  const payloads = new H264Packetizer().packetize(au, 1200);
  assert.deepEqual(payloads, [Buffer.from([0x41, 0x9a, 0x02])]);
  assert.throws(() => new H264Packetizer().packetize(Buffer.from([0, 0, 1, 0x09, 0xf0]), 1200), { code: 'ERR_MEDIA_FRAME' });
});

test('malformed and unsupported payloads are dropped and counted', () => {
  const dz = new H264Depacketizer();
  assert.equal(dz.depacketize(Buffer.alloc(0)), undefined);
  assert.equal(dz.depacketize(Buffer.from([0x7c])), undefined, 'an FU-A indicator without FU header');
  assert.equal(dz.drops.truncated, 2);
  // End of stream (type 11) is a NAL unit header alone.
  assert.deepEqual([...dz.depacketize(Buffer.from([0x0b]))!.data], [0, 0, 0, 1, 0x0b]);
  // STAP-A whose unit size runs past the end; STAP-A with a zero size.
  assert.equal(dz.depacketize(Buffer.from([0x78, 0x00, 0x09, 0x67])), undefined);
  assert.equal(dz.depacketize(Buffer.from([0x78, 0x00, 0x00])), undefined);
  // FU-A with both S and E set (RFC 6184 §5.8 forbids it).
  assert.equal(dz.depacketize(Buffer.from([0x7c, 0xc5, 0x00])), undefined);
  assert.equal(dz.drops.malformed, 3);
  // STAP-B (25), MTAP16 (26), FU-B (29), reserved 30: interleaved mode is not supported.
  for (const t of [25, 26, 29, 30]) assert.equal(dz.depacketize(Buffer.from([0x60 | t, 0, 0])), undefined);
  assert.equal(dz.drops.unsupported, 4);
  // FU-A sequences that do not open or do not close.
  const frags = buildFuA(Buffer.concat([Buffer.from([0x65]), Buffer.alloc(40, 1)]), 16);
  assert.equal(dz.assemble(frags.slice(1)), undefined);
  assert.equal(dz.assemble(frags.slice(0, -1)), undefined);
  assert.equal(dz.assemble([frags[0]!, SPS]), undefined);
});

test('frame starts are read from the first NAL unit (H.264 §7.4.1.2.3)', () => {
  const dz = new H264Depacketizer();
  // SPS alone; a STAP-A opening with SPS; a slice with first_mb_in_slice = 0 (first bit 1).
  assert.equal(dz.depacketize(SPS)!.frameStart, true);
  assert.equal(dz.depacketize(buildStapA([SPS, PPS]))!.frameStart, true);
  assert.equal(dz.depacketize(Buffer.from([0x41, 0x9a, 0x00]))!.frameStart, true);
  // A second slice of a picture (first_mb_in_slice ≠ 0) cannot tell.
  assert.equal(dz.depacketize(Buffer.from([0x41, 0x5a, 0x00]))!.frameStart, undefined);
  const frags = buildFuA(Buffer.concat([Buffer.from([0x65, 0x88]), Buffer.alloc(40, 1)]), 16);
  assert.equal(dz.depacketize(frags[0]!)!.frameStart, true);
  assert.equal(dz.depacketize(frags[1]!)!.frameStart, false);
});
