// SDP text → typed model (RFC 8866 §5 grammar, with the WebRTC attributes of RFC 8829 §5.8).
// Errors name the offending line; nothing but SdpSyntaxError is ever thrown.
import { parseCandidate } from './candidate.js';
import { parseFmtp } from './fmtp.js';
import {
  createMediaSection,
  isRtpSection,
  type AddressType,
  type MediaDirection,
  type RtcpFeedback,
  type SdpCodec,
  type SdpConnection,
  type SdpMediaSection,
  type SdpSessionDescription,
  type SdpTransportAttributes,
  type SetupRole,
  type SimulcastRid,
} from './model.js';
import { SdpSyntaxError } from './sdp-error.js';
import { filterList, mapList } from '../common/list-map.js';
import { HeaderExtensionUri } from './capabilities.js';
import { staticPayloadType } from './static-payload-types.js';

// Every line is read by one regular expression of ours (hoisted here, so that no line allocates
// one). o=, c=, rtpmap, fmtp and the encrypted-extmap test went through sdp-transform's grammar
// until 2026-12-05; they accept exactly what it accepted (test/unit/sdp/grammar-agreement.test.ts)
// without its per-line walk over its whole attribute table (docs/sdp.md "Parsing").

/** Longest SDP text accepted, in UTF-16 code units; real descriptions stay far below it. */
export const MAX_SDP_LENGTH = 1 << 20;

