// CRC32c (Castagnoli, reflected polynomial 0x82F63B78) for the SCTP common-header checksum,
// RFC 9260 section 6.8 and Appendix A. Table-driven, slicing-by-8.

const POLY = 0x82f63b78;

/**
 * Eight 256-entry tables in one array (V8 indexes a single typed array fastest): entries
 * [k*256, k*256+256) advance the CRC over a byte followed by k zero bytes.
 */
const T: Int32Array = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let i = 0; i < 8; i++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** Word reads below assume little-endian memory (every platform Node ships prebuilt for). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * CRC32c of `data[start, end)`, continuing from `crc` (0 for a fresh checksum).
 * Returns the final (inverted) value as an unsigned 32-bit integer.
 */
export function crc32c(data: Uint8Array, start = 0, end = data.length, crc = 0): number {
  let c = ~crc;
  let i = start;
  if (LITTLE_ENDIAN) {
    // Bytes up to a 4-byte boundary, then 8 bytes per step read as two 32-bit words.
    while (i < end && ((data.byteOffset + i) & 3) !== 0) c = T[(c ^ data[i++]!) & 0xff]! ^ (c >>> 8);
    const words = ((end - i) >>> 3) << 1;
    if (words > 0) {
      const w = new Int32Array(data.buffer, data.byteOffset + i, words);
      for (let j = 0; j < words; j += 2) {
        c ^= w[j]!;
        const d = w[j + 1]!;
        c =
          T[0x700 + (c & 0xff)]! ^
          T[0x600 + ((c >>> 8) & 0xff)]! ^
          T[0x500 + ((c >>> 16) & 0xff)]! ^
          T[0x400 + (c >>> 24)]! ^
          T[0x300 + (d & 0xff)]! ^
          T[0x200 + ((d >>> 8) & 0xff)]! ^
          T[0x100 + ((d >>> 16) & 0xff)]! ^
          T[d >>> 24]!;
      }
      i += words * 4;
    }
  } else {
    const end8 = end - ((end - start) & 7);
    while (i < end8) {
      c ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
      c =
        T[0x700 + (c & 0xff)]! ^
        T[0x600 + ((c >>> 8) & 0xff)]! ^
        T[0x500 + ((c >>> 16) & 0xff)]! ^
        T[0x400 + (c >>> 24)]! ^
        T[0x300 + data[i + 4]!]! ^
        T[0x200 + data[i + 5]!]! ^
        T[0x100 + data[i + 6]!]! ^
        T[data[i + 7]!]!;
      i += 8;
    }
  }
  while (i < end) c = T[(c ^ data[i++]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * The SCTP packet checksum (RFC 9260 section 6.8): CRC32c over the packet with the checksum
 * field taken as zero. The value is stored little-endian in bytes 8..11 (Appendix A).
 */
export function sctpChecksum(packet: Uint8Array): number {
  let c = crc32c(packet, 0, 8);
  c = crc32c(ZERO4, 0, 4, c);
  return crc32c(packet, 12, packet.length, c);
}

const ZERO4 = new Uint8Array(4);
