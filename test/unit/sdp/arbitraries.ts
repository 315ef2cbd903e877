// fast-check generators of valid SDP models (in the normal form the parser produces) and of
// mutated SDP text, for the lib/sdp property tests.
import fc from 'fast-check';
import type {
  MediaDirection,
  RtcpFeedback,
  SdpCandidate,
  SdpCodec,
  SdpConnection,
  SdpMediaSection,
  SdpSessionDescription,
  SdpTransportAttributes,
  SetupRole,
} from '../../../lib/sdp/index.js';

const chars = (alphabet: string, min: number, max: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...alphabet.split('')), minLength: min, maxLength: max });

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const ALNUM = `${LOWER}ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789`;
const VISIBLE = `${ALNUM}-_.+/=!#$%&*@[]{}~`;

const token = chars(`${LOWER}0123456789-`, 1, 8);
const visible = chars(VISIBLE, 1, 12);
const digits = chars('0123456789', 1, 19);
// Free text in the parser's normal form: single spaces between words, none at either end.
const text = chars(`${ALNUM} -_.:/=;,`, 0, 20).map((s) => s.replace(/ +/g, ' ').trim());
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const port = fc.integer({ min: 0, max: 65535 });
const direction = fc.constantFrom<MediaDirection>('sendrecv', 'sendonly', 'recvonly', 'inactive');
const setup = fc.constantFrom<SetupRole>('actpass', 'active', 'passive', 'holdconn');

/** Adds `key: value` to `obj` only when value is defined (the model never holds undefined keys). */
function withOptional<T extends object>(obj: T, extra: Record<string, unknown>): T {
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) (obj as Record<string, unknown>)[k] = v;
  return obj;
}

const connection: fc.Arbitrary<SdpConnection> = fc.record({
  addressType: fc.constantFrom<'IP4' | 'IP6'>('IP4', 'IP6'),
  // `/<digits>` after a connection address is a multicast TTL or count (RFC 8866 §5.7), not address.
  address: visible.filter((a) => !/\/\d+$/.test(a)),
});

const fingerprint = fc.record({
  algorithm: chars(`${LOWER}0123456789-`, 1, 8),
  value: fc.array(chars('0123456789ABCDEF', 2, 2), { minLength: 1, maxLength: 8 }).map((b) => b.join(':')),
});

const transport: fc.Arbitrary<SdpTransportAttributes> = fc
  .record({
    iceUfrag: fc.option(visible, { nil: undefined }),
    icePwd: fc.option(visible, { nil: undefined }),
    iceOptions: fc.array(visible, { maxLength: 3 }),
    fingerprints: fc.array(fingerprint, { maxLength: 3 }),
    setup: fc.option(setup, { nil: undefined }),
  })
  .map(({ iceUfrag, icePwd, iceOptions, fingerprints, setup: s }) => withOptional({ iceOptions, fingerprints }, { iceUfrag, icePwd, setup: s }));

const params = fc.dictionary(chars(`${LOWER}0123456789-`, 1, 8), chars(`${ALNUM}.-`, 0, 8), { maxKeys: 4 });

const feedback: fc.Arbitrary<RtcpFeedback> = fc
  .tuple(token, fc.option(token, { nil: undefined }))
  .map(([type, parameter]) => withOptional({ type }, { parameter }));

const codecBody = fc.record({
  name: chars(`${ALNUM}_.-`, 1, 10),
  clockRate: fc.integer({ min: 1, max: 0xffffffff }),
  channels: fc.option(fc.integer({ min: 1, max: 255 }), { nil: undefined }),
  parameters: params,
  rtcpFeedback: fc.array(feedback, { maxLength: 3 }),
});

const codecs: fc.Arbitrary<SdpCodec[]> = fc
  .uniqueArray(fc.integer({ min: 0, max: 127 }), { maxLength: 5 })
  .chain((pts) => fc.tuple(...pts.map(() => codecBody)).map((bodies) =>
    bodies.map((b, i) => withOptional({ payloadType: pts[i]!, name: b.name, clockRate: b.clockRate, parameters: b.parameters, rtcpFeedback: b.rtcpFeedback }, { channels: b.channels }))));

const candidate: fc.Arbitrary<SdpCandidate> = fc
  .record({
    foundation: chars(`${ALNUM}+/`, 1, 32),
    component: fc.integer({ min: 1, max: 256 }),
    transport: fc.constantFrom('udp', 'tcp'),
    priority: u32,
    address: visible,
    port,
    type: fc.constantFrom('host', 'srflx', 'prflx', 'relay'),
    relatedAddress: fc.option(visible, { nil: undefined }),
    relatedPort: fc.option(port, { nil: undefined }),
    tcpType: fc.option(fc.constantFrom('active', 'passive', 'so'), { nil: undefined }),
    extensions: fc.array(fc.record({ name: fc.constantFrom('generation', 'ufrag', 'network-id', 'network-cost'), value: visible }), { maxLength: 3 }),
  })
  .map(({ relatedAddress, relatedPort, tcpType, ...rest }) => withOptional(rest, { relatedAddress, relatedPort, tcpType }));

