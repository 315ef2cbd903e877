// What offers and answers share: session lines, a section's ICE/DTLS attributes with the default
// candidate (RFC 8829 §5.2.1, RFC 8839 §5, RFC 8842 §5) and sender SSRC lines (RFC 5576, RFC 4588 FID).
import type { LocalSenderDescription, LocalSessionParameters, LocalTransportParameters } from './local-parameters.js';
import type { SdpCandidate, SdpConnection, SdpMediaSection, SdpSessionDescription } from './model.js';
import { SdpInvalidAccessError } from './sdp-error.js';
import { mapList } from '../common/list-map.js';

/** The session-level part shared by offers and answers. */
export function baseDescription(session: LocalSessionParameters, transport: LocalTransportParameters): SdpSessionDescription {
  if (!/^\d{1,20}$/.test(session.sessionId) || !/^\d{1,20}$/.test(session.sessionVersion)) {
    throw new SdpInvalidAccessError('ERR_SDP_BAD_LOCAL_PARAMETERS', 'sessionId and sessionVersion must be decimal digits');
  }
  return {
    origin: { username: '-', sessionId: session.sessionId, sessionVersion: session.sessionVersion, netType: 'IN', addressType: 'IP4', address: '127.0.0.1' },
    sessionName: '-',
    timing: { start: 0, stop: 0 },
    groups: [],
    extmapAllowMixed: true,
    iceLite: transport.iceLite === true,
    iceOptions: [],
    fingerprints: [],
    otherAttributes: [],
    media: [],
  };
}

/** Throws unless ICE credentials and at least one fingerprint are present. */
export function checkTransport(transport: LocalTransportParameters): void {
  if (!/^\S{1,256}$/.test(transport.iceUfrag) || !/^\S{1,256}$/.test(transport.icePwd)) {
    throw new SdpInvalidAccessError('ERR_SDP_BAD_LOCAL_PARAMETERS', 'local ICE ufrag/pwd must be 1..256 non-space characters');
  }
  if (transport.fingerprints.length === 0) throw new SdpInvalidAccessError('ERR_SDP_BAD_LOCAL_PARAMETERS', 'no local DTLS fingerprint');
}

/**
 * Writes ICE/DTLS attributes into a section. With `withCandidates` the section also gets the
 * candidates and the default candidate's address/port (RFC 8829 §5.2.1); otherwise port 9 and
 * 0.0.0.0, the JSEP placeholders.
 */
export function applyTransport(s: SdpMediaSection, t: LocalTransportParameters, setup: SdpMediaSection['setup'], withCandidates: boolean): void {
  s.iceUfrag = t.iceUfrag;
  s.icePwd = t.icePwd;
  s.iceOptions = t.iceOptions ?? ['trickle'];
  s.fingerprints = mapList(t.fingerprints, copyFingerprint);
  if (setup !== undefined) s.setup = setup;
  const def = withCandidates ? defaultCandidate(t.candidates ?? []) : undefined;
  s.connection = def === undefined ? { addressType: 'IP4', address: '0.0.0.0' } : connectionOf(def.address);
  if (s.port !== 0) s.port = def === undefined ? 9 : def.port;
  if (withCandidates) {
    s.candidates = t.candidates === undefined ? [] : mapList(t.candidates, copyCandidate);
    s.endOfCandidates = t.endOfCandidates === true;
  }
}

function copyFingerprint(f: LocalTransportParameters['fingerprints'][number]): LocalTransportParameters['fingerprints'][number] {
  return { ...f };
}

/**
 * A copy of `c` and of its extensions. The copy is a spread of `c` whose `extensions` is then
 * replaced: `{ ...c, extensions }` would give every copy a map of its own (V8 makes a new map for a
 * spread followed by more properties), and the readers of candidates would go megamorphic.
 */
function copyCandidate(c: SdpCandidate): SdpCandidate {
  const copy = { ...c };
  copy.extensions = mapList(c.extensions, copyExtension);
  return copy;
}

function copyExtension(e: SdpCandidate['extensions'][number]): SdpCandidate['extensions'][number] {
  return { ...e };
}

/** The candidate JSEP puts on the m-line: the highest-priority UDP candidate of component 1. */
function defaultCandidate(candidates: readonly SdpCandidate[]): SdpCandidate | undefined {
  let best: SdpCandidate | undefined;
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    if (c.transport !== 'udp' || c.component !== 1 || !/^[0-9.]+$|:/.test(c.address)) continue;
    if (best === undefined || c.priority > best.priority) best = c;
  }
  return best;
}

function connectionOf(address: string): SdpConnection {
  return { addressType: address.includes(':') ? 'IP6' : 'IP4', address };
}

/** Writes `a=ssrc` cname/msid lines and, with RTX, `a=ssrc-group:FID` (RFC 5576 §4, RFC 4588 §8.4). */
export function addSenderSsrcs(s: SdpMediaSection, sender: LocalSenderDescription, rtxNegotiated: boolean): void {
  const ssrcs = rtxNegotiated && sender.rtxSsrc !== undefined ? [sender.ssrc, sender.rtxSsrc] : [sender.ssrc];
  if (ssrcs.length === 2) s.ssrcGroups.push({ semantics: 'FID', ssrcs });
  for (let i = 0; i < ssrcs.length; i++) {
    const ssrc = ssrcs[i]!;
    s.ssrcs.push({ ssrc, attribute: 'cname', value: sender.cname });
    for (let j = 0; j < sender.msids.length; j++) {
      const m = sender.msids[j]!;
      s.ssrcs.push({ ssrc, attribute: 'msid', value: m.track === undefined ? m.stream : `${m.stream} ${m.track}` });
    }
  }
}
