// Fuzz target: parseIceFragment (RFC 8840 §9 trickle-ice-sdpfrag, as WHIP PATCH carries it,
// RFC 9725 §4.3) and formatIceFragment. Invariant: only SdpSyntaxError is thrown, and what parses
// formats to text that parses to the same fragment.
import { formatIceFragment, parseIceFragment } from '../../lib/signaling/ice-fragment.js';
import { SdpSyntaxError } from '../../lib/sdp/sdp-error.js';
import { checkSame, type FuzzTarget } from './fuzz-target.js';

/** ICE fragment parse / format round trip. */
export const iceFragmentTarget: FuzzTarget = {
  name: 'ice-fragment',
  description: 'parseIceFragment over UTF-8 text; formatIceFragment round trip',
  maxLength: 4096,
  run(data: Buffer): void {
    const fragment = parseIceFragment(data.toString('utf8'));
    const again = parseIceFragment(formatIceFragment(fragment));
    checkSame(again, fragment, 'ICE fragment');
  },
  isExpectedError(err: unknown): boolean {
    return err instanceof SdpSyntaxError;
  },
};
