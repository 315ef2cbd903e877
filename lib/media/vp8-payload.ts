// VP8 RTP payload format: the payload descriptor (RFC 7741 §4.2), keyframe detection from the VP8
// payload header (RFC 7741 §4.3, RFC 6386 §9.1), packetizer and depacketizer (RFC 7741 §4.4–§4.5).
import { checkMtu } from './media-errors.js';
import {
  asBuffer,
  createDropCounters,
  evenChunks,
  type DepacketizedPayload,
  type Depacketizer,
  type DropCounters,
  type Packetizer,
} from './payloader.js';
import { OutOfRangeError } from '../common/errors.js';

/** The fields of a VP8 payload descriptor (RFC 7741 §4.2). Optional fields are absent when undefined. */
export interface Vp8PayloadDescriptor {
  /** N: the frame can be discarded without affecting any other frame. */
  nonReference: boolean;
  /** S: this payload starts a VP8 partition. */
  startOfPartition: boolean;
  /** PID: partition index, 0..7. */
  partitionIndex: number;
  /** PictureID (I bit), 7-bit or 15-bit per `pictureIdLong`. */
  pictureId?: number;
  /** M bit: 15-bit (true) or 7-bit (false) picture ID; default 15 bits when a picture ID is present. */
  pictureIdLong?: boolean;
  /** TL0PICIDX (L bit), 0..255. */
  tl0PicIdx?: number;
  /** TID (T bit), 0..3. */
  temporalLayerId?: number;
  /** Y: layer sync; only written when `temporalLayerId` is present. */
  layerSync?: boolean;
  /** KEYIDX (K bit), 0..31. */
  keyIndex?: number;
}

/** A parsed VP8 payload: the descriptor and where the VP8 data starts. */
export interface ParsedVp8Payload {
  /** The payload descriptor. */
  descriptor: Vp8PayloadDescriptor;
  /** Length of the descriptor in bytes; the VP8 data follows. */
  headerLength: number;
}

/** Parses the payload descriptor at the start of a VP8 payload; `undefined` when it is truncated. */
export function parseVp8PayloadDescriptor(payload: Uint8Array): ParsedVp8Payload | undefined {
  if (payload.length < 1) return undefined;
  const b0 = payload[0]!;
  const descriptor: Vp8PayloadDescriptor = {
    nonReference: (b0 & 0x20) !== 0,
    startOfPartition: (b0 & 0x10) !== 0,
    partitionIndex: b0 & 0x07,
  };
  let i = 1;
  if (b0 & 0x80) {
    if (payload.length < 2) return undefined;
    const x = payload[1]!;
    i = 2;
    if (x & 0x80) {
      if (payload.length < i + 1) return undefined;
      if (payload[i]! & 0x80) {
        if (payload.length < i + 2) return undefined;
        descriptor.pictureId = ((payload[i]! & 0x7f) << 8) | payload[i + 1]!;
        descriptor.pictureIdLong = true;
        i += 2;
      } else {
        descriptor.pictureId = payload[i]! & 0x7f;
        descriptor.pictureIdLong = false;
        i += 1;
      }
    }
    if (x & 0x40) {
      if (payload.length < i + 1) return undefined;
      descriptor.tl0PicIdx = payload[i]!;
      i += 1;
    }
    if (x & 0x30) {
      if (payload.length < i + 1) return undefined;
      const tk = payload[i]!;
      if (x & 0x20) {
        descriptor.temporalLayerId = tk >> 6;
        descriptor.layerSync = (tk & 0x20) !== 0;
      }
      if (x & 0x10) descriptor.keyIndex = tk & 0x1f;
      i += 1;
    }
  }
  return { descriptor, headerLength: i };
}

/** Serializes a VP8 payload descriptor (RFC 7741 §4.2); throws `ERR_MEDIA_FIELD` for out-of-range fields. */
export function serializeVp8PayloadDescriptor(d: Vp8PayloadDescriptor): Buffer {
  const field = (name: string, v: number | undefined, max: number): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > max)) {
      throw new OutOfRangeError('ERR_MEDIA_FIELD', `VP8 descriptor ${name} must be in 0..${max}, got ${v}`);
    }
  };
  field('partitionIndex', d.partitionIndex, 7);
  field('pictureId', d.pictureId, d.pictureIdLong === false ? 0x7f : 0x7fff);
  field('tl0PicIdx', d.tl0PicIdx, 0xff);
  field('temporalLayerId', d.temporalLayerId, 3);
  field('keyIndex', d.keyIndex, 31);
  const hasI = d.pictureId !== undefined;
  const hasL = d.tl0PicIdx !== undefined;
  const hasT = d.temporalLayerId !== undefined;
  const hasK = d.keyIndex !== undefined;
  const hasX = hasI || hasL || hasT || hasK;
  const out: number[] = [(hasX ? 0x80 : 0) | (d.nonReference ? 0x20 : 0) | (d.startOfPartition ? 0x10 : 0) | d.partitionIndex];
  if (hasX) {
    out.push((hasI ? 0x80 : 0) | (hasL ? 0x40 : 0) | (hasT ? 0x20 : 0) | (hasK ? 0x10 : 0));
    if (hasI) {
      if (d.pictureIdLong === false) out.push(d.pictureId!);
      else out.push(0x80 | (d.pictureId! >> 8), d.pictureId! & 0xff);
    }
    if (hasL) out.push(d.tl0PicIdx!);
    if (hasT || hasK) out.push(((d.temporalLayerId ?? 0) << 6) | (d.layerSync ? 0x20 : 0) | (d.keyIndex ?? 0));
  }
  return Buffer.from(out);
}

