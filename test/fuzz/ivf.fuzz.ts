// Fuzz target: readIvf (the IVF container of VP8/VP9/AV1 files) and the per-frame parsers a
// file source runs on its frames (VP9 uncompressed header, AV1 OBUs).
// Invariant: only MediaFormatError is thrown; writeIvf(readIvf(x)) reads back to the same frames.
import { readIvf, writeIvf } from '../../lib/media/ivf.js';
import { parseVp9FrameHeader } from '../../lib/media/vp9-frame-header.js';
import { parseObus, isAv1Keyframe } from '../../lib/media/av1-obu.js';
import { isVp8KeyframeData } from '../../lib/media/vp8-payload.js';
import { MediaFormatError } from '../../lib/media/media-errors.js';
import { check, checkSame, type FuzzTarget } from './fuzz-target.js';

/** IVF read / write round trip plus frame parsers. */
export const ivfTarget: FuzzTarget = {
  name: 'ivf',
  description: 'readIvf; writeIvf round trip; VP8 keyframe check, VP9 frame header and AV1 OBU parsers on each frame',
  maxLength: 8192,
  run(data: Buffer): void {
    const { header, frames } = readIvf(data);
    for (const f of frames) {
      isVp8KeyframeData(f.data);
      parseVp9FrameHeader(f.data);
      parseObus(f.data);
      isAv1Keyframe(f.data);
    }
    let wire: Buffer;
    try {
      wire = writeIvf(header, frames);
    } catch (err) {
      // The writer refuses header fields it cannot write (a FourCC outside printable ASCII);
      // the reader accepts any bytes there, so only that refusal is allowed.
      check(err instanceof MediaFormatError || (err as { code?: string }).code === 'ERR_MEDIA_FIELD', `writeIvf threw ${String(err)}`);
      return;
    }
    const again = readIvf(wire);
    check(again.frames.length === frames.length, 'frame count changed');
    checkSame(again.frames, frames, 'IVF frames');
  },
  isExpectedError(err: unknown): boolean {
    return err instanceof MediaFormatError;
  },
};
