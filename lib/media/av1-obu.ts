// AV1 open bitstream units (AV1 spec §5.3 OBU syntax, §4.10.5 leb128, §7.5 OBU order): split a temporal
// unit into OBUs, rewrite their size fields, and tell key frames from the sequence and frame headers.
import { BitReader } from './bit-reader.js';

/** OBU types (AV1 spec §6.2.2). */
export const AV1_OBU_SEQUENCE_HEADER = 1;
/** Temporal delimiter: starts every temporal unit in the low-overhead format. */
export const AV1_OBU_TEMPORAL_DELIMITER = 2;
/** Frame header OBU. */
export const AV1_OBU_FRAME_HEADER = 3;
/** Tile group OBU. */
export const AV1_OBU_TILE_GROUP = 4;
/** Metadata OBU. */
export const AV1_OBU_METADATA = 5;
/** Frame OBU (frame header + tile group). */
export const AV1_OBU_FRAME = 6;
/** Tile list OBU (large-scale tile decoding only; never sent over RTP). */
export const AV1_OBU_TILE_LIST = 8;

/** Reads an unsigned LEB128 value (AV1 spec §4.10.5: at most 8 bytes, value below 2^32). */
export function readLeb128(buf: Uint8Array, offset: number): { value: number; length: number } | undefined {
  let value = 0;
  for (let i = 0; i < 8; i++) {
    if (offset + i >= buf.length) return undefined;
    const b = buf[offset + i]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return value > 0xffffffff ? undefined : { value, length: i + 1 };
  }
  return undefined;
}

/** Encodes `value` as minimal unsigned LEB128. */
export function writeLeb128(value: number): Buffer {
  const out: number[] = [];
  let v = value;
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    out.push(b);
  } while (v > 0);
  return Buffer.from(out);
}

/** Bytes `writeLeb128(value)` takes. */
export function leb128Size(value: number): number {
  let n = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

/** One OBU, split into its header (1 or 2 bytes, size flag as found) and payload. */
export interface Av1Obu {
  /** obu_type. */
  type: number;
  /** OBU header and extension header bytes, as found. */
  header: Buffer;
  /** The OBU payload (after the size field, if any). */
  payload: Buffer;
}

/**
 * Parses OBUs laid end to end (a temporal unit in the low-overhead format, or one RTP OBU element
 * when `lastWithoutSize` lets the final OBU run to the end); `undefined` when malformed.
 */
export function parseObus(data: Uint8Array, lastWithoutSize = false): Av1Obu[] | undefined {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const obus: Av1Obu[] = [];
  let i = 0;
  while (i < buf.length) {
    const h = buf[i]!;
    if (h & 0x80) return undefined; // obu_forbidden_bit
    const headerLength = h & 0x04 ? 2 : 1;
    if (i + headerLength > buf.length) return undefined;
    let payloadStart = i + headerLength;
    let payloadEnd: number;
    if (h & 0x02) {
      const size = readLeb128(buf, payloadStart);
      if (size === undefined || payloadStart + size.length + size.value > buf.length) return undefined;
      payloadStart += size.length;
      payloadEnd = payloadStart + size.value;
    } else if (lastWithoutSize) {
      payloadEnd = buf.length;
    } else {
      return undefined;
    }
    obus.push({ type: (h >> 3) & 0x0f, header: buf.subarray(i, i + headerLength), payload: buf.subarray(payloadStart, payloadEnd) });
    i = payloadEnd;
  }
  return obus;
}

/** Writes an OBU with obu_has_size_field = 1 and a minimal LEB128 size (the low-overhead format). */
export function serializeObuWithSize(header: Uint8Array, payload: Uint8Array): Buffer {
  const h = Buffer.from(header);
  h[0]! |= 0x02;
  return Buffer.concat([h, writeLeb128(payload.length), payload]);
}

/**
 * Whether a temporal unit starts with a key frame: its first frame (header) OBU has frame_type
 * KEY_FRAME and is shown as new (AV1 spec §5.9.2), or the sequence uses the reduced still picture
 * header (every frame is a key frame, §5.5.1).
 */
export function isAv1Keyframe(temporalUnit: Uint8Array): boolean {
  const obus = parseObus(temporalUnit, true);
  if (obus === undefined) return false;
  let reducedStillPicture = false;
  for (const obu of obus) {
    if (obu.type === AV1_OBU_SEQUENCE_HEADER) {
      const r = new BitReader(obu.payload);
      r.read(3); // seq_profile
      r.read(1); // still_picture
      reducedStillPicture = r.flag();
    } else if (obu.type === AV1_OBU_FRAME || obu.type === AV1_OBU_FRAME_HEADER) {
      if (reducedStillPicture) return true;
      const r = new BitReader(obu.payload);
      if (r.flag()) return false; // show_existing_frame
      return r.read(2) === 0 && r.ok;
    }
  }
  return false;
}
