// What the WHIP client sends: Opus from an Ogg file and VP8 from an IVF file (lib/media, looped),
// or synthetic RTP when no file is given (Opus silence frames, RFC 6716 §3.1 code 0 CELT
// frames; VP8 payloads with a valid descriptor, RFC 7741 §4.2, around filler bytes).
import { readFileSync } from 'node:fs';
import { readIvf } from '../media/ivf.js';
import { readOggOpus } from '../media/ogg-opus.js';
import { OpusPacketizer } from '../media/opus-payload.js';
import { RtpPacketizer } from '../media/rtp-packetizer.js';
import { ivfTimedFrames, oggOpusTimedFrames, type TimedFrame } from '../media/timed-frames.js';
import { Vp8Packetizer } from '../media/vp8-payload.js';
import type { RtpPacket } from '../rtp/rtp-packet.js';

/** A looping schedule of frames of one kind, packetized on demand. */
export interface MediaSource {
  readonly kind: 'audio' | 'video';
  /** Where the frames come from (a file path, or `synthetic`). */
  readonly origin: string;
  /** The packets of every frame due at `elapsedMs` since the start (each frame once). */
  due(elapsedMs: number): RtpPacket[];
}

/** One 20 ms Opus frame of silence (TOC 0xf8: CELT FB 20 ms, code 0). */
const OPUS_SILENCE = Buffer.from([0xf8, 0xff, 0xfe]);

function syntheticFrames(kind: 'audio' | 'video'): { frames: TimedFrame[]; periodMs: number } {
  if (kind === 'audio') {
    const frames = Array.from({ length: 50 }, (_, i) => ({ data: OPUS_SILENCE, atMs: i * 20, rtpTimestamp: i * 960 }));
    return { frames, periodMs: 1000 };
  }
  const frames = Array.from({ length: 30 }, (_, i) => {
    const data = Buffer.alloc(i === 0 ? 3000 : 600, i & 0xff);
    return { data, atMs: (i * 1000) / 30, rtpTimestamp: i * 3000 };
  });
  return { frames, periodMs: 1000 };
}

/**
 * A source for `kind`: the file when given (Ogg Opus for audio, IVF VP8 for video), else
 * synthetic. Frames loop; timestamps keep increasing across loops.
 */
export function createMediaSource(kind: 'audio' | 'video', file?: string): MediaSource {
  let frames: TimedFrame[];
  let periodMs: number;
  if (file) {
    const bytes = readFileSync(file);
    frames = kind === 'audio' ? oggOpusTimedFrames(readOggOpus(bytes)) : ivfTimedFrames(readIvf(bytes));
    const last = frames[frames.length - 1];
    periodMs = last ? last.atMs + (kind === 'audio' ? 20 : 1000 / 30) : 1000;
  } else {
    ({ frames, periodMs } = syntheticFrames(kind));
  }
  const clockRate = kind === 'audio' ? 48_000 : 90_000;
  const packetizer = new RtpPacketizer(kind === 'audio' ? new OpusPacketizer() : new Vp8Packetizer(), { headerReserve: 32 });
  let next = 0;
  return {
    kind,
    origin: file ?? 'synthetic',
    due(elapsedMs: number): RtpPacket[] {
      const out: RtpPacket[] = [];
      if (frames.length === 0) return out;
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
