// Fuzz target: parseSdp (RFC 8866 lines, RFC 8829 / JSEP attributes) and serializeSdp.
// Invariant: only SdpSyntaxError is thrown; serialize(parse(x)) re-parses, and the text is a fixed
// point from then on (the first serialize may add defaults such as a=rtcp, so models can differ once).
import { parseSdp } from '../../lib/sdp/parse.js';
import { serializeSdp } from '../../lib/sdp/serialize.js';
import { SdpSyntaxError } from '../../lib/sdp/sdp-error.js';
import { checkSame, type FuzzTarget } from './fuzz-target.js';

/** SDP parse / serialize round trip. */
export const sdpTarget: FuzzTarget = {
  name: 'sdp',
  description: 'parseSdp over UTF-8 text; serializeSdp round trip',
  maxLength: 16384,
  run(data: Buffer): void {
    const model = parseSdp(data.toString('utf8'));
    const text = serializeSdp(model);
    let again;
    try {
      again = parseSdp(text);
    } catch (err) {
      throw new Error(`serialized SDP does not re-parse (${(err as Error).message}):\n${text.slice(0, 600)}`);
    }
    checkSame(serializeSdp(again), text, 'serialized SDP');
  },
  isExpectedError(err: unknown): boolean {
    return err instanceof SdpSyntaxError;
  },
};
