// validateRemoteDescription before anything is applied: ICE credentials in the RFC 8839 §5.4
// grammar (ice-char, ufrag 4-256, pwd 22-256) and the m-line rules of a re-offer or answer
// (RFC 3264 §6/§8, RFC 8829 §5.7/§5.8: never fewer m-sections, same kind unless recycled).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  createAnswer,
  extractRemoteTransports,
  MAX_REMOTE_TRANSPORTS,
  parseSdp,
  SdpInvalidAccessError,
  validateRemoteDescription,
  type SdpSessionDescription,
} from '../../../lib/sdp/index.js';
import { fixture, localTransport, SESSION } from './helpers.js';

function chromiumOffer(): SdpSessionDescription {
  return parseSdp(fixture('offer-from-chromium.sdp'));
}

function withSdp(edit: (sdp: string) => string): SdpSessionDescription {
  return parseSdp(edit(fixture('offer-from-chromium.sdp')));
}

/** The offer with these credentials set on the model (the parser refuses some of them already). */
function withCredentials(ufrag: string | undefined, pwd: string | undefined): SdpSessionDescription {
  const desc = chromiumOffer();
  for (const target of [desc, ...desc.media]) {
    if (ufrag !== undefined) target.iceUfrag = ufrag;
    if (pwd !== undefined) target.icePwd = pwd;
  }
  return desc;
}

function assertRejected(fn: () => void, code: string, mentions: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SdpInvalidAccessError, `not an SdpInvalidAccessError: ${String(err)}`);
    assert.equal(err.name, 'InvalidAccessError');
    assert.equal(err.code, code);
    assert.ok(err.message.includes(mentions), `message "${err.message}" does not mention ${mentions}`);
    return true;
  });
}

describe('ICE credentials grammar (RFC 8839 §5.4)', () => {
  it('the fixture offer is valid', () => {
    validateRemoteDescription(chromiumOffer());
  });

  const badUfrags = ['bad!ufrag', 'abc', 'a:bc1', 'ufr ag', 'ufräg', 'x'.repeat(257), 'u-frag'];
  for (const ufrag of badUfrags) {
    it(`refuses a=ice-ufrag:${ufrag.slice(0, 20)}`, () => {
      const desc = withCredentials(ufrag, undefined);
      assertRejected(() => validateRemoteDescription(desc), 'ERR_SDP_BAD_ICE_CREDENTIALS', 'a=ice-ufrag:');
      assertRejected(() => extractRemoteTransports(desc), 'ERR_SDP_BAD_ICE_CREDENTIALS', 'a=ice-ufrag:');
    });
  }

  const badPwds = ['"quoted;password"000000', 'tooshort0123456789012', 'p'.repeat(257), 'password=with=equals000000'];
  for (const pwd of badPwds) {
    it(`refuses a=ice-pwd:${pwd.slice(0, 20)}`, () => {
      const desc = withCredentials(undefined, pwd);
      assertRejected(() => validateRemoteDescription(desc), 'ERR_SDP_BAD_ICE_CREDENTIALS', 'a=ice-pwd:');
    });
  }

  it('accepts the grammar bounds: ufrag of 4 and 256, pwd of 22 and 256 ice-chars', () => {
    for (const [u, p] of [['ab+/', 'A'.repeat(22)], ['u'.repeat(256), '0+/'.repeat(85) + 'x']] as const) {
      const desc = withCredentials(u, p);
      validateRemoteDescription(desc);
      assert.equal(extractRemoteTransports(desc)[0]!.iceUfrag, u);
    }
  });

  it('createAnswer refuses the offer too', () => {
    const desc = withSdp((s) => s.replace(/a=ice-ufrag:\S+/g, 'a=ice-ufrag:bad!ufrag'));
    assertRejected(() => validateRemoteDescription(desc), 'ERR_SDP_BAD_ICE_CREDENTIALS', 'a=ice-ufrag:bad!ufrag');
    assertRejected(
      () => createAnswer(desc, { session: SESSION, transport: localTransport(), media: [] } as unknown as Parameters<typeof createAnswer>[1]),
      'ERR_SDP_BAD_ICE_CREDENTIALS',
      'a=ice-ufrag:bad!ufrag',
    );
  });

  it('property: a credential is accepted exactly when it is in the grammar', () => {
    const iceChar = /^[A-Za-z0-9+/]+$/;
    fc.assert(
      fc.property(fc.string({ minLength: 0, maxLength: 300 }), (u) => {
        const desc = withCredentials(u, undefined);
        const ok = u.length >= 4 && u.length <= 256 && iceChar.test(u);
        if (ok) validateRemoteDescription(desc);
        else assert.throws(() => validateRemoteDescription(desc), SdpInvalidAccessError);
      }),
      { numRuns: 200 },
    );
  });
});