const KNOWN_TYPES = new Set(['v', 'o', 's', 'i', 'u', 'e', 'p', 'c', 'b', 't', 'r', 'z', 'k', 'a', 'm']);
// Control characters other than tab are not allowed in SDP text (RFC 8866 §9, `text` and
// `byte-string`); U+2028/U+2029 are refused with them (a line must be `<letter>=<value>` with a
// value of non-line-terminator characters).
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f\u2028\u2029]/;
// `o=<username> <sess-id> <sess-version> <nettype> IP4|IP6 <address>` (RFC 8866 §5.2); nothing
// after the address is looked at.
const ORIGIN = /^(\S*) (\d*) (\d*) (\S*) IP([46]) (\S*)/;
const DIGITS_ONLY = /^\d+$/;
const TIMING = /^(\d{1,20}) (\d{1,20})$/;
const BANDWIDTH = /^([A-Za-z0-9-]+):(\d{1,10})$/;
const MEDIA_LINE = /^([A-Za-z0-9_.-]+) (\d{1,5}) ([A-Za-z0-9/_.-]+)((?: [^ ]+)*)$/;
const PAYLOAD_TYPE = /^\d{1,3}$/;
const CONNECTION = /^IN (IP4|IP6) (\S+?)(?:\/\d{1,10}){0,2}$/;
// `rtpmap:<pt> <encoding name>/<clock rate>[/<channels>]` (RFC 8866 §6.6); the name is a media
// subtype, RFC 6838 §4.2 restricted-name characters (`AMR-WB+`, RFC 4352).
const RTPMAP = /^rtpmap:(\d+) ([^ /]+)\/(\d+)(?:\/(\d+))?$/;
const ENCODING_NAME = /^[\w.!#$&^+-]+$/;
// `fmtp:<pt> <parameters>` (RFC 8866 §6.15): the parameters end at any whitespace but a space
// (a tab never gets here: normalizeLine made it a space). An empty list (`fmtp:111`, what a
// trailing space becomes) sets nothing.
const FMTP = /^fmtp:(\d*)(?: (.*))?$/;
const WHITESPACE_BUT_SPACE = /[^\S ]/;
/**
 * The header-extension URIs we know, as one string each: a URI matched out of a description is a
 * slice that keeps the whole description text alive as long as a negotiated map is keyed by it
 * (idle memory per connection, docs/peer.md).
 */
const KNOWN_EXTENSION_URIS = new Map<string, string>(Object.values(HeaderExtensionUri).map((u) => [u, u]));
function knownExtensionUri(uri: string): string {
  return KNOWN_EXTENSION_URIS.get(uri) ?? uri;
}

// RFC 6904 encrypted header extension: `extmap:<id>[/<dir>] urn:ietf:params:rtp-hdrext:encrypt <uri>`.
const ENCRYPTED_EXTMAP = /^extmap:\d+(?:\/\w+)? urn:ietf:params:rtp-hdrext:encrypt /;
const EXTMAP = /^(\d{1,3})(?:\/([a-z]+))? (\S+)(?: (.*\S))? *$/;
const RTCP_FB = /^(\*|\d{1,3}) ([\x21-\x7e]+)(?: ([\x21-\x7e]+(?: [\x21-\x7e]+)*))?$/;
const SSRC = /^(\d{1,10}) ([^ :]+)(?::(.*))?$/;
const SSRC_GROUP = /^([\x21-\x7e]+) (.*)$/;
const SSRC_ID = /^\d{1,10}$/;
const MID = /^[\x21-\x7e]{1,256}$/;
// A mid travels in the RTP mid header extension, whose value is at most 255 bytes (RFC 8285 §4.3).
const MID_VALUE = /^[\x21-\x7e]{1,255}$/;
const GROUP = /^([\x21-\x7e]+)((?: [\x21-\x7e]+)*) ?$/;
const FINGERPRINT = /^(\S+) (\S+)$/;
const ICE_OPTIONS_SEPARATOR = /[ ,]+/;
const RTCP = /^(\d{1,5})(?: IN (IP4|IP6) (\S+))?$/;
const SCTPMAP = /^(\d{1,5}) ([\x21-\x7e]+)(?: (\d{1,10}))?$/;
const MAX_MESSAGE_SIZE = /^\d{1,16}$/;
const PORT = /^\d{1,5}$/;
const DIRECTIONS: ReadonlySet<string> = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);
const SETUP_ROLES: ReadonlySet<string> = new Set(['actpass', 'active', 'passive', 'holdconn']);
const NON_WS = /^\S+$/;
const EDGE_WHITESPACE = /^[ \t]+|[ \t\r]+$/g;
const LEADING_WHITESPACE = /^[ \t]+/;
const INNER_WHITESPACE = /[ \t]+/g;
const SPACE_AFTER_ATTRIBUTE_NAME = /^([^: ]+:) +/;
// Anything normalizeLine would change: a tab or CR, two spaces, a space at either end or after `a=<name>:`.
const UNCLEAN = /[\t\r]|  |^ | $|^a=[^: ]+: /;
// UNCLEAN or CONTROL: a line it does not match is left as it is by normalizeLine and passes the
// CONTROL test, so one expression per line does what the two did (most lines of real SDP).
const UNCLEAN_OR_CONTROL = /[\x00-\x1f\x7f\u2028\u2029]|  |^ | $|^a=[^: ]+: /;
// Lines whose value is free text (RFC 8866 §5.3-§5.6): their inner spacing is content.
const FREE_TEXT_TYPES: ReadonlySet<string> = new Set(['s', 'i', 'u', 'e', 'p']);
const RID_ID = /^[A-Za-z0-9_-]{1,255}$/;
const FINGERPRINT_VALUE = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})*$/;
const U32_MAX = 0xffffffff;

interface PendingRtp {
  rtpmap: Map<number, { name: string; clockRate: number; channels?: number }>;
  fmtp: Map<number, Map<string, string>>;
  rtcpFb: Map<number, RtcpFeedback[]>;
}

interface Cursor {
  lineNumber: number;
  line: string;
}

/**
 * Parses SDP text into the typed model. Accepts CRLF or LF line ends and ignores blank lines.
 * Unknown attributes are kept in `otherAttributes`.
 * @throws SdpSyntaxError naming the offending line for anything that is not valid SDP.
 */
