// IVF container (the libvpx/libaom "DKIF" file: 32-byte file header, then 12-byte frame headers with
// size and 64-bit timestamp), read and written byte for byte, for VP8, VP9 and AV1 frames.
import { MediaFormatError } from './media-errors.js';
import { OutOfRangeError } from '../common/errors.js';

/** The IVF file header. */
export interface IvfHeader {
  /** Codec FourCC: `VP80`, `VP90` or `AV01`. */
  fourcc: string;
  /** Frame width in pixels. */
  width: number;
  /** Frame height in pixels. */
  height: number;
  /** Time base denominator (frame timestamps count 1/`timebaseDenominator` × `timebaseNumerator` s). */
  timebaseDenominator: number;
  /** Time base numerator. */
  timebaseNumerator: number;
  /**
   * The header's length field at offset 24: libvpx writes the frame count, ffmpeg the duration in
   * time-base units (the same number when the time base is the frame rate).
   */
  frameCount: number;
  /** Header format version (0). */
  version?: number;
  /** The four unused bytes at offset 28, kept so a file is rewritten byte for byte. */
  reserved?: number;
}

/** One IVF frame. */
export interface IvfFrame {
  /** Presentation timestamp in time-base units. */
  timestamp: bigint;
  /** The coded frame. */
  data: Buffer;
}

/** Size of the IVF file header. */
export const IVF_HEADER_LENGTH = 32;
const FRAME_HEADER_LENGTH = 12;

/** Reads an IVF file; throws `ERR_MEDIA_IVF` (a `MediaFormatError`) when it is malformed or truncated. */
export function readIvf(file: Uint8Array): { header: IvfHeader; frames: IvfFrame[] } {
  const buf = Buffer.isBuffer(file) ? file : Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (buf.length < IVF_HEADER_LENGTH || buf.toString('latin1', 0, 4) !== 'DKIF') {
    throw new MediaFormatError('ERR_MEDIA_IVF', 'not an IVF file (no DKIF signature)', 0);
  }
  const headerLength = buf.readUInt16LE(6);
  if (headerLength < IVF_HEADER_LENGTH || headerLength > buf.length) {
    throw new MediaFormatError('ERR_MEDIA_IVF', `bad IVF header length ${headerLength}`, 6);
  }
  const header: IvfHeader = {
    version: buf.readUInt16LE(4),
    fourcc: buf.toString('latin1', 8, 12),
    width: buf.readUInt16LE(12),
    height: buf.readUInt16LE(14),
    timebaseDenominator: buf.readUInt32LE(16),
    timebaseNumerator: buf.readUInt32LE(20),
    frameCount: buf.readUInt32LE(24),
    reserved: buf.readUInt32LE(28),
  };
  const frames: IvfFrame[] = [];
  let i = headerLength;
  while (i < buf.length) {
    if (i + FRAME_HEADER_LENGTH > buf.length) throw new MediaFormatError('ERR_MEDIA_IVF', 'truncated IVF frame header', i);
    const size = buf.readUInt32LE(i);
    const timestamp = buf.readBigUInt64LE(i + 4);
    if (i + FRAME_HEADER_LENGTH + size > buf.length) throw new MediaFormatError('ERR_MEDIA_IVF', `truncated IVF frame of ${size} bytes`, i);
    frames.push({ timestamp, data: buf.subarray(i + FRAME_HEADER_LENGTH, i + FRAME_HEADER_LENGTH + size) });
    i += FRAME_HEADER_LENGTH + size;
  }
  return { header, frames };
}

/** Serializes the 32-byte IVF file header; throws `ERR_MEDIA_FIELD` for a bad FourCC or out-of-range field. */
export function serializeIvfHeader(h: IvfHeader): Buffer {
  if (!/^[\x20-\x7e]{4}$/.test(h.fourcc)) throw new OutOfRangeError('ERR_MEDIA_FIELD', `IVF FourCC must be 4 ASCII characters, got "${h.fourcc}"`);
  const out = Buffer.alloc(IVF_HEADER_LENGTH);
  out.write('DKIF', 0, 'latin1');
  out.writeUInt16LE(h.version ?? 0, 4);
  out.writeUInt16LE(IVF_HEADER_LENGTH, 6);
  out.write(h.fourcc, 8, 'latin1');
  out.writeUInt16LE(h.width, 12);
  out.writeUInt16LE(h.height, 14);
  out.writeUInt32LE(h.timebaseDenominator, 16);
  out.writeUInt32LE(h.timebaseNumerator, 20);
  out.writeUInt32LE(h.frameCount, 24);
  out.writeUInt32LE(h.reserved ?? 0, 28);
  return out;
}

/** Serializes one IVF frame (12-byte header + data). */
export function serializeIvfFrame(frame: IvfFrame): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + frame.data.length);
  out.writeUInt32LE(frame.data.length, 0);
  out.writeBigUInt64LE(BigInt.asUintN(64, frame.timestamp), 4);
  out.set(frame.data, FRAME_HEADER_LENGTH);
  return out;
}

/** Writes a whole IVF file; the header's frame count is written as given. */
export function writeIvf(header: IvfHeader, frames: readonly IvfFrame[]): Buffer {
  return Buffer.concat([serializeIvfHeader(header), ...frames.map(serializeIvfFrame)]);
}

/**
 * Incremental IVF writer for a recorder: `frame()` per frame, then `header()` for the first 32 bytes
 * (write a placeholder first and patch it at the end, or build the file at once). The header's
 * length field gets the duration in time-base units the way ffmpeg writes and reads it: the
 * timestamp span scaled by n/(n-1), which is the frame count when the time base is the frame
 * rate, as libvpx writes it.
 */
export class IvfWriter {
  private count = 0;
  private first = 0n;
  private last = 0n;

  constructor(private readonly base: Omit<IvfHeader, 'frameCount'>) {}

  /** The file header for the frames written so far. */
  header(): Buffer {
    let length = BigInt(this.count);
    if (this.count > 1) {
      const n = BigInt(this.count);
      length = ((this.last - this.first) * n + (n - 1n) / 2n) / (n - 1n);
    }
    return serializeIvfHeader({ ...this.base, frameCount: Number(BigInt.asUintN(32, length)) });
  }

  /** One frame's bytes; `timestamp` in time-base units, not decreasing. */
  frame(data: Uint8Array, timestamp: bigint | number): Buffer {
    const ts = BigInt(timestamp);
    if (this.count > 0 && ts < this.last) {
      throw new OutOfRangeError('ERR_MEDIA_FIELD', `IVF timestamps must not decrease (${ts} after ${this.last})`);
    }
    if (this.count === 0) this.first = ts;
    this.last = ts;
    this.count++;
    return serializeIvfFrame({ data: Buffer.isBuffer(data) ? data : Buffer.from(data), timestamp: ts });
  }

  /** Frames written so far. */
  get frameCount(): number {
    return this.count;
  }
}
