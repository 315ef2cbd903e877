// SDP text → typed model (RFC 8866 §5 grammar, with the WebRTC attributes of RFC 8829 §5.8).
// Errors name the offending line; nothing but SdpSyntaxError is ever thrown.
import { readCandidate } from './candidate.js';
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
  type SdpOtherAttribute,
  type SdpSessionDescription,
  type SdpTransportAttributes,
  type SetupRole,
  type SimulcastRid,
} from './model.js';
import { SdpSyntaxError } from './sdp-error.js';
import { HeaderExtensionUri } from './capabilities.js';
import { staticPayloadType } from './static-payload-types.js';

// Lines are read in place, by offsets into the text: a line that is already in the normal form
// (nearly every line of real SDP) is neither sliced nor split into name and value, an attribute's
// name is matched where it stands, and the lines that repeat (rtpmap, fmtp, rtcp-fb, extmap, ssrc)
// are scanned by hand when they are ASCII, so that the only strings made are the model's own
// fields. Other lines, and those with non-ASCII text, are read by one regular expression of ours
// (hoisted here, so that no line allocates one). The scanners accept exactly what the expressions
// accept (test/unit/sdp/parse-equivalence.test.ts compares the models and errors with the
// line-by-line parser this replaced); o=, c=, rtpmap, fmtp and the encrypted-extmap test accept
// exactly what sdp-transform's grammar accepted (test/unit/sdp/grammar-agreement.test.ts).
// docs/sdp.md "Parsing".

/** Longest SDP text accepted, in UTF-16 code units; real descriptions stay far below it. */
export const MAX_SDP_LENGTH = 1 << 20;

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
// `rtpmap:<pt> <encoding name>/<clock rate>[/<channels>]` (RFC 8866 §6.6); the name must be word
// characters, `-` and `.`.
const RTPMAP = /^(\d+) ([^ /]+)\/(\d+)(?:\/(\d+))?$/;
const ENCODING_NAME = /^[\w.-]+$/;
// `fmtp:<pt> <parameters>` (RFC 8866 §6.15): the parameters end at any whitespace but a space
// (a tab never gets here: normalizeLine made it a space).
const FMTP = /^(\d*) (.*)/;
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

// RFC 6904 encrypted header extension: `extmap:<id>[/<dir>] urn:ietf:params:rtp-hdrext:encrypt <uri>`,
// matched at the argument's offset in the text (sticky), which it cannot run past: no line end in it.
const ENCRYPTED_EXTMAP_AT = /\d+(?:\/\w+)? urn:ietf:params:rtp-hdrext:encrypt /y;
const EXTMAP = /^(\d{1,3})(?:\/([a-z]+))? (\S+)(?: (.*\S))? *$/;
const RTCP_FB = /^(\*|\d{1,3}) ([\x21-\x7e]+)(?: ([\x21-\x7e]+(?: [\x21-\x7e]+)*))?$/;
const SSRC = /^(\d{1,10}) ([^ :]+)(?::(.*))?$/;
const SSRC_GROUP = /^([\x21-\x7e]+) (.*)$/;
const SSRC_ID = /^\d{1,10}$/;
const MID = /^[\x21-\x7e]{1,256}$/;
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
// Lines whose value is free text (RFC 8866 §5.3-§5.6): their inner spacing is content.
const FREE_TEXT_TYPES: ReadonlySet<string> = new Set(['s', 'i', 'u', 'e', 'p']);
const RID_ID = /^[A-Za-z0-9_-]{1,255}$/;
const FINGERPRINT_VALUE = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})*$/;
const U32_MAX = 0xffffffff;
const XR_SEPARATOR = /\s+/;
const RCVR_RTT = /^rcvr-rtt=(all|sender)(?::(\d{1,9}))?$/i;
const RID = /^([^ ]+) (send|recv)(?: (.+))?$/;
const SPACES = / +/;


interface PendingRtp {
  rtpmap: Map<number, { name: string; clockRate: number; channels?: number }>;
  fmtp: Map<number, Map<string, string>>;
  rtcpFb: Map<number, RtcpFeedback[]>;
}

