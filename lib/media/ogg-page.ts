// Ogg pages and packets (RFC 3533 §6: page header, lacing, CRC-32 with polynomial 0x04c11db7):
// split a stream into pages and packets, and write packets back as pages.
import { MediaFormatError } from './media-errors.js';

/** Page header flag: the page's first packet continues one from the previous page. */
export const OGG_CONTINUED = 0x01;
/** Page header flag: first page of a logical stream. */
export const OGG_BOS = 0x02;
/** Page header flag: last page of a logical stream. */
export const OGG_EOS = 0x04;

/** One Ogg page. */
export interface OggPage {
  /** header_type_flag: OGG_CONTINUED | OGG_BOS | OGG_EOS. */
  flags: number;
  /** Codec-defined position of the last packet that ends on this page; -1 when none ends here. */
  granulePosition: bigint;
  /** Bitstream serial number. */
  serial: number;
  /** Page sequence number. */
  sequence: number;
  /** Lacing values (segment sizes). */
  segments: number[];
  /** The page body (the segments' bytes). */
  body: Buffer;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

/** The Ogg CRC-32 (RFC 3533 §6: generator 0x04c11db7, initial 0, no reflection, no final XOR). */
export function oggCrc32(data: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < data.length; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ data[i]!) & 0xff]!) >>> 0;
  return crc;
}

/** Reads every page of an Ogg stream, checking capture patterns and CRCs; throws `ERR_MEDIA_OGG` when malformed. */
export function readOggPages(file: Uint8Array): OggPage[] {
  const buf = Buffer.isBuffer(file) ? file : Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const pages: OggPage[] = [];
  let i = 0;
  while (i < buf.length) {
    if (i + 27 > buf.length || buf.toString('latin1', i, i + 4) !== 'OggS' || buf[i + 4] !== 0) {
      throw new MediaFormatError('ERR_MEDIA_OGG', 'expected an Ogg page (OggS, version 0)', i);
    }
    const count = buf[i + 26]!;
    if (i + 27 + count > buf.length) throw new MediaFormatError('ERR_MEDIA_OGG', 'truncated Ogg segment table', i);
    const segments = Array.from(buf.subarray(i + 27, i + 27 + count));
    const bodyLength = segments.reduce((a, b) => a + b, 0);
    const end = i + 27 + count + bodyLength;
    if (end > buf.length) throw new MediaFormatError('ERR_MEDIA_OGG', 'truncated Ogg page body', i);
    const page = Buffer.from(buf.subarray(i, end));
    const crc = page.readUInt32LE(22);
    page.writeUInt32LE(0, 22);
    if (oggCrc32(page) !== crc) throw new MediaFormatError('ERR_MEDIA_OGG', 'Ogg page CRC mismatch', i);
    pages.push({
      flags: buf[i + 5]!,
      granulePosition: buf.readBigInt64LE(i + 6),
      serial: buf.readUInt32LE(i + 14),
      sequence: buf.readUInt32LE(i + 18),
      segments,
      body: buf.subarray(i + 27 + count, end),
    });
    i = end;
  }
  return pages;
}

/** Serializes a page and fills in its CRC. */
export function serializeOggPage(page: OggPage): Buffer {
  const out = Buffer.alloc(27 + page.segments.length + page.body.length);
  out.write('OggS', 0, 'latin1');
  out[5] = page.flags;
  out.writeBigInt64LE(page.granulePosition, 6);
  out.writeUInt32LE(page.serial >>> 0, 14);
  out.writeUInt32LE(page.sequence >>> 0, 18);
  out[26] = page.segments.length;
  out.set(page.segments, 27);
  out.set(page.body, 27 + page.segments.length);
  out.writeUInt32LE(oggCrc32(out), 22);
  return out;
}

/** A packet and the granule position of the page it ended on (-1 if another packet ends later on that page). */
export interface OggPacket {
  /** Packet bytes. */
  data: Buffer;
  /** The page's granule position if this is the last packet ending on its page, else -1. */
  granulePosition: bigint;
  /** Index of the page where the packet ends. */
  pageIndex: number;
}

/** Joins the pages of one logical stream (`serial`) into packets (RFC 3533 §5: lacing values < 255 end a packet). */
export function oggPackets(pages: readonly OggPage[], serial: number): OggPacket[] {
  const packets: OggPacket[] = [];
  let pending: Buffer[] = [];
  pages.forEach((page, pageIndex) => {
    if (page.serial !== serial) return;
    if ((page.flags & OGG_CONTINUED) === 0 && pending.length > 0) {
      throw new MediaFormatError('ERR_MEDIA_OGG', `Ogg page ${page.sequence} does not continue the unfinished packet`);
    }
    let offset = 0;
    let ended = false;
    page.segments.forEach((size) => {
      pending.push(page.body.subarray(offset, offset + size));
      offset += size;
      if (size < 255) {
        ended = true;
        packets.push({ data: Buffer.concat(pending), granulePosition: -1n, pageIndex });
        pending = [];
      }
    });
    if (ended) packets[packets.length - 1]!.granulePosition = page.granulePosition;
  });
  if (pending.length > 0) throw new MediaFormatError('ERR_MEDIA_OGG', 'the Ogg stream ends inside a packet');
  return packets;
}

/**
 * Pages for one packet (one page unless it needs more than 255 segments): the last page carries
 * `granulePosition` and `flags`; earlier ones -1 and, after the first, OGG_CONTINUED.
 */
export function packetToOggPages(packet: Uint8Array, opts: { serial: number; sequence: number; granulePosition: bigint; flags: number }): OggPage[] {
  const lacing: number[] = [];
  for (let left = packet.length; ; left -= 255) {
    lacing.push(Math.min(left, 255));
    if (left < 255) break;
  }
  const pages: OggPage[] = [];
  let offset = 0;
  for (let start = 0; start < lacing.length; start += 255) {
    const segments = lacing.slice(start, start + 255);
    const size = segments.reduce((a, b) => a + b, 0);
    const last = start + 255 >= lacing.length;
    pages.push({
      flags: (start > 0 ? OGG_CONTINUED : opts.flags & OGG_BOS) | (last ? opts.flags & OGG_EOS : 0),
      granulePosition: last ? opts.granulePosition : -1n,
      serial: opts.serial,
      sequence: opts.sequence + pages.length,
      segments,
      body: Buffer.from(packet.subarray(offset, offset + size)),
    });
    offset += size;
  }
  return pages;
}
