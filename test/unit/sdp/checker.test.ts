// The answer checker used by the fixture, werift, wrtc and Chromium tests must itself fail on the
// violations it claims to catch (RFC 3264 §6, RFC 8843 §7.3, RFC 8842 §5.3, RFC 8841).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAnswer, parseSdp, type SdpSessionDescription } from '../../../lib/sdp/index.js';
import { assertValidAnswer, fixture, localTransport, SESSION } from './helpers.js';

const offer = parseSdp(fixture('offer-from-chromium.sdp'));
const legacyOffer = parseSdp(fixture('offer-from-aiortc.sdp'));

function good(o: SdpSessionDescription = offer): SdpSessionDescription {
  return createAnswer(o, { session: SESSION, transport: localTransport(), media: { '0': { direction: 'sendrecv' }, '1': { direction: 'sendrecv' } } });
}

describe('assertValidAnswer catches', () => {
  it('accepts a good answer (baseline)', () => {
    assert.equal(assertValidAnswer(offer, good()), 3);
  });

  const violations: Array<[string, (a: SdpSessionDescription) => void, SdpSessionDescription?]> = [
    ['a missing m-section', (a) => void a.media.pop()],
    ['a changed mid', (a) => void (a.media[1]!.mid = 'x')],
    ['a payload type that was not offered', (a) => {
      a.media[1]!.codecs[0]!.payloadType = 127;
      a.media[1]!.formats[0] = '127';
    }],
    ['a payload type given another codec', (a) => void (a.media[1]!.codecs[0]!.name = 'H265')],
    ['an rtx apt pointing at an unanswered codec', (a) => void (a.media[1]!.codecs.find((c) => c.name === 'rtx')!.parameters.apt = '100')],
    ['an extmap id that differs from the offer', (a) => void (a.media[0]!.extmaps[0]!.id = 9)],
    ['rtcp-fb that was not offered', (a) => void a.media[1]!.codecs[0]!.rtcpFeedback.push({ type: 'ccm', parameter: 'tmmbr' })],
    ['sending when the offer does not receive', (a) => void (a.media[0]!.direction = 'sendrecv'), parseSdp(fixture('offer-from-chromium.sdp').replace(/a=sendrecv/g, 'a=sendonly'))],
    ['setup actpass in an answer', (a) => void (a.media[0]!.setup = 'actpass')],
    ['no ICE credentials', (a) => void delete a.media[2]!.iceUfrag],
    ['no fingerprint', (a) => void (a.media[0]!.fingerprints = [])],
    ['bundle-only in an answer', (a) => void (a.media[1]!.bundleOnly = true)],
    ['a BUNDLE mid that was not offered', (a) => void a.groups[0]!.mids.push('9')],
    // aiortc offers id 2 for audio-level (audio) and abs-send-time (video): echoing both is
    // "as offered" per section, and only the BUNDLE-group rule catches it.
    ['one extmap id for two URIs in the group', (a) => void a.media[1]!.extmaps.push({ id: 2, uri: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time' }), legacyOffer],
    ['max-message-size below 256 KiB', (a) => void (a.media[2]!.maxMessageSize = 65536)],
    ['sctp-port answer to a legacy sctpmap offer', (a) => {
      delete a.media[2]!.sctpmap;
      a.media[2]!.sctpPort = 5000;
    }, legacyOffer],
  ];
  for (const [title, mutate, o] of violations) {
    it(title, () => {
      const theOffer = o ?? offer;
      const a = good(theOffer);
      assert.doesNotThrow(() => assertValidAnswer(theOffer, structuredClone(a)), 'the unmutated answer passes');
      mutate(a);
      assert.throws(() => assertValidAnswer(theOffer, a), assert.AssertionError);
    });
  }
});
