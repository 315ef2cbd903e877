// File playback schedules: send offsets and RTP timestamps from IVF time bases, Opus TOC durations
// and a constant H.264 frame rate; plus the lib/media entry point exporting the public helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { annexBTimedFrames, ivfTimedFrames, oggOpusTimedFrames } from '../../../lib/media/timed-frames.js';
import { readIvf } from '../../../lib/media/ivf.js';
import { readOggOpus } from '../../../lib/media/ogg-opus.js';
import { readAnnexBAccessUnits } from '../../../lib/media/annex-b.js';
import * as media from '../../../lib/media/index.js';
import { fixtureBytes } from './media-fixtures.js';

test('IVF frames at 1/30 s become 33.3 ms apart and 3000 ticks of the 90 kHz clock', () => {
  const t = ivfTimedFrames(readIvf(fixtureBytes('vp8.ivf')));
  assert.equal(t.length, 20);
  assert.deepEqual(t.slice(0, 3).map((f) => f.rtpTimestamp), [0, 3000, 6000]);
  assert.ok(Math.abs(t[19]!.atMs - 19000 / 30) < 1e-9);
  const file = readIvf(fixtureBytes('vp8.ivf'));
  assert.throws(() => ivfTimedFrames({ ...file, header: { ...file.header, timebaseDenominator: 0 } }), { code: 'ERR_MEDIA_FIELD' });
});

test('Opus packets are paced by their TOC durations at 48 kHz', () => {
  const t = oggOpusTimedFrames(readOggOpus(fixtureBytes('opus.ogg')));
  assert.equal(t.length, 51);
  assert.deepEqual(t.slice(0, 3).map((f) => [f.atMs, f.rtpTimestamp]), [[0, 0], [20, 960], [40, 1920]]);
});

test('H.264 access units are paced at the given frame rate', () => {
  const t = annexBTimedFrames(readAnnexBAccessUnits(fixtureBytes('h264.h264')), 30);
  assert.equal(t.length, 20);
  assert.deepEqual([t[1]!.rtpTimestamp, t[10]!.rtpTimestamp], [3000, 30000]);
  assert.deepEqual([...t[0]!.data.subarray(0, 5)], [0, 0, 0, 1, 0x67]);
  assert.throws(() => annexBTimedFrames([], 0), { code: 'ERR_MEDIA_FIELD' });
});

test('the lib/media entry point exports the packetizers, containers, sample builder and recorder', () => {
  for (const name of ['Vp8Packetizer', 'Vp9Depacketizer', 'H264Packetizer', 'Av1Depacketizer', 'OpusPacketizer', 'SampleBuilder', 'RtpRecorder', 'RtpPacketizer', 'readIvf', 'readOggOpus', 'splitAnnexB', 'createDepacketizer']) {
    assert.equal(typeof (media as Record<string, unknown>)[name], 'function', name);
  }
});
