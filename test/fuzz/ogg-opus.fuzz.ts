// Fuzz target: readOggPages / readOggOpus (RFC 3533 pages and lacing, RFC 7845 OpusHead/OpusTags,
// RFC 6716 §3.1 TOC checks of every audio packet).
// Invariant: only MediaFormatError is thrown; writeOggOpus(readOggOpus(x)) reads back the same packets.
import { readOggPages, oggPackets } from '../../lib/media/ogg-page.js';
import { readOggOpus, writeOggOpus } from '../../lib/media/ogg-opus.js';
import { MediaFormatError } from '../../lib/media/media-errors.js';
import { check, checkSame, type FuzzTarget } from './fuzz-target.js';

/** Ogg Opus read / write round trip. */
export const oggOpusTarget: FuzzTarget = {
  name: 'ogg-opus',
  description: 'readOggPages + oggPackets + readOggOpus; writeOggOpus round trip',
  maxLength: 8192,
  run(data: Buffer): void {
    const pages = readOggPages(data);
    if (pages.length > 0) oggPackets(pages, pages[0]!.serial);
    const file = readOggOpus(data);
    let wire: Buffer;
    try {
      wire = writeOggOpus(file);
    } catch (err) {
      // The writer validates header fields the reader takes as found (documented range errors).
      check((err as { code?: string }).code === 'ERR_MEDIA_FIELD', `writeOggOpus threw ${String(err)}`);
      return;
    }
    const again = readOggOpus(wire);
    checkSame(again.packets, file.packets, 'Opus packets');
    checkSame(again.head, file.head, 'OpusHead');
    checkSame(again.tags, file.tags, 'OpusTags');
  },
  isExpectedError(err: unknown): boolean {
    return err instanceof MediaFormatError;
  },
};
