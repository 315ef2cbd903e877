// H.264 Annex B byte streams (ITU-T H.264 Annex B; access-unit boundaries per §7.4.1.2.3): split a
// stream into NAL units and access units, and write them back with the same start codes.
import { MediaFormatError } from './media-errors.js';

/** One NAL unit of an Annex B stream and the start code that preceded it. */
export interface AnnexBNalUnit {
  /** The NAL unit, header byte first, without start code. */
  data: Buffer;
  /** Length of the start code before it: 3 (`00 00 01`) or more (`00 00 00 01`, extra zero bytes). */
  startCodeLength: number;
}

/** H.264 NAL unit type (low five bits of the header byte; H.264 Table 7-1). */
export function h264NalType(nal: Uint8Array): number {
  return nal.length > 0 ? nal[0]! & 0x1f : -1;
}

/**
 * Splits an Annex B stream into NAL units. Zero bytes before a start code belong to it (so a
 * stream is rewritten byte for byte); throws `ERR_MEDIA_ANNEXB` when the data does not begin with
 * a start code.
 */
export function splitAnnexB(stream: Uint8Array): AnnexBNalUnit[] {
  const buf = Buffer.isBuffer(stream) ? stream : Buffer.from(stream.buffer, stream.byteOffset, stream.byteLength);
  const units: AnnexBNalUnit[] = [];
  let i = 0;
  while (i < buf.length && buf[i] === 0) i++;
  if (buf.length === 0) return units;
  if (i < 2 || buf[i] !== 1) throw new MediaFormatError('ERR_MEDIA_ANNEXB', 'H.264 Annex B stream does not start with a start code', i);
  let startCodeLength = i + 1;
  let nalStart = i + 1;
  for (;;) {
    const next = buf.indexOf(START3, nalStart);
    if (next < 0) {
      units.push({ data: buf.subarray(nalStart), startCodeLength });
      return units;
    }
    let end = next;
    while (end > nalStart && buf[end - 1] === 0) end--;
    units.push({ data: buf.subarray(nalStart, end), startCodeLength });
    startCodeLength = next + 3 - end;
    nalStart = next + 3;
  }
}

const START3 = Buffer.from([0, 0, 1]);

/** Writes NAL units as an Annex B stream; units without a start code length get the 4-byte one. */
export function joinAnnexB(units: readonly (AnnexBNalUnit | Uint8Array)[]): Buffer {
  const parts: Uint8Array[] = [];
  for (const u of units) {
    const data = u instanceof Uint8Array ? u : u.data;
    const sc = u instanceof Uint8Array ? 4 : Math.max(3, u.startCodeLength);
    const code = Buffer.alloc(sc);
    code[sc - 1] = 1;
    parts.push(code, data);
  }
  return Buffer.concat(parts);
}

// VCL NAL unit types that carry slices (H.264 Table 7-1).
function isSlice(type: number): boolean {
  return type >= 1 && type <= 5;
}

/**
 * Groups an Annex B stream's NAL units into access units (one coded picture each). A new access
 * unit begins at an access unit delimiter, at SPS/PPS/SEI (types 6–9, 14–18) after a slice, or at
 * a slice whose first_mb_in_slice is 0 after a slice (H.264 §7.4.1.2.3; pictures with arbitrary
 * slice order are not told apart).
 */
export function readAnnexBAccessUnits(stream: Uint8Array): AnnexBNalUnit[][] {
  const aus: AnnexBNalUnit[][] = [];
  let current: AnnexBNalUnit[] = [];
  let sawSlice = false;
  for (const unit of splitAnnexB(stream)) {
    const type = h264NalType(unit.data);
    const beginsAu =
      type === 9 ||
      (sawSlice && ((type >= 6 && type <= 8) || (type >= 14 && type <= 18))) ||
      (sawSlice && isSlice(type) && unit.data.length > 1 && (unit.data[1]! & 0x80) !== 0);
    if (beginsAu && current.length > 0) {
      aus.push(current);
      current = [];
      sawSlice = false;
    }
    current.push(unit);
    if (isSlice(type)) sawSlice = true;
  }
  if (current.length > 0) aus.push(current);
  return aus;
}

/** Whether an access unit (Annex B bytes or NAL units) holds an IDR slice (NAL type 5). */
export function isH264Keyframe(accessUnit: Uint8Array | readonly (AnnexBNalUnit | Uint8Array)[]): boolean {
  const units = accessUnit instanceof Uint8Array ? splitAnnexB(accessUnit) : accessUnit;
  return units.some((u) => h264NalType(u instanceof Uint8Array ? u : u.data) === 5);
}
