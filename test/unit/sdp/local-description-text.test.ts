// LocalDescriptionText (lib/sdp/local-description-text.ts): a local description's text made from
// parts gives byte for byte what serializeSdp gives (RFC 8866 §5 order), before and after candidates
// and end-of-candidates are written into it (RFC 8829 §5.2.1, RFC 8840), for every real peer's
// descriptions in test/fixtures/sdp and for our own offers and answers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  createAnswer,
  createOffer,
  parseCandidate,
  parseSdp,
  serializeSdp,
  type SdpSessionDescription,
} from '../../../lib/sdp/index.js';
import { applyTransport } from '../../../lib/sdp/local-sections.js';
import { LocalDescriptionText } from '../../../lib/sdp/local-description-text.js';
import { fixture, localTransport, PEERS, servedCodecs, servedExtensions, SESSION } from './helpers.js';

const HOST = parseCandidate('candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host generation 0');
const SRFLX = parseCandidate('candidate:2 1 udp 1694498815 192.0.2.7 40001 typ srflx raddr 127.0.0.1 rport 40000');
const IPV6 = parseCandidate('candidate:3 1 udp 2130706175 ::1 40002 typ host');

/** Every description the test checks: each peer's offer and answer, and ours. */
function descriptions(): [string, SdpSessionDescription][] {
  const out: [string, SdpSessionDescription][] = [];
  for (const peer of PEERS) {
    out.push([`offer from ${peer}`, parseSdp(fixture(`offer-from-${peer}.sdp`))]);
    out.push([`answer from ${peer}`, parseSdp(fixture(`answer-from-${peer}.sdp`))]);
    out.push([`our answer to ${peer}`, createAnswer(parseSdp(fixture(`offer-from-${peer}.sdp`)), {
      session: SESSION, transport: localTransport({ candidates: [], endOfCandidates: false }), codecs: servedCodecs(), headerExtensions: servedExtensions(),
    })]);
  }
  out.push(['our offer', createOffer({
    session: SESSION,
    transport: localTransport({ candidates: [], endOfCandidates: false }),
    transceivers: [
      { mid: '0', kind: 'audio', direction: 'sendrecv', codecs: servedCodecs().filter((c) => c.kind === 'audio'), headerExtensions: servedExtensions().filter((e) => e.kind === 'audio'), sender: { cname: 'c', ssrc: 1, msids: [{ stream: 's', track: 't' }] } },
      { mid: '1', kind: 'video', direction: 'sendonly', codecs: servedCodecs().filter((c) => c.kind === 'video'), headerExtensions: servedExtensions().filter((e) => e.kind === 'video'), sender: { cname: 'c', ssrc: 2, rtxSsrc: 3, msids: [{ stream: 's', track: 'v' }] }, sendRids: ['h', 'l'] },
    ],
    dataChannel: { mid: '2', maxMessageSize: 262144 },
    bundlePolicy: 'max-bundle',
  })]);
  return out;
}

describe('LocalDescriptionText', () => {
  for (const [name, desc] of descriptions()) {
    it(`${name}: the same text as serializeSdp, before and after candidates are written in`, () => {
      const parts = new LocalDescriptionText(desc);
      assert.equal(parts.serialize(desc), serializeSdp(desc));
      // Gathering, one edit per read: host first, then srflx and IPv6 with end-of-candidates.
      for (const [candidates, end] of [[[HOST], false], [[HOST, SRFLX, IPV6], true]] as const) {
        desc.media.forEach((m, i) => {
          if (m.port !== 0 || m.bundleOnly) applyTransport(m, localTransport({ candidates: [...candidates], endOfCandidates: end }), m.setup ?? 'actpass', i === 0);
        });
        const text = parts.serialize(desc);
        assert.equal(text, serializeSdp(desc));
        assert.match(text, end ? /a=end-of-candidates\r\n/ : /typ host generation 0\r\n/);
      }
    });
  }

  it('refuses a description with another number of m-sections', () => {
    const desc = parseSdp(fixture('offer-from-chromium.sdp'));
    const parts = new LocalDescriptionText(desc);
    desc.media.pop();
    assert.throws(() => parts.serialize(desc), RangeError);
  });
});
