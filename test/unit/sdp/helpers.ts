// Shared helpers of the lib/sdp tests: fixture loading, local parameters, and an answer checker
// that applies the offer/answer rules a real peer enforces (RFC 3264 §6, RFC 8829 §5.3, RFC 8843 §7.3).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bundleGroups,
  isRtpSection,
  isSctpSection,
  parseCandidate,
  rtxAssociatedPayloadType,
  type LocalTransportParameters,
  type SdpSessionDescription,
  type CodecCapability,
  type HeaderExtensionCapability,
  type RtcpFeedback,
} from '../../../lib/sdp/index.js';
import { HeaderExtensionUri } from '../../../lib/sdp/capabilities.js';
import { defaultCodecs, defaultHeaderExtensions } from '../../../lib/sdp/default-capabilities.js';

/** The five rtcp-fb Chromium offers for video (an application whose modules serve them all). */
export const ALL_VIDEO_FEEDBACK: readonly RtcpFeedback[] = [
  { type: 'goog-remb' }, { type: 'transport-cc' }, { type: 'ccm', parameter: 'fir' }, { type: 'nack' }, { type: 'nack', parameter: 'pli' },
];

/** Default codecs of both kinds with the feedback an application serving all of it declares. */
export function servedCodecs(): CodecCapability[] {
  return [...defaultCodecs('audio', [{ type: 'transport-cc' }]), ...defaultCodecs('video', ALL_VIDEO_FEEDBACK)];
}

/** Default header extensions of both kinds plus transport-wide-cc. */
export function servedExtensions(): HeaderExtensionCapability[] {
  return [...defaultHeaderExtensions('audio', [HeaderExtensionUri.transportWideCc]), ...defaultHeaderExtensions('video', [HeaderExtensionUri.transportWideCc])];
}

const fixtureDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'sdp');

/** The peers whose offers and answers are in test/fixtures/sdp. */
export const PEERS = ['aiortc', 'chromium', 'pion', 'werift', 'wrtc'] as const;
/** One of {@link PEERS}. */
export type Peer = (typeof PEERS)[number];

/** Reads `test/fixtures/sdp/<name>` as text. */
export function fixture(name: string): string {
  return readFileSync(join(fixtureDir, name), 'utf8');
}