export function parseSdp(text: string): SdpSessionDescription {
  if (typeof text !== 'string') throw new SdpSyntaxError('ERR_SDP_NOT_A_STRING', 'description is not a string');
  if (text.length > MAX_SDP_LENGTH) throw new SdpSyntaxError('ERR_SDP_TOO_LARGE', `longer than ${MAX_SDP_LENGTH} characters`);
  const session: SdpSessionDescription = {
    origin: { username: '-', sessionId: '0', sessionVersion: '0', netType: 'IN', addressType: 'IP4', address: '0.0.0.0' },
    sessionName: '-',
    timing: { start: 0, stop: 0 },
    groups: [],
    extmapAllowMixed: false,
    iceLite: false,
    iceOptions: [],
    fingerprints: [],
    otherAttributes: [],
    media: [],
  };
  let section: SdpMediaSection | undefined;
  let pending: PendingRtp | undefined;
  let sawVersion = false;
  let sawOrigin = false;
  const cur: Cursor = { lineNumber: 0, line: '' };
  const fail = (code: ConstructorParameters<typeof SdpSyntaxError>[0], why: string): never => {
    throw new SdpSyntaxError(code, why, cur.lineNumber, cur.line);
  };

  // Lines end at LF alone: CRLF, LF and a mix of both all work, and a CR left inside a line is
  // refused. Each line is sliced once, without its CR, rather than split into an array first.
  for (let start = 0, lineNumber = 1; start <= text.length; lineNumber++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    cur.lineNumber = lineNumber;
    cur.line = text.slice(start, end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end);
    start = end + 1;
    const clean = !UNCLEAN_OR_CONTROL.test(cur.line);
    const line = clean ? cur.line : normalizeLine(cur.line);
    if (line.length === 0) continue;
    // `<letter>=<value>`: a lower-case letter, '=', and no control character or line terminator.
    const letter = line.charCodeAt(0);
    if (letter < 0x61 || letter > 0x7a || line.charCodeAt(1) !== 0x3d || (!clean && CONTROL.test(line))) fail('ERR_SDP_BAD_LINE', 'not a "<letter>=<value>" line');
    const type = line[0]!;
    const value = line.slice(2);
    if (!KNOWN_TYPES.has(type)) fail('ERR_SDP_BAD_LINE', `unknown line type "${type}"`);
    if (!sawVersion) {
      if (type !== 'v' || value !== '0') fail('ERR_SDP_BAD_VERSION', 'a description must start with "v=0"');
      sawVersion = true;
      continue;
    }
    switch (type) {
      case 'v':
        fail('ERR_SDP_BAD_VERSION', 'second "v=" line');
        break;
      case 'o': {
        if (section !== undefined || sawOrigin) fail('ERR_SDP_BAD_ORIGIN', '"o=" must appear once, at session level');
        const o = ORIGIN.exec(value);
        if (o === null || !DIGITS_ONLY.test(o[2]!) || !DIGITS_ONLY.test(o[3]!)) {
          fail('ERR_SDP_BAD_ORIGIN', 'expected "o=<user> <sess-id> <sess-version> IN IP4|IP6 <address>"');
        }
        session.origin = {
          username: o![1]!,
          sessionId: o![2]!,
          sessionVersion: o![3]!,
          netType: o![4]!,
          addressType: o![5] === '6' ? 'IP6' : 'IP4',
          address: o![6]!,
        };
        sawOrigin = true;
        break;
      }
      case 's':
        if (section === undefined) session.sessionName = value;
        break;
      case 't': {
        const t = TIMING.exec(value);
        if (t === null) fail('ERR_SDP_BAD_TIMING', 'expected "t=<start> <stop>"');
        session.timing = { start: Number(t![1]), stop: Number(t![2]) };
        break;
      }
      case 'c': {
        const c = parseConnection(value);
        if (c === undefined) fail('ERR_SDP_BAD_CONNECTION', 'expected "c=IN IP4|IP6 <address>"');
        if (section === undefined) session.connection = c;
        else section.connection = c;
        break;
      }
      case 'b': {
        const b = BANDWIDTH.exec(value);
        if (b === null) fail('ERR_SDP_BAD_BANDWIDTH', 'expected "b=<type>:<number>"');
        if (section !== undefined) section.bandwidth.push({ type: b![1]!, value: Number(b![2]) });
        break;
      }
      case 'm': {
        if (!sawOrigin) fail('ERR_SDP_MISSING_ORIGIN', 'no "o=" line before the first m-section');
        if (section !== undefined) finishSection(section, pending!);
        const mt = MEDIA_LINE.exec(value);
        if (mt === null || Number(mt[2]) > 65535) fail('ERR_SDP_BAD_MEDIA_LINE', 'expected "m=<media> <port> <proto> <fmt> ..."');
        const formats = filterList(mt![4]!.split(' '), isNonEmpty);
        section = createMediaSection(mt![1]!, Number(mt![2]), mt![3]!, formats);
        if (isRtpSection(section)) {
          for (let j = 0; j < formats.length; j++) {
            const f = formats[j]!;
            if (!PAYLOAD_TYPE.test(f) || Number(f) > 127) fail('ERR_SDP_BAD_MEDIA_LINE', `RTP format "${f}" is not a payload type 0..127`);
          }
        }
        pending = { rtpmap: new Map(), fmtp: new Map(), rtcpFb: new Map() };
        session.media.push(section);
        break;
      }
      case 'a':
        if (section === undefined) parseSessionAttribute(session, value, fail);
        else parseMediaAttribute(section, pending!, value, line, cur.lineNumber, fail);
        break;
      default:
        // i=, u=, e=, p=, r=, z=, k= carry nothing WebRTC uses.
        break;
    }
  }
  if (!sawVersion) throw new SdpSyntaxError('ERR_SDP_EMPTY', 'no "v=0" line');
  if (!sawOrigin) throw new SdpSyntaxError('ERR_SDP_MISSING_ORIGIN', 'no "o=" line');
  if (section !== undefined) finishSection(section, pending!);
  return session;
}

