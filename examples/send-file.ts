// Sends an IVF video file and an Ogg Opus file to a WHIP endpoint (RFC 9725) as RTP at real-time
// pace (RFC 3550 §5.1 timestamps; RFC 7741 VP8, RFC 7587 Opus payloads), looping until --seconds.
//   node --import tsx examples/send-file.ts --url <whip endpoint> [--video f.ivf] [--audio f.ogg] [--seconds N]
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  createPacketizer,
  ivfTimedFrames,
  oggOpusTimedFrames,
  opusPacketSamples,
  readIvf,
  readOggOpus,
  RtpPacketizer,
  type TimedFrame,
} from 'pure-webrtc-transport/media';
// The package's main entry point also installs the default policy modules (RTCP reports, NACK,
// keyframe requests, transport-cc feedback).
import { LocalStreamTrack, RTCPeerConnection, sdp, whipConnect } from 'pure-webrtc-transport';

/** Options of {@link sendFile}. */
export interface SendFileOptions {
  /** WHIP endpoint URL. */
  url: string;
  /** IVF file (VP8, VP9 or AV1); omit to send no video. */
  video?: string;
  /** Ogg Opus file; omit to send no audio. */
  audio?: string;
  /** How long to send, in seconds; the files loop to fill it. */
  seconds: number;
  /** Local addresses to gather host candidates on (default: every interface). */
  hostAddresses?: string[];
  /** Give up when not connected within this many ms (default 10000). */
  connectTimeoutMs?: number;
}

/** What one stream sent. */
export interface SentStream {
  /** `video/VP8`, `audio/opus`, ... */
  mimeType: string;
  /** Frames (Opus packets) sent. */
  frames: number;
  /** RTP packets sent. */
  packets: number;
}

/** What {@link sendFile} sent. */
export interface SendFileResult {
  /** One entry per file sent. */
  streams: SentStream[];
  /** Wall-clock time spent sending, in ms. */
  elapsedMs: number;
}

const IVF_CODECS: Record<string, string> = { VP80: 'VP8', VP90: 'VP9', AV01: 'AV1' };

interface Source {
  mimeType: string;
  track: LocalStreamTrack;
  frames: TimedFrame[];
  /** Length of one pass through the file, in ms; the next pass starts this much later. */
  loopMs: number;
  packetizer: RtpPacketizer;
}

function videoSource(path: string): Source {
  const file = readIvf(readFileSync(path));
  const codec = IVF_CODECS[file.header.fourcc];
  if (codec === undefined) throw new Error(`${path}: IVF fourcc ${file.header.fourcc} is not VP8, VP9 or AV1`);
  const frames = ivfTimedFrames(file);
  if (frames.length === 0) throw new Error(`${path}: no frames`);
  // The last frame lasts as long as the average one before it (IVF stores no durations).
  const last = frames[frames.length - 1]!.atMs;
  const loopMs = frames.length > 1 ? (last * frames.length) / (frames.length - 1) : 1000 / 30;
  const mimeType = `video/${codec}`;
  return { mimeType, track: new LocalStreamTrack({ kind: 'video' }), frames, loopMs, packetizer: new RtpPacketizer(createPacketizer(mimeType)) };
}

function audioSource(path: string): Source {
  const frames = oggOpusTimedFrames(readOggOpus(readFileSync(path)));
  if (frames.length === 0) throw new Error(`${path}: no Opus packets`);
  const last = frames[frames.length - 1]!;
  const loopMs = last.atMs + (opusPacketSamples(last.data) ?? 960) / 48;
  return { mimeType: 'audio/opus', track: new LocalStreamTrack({ kind: 'audio' }), frames, loopMs, packetizer: new RtpPacketizer(createPacketizer('audio/opus')) };
}

/** Sends `source` from `startMs` (performance.now() time) until `endMs`, pass after pass. */
async function pump(source: Source, startMs: number, durationMs: number): Promise<SentStream> {
  const clockRate = source.packetizer.clockRate;
  const loopTicks = Math.round((source.loopMs * clockRate) / 1000);
  // RFC 3550 §5.1: the first timestamp is random.
  const base = randomInt(0, 0x7fffffff);
  const sent: SentStream = { mimeType: source.mimeType, frames: 0, packets: 0 };
  for (let pass = 0; ; pass++) {
    for (const frame of source.frames) {
      const atMs = pass * source.loopMs + frame.atMs;
      if (atMs >= durationMs) return sent;
      const wait = startMs + atMs - performance.now();
      if (wait > 0) await sleep(wait);
      const packets = source.packetizer.packetize(frame.data, (base + pass * loopTicks + frame.rtpTimestamp) >>> 0);
      for (const p of packets) source.track.send(p);
      sent.frames++;
      sent.packets += packets.length;
    }
  }
}

/** Publishes the files to `options.url` with WHIP, sends them for `options.seconds`, then ends the session. */
export async function sendFile(options: SendFileOptions): Promise<SendFileResult> {
  if (!(options.seconds > 0)) throw new Error(`--seconds must be positive, got ${options.seconds}`);
  const sources: Source[] = [];
  if (options.video !== undefined) sources.push(videoSource(options.video));
  if (options.audio !== undefined) sources.push(audioSource(options.audio));
  if (sources.length === 0) throw new Error('nothing to send: give --video and/or --audio');
  // Offer only the codecs the files hold, so the endpoint cannot pick another.
  const names = new Set(sources.map((s) => s.mimeType.split('/')[1]!.toLowerCase()));
  const codecs = [...sdp.defaultCodecs('audio'), ...sdp.defaultCodecs('video')].filter((c) => names.has(c.name.toLowerCase()));
  const pc = new RTCPeerConnection({ codecs, ...(options.hostAddresses ? { hostAddresses: options.hostAddresses } : {}) });
  try {
    for (const s of sources) pc.addTransceiver(s.track, { direction: 'sendonly' });
    const session = await whipConnect(options.url, pc);
    try {
      await pc.connected(options.connectTimeoutMs ?? 10_000);
      const start = performance.now();
      const streams = await Promise.all(sources.map((s) => pump(s, start, options.seconds * 1000)));
      // Let the last packets leave before the session ends.
      await sleep(200);
      return { streams, elapsedMs: performance.now() - start };
    } finally {
      await session.end().catch(() => 0);
    }
  } finally {
    pc.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      video: { type: 'string' },
      audio: { type: 'string' },
      seconds: { type: 'string', default: '10' },
    },
  });
  if (values.url === undefined) throw new Error('usage: send-file.ts --url <whip endpoint> [--video f.ivf] [--audio f.ogg] [--seconds N]');
  const noFiles = values.video === undefined && values.audio === undefined;
  const result = await sendFile({
    url: values.url,
    video: noFiles ? 'test/fixtures/media/vp8.ivf' : values.video,
    audio: noFiles ? 'test/fixtures/media/opus.ogg' : values.audio,
    seconds: Number(values.seconds),
  });
  const parts = result.streams.map((s) => `${s.mimeType} ${s.frames} frames in ${s.packets} packets`);
  console.log(`sent ${parts.join(', ')} over ${(result.elapsedMs / 1000).toFixed(1)} s`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`send-file failed: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
