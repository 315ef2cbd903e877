// Big-endian (network order) integer stores and loads on byte arrays, for the wire formats written
// and read per message while a connection sets up (STUN). Buffer's writeUInt16BE/readUInt16BE and
// kin go through two or three JavaScript functions and their checks each, all interpreted until
// the code is hot (docs/peer.md "Setup cost"); callers here have checked the offsets themselves.

/** Stores the low 16 bits of `value` at `out[off]`, `out[off + 1]`. */
export function putU16(out: Uint8Array, off: number, value: number): void {
  out[off] = value >>> 8;
  out[off + 1] = value;
}

/** Stores `value` (as an unsigned 32-bit integer) at `out[off]` … `out[off + 3]`. */
export function putU32(out: Uint8Array, off: number, value: number): void {
  out[off] = value >>> 24;
  out[off + 1] = value >>> 16;
  out[off + 2] = value >>> 8;
  out[off + 3] = value;
}

/** The 16-bit big-endian value at `b[off]`, `b[off + 1]` (the caller has checked both are in range). */
export function getU16(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!;
}

/** The unsigned 32-bit big-endian value at `b[off]` … `b[off + 3]` (the caller has checked they are in range). */
export function getU32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}