/**
 * Brings one line to the single-space form the RFC 8866 §9 grammar writes, so that the quirks of
 * real stacks read the same as the clean form (docs/sdp.md, "Leniency"): spaces and tabs at either
 * end are dropped (pion's `a=rtcp-fb:111 transport-cc `, a CR left by mixed line ends), runs of
 * spaces and tabs between fields become one space, and spaces after `a=<name>:` are dropped
 * (libwebrtc's `a=msid-semantic: WMS`). Free-text lines (`s=`, `i=`, `u=`, `e=`, `p=`) keep their
 * inner spacing. Nothing here can turn an invalid token into a valid one: SDP tokens never hold
 * whitespace, so only separators change.
 */
function normalizeLine(raw: string): string {
  // Most lines of real SDP are already in that form: one test instead of four replaces.
  if (!UNCLEAN.test(raw)) return raw;
  const line = raw.replace(EDGE_WHITESPACE, '');
  if (line.length < 2 || line[1] !== '=') return line;
  const type = line[0]!;
  let value = line.slice(2).replace(LEADING_WHITESPACE, '');
  if (!FREE_TEXT_TYPES.has(type)) value = value.replace(INNER_WHITESPACE, ' ');
  if (type === 'a') value = value.replace(SPACE_AFTER_ATTRIBUTE_NAME, '$1');
  return `${type}=${value}`;
}

/** Arrays the model keeps are built by push, not filter/map (lib/common/list-map.ts). */
function isNonEmpty(token: string): boolean {
  return token.length > 0;
}

type Fail = (code: ConstructorParameters<typeof SdpSyntaxError>[0], why: string) => never;

function splitAttribute(value: string): { name: string; arg: string | undefined } {
  const colon = value.indexOf(':');
  return colon < 0 ? { name: value, arg: undefined } : { name: value.slice(0, colon), arg: value.slice(colon + 1) };
}