/** Whether a whole VP8 frame is a key frame: P bit clear and the start code present (RFC 6386 §9.1). */
export function isVp8KeyframeData(frame: Uint8Array): boolean {
  return frame.length >= 10 && (frame[0]! & 1) === 0 && frame[3] === 0x9d && frame[4] === 0x01 && frame[5] === 0x2a;
}

/** Options of the VP8 packetizer. */
export interface Vp8PacketizerOptions {
  /** First 15-bit PictureID; `null` leaves the picture ID out. Default 0. */
  initialPictureId?: number | null;
}

/**
 * Packetizer for VP8: splits a frame into equal payloads, each with a descriptor carrying the 15-bit
 * PictureID (RFC 7741 §4.2), S=1 and PID=0 on the first (the frame is treated as one partition, which
 * RFC 7741 §4.4 allows). The PictureID advances by one per frame.
 */
export class Vp8Packetizer implements Packetizer {
  readonly clockRate = 90_000;
  readonly markerOnLastPayload = true;
  private pictureId: number | null;

  constructor(options: Vp8PacketizerOptions = {}) {
    const id = options.initialPictureId === undefined ? 0 : options.initialPictureId;
    if (id !== null && (!Number.isInteger(id) || id < 0 || id > 0x7fff)) {
      throw new OutOfRangeError('ERR_MEDIA_FIELD', `VP8 PictureID must be in 0..32767, got ${id}`);
    }
    this.pictureId = id;
  }

  /** Payloads for one VP8 frame; throws `ERR_MEDIA_FRAME` for an empty frame. */
  packetize(frame: Uint8Array, mtu: number): Buffer[] {
    checkMtu(mtu);
    if (frame.length === 0) throw new OutOfRangeError('ERR_MEDIA_FRAME', 'cannot packetize an empty VP8 frame');
    const base: Vp8PayloadDescriptor = { nonReference: false, startOfPartition: true, partitionIndex: 0 };
    if (this.pictureId !== null) {
      base.pictureId = this.pictureId;
      this.pictureId = (this.pictureId + 1) & 0x7fff;
    }
    const first = serializeVp8PayloadDescriptor(base);
    const rest = serializeVp8PayloadDescriptor({ ...base, startOfPartition: false });
    const out: Buffer[] = [];
    let offset = 0;
    for (const size of evenChunks(frame.length, mtu - first.length)) {
      out.push(Buffer.concat([offset === 0 ? first : rest, frame.subarray(offset, offset + size)]));
      offset += size;
    }
    return out;
  }
}

/** Depacketizer for VP8 (RFC 7741 §4.5). */
export class Vp8Depacketizer implements Depacketizer {
  readonly drops: DropCounters = createDropCounters();

  /** Strips the descriptor; a keyframe starts where S=1, PID=0 and the payload header's P bit is 0 (RFC 7741 §4.3). */
  depacketize(payload: Uint8Array): DepacketizedPayload | undefined {
    const parsed = parseVp8PayloadDescriptor(payload);
    if (parsed === undefined || parsed.headerLength >= payload.length) {
      this.drops.truncated++;
      return undefined;
    }
    const data = asBuffer(payload).subarray(parsed.headerLength);
    const start = parsed.descriptor.startOfPartition && parsed.descriptor.partitionIndex === 0;
    return { data, frameStart: start, frameEnd: false, keyframe: start && (data[0]! & 1) === 0 };
  }

  /** The VP8 frame: the payloads' data concatenated, after checking the first one starts the frame. */
  assemble(payloads: readonly Uint8Array[]): Buffer | undefined {
    const parts: Buffer[] = [];
    for (const p of payloads) {
      const d = this.depacketize(p);
      if (d === undefined) return undefined;
      if (parts.length === 0 && d.frameStart !== true) {
        this.drops.malformed++;
        return undefined;
      }
      parts.push(d.data);
    }
    if (parts.length === 0) {
      this.drops.truncated++;
      return undefined;
    }
    return Buffer.concat(parts);
  }
}
