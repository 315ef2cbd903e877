// IVF, Ogg Opus (RFC 7845, RFC 3533) and H.264 Annex B: read → write → read byte equality on the
// ffmpeg-made fixtures, hostile files, and ffprobe decoding files our writers made from RTP payloads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IvfWriter, readIvf, writeIvf } from '../../../lib/media/ivf.js';
import { OggOpusWriter, readOggOpus, writeOggOpus } from '../../../lib/media/ogg-opus.js';
import { OGG_BOS, OGG_EOS, oggPackets, packetToOggPages, readOggPages, serializeOggPage } from '../../../lib/media/ogg-page.js';
import { joinAnnexB, readAnnexBAccessUnits, splitAnnexB } from '../../../lib/media/annex-b.js';
import { Vp8Depacketizer, Vp8Packetizer } from '../../../lib/media/vp8-payload.js';
import { Vp9Depacketizer, Vp9Packetizer } from '../../../lib/media/vp9-payload.js';
import { Av1Depacketizer, Av1Packetizer } from '../../../lib/media/av1-payload.js';
import { H264Depacketizer, H264Packetizer } from '../../../lib/media/h264-payload.js';
import { OpusDepacketizer, OpusPacketizer } from '../../../lib/media/opus-payload.js';
import type { Depacketizer, Packetizer } from '../../../lib/media/payloader.js';
import { MediaFormatError } from '../../../lib/media/media-errors.js';
import { fixtureBytes, h264AccessUnits, FIXTURE_FRAMES } from './media-fixtures.js';

test('IVF files read → write → read back byte for byte', () => {
  for (const name of ['vp8.ivf', 'vp9.ivf', 'av1.ivf']) {
    const bytes = fixtureBytes(name);
    const file = readIvf(bytes);
    assert.equal(file.frames.length, FIXTURE_FRAMES);
    assert.deepEqual([file.header.width, file.header.height, file.header.timebaseDenominator, file.header.timebaseNumerator], [320, 240, 30, 1]);
    const written = writeIvf(file.header, file.frames);
    assert.ok(written.equals(bytes), name);
    assert.deepEqual(readIvf(written), file);
  }
  assert.deepEqual(readIvf(fixtureBytes('vp8.ivf')).header.fourcc, 'VP80');
  assert.deepEqual(readIvf(fixtureBytes('av1.ivf')).header.fourcc, 'AV01');
});

test('malformed IVF files throw ERR_MEDIA_IVF', () => {
  const bytes = fixtureBytes('vp8.ivf');
  for (const bad of [bytes.subarray(0, 20), bytes.subarray(0, 40), bytes.subarray(0, bytes.length - 1), Buffer.from('RIFF' + ' '.repeat(40))]) {
    assert.throws(() => readIvf(bad), (e: unknown) => e instanceof MediaFormatError && e.code === 'ERR_MEDIA_IVF');
  }
  const badHeaderLength = Buffer.from(bytes);
  badHeaderLength.writeUInt16LE(8, 6);
  assert.throws(() => readIvf(badHeaderLength), { code: 'ERR_MEDIA_IVF' });
  assert.throws(() => writeIvf({ fourcc: 'VP8', width: 1, height: 1, timebaseDenominator: 1, timebaseNumerator: 1, frameCount: 0 }, []), {
    code: 'ERR_MEDIA_FIELD',
  });
});

test('IvfWriter writes the length field as duration in time-base units (the frame count at 1/fps)', () => {
  const perFrame = new IvfWriter({ fourcc: 'VP80', width: 2, height: 2, timebaseDenominator: 30, timebaseNumerator: 1 });
  const clock90k = new IvfWriter({ fourcc: 'VP80', width: 2, height: 2, timebaseDenominator: 90_000, timebaseNumerator: 1 });
  assert.equal(readIvf(perFrame.header()).header.frameCount, 0);
  for (let k = 0; k < 20; k++) {
    perFrame.frame(Buffer.from([k]), k);
    clock90k.frame(Buffer.from([k]), 1000 + k * 3000);
  }
  assert.equal(readIvf(perFrame.header()).header.frameCount, 20);
  assert.equal(readIvf(clock90k.header()).header.frameCount, 60_000);
  assert.equal(clock90k.frameCount, 20);
  assert.throws(() => clock90k.frame(Buffer.from([0]), 5), { code: 'ERR_MEDIA_FIELD' });
});

