// Remote transport parameters, one per BUNDLE group, from the tag's m-section (RFC 8843 §7): ICE
// (RFC 8839 §5.4 credentials grammar), DTLS (RFC 8842), SCTP (RFC 8841); and the checks that make
// a remote description usable, including the m-line rules of RFC 3264 §6/§8 and RFC 8829 §5.7/§5.8.
import { isRejected } from './bundle.js';
import { isSctpSection, type DtlsFingerprint, type SdpCandidate, type SdpMediaSection, type SdpSessionDescription, type SetupRole } from './model.js';
import { SdpInvalidAccessError } from './sdp-error.js';

/** Default max-message-size when the attribute is absent (RFC 8841 §6.1). */
export const DEFAULT_REMOTE_MAX_MESSAGE_SIZE = 65536;

/** Everything needed to connect one remote transport. */
export interface RemoteTransportParameters {
  /** The mids of the m-sections this transport carries, the tag (or only section) first. */
  mids: string[];
  /** The remote ICE username fragment. */
  iceUfrag: string;
  /** The remote ICE password. */
  icePwd: string;
  /** The remote is an ICE-lite agent (RFC 8445 §2.5): we must be controlling. */
  iceLite: boolean;
  /** `ice-options` tokens (e.g. `trickle`). */
  iceOptions: string[];
  /** Remote certificate fingerprints; the DTLS certificate must match one of them (RFC 8122 §5). */
  fingerprints: DtlsFingerprint[];
  /** Remote `a=setup`, absent when the description has none. */
  setup?: SetupRole;
  /**
   * Candidates of component 1 this transport can use (rtcp-mux): UDP, and TCP `tcptype passive`
   * (RFC 6544 §6.2: an active candidate of ours may connect to them).
   */
  candidates: SdpCandidate[];
  /** Candidates left out: TCP active (port 9) and simultaneous-open, components other than 1. */
  ignoredCandidates: SdpCandidate[];
  /** The remote signalled end-of-candidates. */
  endOfCandidates: boolean;
  /** SCTP parameters when a data channel m-section uses this transport. */
  sctp?: { port: number; maxMessageSize: number };
}

/**
 * Most transports one remote description may make us open: unbundled peers use one per m-section
 * and few sections (audio, video, data); browsers bundle everything into one.
 */
export const MAX_REMOTE_TRANSPORTS = 32;

/** ice-ufrag and ice-pwd values (RFC 8839 §5.4): ice-char = ALPHA / DIGIT / "+" / "/". */
const ICE_CHARS = /^[A-Za-z0-9+/]+$/;
const MIN_UFRAG = 4;
const MIN_PWD = 22;
const MAX_ICE_CREDENTIAL = 256;

/**
 * Checks that a remote description can be applied (RFC 8829 §5.8, RFC 8843 §7): every used
 * m-section has a unique mid, every BUNDLE mid exists once, and every transport has ICE
 * credentials of the RFC 8839 §5.4 grammar and at least one fingerprint.
 *
 * `established` are the descriptions whose m-lines the new one must keep: for a remote offer
 * the current local and remote descriptions (the last completed negotiation), for a remote
 * answer the local offer it answers. The new description must have at least as many
 * m-sections (they are never removed, only rejected with port 0: RFC 3264 §8.2, RFC 8829
 * §5.7/§5.8), and each m-section that is not rejected in every established description must
 * keep its media kind (RFC 3264 §6, §8; a rejected one may be recycled, RFC 8829 §5.2.2).
 * An answer (`type`) must not add m-sections to the offer, `established[0]`, and must say
 * `a=setup:active` or `passive` where it says anything; an offer must not say `holdconn`. At
 * most {@link MAX_REMOTE_TRANSPORTS} transports (m-sections outside BUNDLE) are accepted.
 * Nothing is changed; call it before applying anything, so that a bad description leaves the
 * session as it was.
 * @throws SdpInvalidAccessError with a stable code.
 */