/** Attributes valid at both levels: ICE, DTLS, direction, extmap-allow-mixed. Returns false if not one of them. */
function parseTransportAttribute(
  target: SdpTransportAttributes,
  name: string,
  arg: string | undefined,
  fail: Fail,
): boolean {
  switch (name) {
    case 'ice-ufrag':
      if (arg === undefined || !NON_WS.test(arg) || arg.length > 256) fail('ERR_SDP_BAD_ATTRIBUTE', 'bad ice-ufrag');
      target.iceUfrag = arg;
      return true;
    case 'ice-pwd':
      if (arg === undefined || !NON_WS.test(arg) || arg.length > 256) fail('ERR_SDP_BAD_ATTRIBUTE', 'bad ice-pwd');
      target.icePwd = arg;
      return true;
    case 'ice-options':
      if (arg === undefined) fail('ERR_SDP_BAD_ATTRIBUTE', 'ice-options without a value');
      // ice-char excludes ',' (RFC 8839 §5.6), so libdatachannel's `ice2,trickle` can only mean two tags.
      target.iceOptions = filterList(arg!.split(ICE_OPTIONS_SEPARATOR), isNonEmpty);
      return true;
    case 'fingerprint': {
      // Exactly two fields (RFC 8122 §5): sdp-transform's grammar would ignore a third one, and a
      // fingerprint read from part of its value must never pass.
      const f = FINGERPRINT.exec(arg ?? '');
      if (f === null || !FINGERPRINT_VALUE.test(f[2]!)) {
        fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "fingerprint:<hash-function> <XX:XX:...>"');
      }
      target.fingerprints.push({ algorithm: f![1]!.toLowerCase(), value: f![2]!.toUpperCase() });
      return true;
    }
    case 'setup':
      if (arg === undefined || !SETUP_ROLES.has(arg)) fail('ERR_SDP_BAD_ATTRIBUTE', 'setup must be actpass, active, passive or holdconn');
      target.setup = arg as SetupRole;
      return true;
    default:
      return false;
  }
}

function parseSessionAttribute(session: SdpSessionDescription, value: string, fail: Fail): void {
  const { name, arg } = splitAttribute(value);
  if (parseTransportAttribute(session, name, arg, fail)) return;
  if (arg === undefined && DIRECTIONS.has(name)) {
    session.direction = name as MediaDirection;
    return;
  }
  switch (name) {
    case 'group': {
      const g = GROUP.exec(arg ?? '');
      if (g === null) fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "group:<semantics> <mid> ..."');
      session.groups.push({ semantics: g![1]!, mids: filterList(g![2]!.split(' '), isNonEmpty) });
      return;
    }
    case 'extmap-allow-mixed':
      session.extmapAllowMixed = true;
      return;
    case 'ice-lite':
      session.iceLite = true;
      return;
    case 'msid-semantic': {
      const parts = (arg ?? '').split(' ').filter((s) => s.length > 0);
      if (parts.length === 0) fail('ERR_SDP_BAD_ATTRIBUTE', 'msid-semantic without a semantic');
      session.msidSemantic = { semantic: parts[0]!, ids: parts.slice(1) };
      return;
    }
    default:
      session.otherAttributes.push(arg === undefined ? { name } : { name, value: arg });
      return;
  }
}

