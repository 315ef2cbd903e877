// Big-endian (network order) integer stores into byte arrays, for the wire formats written per
// message while a connection sets up (STUN). Buffer's writeUInt16BE/writeUInt32BE go through three
// JavaScript functions and their range checks each, all interpreted until the code is hot
// (docs/peer.md "Setup cost"); callers here have sized the array for what they write.

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
