// What the WHIP client sends: Opus from an Ogg file; VP8, VP9 or AV1 from an IVF file (by its
// FourCC) or H.264 from an Annex B file (lib/media, looped). Without a file it sends the short
// VP8 clip and Opus tone shipped in assets/ (made by scripts/make-media-fixtures.sh), which any
// decoder accepts.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../native/addon.js';
import { OutOfRangeError } from '../common/errors.js';
import { readAnnexBAccessUnits } from '../media/annex-b.js';
import { Av1Packetizer } from '../media/av1-payload.js';
import { H264Packetizer } from '../media/h264-payload.js';
import { readIvf } from '../media/ivf.js';
import { readOggOpus } from '../media/ogg-opus.js';
import { OpusPacketizer } from '../media/opus-payload.js';
import type { Packetizer } from '../media/payloader.js';
import { RtpPacketizer } from '../media/rtp-packetizer.js';
import { annexBTimedFrames, ivfTimedFrames, oggOpusTimedFrames, type TimedFrame } from '../media/timed-frames.js';
import { Vp8Packetizer } from '../media/vp8-payload.js';
import { Vp9Packetizer } from '../media/vp9-payload.js';
import type { RtpPacket } from '../rtp/rtp-packet.js';

/** Codec of a media source, as named in SDP rtpmap lines. */
export type MediaSourceCodec = 'opus' | 'VP8' | 'VP9' | 'H264' | 'AV1';

/** A looping schedule of frames of one kind, packetized on demand. */
export interface MediaSource {
  readonly kind: 'audio' | 'video';
  /** The codec of the frames; the peer connection must negotiate it. */
  readonly codec: MediaSourceCodec;
  /** Where the frames come from (a file path, or `default` for the shipped clip). */
  readonly origin: string;
  /** The packets of every frame due at `elapsedMs` since the start (each frame once). */
  due(elapsedMs: number): RtpPacket[];
}

const DEFAULT_FILES = { audio: 'default-opus.ogg', video: 'default-vp8.ivf' } as const;
const IVF_CODECS: Readonly<Record<string, MediaSourceCodec>> = { VP80: 'VP8', VP90: 'VP9', AV01: 'AV1' };
/** Annex B carries no timing; H.264 files are played at this rate. */
const H264_FRAMES_PER_SECOND = 30;

/** Path of a shipped default clip: `assets/` at the package root (sources, ESM or CommonJS build). */
export function defaultMediaFile(kind: 'audio' | 'video'): string {
  const path = join(packageRoot(), 'assets', DEFAULT_FILES[kind]);
  if (existsSync(path)) return path;
  throw new OutOfRangeError('ERR_MEDIA_FILE', `the default ${kind} clip assets/${DEFAULT_FILES[kind]} is missing from the package`);
}

function startsWithStartCode(b: Buffer): boolean {
  return (b.length >= 3 && b[0] === 0 && b[1] === 0 && b[2] === 1) || (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 0 && b[3] === 1);
}

/** Reads a video file: IVF (VP8/VP9/AV1 by FourCC) or H.264 Annex B; anything else throws. */
function readVideo(bytes: Buffer, file: string): { codec: MediaSourceCodec; frames: TimedFrame[]; frameMs: number } {
  if (bytes.subarray(0, 4).toString('latin1') === 'DKIF') {
    const ivf = readIvf(bytes);
    const codec = IVF_CODECS[ivf.header.fourcc];
    if (!codec) throw new OutOfRangeError('ERR_MEDIA_FILE', `${file}: IVF FourCC ${ivf.header.fourcc} is not VP80, VP90 or AV01`);
    return { codec, frames: ivfTimedFrames(ivf), frameMs: (1000 * ivf.header.timebaseNumerator) / ivf.header.timebaseDenominator };
  }
  if (startsWithStartCode(bytes)) {
    return { codec: 'H264', frames: annexBTimedFrames(readAnnexBAccessUnits(bytes), H264_FRAMES_PER_SECOND), frameMs: 1000 / H264_FRAMES_PER_SECOND };
  }
  throw new OutOfRangeError('ERR_MEDIA_FILE', `${file}: not an IVF file (VP8, VP9, AV1) nor an H.264 Annex B stream`);
}

function packetizerFor(codec: MediaSourceCodec): Packetizer {
  switch (codec) {
    case 'opus':
      return new OpusPacketizer();
    case 'VP8':
      return new Vp8Packetizer();
    case 'VP9':
      return new Vp9Packetizer();
    case 'H264':
      return new H264Packetizer();
    case 'AV1':
      return new Av1Packetizer();
  }
}

/**
 * A source for `kind`: the file when given (Ogg Opus for audio; IVF or Annex B H.264 for video),
 * else the shipped default clip. Frames loop; timestamps keep increasing across loops.
 * @throws OutOfRangeError (`ERR_MEDIA_FILE`) for a file of another format; lib/media's errors for a broken one.
 */
export function createMediaSource(kind: 'audio' | 'video', file?: string): MediaSource {
  const path = file ?? defaultMediaFile(kind);
  const bytes = readFileSync(path);
  let frames: TimedFrame[];
  let codec: MediaSourceCodec;
  let frameMs: number;
  if (kind === 'audio') {
    if (bytes.subarray(0, 4).toString('latin1') !== 'OggS') throw new OutOfRangeError('ERR_MEDIA_FILE', `${path}: audio must be an Ogg Opus file`);
    frames = oggOpusTimedFrames(readOggOpus(bytes));
    codec = 'opus';
    frameMs = 20;
  } else {
    ({ codec, frames, frameMs } = readVideo(bytes, path));
  }
  if (frames.length === 0) throw new OutOfRangeError('ERR_MEDIA_FILE', `${path}: no frames`);
  const periodMs = frames[frames.length - 1]!.atMs + frameMs;
  const clockRate = kind === 'audio' ? 48_000 : 90_000;
  const packetizer = new RtpPacketizer(packetizerFor(codec), { headerReserve: 32 });
  let next = 0;
  return {
    kind,
    codec,
    origin: file ?? 'default',
    due(elapsedMs: number): RtpPacket[] {
      const out: RtpPacket[] = [];
      for (;;) {
        const loop = Math.floor(next / frames.length);
        const f = frames[next % frames.length]!;
        const at = loop * periodMs + f.atMs;
        if (at > elapsedMs) return out;
        const ts = (f.rtpTimestamp + Math.round((loop * periodMs * clockRate) / 1000)) >>> 0;
        out.push(...packetizer.packetize(f.data, ts));
        next++;
      }
    },
  };
}
