// Ogg Opus files (RFC 7845): the OpusHead (§5.1) and OpusTags (§5.2) headers, granule positions
// (§4: 48 kHz samples including pre-skip), and a reader and a writer with one packet per page.
import { OutOfRangeError } from '../common/errors.js';
import { MediaFormatError } from './media-errors.js';
import { OGG_BOS, OGG_EOS, oggPackets, packetToOggPages, readOggPages, serializeOggPage } from './ogg-page.js';
import { opusPacketSamples } from './opus-payload.js';

/** The identification header (RFC 7845 §5.1). */
export interface OpusHead {
  /** Version, 1. */
  version: number;
  /** Output channel count, 1..255. */
  channels: number;
  /** Samples (48 kHz) to discard from the decoder output at the start. */
  preSkip: number;
  /** Sample rate of the original input (informational), 0 if unknown. */
  inputSampleRate: number;
  /** Output gain, Q7.8 dB. */
  outputGain: number;
  /** Channel mapping family; 0 = mono/stereo, no table. */
  mappingFamily: number;
  /** Stream count, coupled count and mapping table when `mappingFamily` is not 0. */
  mappingTable?: Buffer;
}

/** The comment header (RFC 7845 §5.2). */
export interface OpusTags {
  /** Vendor string. */
  vendor: string;
  /** User comments, `NAME=value`. */
  comments: string[];
}

/** Parses an OpusHead packet; `undefined` when it is not one. */
export function parseOpusHead(packet: Uint8Array): OpusHead | undefined {
  const b = Buffer.from(packet);
  if (b.length < 19 || b.toString('latin1', 0, 8) !== 'OpusHead' || b[8]! >> 4 !== 0) return undefined;
  const head: OpusHead = {
    version: b[8]!,
    channels: b[9]!,
    preSkip: b.readUInt16LE(10),
    inputSampleRate: b.readUInt32LE(12),
    outputGain: b.readInt16LE(16),
    mappingFamily: b[18]!,
  };
  if (head.mappingFamily !== 0) {
    if (b.length < 21 + head.channels) return undefined;
    head.mappingTable = b.subarray(19, 21 + head.channels);
  }
  return head;
}

/** Serializes an OpusHead packet. */
export function serializeOpusHead(h: OpusHead): Buffer {
  if (!Number.isInteger(h.channels) || h.channels < 1 || h.channels > 255) {
    throw new OutOfRangeError('ERR_MEDIA_FIELD', `OpusHead channel count must be 1..255, got ${h.channels}`);
  }
  if (h.mappingFamily === 0 && h.channels > 2) {
    throw new OutOfRangeError('ERR_MEDIA_FIELD', 'channel mapping family 0 allows 1 or 2 channels (RFC 7845 §5.1.1.1)');
  }
  const table = h.mappingFamily !== 0 ? (h.mappingTable ?? Buffer.alloc(0)) : Buffer.alloc(0);
  const out = Buffer.alloc(19 + table.length);
  out.write('OpusHead', 0, 'latin1');
  out[8] = h.version;
  out[9] = h.channels;
  out.writeUInt16LE(h.preSkip, 10);
  out.writeUInt32LE(h.inputSampleRate, 12);
  out.writeInt16LE(h.outputGain, 16);
  out[18] = h.mappingFamily;
  out.set(table, 19);
  return out;
}

/** Parses an OpusTags packet; `undefined` when it is not one. */
export function parseOpusTags(packet: Uint8Array): OpusTags | undefined {
  const b = Buffer.from(packet);
  if (b.length < 16 || b.toString('latin1', 0, 8) !== 'OpusTags') return undefined;
  let i = 8;
  const str = (): string | undefined => {
    if (i + 4 > b.length) return undefined;
    const n = b.readUInt32LE(i);
    if (i + 4 + n > b.length) return undefined;
    const s = b.toString('utf8', i + 4, i + 4 + n);
    i += 4 + n;
    return s;
  };
  const vendor = str();
  if (vendor === undefined || i + 4 > b.length) return undefined;
  const count = b.readUInt32LE(i);
  i += 4;
  const comments: string[] = [];
  for (let k = 0; k < count; k++) {
    const c = str();
    if (c === undefined) return undefined;
    comments.push(c);
  }
  return { vendor, comments };
}

/** Serializes an OpusTags packet. */
export function serializeOpusTags(t: OpusTags): Buffer {
  const parts: Buffer[] = [Buffer.from('OpusTags', 'latin1')];
  const str = (s: string): void => {
    const bytes = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(bytes.length);
    parts.push(len, bytes);
  };
  str(t.vendor);
  const count = Buffer.alloc(4);
  count.writeUInt32LE(t.comments.length);
  parts.push(count);
  t.comments.forEach(str);
  return Buffer.concat(parts);
}

/** An Ogg Opus file's content. */
export interface OggOpusFile {
  /** Bitstream serial number. */
  serial: number;
  /** The identification header. */
  head: OpusHead;
  /** The comment header. */
  tags: OpusTags;
  /** The audio packets, in order. */
  packets: Buffer[];
  /**
   * Granule position of the last page: pre-skip + decoded samples to keep. Smaller than pre-skip +
   * the packets' total when the end is trimmed (RFC 7845 §4.4).
   */
  finalGranulePosition: bigint;
}

