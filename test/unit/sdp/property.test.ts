// fast-check properties: parse(serialize(model)) deep-equals model; random and mutated SDP only raise
// the typed errors, and whatever parses round-trips and can be answered.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  createAnswer,
  extractRemoteTransports,
  parseSdp,
  SdpInvalidAccessError,
  SdpSyntaxError,
  serializeSdp,
} from '../../../lib/sdp/index.js';
import { mutatedSdp, sessionDescription } from './arbitraries.js';
import { fixture, localTransport, PEERS, SESSION } from './helpers.js';

/** Parses, or returns the typed error; anything else thrown fails the property. */
function parseOrSyntaxError(text: string): ReturnType<typeof parseSdp> | SdpSyntaxError {
  try {
    return parseSdp(text);
  } catch (e) {
    if (e instanceof SdpSyntaxError && e.name === 'SyntaxError' && e.code.startsWith('ERR_SDP_')) return e;
    throw e;
  }
}

describe('SDP properties', () => {
  it('parse(serialize(model)) deep-equals model', () => {
    fc.assert(
      fc.property(sessionDescription, (model) => {
        assert.deepStrictEqual(parseSdp(serializeSdp(model)), model);
      }),
      { numRuns: 300, seed: 0x5d9 },
    );
  });

  it('random text: parseSdp returns or throws SdpSyntaxError only', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.constantFrom('v=0', 'v=0\r\no=', 'v=0\no=- 1 1 IN IP4 x\nm=')), (s) => {
        parseOrSyntaxError(s);
      }),
      { numRuns: 500, seed: 7 },
    );
  });

  for (const peer of PEERS) {
    it(`mutated offer-from-${peer}: typed errors only; accepted text round-trips; answering throws only InvalidAccessError`, () => {
      fc.assert(
        fc.property(mutatedSdp(fixture(`offer-from-${peer}.sdp`)), (text) => {
          const parsed = parseOrSyntaxError(text);
          if (parsed instanceof SdpSyntaxError) {
            assert.ok(parsed.lineNumber >= 0);
            return;
          }
          assert.deepStrictEqual(parseSdp(serializeSdp(parsed)), parsed);
          try {
            extractRemoteTransports(parsed);
            const answer = createAnswer(parsed, { session: SESSION, transport: localTransport() });
            assert.deepStrictEqual(parseSdp(serializeSdp(answer)), answer, 'our answer to any accepted offer round-trips');
          } catch (e) {
            if (!(e instanceof SdpInvalidAccessError)) throw e;
          }
        }),
        { numRuns: 200, seed: 42 },
      );
    });
  }
});
