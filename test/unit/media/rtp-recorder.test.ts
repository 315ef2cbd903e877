// RtpRecorder: RTP packets of the fixtures → IVF / Ogg Opus / Annex B files that ffprobe decodes
// with the expected frame count and duration; keyframe gating after a loss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { RtpPacketizer } from '../../../lib/media/rtp-packetizer.js';
import { RtpRecorder } from '../../../lib/media/rtp-recorder.js';
import { createPacketizer } from '../../../lib/media/codecs.js';
import { readIvf } from '../../../lib/media/ivf.js';
import { readOggOpus } from '../../../lib/media/ogg-opus.js';
import { readAnnexBAccessUnits } from '../../../lib/media/annex-b.js';
import { h264AccessUnits, ivfFrames, opusPackets } from './media-fixtures.js';

// RTP timestamps start near the 32-bit wrap so the recorder's unwrapping is exercised.
const TS0 = 0xffff0000;

function packets(mime: string, frames: readonly Buffer[], step: number): RtpPacket[][] {
  const rp = new RtpPacketizer(createPacketizer(mime), { mtu: 400, payloadType: 96, ssrc: 7, initialSequenceNumber: 40_000 });
  return frames.map((f, k) => rp.packetize(f, (TS0 + k * step) >>> 0).map((p) => RtpPacket.parse(p.serialize())));
}

// Records packets; returns the file as a recorder's user would have assembled it.
function record(rec: RtpRecorder, pkts: readonly RtpPacket[]): Buffer {
  const body = Buffer.concat(pkts.map((p) => rec.push(p)));
  const end = rec.end();
  const file = Buffer.concat([body, end.tail]);
  if (end.header) end.header.copy(file, 0);
  return file;
}

const ffprobe = spawnSync('ffprobe', ['-version']).status === 0;

function probe(path: string): { frames: number; duration: number } {
  const r = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=nb_read_frames,duration', '-of', 'json', path], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const s = (JSON.parse(r.stdout) as { streams: { nb_read_frames: string; duration?: string }[] }).streams[0]!;
  return { frames: Number(s.nb_read_frames), duration: Number(s.duration) };
}

test('recordings of every codec hold every frame, with RTP timing, and read back', () => {
  for (const [mime, name] of [['video/VP8', 'vp8.ivf'], ['video/VP9', 'vp9.ivf'], ['video/AV1', 'av1.ivf']] as const) {
    const frames = ivfFrames(name).map((f) => f.data);
    const rec = new RtpRecorder({ mimeType: mime, width: 320, height: 240 });
    const ivf = readIvf(record(rec, packets(mime, frames, 3000).flat()));
    assert.deepEqual(ivf.frames.map((f) => f.data), frames, mime);
    assert.deepEqual(ivf.frames.map((f) => f.timestamp), frames.map((_, k) => BigInt(k * 3000)));
    assert.deepEqual([ivf.header.width, ivf.header.height, ivf.header.timebaseDenominator], [320, 240, 90_000]);
    assert.equal(rec.framesWritten, 20);
  }
  // VP8 and VP9 key frames tell the size when the options do not.
  const vp9 = readIvf(record(new RtpRecorder({ mimeType: 'video/VP9' }), packets('video/VP9', ivfFrames('vp9.ivf').map((f) => f.data), 3000).flat()));
  assert.deepEqual([vp9.header.width, vp9.header.height], [320, 240]);
  const vp8 = readIvf(record(new RtpRecorder({ mimeType: 'video/VP8' }), packets('video/VP8', ivfFrames('vp8.ivf').map((f) => f.data), 3000).flat()));
  assert.deepEqual([vp8.header.width, vp8.header.height], [320, 240]);

  const aus = h264AccessUnits();
  const h264 = record(new RtpRecorder({ mimeType: 'video/H264' }), packets('video/H264', aus, 3000).flat());
  assert.equal(readAnnexBAccessUnits(h264).length, 20);

  const opus = opusPackets();
  const ogg = readOggOpus(record(new RtpRecorder({ mimeType: 'audio/opus', channels: 1 }), packets('audio/opus', opus, 960).flat()));
  assert.deepEqual(ogg.packets, opus);
  assert.equal(ogg.head.channels, 1);
  assert.equal(ogg.finalGranulePosition, BigInt(opus.length * 960));
});