function parseMediaAttribute(
  section: SdpMediaSection,
  pending: PendingRtp,
  value: string,
  line: string,
  lineNumber: number,
  fail: Fail,
): void {
  // Not split by splitAttribute: this runs for nearly every line of a description, and its
  // object would be one more allocation per line.
  const colon = value.indexOf(':');
  const name = colon < 0 ? value : value.slice(0, colon);
  const arg = colon < 0 ? undefined : value.slice(colon + 1);
  if (parseTransportAttribute(section, name, arg, fail)) return;
  if (arg === undefined && DIRECTIONS.has(name)) {
    section.direction = name as MediaDirection;
    return;
  }
  switch (name) {
    case 'mid':
      if (arg === undefined || !MID_VALUE.test(arg)) fail('ERR_SDP_BAD_ATTRIBUTE', 'mid must be 1-255 visible characters');
      section.mid = arg;
      return;
    case 'rtpmap': {
      const r = RTPMAP.exec(value);
      const pt = Number(r?.[1]);
      const rate = Number(r?.[3]);
      const channels = r?.[4] === undefined ? undefined : Number(r[4]);
      if (
        r === null || !(pt >= 0 && pt <= 127) || !ENCODING_NAME.test(r[2]!) ||
        !(Number.isInteger(rate) && rate > 0 && rate <= U32_MAX) ||
        (channels !== undefined && !(Number.isInteger(channels) && channels > 0 && channels < 256))
      ) {
        fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "rtpmap:<pt 0..127> <name>/<clock>[/<channels>]"');
      }
      if (!pending.rtpmap.has(pt)) {
        pending.rtpmap.set(pt, channels === undefined ? { name: r![2]!, clockRate: rate } : { name: r![2]!, clockRate: rate, channels });
      }
      return;
    }
    case 'fmtp': {
      const f = FMTP.exec(value);
      const pt = Number(f?.[1]);
      if (f === null || f[1] === '' || !(pt >= 0 && pt <= 127)) fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "fmtp:<pt 0..127> <parameters>"');
      // Several fmtp lines for one PT merge; a Map keeps this linear however many lines come.
      const merged = pending.fmtp.get(pt) ?? new Map<string, string>();
      const rest = f![2] ?? '';
      const end = rest.search(WHITESPACE_BUT_SPACE);
      for (const [k, v] of Object.entries(parseFmtp(end < 0 ? rest : rest.slice(0, end)))) merged.set(k, v);
      pending.fmtp.set(pt, merged);
      return;
    }
    case 'rtcp-fb': {
      const fb = RTCP_FB.exec(arg ?? '');
      if (fb === null || (fb[1] !== '*' && Number(fb[1]) > 127)) fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "rtcp-fb:<pt|*> <type> [<parameter>]"');
      const entry: RtcpFeedback = fb![3] === undefined ? { type: fb![2]! } : { type: fb![2]!, parameter: fb![3] };
      if (fb![1] === '*') section.rtcpFeedbackWildcard.push(entry);
      else {
        const pt = Number(fb![1]);
        const list = pending.rtcpFb.get(pt) ?? [];
        list.push(entry);
        pending.rtcpFb.set(pt, list);
      }
      return;
    }
    case 'extmap': {
      // RFC 6904 encrypted extensions: kept verbatim, unsupported.
      if (ENCRYPTED_EXTMAP.test(value)) break;
      const e = EXTMAP.exec(arg ?? '');
      const id = Number(e?.[1]);
      if (e === null || !(id >= 1 && id <= 255) || (e[2] !== undefined && !DIRECTIONS.has(e[2]))) {
        fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "extmap:<id 1..255>[/<direction>] <uri> [<attributes>]"');
      }
      const ext: SdpMediaSection['extmaps'][number] = { id, uri: knownExtensionUri(e![3]!) };
      if (e![2] !== undefined) ext.direction = e![2] as MediaDirection;
      if (e![4] !== undefined && e![4].trim().length > 0) ext.attributes = e![4].trim();
      section.extmaps.push(ext);
      return;
    }
    case 'extmap-allow-mixed':
      section.extmapAllowMixed = true;
      return;
    case 'ssrc': {
      // RFC 5576 §4.1: ssrc-attr = "ssrc:" ssrc-id SP attribute [":" value]
      const m = SSRC.exec(arg ?? '');
      if (m === null || Number(m[1]) > U32_MAX) fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "ssrc:<ssrc> <attribute>[:<value>]"');
      const ssrc = Number(m![1]);
      section.ssrcs.push(m![3] === undefined ? { ssrc, attribute: m![2]! } : { ssrc, attribute: m![2]!, value: m![3] });
      return;
    }
    case 'ssrc-group': {
      const m = SSRC_GROUP.exec(arg ?? '');
      const ids = m === null ? [] : filterList(m[2]!.split(' '), isNonEmpty);
      if (m === null || ids.length === 0 || ids.some((x) => !SSRC_ID.test(x) || Number(x) > U32_MAX)) {
        fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "ssrc-group:<semantics> <ssrc> ..."');
      }
      section.ssrcGroups.push({ semantics: m![1]!, ssrcs: mapList(ids, Number) });
      return;
    }
    case 'msid': {
      const parts = (arg ?? '').split(' ');
      if (parts.length < 1 || parts.length > 2 || parts.some((p) => !MID.test(p))) {
        fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "msid:<stream-id> [<track-id>]"');
      }
      section.msids.push(parts.length === 2 ? { stream: parts[0]!, track: parts[1]! } : { stream: parts[0]! });
      return;
    }
    case 'rid':
      section.rids.push(parseRid(arg ?? '', fail));
      return;
    case 'simulcast':
      section.simulcast = parseSimulcast(arg ?? '', fail);
      return;
    case 'candidate':
      section.candidates.push(parseCandidate(value, lineNumber, line));
      return;
    case 'end-of-candidates':
      section.endOfCandidates = true;
      return;
    case 'rtcp': {
      const r = RTCP.exec(arg ?? '');
      if (r === null || Number(r[1]) > 65535) fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "rtcp:<port> [IN IP4|IP6 <address>]"');
      section.rtcp = r![2] === undefined
        ? { port: Number(r![1]) }
        : { port: Number(r![1]), connection: { addressType: r![2] as AddressType, address: r![3]! } };
      return;
    }
    case 'rtcp-mux':
      section.rtcpMux = true;
      return;
    case 'rtcp-rsize':
      section.rtcpRsize = true;
      return;
    case 'rtcp-xr': {
      // RFC 3611 §5.1: xr-format *(SP xr-format). Only rcvr-rtt is read; other formats and a
      // malformed rcvr-rtt are ignored, so the line never fails the description.
      for (const format of (arg ?? '').trim().split(/\s+/)) {
        const r = /^rcvr-rtt=(all|sender)(?::(\d{1,9}))?$/i.exec(format);
        if (r === null) continue;
        const mode = r[1]!.toLowerCase() === 'all' ? 'all' : 'sender';
        section.rtcpXrReceiverRtt = r[2] === undefined ? { mode } : { mode, maxSize: Number(r[2]) };
      }
      return;
    }
    case 'bundle-only':
      section.bundleOnly = true;
      return;
    case 'sctp-port':
      section.sctpPort = parsePortNumber(arg, 'sctp-port', fail);
      return;
    case 'max-message-size': {
      if (arg === undefined || !MAX_MESSAGE_SIZE.test(arg) || Number(arg) > Number.MAX_SAFE_INTEGER) {
        fail('ERR_SDP_BAD_ATTRIBUTE', 'max-message-size must be an integer 0..2^53-1');
      }
      section.maxMessageSize = Number(arg);
      return;
    }
    case 'sctpmap': {
      const s = SCTPMAP.exec(arg ?? '');
      if (s === null || Number(s[1]) > 65535) fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "sctpmap:<port> <app> [<streams>]"');
      section.sctpmap = s![3] === undefined ? { port: Number(s![1]), app: s![2]! } : { port: Number(s![1]), app: s![2]!, streams: Number(s![3]) };
      return;
    }
    default:
      break;
  }
  section.otherAttributes.push(arg === undefined ? { name } : { name, value: arg });
}

