// Records one received RTP stream into a file: IVF for VP8/VP9/AV1, Ogg Opus (RFC 7845) for Opus,
// Annex B for H.264. Frames come from a SampleBuilder; writing starts and restarts at keyframes.
import { OutOfRangeError, PwtError } from '../common/errors.js';
import type { RtpPacket } from '../rtp/rtp-packet.js';
import { createDepacketizer } from './codecs.js';
import { IvfWriter } from './ivf.js';
import { OggOpusWriter } from './ogg-opus.js';
import { SampleBuilder, type Sample, type SampleBuilderStats } from './sample-builder.js';
import { parseVp9FrameHeader } from './vp9-frame-header.js';

/** Options of an RTP recorder. */
export interface RtpRecorderOptions {
  /** Codec of the stream: `video/VP8`, `video/VP9`, `video/AV1`, `video/H264` or `audio/opus`. */
  mimeType: string;
  /** Reordering window of the sample builder, in packets (default 100). */
  maxLate?: number;
  /** IVF frame size when the key frame does not tell (AV1); VP8 and VP9 key frames do. */
  width?: number;
  /** IVF frame height, as `width`. */
  height?: number;
  /** Ogg Opus: channel count for OpusHead (default 2, what `opus/48000/2` negotiates). */
  channels?: number;
  /** Ogg Opus: pre-skip in 48 kHz samples (default 312, libopus's look-ahead). */
  preSkip?: number;
  /** Ogg Opus: bitstream serial number (default 1). */
  serial?: number;
}

/** What `end()` returns: bytes to append, and for IVF the final header to write over the first 32 bytes. */
export interface RtpRecorderEnd {
  /** Bytes to append to the file. */
  tail: Buffer;
  /** IVF only: the header with the final length and size, to write at offset 0. */
  header?: Buffer;
}

const IVF_FOURCC: Record<string, string> = { 'video/vp8': 'VP80', 'video/vp9': 'VP90', 'video/av1': 'AV01' };

/**
 * Turns RTP packets into file bytes. `push` each packet and append what it returns; call `end()`
 * at the end. Video is written from the first keyframe on; after a loss the recorder skips delta
 * frames until the next keyframe (so the file stays decodable) and raises `keyframeNeeded`, which
 * the application may answer with a PLI or FIR. Audio has no such gate; lost Opus packets shorten
 * the recording (Ogg granules count decoded samples, so a gap cannot be left in the timeline).
 */
export class RtpRecorder {
  /** True while video frames are skipped for want of a keyframe (from the start, or after a loss). */
  keyframeNeeded: boolean;
  private readonly builder: SampleBuilder;
  private readonly kind: 'ivf' | 'ogg' | 'annexb';
  private readonly mime: string;
  private ivf: IvfWriter | undefined;
  private ogg: OggOpusWriter | undefined;
  private firstTimestamp = 0;
  private lastExtended = 0;
  private written = 0;
  private ivfTimestamp = 0;
  private width: number;
  private height: number;

  constructor(private readonly options: RtpRecorderOptions) {
    this.mime = options.mimeType.toLowerCase();
    this.builder = new SampleBuilder(createDepacketizer(options.mimeType), { maxLate: options.maxLate ?? 100 });
    if (this.mime === 'audio/opus') this.kind = 'ogg';
    else if (this.mime === 'video/h264') this.kind = 'annexb';
    else if (IVF_FOURCC[this.mime] !== undefined) this.kind = 'ivf';
    else throw new PwtError('NotSupportedError', 'ERR_MEDIA_CODEC', `cannot record ${options.mimeType}`);
    const channels = options.channels ?? 2;
    if (!Number.isInteger(channels) || channels < 1 || channels > 2) {
      throw new OutOfRangeError('ERR_MEDIA_FIELD', `Opus channels must be 1 or 2, got ${channels}`);
    }
    this.keyframeNeeded = this.kind !== 'ogg';
    this.width = options.width ?? 0;
    this.height = options.height ?? 0;
  }