export function validateRemoteDescription(
  desc: SdpSessionDescription,
  established: readonly SdpSessionDescription[] = [],
  type: 'offer' | 'answer' = 'offer',
): void {
  checkRemoteDescription(desc, established, type);
}

/**
 * A remote description that {@link checkRemoteDescription} accepted, with its transports: what
 * lib/peer keeps of a remote description while negotiating, so that neither createAnswer nor
 * applying the answer checks it or works its transports out again (docs/peer.md "Setup cost").
 * Made by checkRemoteDescription; the description must not be changed afterwards.
 */
export interface CheckedRemoteDescription {
  /** The parsed description. */
  readonly description: SdpSessionDescription;
  /** Its {@link extractRemoteTransports}. */
  readonly transports: readonly RemoteTransportParameters[];
}

/**
 * {@link validateRemoteDescription} that also returns the description's
 * {@link extractRemoteTransports}, which it checks, so that lib/peer applying the description does
 * not work them out again (docs/peer.md "Setup cost").
 * @throws SdpInvalidAccessError with a stable code.
 */
export function checkRemoteDescription(
  desc: SdpSessionDescription,
  established: readonly SdpSessionDescription[] = [],
  type: 'offer' | 'answer' = 'offer',
): CheckedRemoteDescription {
  checkMLines(desc, established);
  // RFC 3264 §6: an answer has exactly the offer's m-lines (`established` is that offer).
  if (type === 'answer' && established.length > 0 && desc.media.length > established[0]!.media.length) {
    throw new SdpInvalidAccessError(
      'ERR_SDP_M_SECTION_ADDED',
      `the answer has ${desc.media.length} m-sections but the offer had ${established[0]!.media.length} (RFC 3264 §6)`,
    );
  }
  const mids = new Set<string>();
  for (let i = 0; i < desc.media.length; i++) {
    const m = desc.media[i]!;
    if (m.mid === undefined) {
      if (isRejected(m)) continue;
      throw new SdpInvalidAccessError('ERR_SDP_MISSING_MID', `m-section ${i} (${m.kind}) has no a=mid`);
    }
    if (mids.has(m.mid)) throw new SdpInvalidAccessError('ERR_SDP_DUPLICATE_MID', `mid "${m.mid}" is used twice`);
    mids.add(m.mid);
  }
  const grouped = new Set<string>();
  for (let i = 0; i < desc.groups.length; i++) {
    const group = desc.groups[i]!;
    if (group.semantics !== 'BUNDLE') continue;
    for (let j = 0; j < group.mids.length; j++) {
      const mid = group.mids[j]!;
      if (!mids.has(mid)) throw new SdpInvalidAccessError('ERR_SDP_BUNDLE_UNKNOWN_MID', `BUNDLE names mid "${mid}" which no m-section has`);
      if (grouped.has(mid)) throw new SdpInvalidAccessError('ERR_SDP_BUNDLE_MID_TWICE', `mid "${mid}" is in two BUNDLE groups`);
      grouped.add(mid);
    }
  }
  const transports = extractRemoteTransports(desc);
  // Each transport is a socket (or a TURN allocation) of ours: a few hundred bytes of unbundled
  // m-sections must not take the process's descriptors.
  if (transports.length > MAX_REMOTE_TRANSPORTS) {
    throw new SdpInvalidAccessError(
      'ERR_SDP_TOO_MANY_TRANSPORTS',
      `the description needs ${transports.length} transports (m-sections outside a BUNDLE group); at most ${MAX_REMOTE_TRANSPORTS} are served`,
    );
  }
  for (let i = 0; i < transports.length; i++) checkSetup(transports[i]!, type);
  return { description: desc, transports };
}

/**
 * Refuses an `a=setup` the DTLS roles cannot follow (RFC 8842 §5): an offer's `holdconn`, and in
 * an answer anything but `active` or `passive` (RFC 5763 §5; libwebrtc refuses them too).
 */
