// CRC-32 (ISO-HDLC / IEEE 802.3 polynomial, reflected), as STUN FINGERPRINT requires (RFC 8489 §14.7).
import * as zlib from 'node:zlib';

/**
 * Node's own CRC-32 (zlib's, Node 20.15 and 22.2 on): every STUN message of a connection's setup is
 * checksummed twice (sent and received), and in the code a fresh process still interprets the
 * table loop below costs 8-10 µs per 112-byte check against 0.7-4.6 µs for the native call
 * (0.46 against 1.3 µs once optimized; docs/peer.md "Setup cost").
 */
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of `data[start, end)` as an unsigned 32-bit integer. */
export function crc32(data: Uint8Array, start = 0, end = data.length): number {
  if (nativeCrc32 !== undefined) {
    return nativeCrc32(start === 0 && end === data.length ? data : new Uint8Array(data.buffer, data.byteOffset + start, end - start));
  }
  return tableCrc32(data, start, end);
}

/** The same CRC by table, for Node versions without zlib.crc32 (exported for the tests that compare the two). */
export function tableCrc32(data: Uint8Array, start = 0, end = data.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