function parsePortNumber(arg: string | undefined, what: string, fail: Fail): number {
  if (arg === undefined || !PORT.test(arg) || Number(arg) > 65535) fail('ERR_SDP_BAD_ATTRIBUTE', `${what} must be 0..65535`);
  return Number(arg);
}

function parseConnection(value: string): SdpConnection | undefined {
  // A multicast address may carry `/<ttl>[/<count>]` (RFC 8866 §5.7; GStreamer's RTSP SDP writes
  // `0.0.0.0/127`); WebRTC is unicast, so the suffix is read and dropped.
  const c = CONNECTION.exec(value);
  if (c === null) return undefined;
  return { addressType: c[1] as AddressType, address: c[2]! };
}

/** `rid-syntax = %s"a=rid:" rid-id SP rid-dir [ rid-pt-param-list / rid-param-list ]` (RFC 8851 §10). */
function parseRid(arg: string, fail: Fail): SdpMediaSection['rids'][number] {
  const r = /^([^ ]+) (send|recv)(?: (.+))?$/.exec(arg);
  if (r === null || !RID_ID.test(r[1]!)) fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "rid:<id> send|recv [<restrictions>]"');
  const rid: SdpMediaSection['rids'][number] = { id: r![1]!, direction: r![2] as 'send' | 'recv', payloadTypes: [], restrictions: {} };
  if (r![3] !== undefined) {
    const restrictions: Array<[string, string]> = [];
    for (const [k, v] of Object.entries(parseFmtp(r![3]))) {
      if (k === 'pt') {
        const pts = v.split(',');
        if (pts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 127)) fail('ERR_SDP_BAD_ATTRIBUTE', 'rid pt= must list payload types');
        rid.payloadTypes = pts.map(Number);
      } else restrictions.push([k, v]);
    }
    rid.restrictions = Object.fromEntries(restrictions);
  }
  return rid;
}