const ridId = chars(`${ALNUM}_-`, 1, 6);
const simulcastStreams = fc.array(fc.array(fc.record({ rid: ridId, paused: fc.boolean() }), { minLength: 1, maxLength: 2 }), { maxLength: 3 });

const otherAttribute = fc
  .tuple(chars(`${LOWER}0123456789-`, 0, 8).map((n) => `x-${n}`), fc.option(text, { nil: undefined }))
  .map(([name, value]) => withOptional({ name }, { value }));

const RTP_PROTOCOLS = ['UDP/TLS/RTP/SAVPF', 'RTP/AVP', 'TCP/DTLS/RTP/SAVPF'];
const OTHER_PROTOCOLS = ['UDP/DTLS/SCTP', 'DTLS/SCTP', 'TCP/BFCP'];

const mediaSection: fc.Arbitrary<SdpMediaSection> = fc
  .record({
    kind: fc.constantFrom('audio', 'video', 'application', 'text'),
    port,
    rtp: fc.boolean(),
    rtpProtocol: fc.constantFrom(...RTP_PROTOCOLS),
    otherProtocol: fc.constantFrom(...OTHER_PROTOCOLS),
    otherFormats: fc.array(chars(`${LOWER}0123456789-`, 1, 8), { minLength: 1, maxLength: 2 }),
    codecs,
    transport,
    connection: fc.option(connection, { nil: undefined }),
    bandwidth: fc.array(fc.record({ type: fc.constantFrom('AS', 'TIAS', 'CT'), value: u32 }), { maxLength: 2 }),
    mid: fc.option(visible, { nil: undefined }),
    direction: fc.option(direction, { nil: undefined }),
    rtcpFeedbackWildcard: fc.array(feedback, { maxLength: 2 }),
    extmaps: fc.array(
      fc.record({ id: fc.integer({ min: 1, max: 255 }), uri: visible.map((u) => `urn:x:${u}`), direction: fc.option(direction, { nil: undefined }), attributes: fc.option(visible, { nil: undefined }) })
        .map(({ direction: d, attributes, ...rest }) => withOptional(rest, { direction: d, attributes })),
      { maxLength: 3 },
    ),
    extmapAllowMixed: fc.boolean(),
    ssrcs: fc.array(fc.record({ ssrc: u32, attribute: token, value: fc.option(text, { nil: undefined }) }).map(({ value, ...rest }) => withOptional(rest, { value })), { maxLength: 3 }),
    ssrcGroups: fc.array(fc.record({ semantics: fc.constantFrom('FID', 'SIM', 'FEC-FR'), ssrcs: fc.array(u32, { minLength: 1, maxLength: 3 }) }), { maxLength: 2 }),
    msids: fc.array(fc.record({ stream: visible, track: fc.option(visible, { nil: undefined }) }).map(({ track, ...rest }) => withOptional(rest, { track })), { maxLength: 2 }),
    rids: fc.array(
      fc.record({
        id: ridId,
        direction: fc.constantFrom<'send' | 'recv'>('send', 'recv'),
        payloadTypes: fc.array(fc.integer({ min: 0, max: 127 }), { maxLength: 3 }),
        restrictions: fc.dictionary(chars(`${LOWER}-`, 1, 8).filter((k) => k !== 'pt'), chars(`${ALNUM}`, 0, 5), { maxKeys: 2 }),
      }),
      { maxLength: 3 },
    ),
    simulcast: fc.option(fc.record({ send: simulcastStreams, recv: simulcastStreams }).filter((s) => s.send.length + s.recv.length > 0), { nil: undefined }),
    candidates: fc.array(candidate, { maxLength: 3 }),
    endOfCandidates: fc.boolean(),
    rtcp: fc.option(fc.record({ port, connection: fc.option(connection, { nil: undefined }) }).map(({ connection: c, ...rest }) => withOptional(rest, { connection: c })), { nil: undefined }),
    rtcpMux: fc.boolean(),
    rtcpRsize: fc.boolean(),
    bundleOnly: fc.boolean(),
    sctpPort: fc.option(port, { nil: undefined }),
    maxMessageSize: fc.option(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), { nil: undefined }),
    sctpmap: fc.option(fc.record({ port, app: visible, streams: fc.option(u32, { nil: undefined }) }).map(({ streams, ...rest }) => withOptional(rest, { streams })), { nil: undefined }),
    otherAttributes: fc.array(otherAttribute, { maxLength: 2 }),
  })
  .map((g) => {
    const { rtp, rtpProtocol, otherProtocol, otherFormats, codecs: cs, transport: t, connection: c, mid, direction: d, simulcast, rtcp, sctpPort, maxMessageSize, sctpmap, ...rest } = g;
    const section: SdpMediaSection = {
      ...rest,
      ...t,
      protocol: rtp ? rtpProtocol : otherProtocol,
      formats: rtp ? cs.map((x) => String(x.payloadType)) : otherFormats,
      codecs: rtp ? cs : [],
    };
    return withOptional(section, { connection: c, mid, direction: d, simulcast, rtcp, sctpPort, maxMessageSize, sctpmap });
  });