describe('m-lines of a re-offer against the negotiated descriptions (RFC 3264 §8, RFC 8829 §5.7/§5.8)', () => {
  const negotiated = chromiumOffer();

  it('the same offer again is accepted', () => {
    validateRemoteDescription(chromiumOffer(), [negotiated]);
  });

  it('a kind change of a negotiated m-section is refused', () => {
    const reoffer = chromiumOffer();
    const first = reoffer.media[0]!;
    const other = first.kind === 'audio' ? 'video' : 'audio';
    first.kind = other;
    assertRejected(() => validateRemoteDescription(reoffer, [negotiated]), 'ERR_SDP_M_SECTION_KIND_CHANGED', `m=${other}`);
  });

  it('fewer m-sections than negotiated is refused', () => {
    const reoffer = chromiumOffer();
    reoffer.media.pop();
    reoffer.groups = [];
    assertRejected(() => validateRemoteDescription(reoffer, [negotiated]), 'ERR_SDP_M_SECTION_REMOVED', `${negotiated.media.length} were negotiated`);
  });

  it('more m-sections (new transceivers) are accepted', () => {
    const reoffer = chromiumOffer();
    const extra = structuredClone(reoffer.media[0]!);
    extra.mid = 'new';
    reoffer.media.push(extra);
    validateRemoteDescription(reoffer, [negotiated]);
  });

  it('an m-section rejected in the negotiation may be recycled with another kind (RFC 8829 §5.2.2)', () => {
    const answer = structuredClone(negotiated);
    answer.media[0]!.port = 0;
    const reoffer = chromiumOffer();
    reoffer.media[0]!.kind = reoffer.media[0]!.kind === 'audio' ? 'video' : 'audio';
    reoffer.media[0]!.mid = 'recycled';
    reoffer.groups = [];
    validateRemoteDescription(reoffer, [negotiated, answer]);
    assertRejected(() => validateRemoteDescription(reoffer, [negotiated]), 'ERR_SDP_M_SECTION_KIND_CHANGED', 'was negotiated as');
  });

  it('without established descriptions nothing is compared (first offer)', () => {
    const first = chromiumOffer();
    first.media.pop();
    first.groups = [];
    validateRemoteDescription(first);
  });
});

describe('answers, DTLS setup and the transport count', () => {
  const offer = chromiumOffer();

  it('an answer with more m-sections than the offer is refused (RFC 3264 §6), with or without its own transport', () => {
    const complete = chromiumOffer();
    const extra = structuredClone(complete.media[0]!);
    extra.mid = 'extra';
    complete.media.push(extra);
    assertRejected(() => validateRemoteDescription(complete, [offer], 'answer'), 'ERR_SDP_M_SECTION_ADDED', `offer had ${offer.media.length}`);
    const bare = withSdp((sdp) => `${sdp}m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:bare\r\n`);
    assertRejected(() => validateRemoteDescription(bare, [offer], 'answer'), 'ERR_SDP_M_SECTION_ADDED', 'RFC 3264');
    // As a re-offer it may add sections (a new transceiver), when they are usable.
    validateRemoteDescription(complete, [offer], 'offer');
  });

  it("an answer's a=setup must be active or passive; an offer's must not be holdconn (RFC 5763 §5, RFC 8842 §5)", () => {
    for (const role of ['active', 'passive']) validateRemoteDescription(withSdp((s) => s.replaceAll('a=setup:actpass', `a=setup:${role}`)), [offer], 'answer');
    for (const role of ['actpass', 'holdconn']) {
      const answer = withSdp((s) => s.replaceAll('a=setup:actpass', `a=setup:${role}`));
      assertRejected(() => validateRemoteDescription(answer, [offer], 'answer'), 'ERR_SDP_BAD_SETUP', `a=setup:${role}`);
    }
    for (const role of ['actpass', 'active', 'passive']) validateRemoteDescription(withSdp((s) => s.replaceAll('a=setup:actpass', `a=setup:${role}`)));
    assertRejected(() => validateRemoteDescription(withSdp((s) => s.replaceAll('a=setup:actpass', 'a=setup:holdconn'))), 'ERR_SDP_BAD_SETUP', 'holdconn');
    // No a=setup at all stays the RFC 4145 default, in an offer and in an answer.
    validateRemoteDescription(withSdp((s) => s.replaceAll('a=setup:actpass\r\n', '')), [offer], 'answer');
  });

  it(`at most ${MAX_REMOTE_TRANSPORTS} transports: unbundled m-sections each need one, a BUNDLE group needs one`, () => {
    const unbundled = (n: number): SdpSessionDescription => {
      const head = fixture('offer-from-chromium.sdp').split('\r\nm=')[0]!.replace(/a=group:BUNDLE[^\r]*\r\n/, '');
      const section = (i: number): string =>
        `m=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=mid:${i}\r\na=rtcp-mux\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n` +
        'a=fingerprint:sha-256 ' + Array.from({ length: 32 }, () => 'AB').join(':') + '\r\na=setup:actpass\r\n';
      return parseSdp(`${head}\r\n${Array.from({ length: n }, (_, i) => section(i)).join('')}`);
    };
    assert.equal(extractRemoteTransports(unbundled(MAX_REMOTE_TRANSPORTS)).length, MAX_REMOTE_TRANSPORTS);
    validateRemoteDescription(unbundled(MAX_REMOTE_TRANSPORTS));
    assertRejected(() => validateRemoteDescription(unbundled(MAX_REMOTE_TRANSPORTS + 1)), 'ERR_SDP_TOO_MANY_TRANSPORTS', `${MAX_REMOTE_TRANSPORTS + 1} transports`);
    assertRejected(() => validateRemoteDescription(unbundled(1500)), 'ERR_SDP_TOO_MANY_TRANSPORTS', 'at most');
    // The same 1500 sections in one BUNDLE group are one transport.
    const bundled = unbundled(1500);
    bundled.groups = [{ semantics: 'BUNDLE', mids: bundled.media.map((m) => m.mid!) }];
    validateRemoteDescription(bundled);
  });
});
