// Trickle ICE SDP fragments (RFC 8840 §9, media type application/trickle-ice-sdpfrag) as WHIP and
// WHEP PATCH requests carry them (RFC 9725 §4.3.1): parse, write, and the SDP edits an ICE restart
// over PATCH needs (new credentials and candidates into the last description, RFC 9725 §4.3.2).
import { formatCandidate, parseCandidate } from '../sdp/candidate.js';
import { parseSdp } from '../sdp/parse.js';
import { serializeSdp } from '../sdp/serialize.js';
import { SdpSyntaxError } from '../sdp/sdp-error.js';

/** Media type of a trickle ICE fragment (RFC 8840 §9.3). */
export const ICE_FRAGMENT_TYPE = 'application/trickle-ice-sdpfrag';

/** One m-section of a fragment: its mid, candidates (`candidate:...` values) and end-of-candidates. */
export interface IceFragmentMedia {
  /** `a=mid` of the m-section, when given. */
  mid?: string;
  /** The `m=` line value, e.g. `audio 9 UDP/TLS/RTP/SAVPF 111` (RFC 8840 §9.2 repeats the description's). */
  mLine: string;
  /** Candidate attribute values (`candidate:...`), in order. */
  candidates: string[];
  endOfCandidates: boolean;
}

/** A parsed fragment: ICE credentials (session or media level), options and per-m-section candidates. */
export interface IceFragment {
  iceUfrag?: string;
  icePwd?: string;
  iceOptions: string[];
  media: IceFragmentMedia[];
}

/**
 * Parses a fragment. Lines are read like parseSdp reads them (CRLF/LF, spaces at either end); only
 * the ICE lines of RFC 8840 §9.2 mean something here, other lines are ignored.
 * @throws SdpSyntaxError naming the line for a malformed candidate or credential.
 */
export function parseIceFragment(text: string): IceFragment {
  if (typeof text !== 'string') throw new SdpSyntaxError('ERR_SDP_NOT_A_STRING', 'fragment is not a string');
  if (text.length > 65536) throw new SdpSyntaxError('ERR_SDP_TOO_LARGE', 'fragment longer than 65536 characters');
  const fragment: IceFragment = { iceOptions: [], media: [] };
  let media: IceFragmentMedia | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/^[ \t]+|[ \t\r]+$/g, '');
    if (line.length === 0) continue;
    const fail = (why: string): never => {
      throw new SdpSyntaxError('ERR_SDP_BAD_ATTRIBUTE', why, i + 1, line);
    };
    if (line.startsWith('m=')) {
      media = { mLine: line.slice(2).replace(/[ \t]+/g, ' '), candidates: [], endOfCandidates: false };
      fragment.media.push(media);
      continue;
    }
    if (!line.startsWith('a=')) continue;
    const value = line.slice(2);
    const colon = value.indexOf(':');
    const name = colon < 0 ? value : value.slice(0, colon);
    const arg = colon < 0 ? undefined : value.slice(colon + 1).trim();
    switch (name) {
      case 'ice-ufrag':
      case 'ice-pwd':
        if (arg === undefined || !/^\S{1,256}$/.test(arg)) fail(`bad ${name}`);
        if (name === 'ice-ufrag') fragment.iceUfrag = arg;
        else fragment.icePwd = arg;
        break;
      case 'ice-options':
        fragment.iceOptions = (arg ?? '').split(/[ ,]+/).filter((s) => s.length > 0);
        break;
      case 'mid':
        if (media === undefined || arg === undefined || !/^[\x21-\x7e]{1,255}$/.test(arg)) fail('a=mid outside an m-section or not 1-255 visible characters');
        media!.mid = arg;
        break;
      case 'candidate': {
        if (media === undefined) fail('a=candidate before any m= line');
        // Normal form: what formatCandidate writes back (RFC 8839 §5.1).
        media!.candidates.push(formatCandidate(parseCandidate(value, i + 1, line)));
        break;
      }
      case 'end-of-candidates':
        if (media !== undefined) media.endOfCandidates = true;
        else for (const m of fragment.media) m.endOfCandidates = true;
        break;
      default:
        break;
    }
  }
  return fragment;
}