/**
 * Reads an Ogg Opus file (the first logical stream); throws `ERR_MEDIA_OGG` when the pages,
 * headers (RFC 7845 §5) or Opus packets are malformed.
 */
export function readOggOpus(file: Uint8Array): OggOpusFile {
  const pages = readOggPages(file);
  if (pages.length === 0 || (pages[0]!.flags & OGG_BOS) === 0) throw new MediaFormatError('ERR_MEDIA_OGG', 'no beginning-of-stream page');
  const serial = pages[0]!.serial;
  const packets = oggPackets(pages, serial);
  const head = packets[0] && parseOpusHead(packets[0].data);
  if (head === undefined) throw new MediaFormatError('ERR_MEDIA_OGG', 'the first packet is not an OpusHead (RFC 7845 §5.1)');
  const tags = packets[1] && parseOpusTags(packets[1].data);
  if (tags === undefined) throw new MediaFormatError('ERR_MEDIA_OGG', 'the second packet is not an OpusTags (RFC 7845 §5.2)');
  const audio = packets.slice(2);
  for (const p of audio) {
    if (opusPacketSamples(p.data) === undefined) throw new MediaFormatError('ERR_MEDIA_OGG', 'an audio packet is not a valid Opus packet');
  }
  const last = pages.filter((p) => p.serial === serial).at(-1)!;
  return { serial, head, tags, packets: audio.map((p) => p.data), finalGranulePosition: last.granulePosition };
}

/** Options of the Ogg Opus writer. */
export interface OggOpusWriterOptions {
  /** Bitstream serial number (pick a random one for files that may be chained). */
  serial: number;
  /** The identification header. */
  head: OpusHead;
  /** The comment header; default vendor `pure-webrtc-transport`, no comments. */
  tags?: OpusTags;
}

/**
 * Incremental Ogg Opus writer: one audio packet per page, each page's granule position the
 * number of 48 kHz samples decoded up to the end of its packet, pre-skip included (RFC 7845 §4). A page is returned one packet late, so
 * that `end()` can put the EOS flag on the real last page.
 */
export class OggOpusWriter {
  private sequence = 0;
  // Samples decoded so far, pre-skip included: the decoder emits them and the player drops them.
  private granule = 0n;
  private held: Buffer | null = null;
  private readonly serial: number;
  private readonly opts: OggOpusWriterOptions;

  constructor(options: OggOpusWriterOptions) {
    this.opts = options;
    this.serial = options.serial;
  }

  /** The two header pages (OpusHead alone on the BOS page, then OpusTags; RFC 7845 §3). */
  headers(): Buffer {
    const tags = this.opts.tags ?? { vendor: 'pure-webrtc-transport', comments: [] };
    return Buffer.concat([
      ...this.pages(serializeOpusHead(this.opts.head), 0n, OGG_BOS),
      ...this.pages(serializeOpusTags(tags), 0n, 0),
    ]);
  }

  /** Adds one Opus packet; returns the page of the previous one (empty at the first call). */
  packet(data: Uint8Array): Buffer {
    const samples = opusPacketSamples(data);
    if (samples === undefined) throw new OutOfRangeError('ERR_MEDIA_FRAME', 'not a valid Opus packet (RFC 6716 §3)');
    const out = this.flushHeld(0, undefined);
    this.held = Buffer.from(data);
    this.granule += BigInt(samples);
    return out;
  }

  /**
   * The last page, with EOS. `finalGranulePosition` trims decoded samples at the end (RFC 7845
   * §4.4); it must not exceed the running count. Empty when no packet was written.
   */
  end(finalGranulePosition?: bigint): Buffer {
    if (finalGranulePosition !== undefined && finalGranulePosition > this.granule) {
      throw new OutOfRangeError('ERR_MEDIA_FIELD', 'the final granule position cannot exceed the samples written');
    }
    return this.flushHeld(OGG_EOS, finalGranulePosition);
  }

  private flushHeld(flags: number, granule: bigint | undefined): Buffer {
    if (this.held === null) return Buffer.alloc(0);
    const out = Buffer.concat(this.pages(this.held, granule ?? this.granule, flags));
    this.held = null;
    return out;
  }

  private pages(packet: Buffer, granulePosition: bigint, flags: number): Buffer[] {
    const pages = packetToOggPages(packet, { serial: this.serial, sequence: this.sequence, granulePosition, flags });
    this.sequence += pages.length;
    return pages.map(serializeOggPage);
  }
}

/** Writes a whole Ogg Opus file with one packet per page. */
export function writeOggOpus(file: OggOpusFile): Buffer {
  const w = new OggOpusWriter({ serial: file.serial, head: file.head, tags: file.tags });
  const parts = [w.headers(), ...file.packets.map((p) => w.packet(p)), w.end(file.finalGranulePosition)];
  return Buffer.concat(parts);
}
