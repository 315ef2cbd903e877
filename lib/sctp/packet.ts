// SCTP packet codec (RFC 9260 sections 3 and 3.1): the common header (ports, verification
// tag, CRC32c checksum) followed by chunks, each padded to four bytes.
import { sctpChecksum } from './crc32c.js';
import { pad4 } from './chunks/chunk-type.js';
import { chunkPaddedLength, parseChunk, writeChunk, type Chunk, type UnknownChunk } from './chunks/chunk.js';

/** SCTP common header length. */
export const COMMON_HEADER_LENGTH = 12;

/** The common header of a packet. */
export interface SctpHeader {
  sourcePort: number;
  destinationPort: number;
  verificationTag: number;
}

/** A parsed packet. */
export interface SctpPacket extends SctpHeader {
  /** Chunks in order, up to the first malformed one. */
  chunks: (Chunk | UnknownChunk)[];
  /** True when a chunk header was malformed (length < 4 or past the end) and parsing stopped. */
  truncated: boolean;
}

/** Why a packet was rejected before chunk processing. */
export type PacketRejection = 'too-short' | 'bad-checksum';

/**
 * Serialises a packet. `zeroChecksum` writes 0 in the checksum field (RFC 9653 section 5.4),
 * allowed only once the peer announced it accepts that.
 */
export function encodePacket(header: SctpHeader, chunks: readonly Chunk[], zeroChecksum = false): Buffer {
  let len = COMMON_HEADER_LENGTH;
  for (const c of chunks) len += chunkPaddedLength(c);
  const buf = Buffer.allocUnsafe(len);
  buf.writeUInt16BE(header.sourcePort, 0);
  buf.writeUInt16BE(header.destinationPort, 2);
  buf.writeUInt32BE(header.verificationTag >>> 0, 4);
  buf.writeUInt32BE(0, 8);
  let off = COMMON_HEADER_LENGTH;
  for (const c of chunks) {
    writeChunk(c, buf, off);
    off += chunkPaddedLength(c);
  }
  if (!zeroChecksum) buf.writeUInt32LE(sctpChecksum(buf), 8);
  return buf;
}

/** Reads the checksum field as stored (little-endian CRC32c, RFC 9260 Appendix A). */
export function packetChecksum(packet: Uint8Array): number {
  return (packet[8]! | (packet[9]! << 8) | (packet[10]! << 16) | (packet[11]! << 24)) >>> 0;
}

/**
 * Checks length and checksum. A zero checksum is accepted only when `acceptZero` (the local
 * endpoint announced Zero Checksum Acceptable, RFC 9653 section 5.3).
 */
export function verifyPacket(packet: Uint8Array, acceptZero: boolean): PacketRejection | undefined {
  if (packet.length < COMMON_HEADER_LENGTH) return 'too-short';
  const stored = packetChecksum(packet);
  if (acceptZero && stored === 0) return undefined;
  if (sctpChecksum(packet) !== stored) return 'bad-checksum';
  return undefined;
}

/** Parses a verified packet into its header and chunks; never throws. */
export function decodePacket(packet: Buffer): SctpPacket {
  const out: SctpPacket = {
    sourcePort: packet.readUInt16BE(0),
    destinationPort: packet.readUInt16BE(2),
    verificationTag: packet.readUInt32BE(4),
    chunks: [],
    truncated: false,
  };
  let off = COMMON_HEADER_LENGTH;
  while (off + 4 <= packet.length) {
    const type = packet[off]!;
    const flags = packet[off + 1]!;
    const len = packet.readUInt16BE(off + 2);
    if (len < 4 || off + len > packet.length) {
      out.truncated = true;
      break;
    }
    const start = off;
    const c = parseChunk(type, flags, packet.subarray(off + 4, off + len), () => packet.subarray(start, start + len));
    if (!c) {
      out.truncated = true;
      break;
    }
    out.chunks.push(c);
    off += pad4(len);
  }
  if (off < packet.length && !out.truncated && packet.length - off >= 4) out.truncated = true;
  return out;
}