/** Writes a fragment (CRLF lines): ice-options, then per m-section m=, mid, ufrag, pwd, candidates. */
export function formatIceFragment(fragment: IceFragment): string {
  const out: string[] = [];
  if (fragment.iceOptions.length > 0) out.push(`a=ice-options:${fragment.iceOptions.join(' ')}`);
  for (const m of fragment.media) {
    out.push(`m=${m.mLine}`);
    if (m.mid !== undefined) out.push(`a=mid:${m.mid}`);
    if (fragment.iceUfrag !== undefined) out.push(`a=ice-ufrag:${fragment.iceUfrag}`);
    if (fragment.icePwd !== undefined) out.push(`a=ice-pwd:${fragment.icePwd}`);
    for (const c of m.candidates) out.push(`a=${c}`);
    if (m.endOfCandidates) out.push('a=end-of-candidates');
  }
  return out.length === 0 ? '' : `${out.join('\r\n')}\r\n`;
}

/**
 * The ICE part of a description as a fragment: its first m-section's credentials, and that
 * m-section alone (with max-bundle only the BUNDLE tag gathers candidates, RFC 9725 §4.3.1).
 */
export function iceFragmentOf(sdp: string): IceFragment {
  const d = parseSdp(sdp);
  const m = d.media.find((x) => x.port !== 0 && !x.bundleOnly) ?? d.media[0];
  if (m === undefined) return { iceOptions: d.iceOptions, media: [] };
  const ufrag = m.iceUfrag ?? d.iceUfrag;
  const pwd = m.icePwd ?? d.icePwd;
  const fragment: IceFragment = {
    iceOptions: m.iceOptions.length > 0 ? m.iceOptions : d.iceOptions,
    media: [{ mLine: `${m.kind} ${m.port} ${m.protocol} ${m.formats.join(' ')}`, candidates: m.candidates.map(formatCandidate), endOfCandidates: m.endOfCandidates, ...(m.mid !== undefined ? { mid: m.mid } : {}) }],
  };
  if (ufrag !== undefined) fragment.iceUfrag = ufrag;
  if (pwd !== undefined) fragment.icePwd = pwd;
  return fragment;
}

/**
 * `sdp` with the fragment's ICE credentials in every m-section (and none at session level), the
 * fragment's candidates in the m-sections their mid names (the first m-section when there is no
 * mid), and the session version incremented (RFC 3264 §8: a changed description).
 * @throws SdpSyntaxError when `sdp` does not parse, or the fragment has no ufrag and pwd.
 */
export function applyIceFragment(sdp: string, fragment: IceFragment): string {
  if (fragment.iceUfrag === undefined || fragment.icePwd === undefined) {
    throw new SdpSyntaxError('ERR_SDP_BAD_ATTRIBUTE', 'an ICE restart fragment needs a=ice-ufrag and a=ice-pwd');
  }
  const d = parseSdp(sdp);
  delete d.iceUfrag;
  delete d.icePwd;
  d.origin.sessionVersion = (BigInt(d.origin.sessionVersion) + 1n).toString();
  for (const m of d.media) {
    m.iceUfrag = fragment.iceUfrag;
    m.icePwd = fragment.icePwd;
    m.candidates = [];
    m.endOfCandidates = false;
  }
  for (const fm of fragment.media) {
    const target = (fm.mid !== undefined ? d.media.find((m) => m.mid === fm.mid) : undefined) ?? d.media[0];
    if (target === undefined) continue;
    target.candidates.push(...fm.candidates.map((c) => parseCandidate(c)));
    target.endOfCandidates ||= fm.endOfCandidates;
  }
  return serializeSdp(d);
}