test('after a loss, video is skipped until the next keyframe and keyframeNeeded says so', () => {
  const frames = ivfFrames('vp8.ivf').map((f) => f.data);
  const perFrame = packets('video/VP8', frames, 3000);
  const rec = new RtpRecorder({ mimeType: 'video/VP8', maxLate: 8 });
  const chunks: Buffer[] = [];
  let neededSeen = false;
  perFrame.forEach((ps, k) => {
    for (const p of k === 3 ? ps.slice(1) : ps) {
      chunks.push(rec.push(p));
      // The loss is known once the reordering window has passed it, some packets later.
      if (k > 3 && rec.keyframeNeeded) neededSeen = true;
    }
  });
  const end = rec.end();
  const file = Buffer.concat([...chunks, end.tail]);
  end.header!.copy(file, 0);
  const ivf = readIvf(file);
  // Frames 0–2, then nothing until the keyframe at 10.
  assert.deepEqual(ivf.frames.map((f) => Number(f.timestamp / 3000n)), [0, 1, 2, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  assert.ok(neededSeen);
  assert.equal(rec.keyframeNeeded, false);
  assert.equal(rec.stats.packetsLost, 1);
});

test('video before the first keyframe is not written', () => {
  const frames = ivfFrames('vp9.ivf').map((f) => f.data);
  const rec = new RtpRecorder({ mimeType: 'video/VP9', maxLate: 4 });
  const ivf = readIvf(record(rec, packets('video/VP9', frames, 3000).slice(2).flat()));
  assert.equal(ivf.frames.length, 10);
  assert.equal(ivf.frames[0]!.timestamp, 0n, 'timestamps start at the first frame written');
  assert.throws(() => new RtpRecorder({ mimeType: 'video/H265' }), { code: 'ERR_MEDIA_CODEC' });
});

test('ffprobe decodes the recordings with the expected frame count and duration', { skip: ffprobe ? false : 'ffprobe not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'pwt-rec-'));
  try {
    for (const [mime, name] of [['video/VP8', 'vp8.ivf'], ['video/VP9', 'vp9.ivf'], ['video/AV1', 'av1.ivf']] as const) {
      const path = join(dir, name);
      writeFileSync(path, record(new RtpRecorder({ mimeType: mime, width: 320, height: 240 }), packets(mime, ivfFrames(name).map((f) => f.data), 3000).flat()));
      const p = probe(path);
      assert.equal(p.frames, 20, name);
      assert.ok(Math.abs(p.duration - 20 / 30) < 0.001, `${name}: ${p.duration}`);
    }
    // The lossy VP8 recording: 13 decodable frames.
    const perFrame = packets('video/VP8', ivfFrames('vp8.ivf').map((f) => f.data), 3000);
    const lossy = record(new RtpRecorder({ mimeType: 'video/VP8', maxLate: 8 }), perFrame.flatMap((ps, k) => (k === 3 ? ps.slice(1) : ps)));
    writeFileSync(join(dir, 'lossy.ivf'), lossy);
    assert.equal(probe(join(dir, 'lossy.ivf')).frames, 13);

    writeFileSync(join(dir, 'rec.h264'), record(new RtpRecorder({ mimeType: 'video/H264' }), packets('video/H264', h264AccessUnits(), 3000).flat()));
    assert.equal(probe(join(dir, 'rec.h264')).frames, 20);

    const opus = opusPackets();
    writeFileSync(join(dir, 'rec.opus'), record(new RtpRecorder({ mimeType: 'audio/opus' }), packets('audio/opus', opus, 960).flat()));
    const p = probe(join(dir, 'rec.opus'));
    assert.equal(p.frames, opus.length);
    assert.ok(Math.abs(p.duration - (opus.length * 960) / 48_000) < 0.001, `opus: ${p.duration}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