test('the Ogg Opus fixture reads → writes back byte for byte (one packet per page, same granules)', () => {
  const bytes = fixtureBytes('opus.ogg');
  const file = readOggOpus(bytes);
  assert.equal(file.head.channels, 1);
  assert.equal(file.head.preSkip, 312);
  assert.equal(file.packets.length, 51);
  // 1 s of input + pre-skip: the last page trims the end (RFC 7845 §4.4).
  assert.equal(file.finalGranulePosition, 48_312n);
  const written = writeOggOpus(file);
  assert.ok(written.equals(bytes));
  assert.deepEqual(readOggOpus(written), file);
});

test('the Ogg Opus writer puts OpusHead alone on the BOS page and counts granules in 48 kHz samples', () => {
  const packets = readOggOpus(fixtureBytes('opus.ogg')).packets.slice(0, 5);
  const w = new OggOpusWriter({ serial: 0x1234, head: { version: 1, channels: 2, preSkip: 312, inputSampleRate: 48_000, outputGain: 0, mappingFamily: 0 } });
  const file = Buffer.concat([w.headers(), ...packets.map((p) => w.packet(p)), w.end()]);
  const pages = readOggPages(file);
  assert.deepEqual(pages.map((p) => p.flags), [OGG_BOS, 0, 0, 0, 0, 0, OGG_EOS]);
  assert.deepEqual(pages.map((p) => p.granulePosition), [0n, 0n, 960n, 1920n, 2880n, 3840n, 4800n]);
  assert.deepEqual(pages.map((p) => p.sequence), [0, 1, 2, 3, 4, 5, 6]);
  const back = readOggOpus(file);
  assert.equal(back.tags.vendor, 'pure-webrtc-transport');
  assert.deepEqual(back.packets, packets);
  assert.throws(() => w.packet(Buffer.alloc(0)), { code: 'ERR_MEDIA_FRAME' });
  assert.throws(
    () => new OggOpusWriter({ serial: 1, head: { version: 1, channels: 3, preSkip: 0, inputSampleRate: 0, outputGain: 0, mappingFamily: 0 } }).headers(),
    { code: 'ERR_MEDIA_FIELD' },
  );
});

test('a packet longer than one page continues on the next (RFC 3533 §6)', () => {
  const big = Buffer.alloc(70_000, 0x5a);
  const pages = packetToOggPages(big, { serial: 9, sequence: 4, granulePosition: 77n, flags: OGG_BOS | OGG_EOS });
  assert.equal(pages.length, 2);
  assert.deepEqual(pages.map((p) => [p.flags, p.granulePosition, p.sequence, p.segments.length]), [
    [OGG_BOS, -1n, 4, 255],
    [0x01 | OGG_EOS, 77n, 5, 20],
  ]);
  const reread = readOggPages(Buffer.concat(pages.map(serializeOggPage)));
  assert.deepEqual(oggPackets(reread, 9).map((p) => [p.data.length, p.granulePosition]), [[70_000, 77n]]);
  // A packet of exactly 255 bytes needs a terminating zero lacing value.
  assert.deepEqual(packetToOggPages(Buffer.alloc(255), { serial: 1, sequence: 0, granulePosition: 0n, flags: 0 })[0]!.segments, [255, 0]);
});

test('a corrupted Ogg page fails its CRC; truncated files and foreign first packets are refused', () => {
  const bytes = Buffer.from(fixtureBytes('opus.ogg'));
  const flipped = Buffer.from(bytes);
  flipped[200]! ^= 0x01;
  assert.throws(() => readOggOpus(flipped), { code: 'ERR_MEDIA_OGG' });
  assert.throws(() => readOggOpus(bytes.subarray(0, bytes.length - 3)), { code: 'ERR_MEDIA_OGG' });
  assert.throws(() => readOggOpus(Buffer.from('OggS')), { code: 'ERR_MEDIA_OGG' });
  const notOpus = serializeOggPage({ flags: OGG_BOS, granulePosition: 0n, serial: 1, sequence: 0, segments: [8], body: Buffer.from('OpusHeaX') });
  assert.throws(() => readOggOpus(notOpus), { code: 'ERR_MEDIA_OGG' });
});

