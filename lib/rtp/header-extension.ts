// RTP header extension element codec: one-byte and two-byte forms (RFC 8285 §4.2, §4.3) and the
// RFC 3550 §5.3.1 extension header (profile + length in 32-bit words).
import { OutOfRangeError } from '../common/errors.js';

/** One header extension element: the negotiated local id (extmap) and its value bytes. */
export interface RtpHeaderExtension {
  /** 1..14 in the one-byte form, 1..255 in the two-byte form. */
  readonly id: number;
  /** Value bytes: 1..16 long in the one-byte form, 0..255 in the two-byte form. */
  readonly data: Buffer;
}

/** Which element form to write: `auto` picks one-byte when every element fits it. */
export type RtpHeaderExtensionForm = 'auto' | 'one-byte' | 'two-byte';

/** "defined by profile" value of the one-byte form (RFC 8285 §4.2). */
export const ONE_BYTE_PROFILE = 0xbede;
/** "defined by profile" value of the two-byte form; the low 4 bits are "appbits" (RFC 8285 §4.3). */
export const TWO_BYTE_PROFILE = 0x1000;

/** True when `profile` is the two-byte form (0x100 followed by any 4 appbits). */
export function isTwoByteProfile(profile: number): boolean {
  return (profile & 0xfff0) === TWO_BYTE_PROFILE;
}

/**
 * Checks an extension block's elements without allocating; returns false when an element runs past the
 * block. A one-byte id of 15 stops processing (RFC 8285 §4.2); zero bytes between elements are padding.
 */
export function validateExtensionElements(buf: Uint8Array, offset: number, length: number, twoByte: boolean): boolean {
  const end = offset + length;
  let p = offset;
  while (p < end) {
    const b = buf[p]!;
    if (b === 0) {
      p++;
      continue;
    }
    if (twoByte) {
      if (p + 2 > end) return false;
      p += 2 + buf[p + 1]!;
    } else {
      if (b >> 4 === 15) return true;
      p += 1 + (b & 0x0f) + 1;
    }
    if (p > end) return false;
  }
  return true;
}

/**
 * Finds element `id` in a validated block and returns [valueOffset, valueLength], or -1 when absent.
 * The pair is packed as offset * 256 + length to avoid allocating on the hot path.
 */
export function findExtensionElement(buf: Uint8Array, offset: number, length: number, twoByte: boolean, id: number): number {
  const end = offset + length;
  let p = offset;
  while (p < end) {
    const b = buf[p]!;
    if (b === 0) {
      p++;
      continue;
    }
    if (twoByte) {
      const len = buf[p + 1]!;
      if (b === id) return (p + 2) * 256 + len;
      p += 2 + len;
    } else {
      const elId = b >> 4;
      if (elId === 15) return -1;
      const len = (b & 0x0f) + 1;
      if (elId === id) return (p + 1) * 256 + len;
      p += 1 + len;
    }
  }
  return -1;
}

/** Decodes every element of a validated block into a list (values are views, not copies). */
export function decodeExtensionElements(buf: Buffer, offset: number, length: number, twoByte: boolean): RtpHeaderExtension[] {
  const out: RtpHeaderExtension[] = [];
  const end = offset + length;
  let p = offset;
  while (p < end) {
    const b = buf[p]!;
    if (b === 0) {
      p++;
      continue;
    }
    if (twoByte) {
      const len = buf[p + 1]!;
      out.push({ id: b, data: buf.subarray(p + 2, p + 2 + len) });
      p += 2 + len;
    } else {
      const elId = b >> 4;
      if (elId === 15) break;
      const len = (b & 0x0f) + 1;
      out.push({ id: elId, data: buf.subarray(p + 1, p + 1 + len) });
      p += 1 + len;
    }
  }
  return out;
}

/** True when every element fits the one-byte form (id 1..14, 1..16 bytes). */
export function fitsOneByteForm(extensions: readonly RtpHeaderExtension[]): boolean {
  for (let i = 0; i < extensions.length; i++) {
    const e = extensions[i]!;
    if (e.id > 14 || e.data.length < 1 || e.data.length > 16) return false;
  }
  return true;
}

/** Throws a typed error unless `ext` is a valid element for the two-byte form at least. */
export function checkExtensionElement(ext: RtpHeaderExtension): void {
  if (!Number.isInteger(ext.id) || ext.id < 1 || ext.id > 255) {
    throw new OutOfRangeError('ERR_RTP_EXTENSION_ID', `RTP header extension id ${ext.id} is outside 1..255 (RFC 8285 §4.3)`);
  }
  if (ext.data.length > 255) {
    throw new OutOfRangeError('ERR_RTP_EXTENSION_LENGTH', `RTP header extension ${ext.id} value is ${ext.data.length} bytes; at most 255 fit (RFC 8285 §4.3)`);
  }
}

/** Resolves `form` against the elements: returns true for two-byte, false for one-byte; throws if impossible. */
export function chooseTwoByteForm(extensions: readonly RtpHeaderExtension[], form: RtpHeaderExtensionForm): boolean {
  if (form === 'two-byte') return true;
  const fits = fitsOneByteForm(extensions);
  if (form === 'one-byte' && !fits) {
    throw new OutOfRangeError(
      'ERR_RTP_EXTENSION_FORM',
      'an RTP header extension does not fit the one-byte form (id 1..14, 1..16 bytes; RFC 8285 §4.2); use the two-byte form (needs extmap-allow-mixed)',
    );
  }
  return !fits;
}

/** Bytes the element list takes in the chosen form, before padding to 32 bits. */
export function extensionElementsLength(extensions: readonly RtpHeaderExtension[], twoByte: boolean): number {
  let n = 0;
  for (let i = 0; i < extensions.length; i++) n += (twoByte ? 2 : 1) + extensions[i]!.data.length;
  return n;
}

/** Writes the elements at `offset` and zero-pads to a multiple of 4; returns bytes written. */
export function writeExtensionElements(
  buf: Buffer,
  offset: number,
  extensions: readonly RtpHeaderExtension[],
  twoByte: boolean,
): number {
  let p = offset;
  for (let i = 0; i < extensions.length; i++) {
    const e = extensions[i]!;
    const len = e.data.length;
    if (twoByte) {
      buf[p++] = e.id;
      buf[p++] = len;
    } else {
      buf[p++] = (e.id << 4) | (len - 1);
    }
    buf.set(e.data, p);
    p += len;
  }
  while ((p - offset) & 3) buf[p++] = 0;
  return p - offset;
}