function checkSetup(t: RemoteTransportParameters, type: 'offer' | 'answer'): void {
  const setup = t.setup;
  if (setup === undefined || setup === 'active' || setup === 'passive' || (type === 'offer' && setup === 'actpass')) return;
  const where = t.mids.length > 0 ? `mid "${t.mids[0]}"` : 'an m-section';
  throw new SdpInvalidAccessError('ERR_SDP_BAD_SETUP', `${where}: the ${type} says a=setup:${setup}`);
}

/**
 * The remote transports of a description: one per BUNDLE group that has a usable m-section
 * (parameters from its first usable m-section, the tag) and one per unbundled usable m-section.
 * Rejected m-sections are skipped. Offers where every bundled m-section carries its own ufrag,
 * pwd and candidates (older aiortc) yield the tag's, which is what RFC 8843 §7.3.1 says applies.
 * @throws SdpInvalidAccessError when a transport lacks ICE credentials or fingerprints, or its
 *   credentials are outside the RFC 8839 §5.4 grammar.
 */
export function extractRemoteTransports(desc: SdpSessionDescription): RemoteTransportParameters[] {
  const result: RemoteTransportParameters[] = [];
  const byMid = new Map<string, SdpMediaSection>();
  for (let i = 0; i < desc.media.length; i++) {
    const m = desc.media[i]!;
    if (m.mid !== undefined && !byMid.has(m.mid)) byMid.set(m.mid, m);
  }
  const grouped = new Set<string>();
  for (let i = 0; i < desc.groups.length; i++) {
    const group = desc.groups[i]!;
    if (group.semantics !== 'BUNDLE') continue;
    // Arrays built by push, not filter/map: see lib/common/list-map.ts.
    const used: string[] = [];
    const sections: SdpMediaSection[] = [];
    for (let j = 0; j < group.mids.length; j++) {
      const mid = group.mids[j]!;
      const m = byMid.get(mid);
      if (m === undefined || isRejected(m) || grouped.has(mid)) continue;
      used.push(mid);
      sections.push(m);
    }
    for (let j = 0; j < used.length; j++) {
      const mid = used[j]!;
      grouped.add(mid);
    }
    if (used.length === 0) continue;
    result.push(transportOf(desc, sections, used));
  }
  for (let i = 0; i < desc.media.length; i++) {
    const m = desc.media[i]!;
    if (isRejected(m) || (m.mid !== undefined && grouped.has(m.mid))) continue;
    result.push(transportOf(desc, [m], m.mid === undefined ? [] : [m.mid]));
  }
  return result;
}

function checkMLines(desc: SdpSessionDescription, established: readonly SdpSessionDescription[]): void {
  for (let i = 0; i < established.length; i++) {
    const old = established[i]!;
    if (desc.media.length < old.media.length) {
      throw new SdpInvalidAccessError(
        'ERR_SDP_M_SECTION_REMOVED',
        `the description has ${desc.media.length} m-sections but ${old.media.length} were negotiated; m-sections may be rejected (port 0) but never removed (RFC 3264 §8.2)`,
      );
    }
  }
  if (established.length === 0) return;
  for (let i = 0; i < desc.media.length; i++) {
    const m = desc.media[i]!;
    // The m-section at this index in the established descriptions: the first one names the kind;
    // none there, or a rejected one, lets the m-line be anything.
    let first: SdpMediaSection | undefined;
    let rejected = false;
    for (let j = 0; j < established.length; j++) {
      const d = established[j]!;
      const old = d.media[i];
      if (old === undefined) continue;
      first ??= old;
      if (isRejected(old)) rejected = true;
    }
    if (first === undefined || rejected) continue;
    const kind = first.kind;
    if (m.kind !== kind) {
      throw new SdpInvalidAccessError(
        'ERR_SDP_M_SECTION_KIND_CHANGED',
        `m-section ${i}${first.mid === undefined ? '' : ` (mid "${first.mid}")`} was negotiated as ${kind} and is now "m=${m.kind}" (RFC 3264 §8)`,
      );
    }
  }
}