  /** Frames written so far. */
  get framesWritten(): number {
    return this.written;
  }

  /** Counters of the underlying sample builder. */
  get stats(): SampleBuilderStats {
    return this.builder.stats;
  }

  /** Adds one received packet; returns the bytes to append to the file (often empty). */
  push(packet: RtpPacket): Buffer {
    this.builder.push(packet);
    const out: Buffer[] = [];
    for (let s = this.builder.pop(); s !== undefined; s = this.builder.pop()) out.push(this.write(s));
    return Buffer.concat(out);
  }

  /** Flushes the frames still completable; see `RtpRecorderEnd`. */
  end(): RtpRecorderEnd {
    const out = this.builder.flush().map((s) => this.write(s));
    if (this.kind === 'ogg') {
      if (this.ogg !== undefined) out.push(this.ogg.end());
      return { tail: Buffer.concat(out) };
    }
    if (this.kind === 'ivf') return { tail: Buffer.concat(out), header: this.ivfWriter().header() };
    return { tail: Buffer.concat(out) };
  }

  private write(s: Sample): Buffer {
    if (this.kind !== 'ogg') {
      if (s.packetsLostBefore > 0 || s.framesDroppedBefore > 0) this.keyframeNeeded = true;
      if (this.keyframeNeeded && !s.keyframe) return Buffer.alloc(0);
      this.keyframeNeeded = false;
    }
    // Unwrap the 32-bit RTP timestamp into a running count from the first frame written.
    if (this.written === 0) {
      this.firstTimestamp = s.timestamp;
      this.lastExtended = 0;
    } else {
      const last = (this.firstTimestamp + this.lastExtended) >>> 0;
      this.lastExtended += ((s.timestamp - last + 0x80000000) >>> 0) - 0x80000000;
    }
    this.written++;
    if (this.kind === 'annexb') return s.data;
    if (this.kind === 'ogg') {
      const head = this.ogg === undefined ? this.oggWriter().headers() : Buffer.alloc(0);
      return Buffer.concat([head, this.oggWriter().packet(s.data)]);
    }
    const first = this.ivf === undefined;
    if (first) this.learnSize(s.data);
    // A timestamp that goes back (a misbehaving sender) is written as the previous one, never thrown.
    this.ivfTimestamp = Math.max(this.ivfTimestamp, this.lastExtended);
    const frame = this.ivfWriter().frame(s.data, this.ivfTimestamp);
    return first ? Buffer.concat([this.ivfWriter().header(), frame]) : frame;
  }

  // VP8 (RFC 6386 §9.1) and VP9 key frames carry their size; AV1's is left to the options.
  private learnSize(frame: Buffer): void {
    if (this.width !== 0 || this.height !== 0) return;
    if (this.mime === 'video/vp8' && frame.length >= 10) {
      this.width = frame.readUInt16LE(6) & 0x3fff;
      this.height = frame.readUInt16LE(8) & 0x3fff;
    } else if (this.mime === 'video/vp9') {
      const h = parseVp9FrameHeader(frame);
      this.width = h?.width ?? 0;
      this.height = h?.height ?? 0;
    }
  }

  private ivfWriter(): IvfWriter {
    this.ivf ??= new IvfWriter({
      fourcc: IVF_FOURCC[this.mime]!,
      width: this.width,
      height: this.height,
      timebaseDenominator: 90_000,
      timebaseNumerator: 1,
    });
    return this.ivf;
  }

  private oggWriter(): OggOpusWriter {
    this.ogg ??= new OggOpusWriter({
      serial: this.options.serial ?? 1,
      head: {
        version: 1,
        channels: this.options.channels ?? 2,
        preSkip: this.options.preSkip ?? 312,
        inputSampleRate: 48_000,
        outputGain: 0,
        mappingFamily: 0,
      },
    });
    return this.ogg;
  }
}
