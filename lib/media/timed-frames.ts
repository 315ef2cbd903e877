// Send schedules for file playback: each frame of an IVF, Ogg Opus or Annex B file with the
// millisecond offset to send it at and its RTP timestamp (RFC 3550 §5.1: media clock, 90 kHz video,
// 48 kHz Opus per RFC 7587 §4.1). No timers here: the caller paces the sending.
import { OutOfRangeError } from '../common/errors.js';
import { joinAnnexB, type AnnexBNalUnit } from './annex-b.js';
import type { IvfFrame, IvfHeader } from './ivf.js';
import type { OggOpusFile } from './ogg-opus.js';
import { opusPacketSamples } from './opus-payload.js';

/** One frame to send. */
export interface TimedFrame {
  /** The coded frame (for H.264, an access unit in Annex B form). */
  data: Buffer;
  /** When to send it, in ms from the first frame. */
  atMs: number;
  /** RTP timestamp offset from the first frame, in clock-rate units (add the stream's random base). */
  rtpTimestamp: number;
}

function checkRate(name: string, v: number): void {
  if (!Number.isFinite(v) || v <= 0) throw new OutOfRangeError('ERR_MEDIA_FIELD', `${name} must be positive, got ${v}`);
}

/** IVF frames timed by their IVF timestamps and the header's time base (video clock 90 kHz by default). */
export function ivfTimedFrames(file: { header: IvfHeader; frames: readonly IvfFrame[] }, clockRate = 90_000): TimedFrame[] {
  const { timebaseNumerator: num, timebaseDenominator: den } = file.header;
  checkRate('IVF time base', num / den);
  checkRate('clock rate', clockRate);
  const first = file.frames[0]?.timestamp ?? 0n;
  return file.frames.map((f) => {
    const seconds = (Number(f.timestamp - first) * num) / den;
    return { data: f.data, atMs: seconds * 1000, rtpTimestamp: Math.round(seconds * clockRate) >>> 0 };
  });
}

/** Ogg Opus packets timed by their decoded durations (TOC), at 48 kHz. */
export function oggOpusTimedFrames(file: Pick<OggOpusFile, 'packets'>): TimedFrame[] {
  let samples = 0;
  return file.packets.map((data) => {
    const frame = { data, atMs: samples / 48, rtpTimestamp: samples >>> 0 };
    samples += opusPacketSamples(data) ?? 960;
    return frame;
  });
}

/** H.264 access units at a constant frame rate (Annex B carries no timing). */
export function annexBTimedFrames(accessUnits: readonly (readonly AnnexBNalUnit[])[], framesPerSecond: number): TimedFrame[] {
  checkRate('frame rate', framesPerSecond);
  return accessUnits.map((au, k) => ({
    data: joinAnnexB(au.map((u) => u.data)),
    atMs: (k * 1000) / framesPerSecond,
    rtpTimestamp: Math.round((k * 90_000) / framesPerSecond) >>> 0,
  }));
}