/** Refuses an ICE credential outside the RFC 8839 §5.4 grammar, naming the line. */
function checkIceCredential(name: string, attribute: 'ice-ufrag' | 'ice-pwd', value: string): void {
  const min = attribute === 'ice-ufrag' ? MIN_UFRAG : MIN_PWD;
  if (value.length >= min && value.length <= MAX_ICE_CREDENTIAL && ICE_CHARS.test(value)) return;
  const shown = value.length > 64 ? `${value.slice(0, 64)}...` : value;
  throw new SdpInvalidAccessError(
    'ERR_SDP_BAD_ICE_CREDENTIALS',
    `${name}: "a=${attribute}:${shown}" must be ${min}-${MAX_ICE_CREDENTIAL} ice-chars (letters, digits, "+", "/"; RFC 8839 §5.4)`,
  );
}

function transportOf(desc: SdpSessionDescription, sections: SdpMediaSection[], mids: string[]): RemoteTransportParameters {
  const tag = sections[0]!;
  const name = tag.mid === undefined ? `m-section ${desc.media.indexOf(tag)}` : `mid "${tag.mid}"`;
  const iceUfrag = tag.iceUfrag ?? desc.iceUfrag;
  const icePwd = tag.icePwd ?? desc.icePwd;
  if (iceUfrag === undefined || icePwd === undefined) {
    throw new SdpInvalidAccessError('ERR_SDP_MISSING_ICE_CREDENTIALS', `${name} has no a=ice-ufrag/a=ice-pwd`);
  }
  checkIceCredential(name, 'ice-ufrag', iceUfrag);
  checkIceCredential(name, 'ice-pwd', icePwd);
  const fingerprints = tag.fingerprints.length > 0 ? tag.fingerprints : desc.fingerprints;
  if (fingerprints.length === 0) throw new SdpInvalidAccessError('ERR_SDP_MISSING_FINGERPRINT', `${name} has no a=fingerprint`);
  const candidates: SdpCandidate[] = [];
  const ignoredCandidates: SdpCandidate[] = [];
  for (let i = 0; i < tag.candidates.length; i++) {
    const c = tag.candidates[i]!;
    (isUsableRemoteCandidate(c) ? candidates : ignoredCandidates).push(c);
  }
  const params: RemoteTransportParameters = {
    mids,
    iceUfrag,
    icePwd,
    iceLite: desc.iceLite,
    iceOptions: tag.iceOptions.length > 0 ? tag.iceOptions : desc.iceOptions,
    fingerprints,
    candidates,
    ignoredCandidates,
    endOfCandidates: tag.endOfCandidates,
  };
  const setup = tag.setup ?? desc.setup;
  if (setup !== undefined) params.setup = setup;
  const data = sections.find(isSctpSection);
  if (data !== undefined) params.sctp = { port: remoteSctpPort(data), maxMessageSize: data.maxMessageSize ?? DEFAULT_REMOTE_MAX_MESSAGE_SIZE };
  return params;
}

/** The SCTP port of a data m-section: `a=sctp-port`, else legacy `a=sctpmap`/format, else 5000 (RFC 8841 §5). */
export function remoteSctpPort(section: SdpMediaSection): number {
  if (section.sctpPort !== undefined) return section.sctpPort;
  if (section.sctpmap !== undefined) return section.sctpmap.port;
  const f = section.formats[0];
  if (f !== undefined && /^\d{1,5}$/.test(f) && Number(f) <= 65535) return Number(f);
  return 5000;
}

/**
 * Whether a remote candidate is one ICE could pair with: component 1 (RTP/RTCP mux), UDP or
 * passive TCP (RFC 6544 §6.2; active and simultaneous-open ones cannot be connected to). The
 * others go to `ignoredCandidates`; a trickled one is ignored the same way.
 */
export function isUsableRemoteCandidate(c: SdpCandidate): boolean {
  return c.component === 1 && (c.transport === 'udp' || (c.transport === 'tcp' && c.tcpType === 'passive'));
}