/** `a=simulcast:<dir> <streams> [<dir> <streams>]` (RFC 8853 §5.1). */
function parseSimulcast(arg: string, fail: Fail): { send: SimulcastRid[][]; recv: SimulcastRid[][] } {
  const parts = arg.trim().split(/ +/);
  const result = { send: [] as SimulcastRid[][], recv: [] as SimulcastRid[][] };
  if (parts.length !== 2 && parts.length !== 4) fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "simulcast:send|recv <streams> [send|recv <streams>]"');
  const seen = new Set<string>();
  for (let i = 0; i < parts.length; i += 2) {
    const dir = parts[i]!;
    if ((dir !== 'send' && dir !== 'recv') || seen.has(dir)) fail('ERR_SDP_BAD_ATTRIBUTE', 'simulcast direction must be send or recv, each once');
    seen.add(dir);
    // draft-ietf-mmusic-sdp-simulcast-03 (Firefox <= 62, old Chrome) wrote `send rid=a;b`.
    const streams = parts[i + 1]!.startsWith('rid=') ? parts[i + 1]!.slice(4) : parts[i + 1]!;
    result[dir as 'send' | 'recv'] = streams.split(';').map((stream) =>
      stream.split(',').map((alt) => {
        const paused = alt.startsWith('~');
        const rid = paused ? alt.slice(1) : alt;
        if (!RID_ID.test(rid)) fail('ERR_SDP_BAD_ATTRIBUTE', `bad rid "${rid}" in simulcast`);
        return { rid, paused };
      }),
    );
  }
  return result;
}

/** Builds the codec list of a finished RTP section from its rtpmap/fmtp/rtcp-fb lines, in m-line order. */
function finishSection(section: SdpMediaSection, pending: PendingRtp): void {
  if (!isRtpSection(section)) return;
  const codecs: SdpCodec[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < section.formats.length; i++) {
    const f = section.formats[i]!;
    const pt = Number(f);
    if (seen.has(pt)) continue;
    seen.add(pt);
    const map = pending.rtpmap.get(pt) ?? staticPayloadType(pt);
    if (map === undefined) continue;
    const codec: SdpCodec = {
      payloadType: pt,
      name: map.name,
      clockRate: map.clockRate,
      parameters: Object.fromEntries(pending.fmtp.get(pt) ?? []),
      rtcpFeedback: pending.rtcpFb.get(pt) ?? [],
    };
    if (map.channels !== undefined) codec.channels = map.channels;
    codecs.push(codec);
  }
  section.codecs = codecs;
}
