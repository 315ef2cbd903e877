// Fuzz target: splitAnnexB / readAnnexBAccessUnits (ITU-T H.264 Annex B byte stream, §7.4.1.2.3
// access unit boundaries) and isH264Keyframe.
// Invariant: only MediaFormatError is thrown; joinAnnexB(splitAnnexB(x)) splits to the same NAL units.
import { splitAnnexB, joinAnnexB, readAnnexBAccessUnits, isH264Keyframe, h264NalType } from '../../lib/media/annex-b.js';
import { MediaFormatError } from '../../lib/media/media-errors.js';
import { check, checkSame, type FuzzTarget } from './fuzz-target.js';

/** Annex B split / join round trip. */
export const annexBTarget: FuzzTarget = {
  name: 'annex-b',
  description: 'splitAnnexB, readAnnexBAccessUnits, isH264Keyframe; joinAnnexB round trip',
  maxLength: 8192,
  run(data: Buffer): void {
    const units = splitAnnexB(data);
    for (const u of units) h264NalType(u.data);
    const aus = readAnnexBAccessUnits(data);
    check(aus.reduce((n, au) => n + au.length, 0) === units.length, 'access units do not hold every NAL unit');
    for (const au of aus) isH264Keyframe(au);
    const joined = joinAnnexB(units);
    const again = splitAnnexB(joined);
    checkSame(again, units, 'NAL units');
  },
  isExpectedError(err: unknown): boolean {
    return err instanceof MediaFormatError;
  },
};