test('Annex B streams split into NAL units and join back byte for byte, keeping 3- and 4-byte start codes', () => {
  const bytes = fixtureBytes('h264.h264');
  const units = splitAnnexB(bytes);
  assert.ok(units.some((u) => u.startCodeLength === 3) && units.some((u) => u.startCodeLength === 4));
  assert.ok(joinAnnexB(units).equals(bytes));
  const aus = readAnnexBAccessUnits(bytes);
  assert.equal(aus.length, FIXTURE_FRAMES);
  assert.ok(joinAnnexB(aus.flat()).equals(bytes));
  assert.throws(() => splitAnnexB(Buffer.from([0x67, 0, 0, 1])), { code: 'ERR_MEDIA_ANNEXB' });
  assert.deepEqual(splitAnnexB(Buffer.alloc(0)), []);
});

const ffprobe = spawnSync('ffprobe', ['-version'], { encoding: 'utf8' }).status === 0;

// Decodes every frame (-count_frames) so a malformed bitstream fails, not only a bad container.
function probe(path: string): { frames: number; duration: number | undefined } {
  const r = spawnSync(
    'ffprobe',
    ['-v', 'error', '-count_frames', '-select_streams', '0', '-show_entries', 'stream=nb_read_frames,duration', '-of', 'json', path],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const s = (JSON.parse(r.stdout) as { streams: { nb_read_frames: string; duration?: string }[] }).streams[0]!;
  return { frames: Number(s.nb_read_frames), duration: s.duration === undefined ? undefined : Number(s.duration) };
}

// What a recorder does: frames → RTP payloads at a small MTU → frames again.
function throughRtp(frames: readonly Buffer[], pz: Packetizer, dz: Depacketizer): Buffer[] {
  return frames.map((f) => {
    const out = dz.assemble(pz.packetize(f, 500));
    assert.ok(out);
    return out;
  });
}

test('ffprobe decodes files our writers made from depacketized RTP, with the expected frame count and duration', { skip: ffprobe ? false : 'ffprobe not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'pwt-media-'));
  try {
    const video: [string, string, Packetizer, Depacketizer][] = [
      ['vp8.ivf', 'VP80', new Vp8Packetizer(), new Vp8Depacketizer()],
      ['vp9.ivf', 'VP90', new Vp9Packetizer({ flexibleMode: true }), new Vp9Depacketizer()],
      ['av1.ivf', 'AV01', new Av1Packetizer(), new Av1Depacketizer()],
    ];
    for (const [name, fourcc, pz, dz] of video) {
      const frames = throughRtp(readIvf(fixtureBytes(name)).frames.map((f) => f.data), pz, dz);
      const w = new IvfWriter({ fourcc, width: 320, height: 240, timebaseDenominator: 90_000, timebaseNumerator: 1 });
      // RTP timestamps at 90 kHz, 30 fps, used directly as IVF timestamps.
      const body = frames.map((f, k) => w.frame(f, k * 3000));
      const path = join(dir, name);
      writeFileSync(path, Buffer.concat([w.header(), ...body]));
      const p = probe(path);
      assert.equal(p.frames, FIXTURE_FRAMES, name);
      assert.ok(p.duration !== undefined && Math.abs(p.duration - FIXTURE_FRAMES / 30) < 0.001, `${name}: duration ${p.duration}`);
    }

    const h264 = throughRtp(h264AccessUnits(), new H264Packetizer(), new H264Depacketizer());
    writeFileSync(join(dir, 'out.h264'), joinAnnexB(h264.flatMap((au) => splitAnnexB(au))));
    assert.equal(probe(join(dir, 'out.h264')).frames, FIXTURE_FRAMES);

    const source = readOggOpus(fixtureBytes('opus.ogg'));
    const packets = throughRtp(source.packets, new OpusPacketizer(), new OpusDepacketizer());
    const w = new OggOpusWriter({ serial: 0x0badcafe, head: source.head, tags: { vendor: 'pwt-test', comments: ['TITLE=tone'] } });
    writeFileSync(join(dir, 'out.opus'), Buffer.concat([w.headers(), ...packets.map((p) => w.packet(p)), w.end()]));
    const p = probe(join(dir, 'out.opus'));
    assert.equal(p.frames, packets.length);
    // 51 packets × 960 samples at 48 kHz, without end trimming.
    assert.ok(p.duration !== undefined && Math.abs(p.duration - (51 * 960) / 48_000) < 0.001, `opus duration ${p.duration}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