/** Where the line being read is: its number and its raw extent in the text (CR dropped), sliced only for an error. */
interface Cursor {
  lineNumber: number;
  start: number;
  end: number;
}

/** One line to read: the text it is in (the description itself, or its normalized copy) and its extent there. */
interface Line {
  src: string;
  start: number;
  end: number;
}

/**
 * Whether a raw line is already in normal form (what normalizeLine would leave unchanged, the
 * UNCLEAN test) with no control character (CONTROL); if not, it goes through normalizeLine.
 */
function plainLine(text: string, start: number, end: number): boolean {
  if (start === end) return true;
  if (text.charCodeAt(start) === 0x20 || text.charCodeAt(end - 1) === 0x20) return false;
  let previous = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    // Tab and CR (unclean) and every other control character or line terminator (refused after normalizing).
    if (c < 0x20 || c === 0x7f || c === 0x2028 || c === 0x2029) return false;
    if (c === 0x20 && previous === 0x20) return false;
    previous = c;
  }
  // `a=<name>: ` (libwebrtc's `a=msid-semantic: WMS`).
  if (text.charCodeAt(start) === 0x61 && text.charCodeAt(start + 1) === 0x3d) {
    let i = start + 2;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c === 0x3a || c === 0x20) break;
      i++;
    }
    if (i > start + 2 && i + 1 < end && text.charCodeAt(i) === 0x3a && text.charCodeAt(i + 1) === 0x20) return false;
  }
  return true;
}

const TYPE_CODES = 'vosiuepcbtrzkam';
/** Characters that make a line not plain (plainLine) wherever they are: a tab, a control character but LF and CR. */
const UNCLEAN_CHARACTER = /[\t\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]/;
const LONE_CR = /\r(?!\n)/;

/**
 * Whether every line of a text is plain (plainLine) but perhaps for `a=<name>: `, which the
 * attribute's own scan finds: no tab or other control character but LF and the CR of a CRLF, no
 * two spaces, no space at either end of a line. Each test is one scan of the text in native code
 * (a search for a string or a character class) instead of one in JavaScript per line.
 */