/** A valid description in the parser's normal form (plain objects: fast-check may build null-prototype ones). */
export const sessionDescription: fc.Arbitrary<SdpSessionDescription> = fc
  .record({
    origin: fc.record({ username: visible, sessionId: digits, sessionVersion: digits, netType: fc.constant('IN'), addressType: fc.constantFrom<'IP4' | 'IP6'>('IP4', 'IP6'), address: visible }),
    sessionName: text,
    timing: fc.record({ start: fc.integer({ min: 0, max: 2 ** 40 }), stop: fc.integer({ min: 0, max: 2 ** 40 }) }),
    connection: fc.option(connection, { nil: undefined }),
    groups: fc.array(fc.record({ semantics: fc.constantFrom('BUNDLE', 'LS', 'FID'), mids: fc.array(visible, { maxLength: 3 }) }), { maxLength: 2 }),
    extmapAllowMixed: fc.boolean(),
    iceLite: fc.boolean(),
    transport,
    msidSemantic: fc.option(fc.record({ semantic: fc.constantFrom('WMS', '*'), ids: fc.array(visible, { maxLength: 2 }) }), { nil: undefined }),
    direction: fc.option(direction, { nil: undefined }),
    otherAttributes: fc.array(otherAttribute, { maxLength: 2 }),
    media: fc.array(mediaSection, { maxLength: 3 }),
  })
  .map(({ transport: t, connection: c, msidSemantic, direction: d, ...rest }) => withOptional({ ...rest, ...t }, { connection: c, msidSemantic, direction: d }))
  .map((model) => JSON.parse(JSON.stringify(model)) as SdpSessionDescription);

/** Text mutations of an SDP: each applied to a list of lines. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('delete-char' as const), line: fc.nat(), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert-char' as const), line: fc.nat(), at: fc.nat(), ch: fc.constantFrom(' ', ':', '/', '=', '0', '9', 'a', '\u0000', '\r', '~', '-', '\u00e9') }),
  fc.record({ kind: fc.constant('delete-line' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate-line' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('swap-lines' as const), line: fc.nat(), other: fc.nat() }),
  fc.record({ kind: fc.constant('truncate-line' as const), line: fc.nat(), at: fc.nat() }),
  fc.record({ kind: fc.constant('replace-value' as const), line: fc.nat(), value: fc.string({ maxLength: 12 }) }),
);

/** Applies 1..4 random mutations to the lines of `sdp`. */
export function mutatedSdp(sdp: string): fc.Arbitrary<string> {
  const lines = sdp.split('\r\n');
  return fc.array(mutation, { minLength: 1, maxLength: 4 }).map((ms) => {
    const out = [...lines];
    for (const m of ms) {
      if (out.length === 0) break;
      const i = m.line % out.length;
      const l = out[i]!;
      switch (m.kind) {
        case 'delete-char':
          out[i] = l.slice(0, m.at % (l.length + 1)) + l.slice((m.at % (l.length + 1)) + 1);
          break;
        case 'insert-char':
          out[i] = l.slice(0, m.at % (l.length + 1)) + m.ch + l.slice(m.at % (l.length + 1));
          break;
        case 'delete-line':
          out.splice(i, 1);
          break;
        case 'duplicate-line':
          out.splice(i, 0, l);
          break;
        case 'swap-lines': {
          const j = m.other % out.length;
          out[i] = out[j]!;
          out[j] = l;
          break;
        }
        case 'truncate-line':
          out[i] = l.slice(0, m.at % (l.length + 1));
          break;
        case 'replace-value': {
          const colon = l.indexOf(':');
          out[i] = colon >= 0 ? l.slice(0, colon + 1) + m.value : l.slice(0, 2) + m.value;
          break;
        }
      }
    }
    return out.join('\r\n');
  });
}