/** Local ICE/DTLS parameters used by the tests. */
export function localTransport(overrides: Partial<LocalTransportParameters> = {}): LocalTransportParameters {
  return {
    iceUfrag: 'pwtU',
    icePwd: 'pwtpasswordpwtpassword',
    fingerprints: [
      { algorithm: 'sha-256', value: 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89' },
    ],
    candidates: [parseCandidate('candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host')],
    endOfCandidates: true,
    ...overrides,
  };
}

/** `o=` identity used by the tests. */
export const SESSION = { sessionId: '4611686018427387904', sessionVersion: '2' };

function sends(d: string): boolean {
  return d === 'sendrecv' || d === 'sendonly';
}
function receives(d: string): boolean {
  return d === 'sendrecv' || d === 'recvonly';
}

/**
 * Asserts that `answer` is a valid answer to `offer`: same m-sections in the same order and kinds,
 * mids echoed, payload types from the offer with the same codec, RTX apt pointing at an answered
 * codec, extmap id/URI pairs taken from the offer with no id naming two URIs in a BUNDLE group,
 * direction compatible, DTLS role compatible, ICE and DTLS attributes in every used section,
 * BUNDLE group within the offered one, data section in the offered format with max-message-size
 * at least `minMaxMessageSize` (ours: 256 KiB). Returns the number of accepted m-sections.
 */
export function assertValidAnswer(offer: SdpSessionDescription, answer: SdpSessionDescription, minMaxMessageSize = 262144): number {
  assert.equal(answer.media.length, offer.media.length, 'one answer m-section per offered m-section');
  let accepted = 0;
  for (const [i, a] of answer.media.entries()) {
    const o = offer.media[i]!;
    assert.equal(a.kind, o.kind, `section ${i} kind`);
    assert.equal(a.mid, o.mid, `section ${i} mid`);
    assert.equal(a.protocol, o.protocol, `section ${i} protocol`);
    if (a.port === 0) {
      assert.ok(a.formats.length > 0, `rejected section ${i} keeps a format`);
      continue;
    }
    accepted++;
    assert.equal(a.bundleOnly, false, 'no bundle-only in answers (RFC 8843 §7.3.1)');
    assert.ok(a.iceUfrag !== undefined && a.icePwd !== undefined, `section ${i} has ICE credentials`);
    assert.ok(a.fingerprints.length > 0, `section ${i} has a fingerprint`);
    const offeredSetup = o.setup ?? offer.setup;
    assert.ok(a.setup === 'active' || a.setup === 'passive', `section ${i} setup is active or passive`);
    if (offeredSetup === 'active') assert.equal(a.setup, 'passive');
    if (offeredSetup === 'passive') assert.equal(a.setup, 'active');
    if (isRtpSection(o)) {
      assert.ok(a.codecs.length > 0, `section ${i} has codecs`);
      assert.deepEqual(a.formats, a.codecs.map((c) => String(c.payloadType)), 'm-line lists exactly the codecs');
      const answeredPts = new Set(a.codecs.map((c) => c.payloadType));
      for (const c of a.codecs) {
        const oc = o.codecs.find((x) => x.payloadType === c.payloadType);
        assert.ok(oc !== undefined, `PT ${c.payloadType} was offered`);
        assert.equal(c.name.toLowerCase(), oc.name.toLowerCase(), `PT ${c.payloadType} keeps its codec`);
        assert.equal(c.clockRate, oc.clockRate);
        if (c.name.toLowerCase() === 'rtx') {
          const apt = rtxAssociatedPayloadType(c);
          assert.ok(apt !== undefined && answeredPts.has(apt), `rtx ${c.payloadType} apt names an answered codec`);
          assert.equal(apt, rtxAssociatedPayloadType(oc), 'rtx association as offered');
        }
        const offeredFb = new Set([...oc.rtcpFeedback, ...o.rtcpFeedbackWildcard].map((f) => `${f.type} ${f.parameter ?? ''}`));
        for (const f of c.rtcpFeedback) assert.ok(offeredFb.has(`${f.type} ${f.parameter ?? ''}`), `rtcp-fb ${f.type} was offered`);
      }
      for (const e of a.extmaps) {
        assert.ok(o.extmaps.some((x) => x.id === e.id && x.uri === e.uri), `extmap ${e.id} ${e.uri} was offered with that id`);
      }
      const od = o.direction ?? offer.direction ?? 'sendrecv';
      const ad = a.direction ?? 'sendrecv';
      if (sends(ad)) assert.ok(receives(od), `section ${i}: answer sends only if the offer receives`);
      if (receives(ad)) assert.ok(sends(od), `section ${i}: answer receives only if the offer sends`);
      assert.equal(a.rtcpMux, true, 'rtcp-mux');
    }
    if (isSctpSection(o)) {
      if (o.sctpPort === undefined) {
        assert.ok(a.sctpmap !== undefined, 'legacy offer answered with sctpmap');
        assert.deepEqual(a.formats, [String(a.sctpmap.port)], 'legacy format: the SCTP port on the m-line');
      } else {
        assert.ok(a.sctpPort !== undefined, 'sctp-port offer answered with sctp-port');
        assert.deepEqual(a.formats, ['webrtc-datachannel']);
      }
      assert.ok((a.maxMessageSize ?? 65536) >= minMaxMessageSize, `max-message-size >= ${minMaxMessageSize}`);
    }
  }
  const offeredGroups = bundleGroups(offer);
  for (const g of bundleGroups(answer)) {
    const og = offeredGroups.find((x) => x.includes(g[0]!));
    assert.ok(og !== undefined, 'answer BUNDLE group was offered');
    for (const mid of g) assert.ok(og.includes(mid), `mid ${mid} in the offered group`);
    const idToUri = new Map<number, string>();
    for (const mid of g) {
      const m = answer.media.find((x) => x.mid === mid)!;
      assert.notEqual(m.port, 0, 'no rejected section in the answer group');
      for (const e of m.extmaps) {
        const bound = idToUri.get(e.id);
        assert.ok(bound === undefined || bound === e.uri, `extmap id ${e.id} names one URI in the group`);
        idToUri.set(e.id, e.uri);
      }
    }
  }
  return accepted;
}