function plainLines(text: string): boolean {
  return (
    text.charCodeAt(0) !== 0x20 && text.charCodeAt(text.length - 1) !== 0x20 &&
    text.indexOf('  ') < 0 && text.indexOf(' \n') < 0 && text.indexOf('\n ') < 0 && text.indexOf(' \r') < 0 &&
    !UNCLEAN_CHARACTER.test(text) && !LONE_CR.test(text)
  );
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
  const cur: Cursor = { lineNumber: 0, start: 0, end: 0 };
  const line: Line = { src: text, start: 0, end: 0 };
  const fail = (code: ConstructorParameters<typeof SdpSyntaxError>[0], why: string): never => {
    throw new SdpSyntaxError(code, why, cur.lineNumber, text.slice(cur.start, cur.end));
  };
  // A few scans of the whole text (native code) instead of one in JavaScript per line, for the
  // usual text whose every line is plain.
  const plainText = plainLines(text);
  // The first colon at or after the current line in the text (text.length when there is none):
  // one search finds it for every line up to it, so that lines without one cost no rescan.
  let nextColon = -1;

  // Lines end at LF alone: CRLF, LF and a mix of both all work, and a CR left inside a line is
  // refused. A line in normal form is read where it stands; any other is normalized into a copy.
  for (let start = 0, lineNumber = 1; start <= text.length; lineNumber++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    cur.lineNumber = lineNumber;
    cur.start = start;
    cur.end = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    start = end + 1;
    if (plainText || plainLine(text, cur.start, cur.end)) {
      line.src = text;
      line.start = cur.start;
      line.end = cur.end;
    } else {
      const normalized = normalizeLine(text.slice(cur.start, cur.end));
      if (normalized.length > 0 && CONTROL.test(normalized)) fail('ERR_SDP_BAD_LINE', 'not a "<letter>=<value>" line');
      line.src = normalized;
      line.start = 0;
      line.end = normalized.length;
    }
    const src = line.src;
    const ls = line.start;
    const le = line.end;
    if (le === ls) continue;
    // `<letter>=<value>`: a lower-case letter, '=', and no control character or line terminator.
    const letter = src.charCodeAt(ls);
    if (letter < 0x61 || letter > 0x7a || src.charCodeAt(ls + 1) !== 0x3d) fail('ERR_SDP_BAD_LINE', 'not a "<letter>=<value>" line');
    if (TYPE_CODES.indexOf(src[ls]!) < 0) fail('ERR_SDP_BAD_LINE', `unknown line type "${src[ls]!}"`);
    if (!sawVersion) {
      if (letter !== 0x76 || le - ls !== 3 || src.charCodeAt(ls + 2) !== 0x30) fail('ERR_SDP_BAD_VERSION', 'a description must start with "v=0"');
      sawVersion = true;
      continue;
    }
    switch (letter) {
      case 0x76: // v
        fail('ERR_SDP_BAD_VERSION', 'second "v=" line');
        break;
      case 0x6f: { // o
        if (section !== undefined || sawOrigin) fail('ERR_SDP_BAD_ORIGIN', '"o=" must appear once, at session level');
        const o = ORIGIN.exec(src.slice(ls + 2, le));
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
      case 0x73: // s
        if (section === undefined) session.sessionName = src.slice(ls + 2, le);
        break;
      case 0x74: { // t
        const t = TIMING.exec(src.slice(ls + 2, le));
        if (t === null) fail('ERR_SDP_BAD_TIMING', 'expected "t=<start> <stop>"');
        session.timing = { start: Number(t![1]), stop: Number(t![2]) };
        break;
      }
      case 0x63: { // c
        const c = parseConnection(src.slice(ls + 2, le));
        if (c === undefined) fail('ERR_SDP_BAD_CONNECTION', 'expected "c=IN IP4|IP6 <address>"');
        if (section === undefined) session.connection = c;
        else section.connection = c;
        break;
      }
      case 0x62: { // b
        const b = BANDWIDTH.exec(src.slice(ls + 2, le));
        if (b === null) fail('ERR_SDP_BAD_BANDWIDTH', 'expected "b=<type>:<number>"');
        if (section !== undefined) section.bandwidth.push({ type: b![1]!, value: Number(b![2]) });
        break;
      }
      case 0x6d: { // m
        if (!sawOrigin) fail('ERR_SDP_MISSING_ORIGIN', 'no "o=" line before the first m-section');
        if (section !== undefined) finishSection(section, pending!);
        const mt = MEDIA_LINE.exec(src.slice(ls + 2, le));
        if (mt === null || Number(mt[2]) > 65535) fail('ERR_SDP_BAD_MEDIA_LINE', 'expected "m=<media> <port> <proto> <fmt> ..."');
        const formats = mt![4]!.split(' ').filter((f) => f.length > 0);
        section = createMediaSection(mt![1]!, Number(mt![2]), mt![3]!, formats);
        if (isRtpSection(section)) {
          for (const f of formats) {
            if (!PAYLOAD_TYPE.test(f) || Number(f) > 127) fail('ERR_SDP_BAD_MEDIA_LINE', `RTP format "${f}" is not a payload type 0..127`);
          }
        }
        pending = { rtpmap: new Map(), fmtp: new Map(), rtcpFb: new Map() };
        session.media.push(section);
        break;
      }
      case 0x61: { // a
        // The name ends at the first colon; it is matched where it stands, not sliced.
        let colon: number;
        if (src === text) {
          if (nextColon < ls) {
            nextColon = text.indexOf(':', ls + 2);
            if (nextColon < 0) nextColon = text.length;
          }
          colon = nextColon < le ? nextColon : le;
        } else {
          colon = src.indexOf(':', ls + 2);
          if (colon < 0) colon = le;
        }
        if (colon > ls + 2 && colon + 1 < le && src.charCodeAt(colon + 1) === 0x20 && !hasSpace(src, ls + 2, colon)) {
          // `a=<name>: <value>` (libwebrtc's `a=msid-semantic: WMS`), the one form plainLines
          // leaves to this scan: read from the normalized copy, as plainLine would have sent it.
          const normalized = normalizeLine(text.slice(cur.start, cur.end));
          colon -= ls;
          line.src = normalized;
          line.start = 0;
          line.end = normalized.length;
        }
        const id = attributeId(line.src, line.start + 2, colon);
        if (section === undefined) parseSessionAttribute(session, id, line, colon, fail);
        else parseMediaAttribute(section, pending!, id, line, colon, lineNumber, fail);
        break;
      }
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

type Fail = (code: ConstructorParameters<typeof SdpSyntaxError>[0], why: string) => never;

/** The attributes we read, by name; `Attribute.Other` is every other name (kept in otherAttributes). */
const enum Attribute {
  Other,
  IceUfrag,
  IcePwd,
  IceOptions,
  Fingerprint,
  Setup,
  Group,
  ExtmapAllowMixed,
  IceLite,
  MsidSemantic,
  Mid,
  Rtpmap,
  Fmtp,
  RtcpFb,
  Extmap,
  Ssrc,
  SsrcGroup,
  Msid,
  Rid,
  Simulcast,
  Candidate,
  EndOfCandidates,
  Rtcp,
  RtcpMux,
  RtcpRsize,
  RtcpXr,
  BundleOnly,
  SctpPort,
  MaxMessageSize,
  Sctpmap,
  Sendrecv,
  Sendonly,
  Recvonly,
  Inactive,
}

const ATTRIBUTE_NAMES: ReadonlyArray<readonly [string, Attribute]> = [
  ['ice-ufrag', Attribute.IceUfrag], ['ice-pwd', Attribute.IcePwd], ['ice-options', Attribute.IceOptions],
  ['fingerprint', Attribute.Fingerprint], ['setup', Attribute.Setup], ['group', Attribute.Group],
  ['extmap-allow-mixed', Attribute.ExtmapAllowMixed], ['ice-lite', Attribute.IceLite], ['msid-semantic', Attribute.MsidSemantic],
  ['mid', Attribute.Mid], ['rtpmap', Attribute.Rtpmap], ['fmtp', Attribute.Fmtp], ['rtcp-fb', Attribute.RtcpFb],
  ['extmap', Attribute.Extmap], ['ssrc', Attribute.Ssrc], ['ssrc-group', Attribute.SsrcGroup], ['msid', Attribute.Msid],
  ['rid', Attribute.Rid], ['simulcast', Attribute.Simulcast], ['candidate', Attribute.Candidate],
  ['end-of-candidates', Attribute.EndOfCandidates], ['rtcp', Attribute.Rtcp], ['rtcp-mux', Attribute.RtcpMux],
  ['rtcp-rsize', Attribute.RtcpRsize], ['rtcp-xr', Attribute.RtcpXr], ['bundle-only', Attribute.BundleOnly],
  ['sctp-port', Attribute.SctpPort], ['max-message-size', Attribute.MaxMessageSize], ['sctpmap', Attribute.Sctpmap],
  ['sendrecv', Attribute.Sendrecv], ['sendonly', Attribute.Sendonly], ['recvonly', Attribute.Recvonly], ['inactive', Attribute.Inactive],
];
/** Names and ids by a key made of the length, first and last character (nameKey); one or two per key. */
const ATTRIBUTES_BY_KEY = new Map<number, Array<readonly [string, Attribute]>>();
for (const entry of ATTRIBUTE_NAMES) {
  const key = nameKey(entry[0], 0, entry[0].length);
  const list = ATTRIBUTES_BY_KEY.get(key);
  if (list === undefined) ATTRIBUTES_BY_KEY.set(key, [entry]);
  else list.push(entry);
}

/** A small integer from a name's length, first and last character (a key to verify, not an identity). */
function nameKey(src: string, start: number, end: number): number {
  return (((end - start) & 0x7f) << 16) | ((src.charCodeAt(start) & 0xff) << 8) | (src.charCodeAt(end - 1) & 0xff);
}

/**
 * The attribute named by `src[start, end)`, matched in place: a key from three characters, then one
 * native comparison (most set-up runs before the optimizer has compiled this, so the per-character
 * work is left to the engine's own string code).
 */
function attributeId(src: string, start: number, end: number): Attribute {
  if (end === start) return Attribute.Other;
  const list = ATTRIBUTES_BY_KEY.get(nameKey(src, start, end));
  if (list === undefined) return Attribute.Other;
  for (let i = 0; i < list.length; i++) {
    const entry = list[i]!;
    if (entry[0].length === end - start && src.startsWith(entry[0], start)) return entry[1];
  }
  return Attribute.Other;
}

/** Whether `src[start, end)` holds a space (only asked of `a=<name>: ` lines). */
function hasSpace(src: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (src.charCodeAt(i) === 0x20) return true;
  return false;
}

const DIRECTION_OF: Partial<Record<Attribute, MediaDirection>> = {
  [Attribute.Sendrecv]: 'sendrecv',
  [Attribute.Sendonly]: 'sendonly',
  [Attribute.Recvonly]: 'recvonly',
  [Attribute.Inactive]: 'inactive',
};

/** The text after the attribute's colon, or undefined when it has none. */
function argOf(line: Line, colon: number): string | undefined {
  return colon < line.end ? line.src.slice(colon + 1, line.end) : undefined;
}

/** Attributes valid at both levels: ICE, DTLS. Returns false if not one of them. */
function parseTransportAttribute(
  target: SdpTransportAttributes,
  id: Attribute,
  line: Line,
  colon: number,
  fail: Fail,
): boolean {
  switch (id) {
    case Attribute.IceUfrag: {
      const arg = argOf(line, colon);
      if (arg === undefined || !NON_WS.test(arg) || arg.length > 256) fail('ERR_SDP_BAD_ATTRIBUTE', 'bad ice-ufrag');
      target.iceUfrag = arg;
      return true;
    }
    case Attribute.IcePwd: {
      const arg = argOf(line, colon);
      if (arg === undefined || !NON_WS.test(arg) || arg.length > 256) fail('ERR_SDP_BAD_ATTRIBUTE', 'bad ice-pwd');
      target.icePwd = arg;
      return true;
    }
    case Attribute.IceOptions: {
      const arg = argOf(line, colon);
      if (arg === undefined) fail('ERR_SDP_BAD_ATTRIBUTE', 'ice-options without a value');
      // ice-char excludes ',' (RFC 8839 §5.6), so libdatachannel's `ice2,trickle` can only mean two tags.
      target.iceOptions = arg!.split(ICE_OPTIONS_SEPARATOR).filter((s) => s.length > 0);
      return true;
    }
    case Attribute.Fingerprint: {
      // Exactly two fields (RFC 8122 §5): sdp-transform's grammar would ignore a third one, and a
      // fingerprint read from part of its value must never pass.
      const f = FINGERPRINT.exec(argOf(line, colon) ?? '');
      if (f === null || !FINGERPRINT_VALUE.test(f[2]!)) {
        fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "fingerprint:<hash-function> <XX:XX:...>"');
      }
      target.fingerprints.push({ algorithm: f![1]!.toLowerCase(), value: f![2]!.toUpperCase() });
      return true;
    }
    case Attribute.Setup: {
      const arg = argOf(line, colon);
      if (arg === undefined || !SETUP_ROLES.has(arg)) fail('ERR_SDP_BAD_ATTRIBUTE', 'setup must be actpass, active, passive or holdconn');
      target.setup = arg as SetupRole;
      return true;
    }
    default:
      return false;
  }
}

/** Keeps an attribute we do not model, verbatim. */
function otherAttribute(line: Line, colon: number): SdpOtherAttribute {
  const name = line.src.slice(line.start + 2, colon);
  return colon < line.end ? { name, value: line.src.slice(colon + 1, line.end) } : { name };
}

function parseSessionAttribute(session: SdpSessionDescription, id: Attribute, line: Line, colon: number, fail: Fail): void {
  if (parseTransportAttribute(session, id, line, colon, fail)) return;
  const direction = DIRECTION_OF[id];
  if (direction !== undefined && colon === line.end) {
    session.direction = direction;
    return;
  }
  switch (id) {
    case Attribute.Group: {
      const g = GROUP.exec(argOf(line, colon) ?? '');
      if (g === null) fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "group:<semantics> <mid> ..."');
      session.groups.push({ semantics: g![1]!, mids: g![2]!.split(' ').filter((s) => s.length > 0) });
      return;
    }
    case Attribute.ExtmapAllowMixed:
      session.extmapAllowMixed = true;
      return;
    case Attribute.IceLite:
      session.iceLite = true;
      return;
    case Attribute.MsidSemantic: {
      const parts = (argOf(line, colon) ?? '').split(' ').filter((s) => s.length > 0);
      if (parts.length === 0) fail('ERR_SDP_BAD_ATTRIBUTE', 'msid-semantic without a semantic');
      session.msidSemantic = { semantic: parts[0]!, ids: parts.slice(1) };
      return;
    }
    default:
      session.otherAttributes.push(otherAttribute(line, colon));
      return;
  }
}

/** `rtpmap:<pt> <encoding name>/<clock rate>[/<channels>]`, the first line for a payload type wins. */
function parseRtpmap(pending: PendingRtp, arg: string, fail: Fail): void {
  const r = RTPMAP.exec(arg);
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
}

/** `fmtp:<pt> <parameters>` (RFC 8866 §6.15); several lines for one payload type merge, later keys win. */
function parseFmtpLine(pending: PendingRtp, arg: string, fail: Fail): void {
  const f = FMTP.exec(arg);
  const pt = Number(f?.[1]);
  if (f === null || f[1] === '' || !(pt >= 0 && pt <= 127)) fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "fmtp:<pt 0..127> <parameters>"');
  // Several fmtp lines for one PT merge; a Map keeps this linear however many lines come.
  const merged = pending.fmtp.get(pt) ?? new Map<string, string>();
  const rest = f![2]!;
  const end = rest.search(WHITESPACE_BUT_SPACE);
  for (const [k, v] of Object.entries(parseFmtp(end < 0 ? rest : rest.slice(0, end)))) merged.set(k, v);
  pending.fmtp.set(pt, merged);
}

/** `rtcp-fb:<pt|*> <type> [<parameter>...]` (RFC 4585 §4.2). */
function parseRtcpFb(section: SdpMediaSection, pending: PendingRtp, arg: string, fail: Fail): void {
  const fb = RTCP_FB.exec(arg);
  if (fb === null || (fb[1] !== '*' && Number(fb[1]) > 127)) fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "rtcp-fb:<pt|*> <type> [<parameter>]"');
  const entry: RtcpFeedback = fb![3] === undefined ? { type: fb![2]! } : { type: fb![2]!, parameter: fb![3] };
  if (fb![1] === '*') section.rtcpFeedbackWildcard.push(entry);
  else {
    const pt = Number(fb![1]);
    const list = pending.rtcpFb.get(pt);
    if (list === undefined) pending.rtcpFb.set(pt, [entry]);
    else list.push(entry);
  }
}

/**
 * `extmap:<id>[/<direction>] <uri> [<attributes>]` (RFC 8285 §8). Returns false for an RFC 6904
 * encrypted extension, which is kept verbatim and not supported.
 */
function parseExtmap(section: SdpMediaSection, line: Line, colon: number, fail: Fail): boolean {
  ENCRYPTED_EXTMAP_AT.lastIndex = colon + 1;
  if (ENCRYPTED_EXTMAP_AT.test(line.src)) return false;
  const e = EXTMAP.exec(argOf(line, colon) ?? '');
  const id = Number(e?.[1]);
  if (e === null || !(id >= 1 && id <= 255) || (e[2] !== undefined && !DIRECTIONS.has(e[2]))) {
    fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "extmap:<id 1..255>[/<direction>] <uri> [<attributes>]"');
  }
  const ext: SdpMediaSection['extmaps'][number] = { id, uri: knownExtensionUri(e![3]!) };
  if (e![2] !== undefined) ext.direction = e![2] as MediaDirection;
  if (e![4] !== undefined && e![4].trim().length > 0) ext.attributes = e![4].trim();
  section.extmaps.push(ext);
  return true;
}

/** `ssrc:<ssrc-id> <attribute>[:<value>]` (RFC 5576 §4.1). */
function parseSsrc(section: SdpMediaSection, arg: string, fail: Fail): void {
  const m = SSRC.exec(arg);
  if (m === null || Number(m[1]) > U32_MAX) fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "ssrc:<ssrc> <attribute>[:<value>]"');
  const ssrc = Number(m![1]);
  section.ssrcs.push(m![3] === undefined ? { ssrc, attribute: m![2]! } : { ssrc, attribute: m![2]!, value: m![3] });
}

function parseMediaAttribute(
  section: SdpMediaSection,
  pending: PendingRtp,
  id: Attribute,
  line: Line,
  colon: number,
  lineNumber: number,
  fail: Fail,
): void {
  if (parseTransportAttribute(section, id, line, colon, fail)) return;
  const direction = DIRECTION_OF[id];
  if (direction !== undefined && colon === line.end) {
    section.direction = direction;
    return;
  }
  switch (id) {
    case Attribute.Mid: {
      const arg = argOf(line, colon);
      if (arg === undefined || !MID.test(arg)) fail('ERR_SDP_BAD_ATTRIBUTE', 'mid must be 1-256 visible characters');
      section.mid = arg;
      return;
    }
    case Attribute.Rtpmap:
      parseRtpmap(pending, argOf(line, colon) ?? '', fail);
      return;
    case Attribute.Fmtp:
      parseFmtpLine(pending, argOf(line, colon) ?? '', fail);
      return;
    case Attribute.RtcpFb:
      parseRtcpFb(section, pending, argOf(line, colon) ?? '', fail);
      return;
    case Attribute.Extmap:
      if (parseExtmap(section, line, colon, fail)) return;
      break;
    case Attribute.ExtmapAllowMixed:
      section.extmapAllowMixed = true;
      return;
    case Attribute.Ssrc:
      parseSsrc(section, argOf(line, colon) ?? '', fail);
      return;
    case Attribute.SsrcGroup: {
      const m = SSRC_GROUP.exec(argOf(line, colon) ?? '');
      const ids = m === null ? [] : m[2]!.split(' ').filter((x) => x.length > 0);
      if (m === null || ids.length === 0 || ids.some((x) => !SSRC_ID.test(x) || Number(x) > U32_MAX)) {
        fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "ssrc-group:<semantics> <ssrc> ..."');
      }
      section.ssrcGroups.push({ semantics: m![1]!, ssrcs: ids.map(Number) });
      return;
    }
    case Attribute.Msid: {
      const parts = (argOf(line, colon) ?? '').split(' ');
      if (parts.length < 1 || parts.length > 2 || parts.some((p) => !MID.test(p))) {
        fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "msid:<stream-id> [<track-id>]"');
      }
      section.msids.push(parts.length === 2 ? { stream: parts[0]!, track: parts[1]! } : { stream: parts[0]! });
      return;
    }
    case Attribute.Rid:
      section.rids.push(parseRid(argOf(line, colon) ?? '', fail));
      return;
    case Attribute.Simulcast:
      section.simulcast = parseSimulcast(argOf(line, colon) ?? '', fail);
      return;
    case Attribute.Candidate: {
      // What parseCandidate reads of `candidate:<arg>`: the value trimmed (only its end can hold
      // whitespace), one `candidate:` prefix off. An error names the normalized line, as it did.
      const c = readCandidate((argOf(line, colon) ?? '').trimEnd());
      if (typeof c === 'string') throw new SdpSyntaxError('ERR_SDP_BAD_ATTRIBUTE', `bad candidate: ${c}`, lineNumber, line.src.slice(line.start, line.end));
      section.candidates.push(c);
      return;
    }
    case Attribute.EndOfCandidates:
      section.endOfCandidates = true;
      return;
    case Attribute.Rtcp: {
      const r = RTCP.exec(argOf(line, colon) ?? '');
      if (r === null || Number(r[1]) > 65535) fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "rtcp:<port> [IN IP4|IP6 <address>]"');
      section.rtcp = r![2] === undefined
        ? { port: Number(r![1]) }
        : { port: Number(r![1]), connection: { addressType: r![2] as AddressType, address: r![3]! } };
      return;
    }
    case Attribute.RtcpMux:
      section.rtcpMux = true;
      return;
    case Attribute.RtcpRsize:
      section.rtcpRsize = true;
      return;
    case Attribute.RtcpXr: {
      // RFC 3611 §5.1: xr-format *(SP xr-format). Only rcvr-rtt is read; other formats and a
      // malformed rcvr-rtt are ignored, so the line never fails the description.
      for (const format of (argOf(line, colon) ?? '').trim().split(XR_SEPARATOR)) {
        const r = RCVR_RTT.exec(format);
        if (r === null) continue;
        const mode = r[1]!.toLowerCase() === 'all' ? 'all' : 'sender';
        section.rtcpXrReceiverRtt = r[2] === undefined ? { mode } : { mode, maxSize: Number(r[2]) };
      }
      return;
    }
    case Attribute.BundleOnly:
      section.bundleOnly = true;
      return;
    case Attribute.SctpPort:
      section.sctpPort = parsePortNumber(argOf(line, colon), 'sctp-port', fail);
      return;
    case Attribute.MaxMessageSize: {
      const arg = argOf(line, colon);
      if (arg === undefined || !MAX_MESSAGE_SIZE.test(arg) || Number(arg) > Number.MAX_SAFE_INTEGER) {
        fail('ERR_SDP_BAD_ATTRIBUTE', 'max-message-size must be an integer 0..2^53-1');
      }
      section.maxMessageSize = Number(arg);
      return;
    }
    case Attribute.Sctpmap: {
      const s = SCTPMAP.exec(argOf(line, colon) ?? '');
      if (s === null || Number(s[1]) > 65535) fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "sctpmap:<port> <app> [<streams>]"');
      section.sctpmap = s![3] === undefined ? { port: Number(s![1]), app: s![2]! } : { port: Number(s![1]), app: s![2]!, streams: Number(s![3]) };
      return;
    }
    default:
      break;
  }
  section.otherAttributes.push(otherAttribute(line, colon));
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
  const r = RID.exec(arg);
  if (r === null || !RID_ID.test(r[1]!)) fail('ERR_SDP_BAD_ATTRIBUTE', 'expected "rid:<id> send|recv [<restrictions>]"');
  const rid: SdpMediaSection['rids'][number] = { id: r![1]!, direction: r![2] as 'send' | 'recv', payloadTypes: [], restrictions: {} };
  if (r![3] !== undefined) {
    const restrictions: Array<[string, string]> = [];
    for (const [k, v] of Object.entries(parseFmtp(r![3]))) {
      if (k === 'pt') {
        const pts = v.split(',');
        if (pts.some((p) => !PAYLOAD_TYPE.test(p) || Number(p) > 127)) fail('ERR_SDP_BAD_ATTRIBUTE', 'rid pt= must list payload types');
        rid.payloadTypes = pts.map(Number);
      } else restrictions.push([k, v]);
    }
    rid.restrictions = Object.fromEntries(restrictions);
  }
  return rid;
}

/** `a=simulcast:<dir> <streams> [<dir> <streams>]` (RFC 8853 §5.1). */
function parseSimulcast(arg: string, fail: Fail): { send: SimulcastRid[][]; recv: SimulcastRid[][] } {
  const parts = arg.trim().split(SPACES);
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
  for (const f of section.formats) {
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
