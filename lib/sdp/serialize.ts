// Typed model → SDP text (RFC 8866 §5 line order; attributes in the order Chromium writes them).
import { formatCandidate } from './candidate.js';
import { formatFmtp } from './fmtp.js';
import type { SdpConnection, SdpMediaSection, SdpSessionDescription, SdpTransportAttributes } from './model.js';

// Lines are written here rather than with sdp-transform's writer because that writer orders
// attributes by its grammar table (rtcp-fb apart from its rtpmap, one fingerprint per level).
// Each line is appended to one string in a single pass: no array of lines, no per-line array of
// fields to join (docs/sdp.md "Serializing").

const CRLF = '\r\n';

/** Serializes a description to SDP text with CRLF line ends (RFC 8866 §5). */
export function serializeSdp(desc: SdpSessionDescription): string {
  let s = serializeSessionPart(desc);
  for (let i = 0; i < desc.media.length; i++) {
    const m = desc.media[i]!;
    s += serializeSectionTransportPart(m) + serializeSectionTail(m);
  }
  return s;
}

/** Serializes one m-section (from its `m=` line to the last attribute, CRLF ended). */
export function serializeMediaSection(m: SdpMediaSection): string {
  return serializeSectionTransportPart(m) + serializeSectionTail(m);
}

/** The session-level lines, `v=` to the last session attribute, CRLF ended. */
export function serializeSessionPart(desc: SdpSessionDescription): string {
  const o = desc.origin;
  let s = `v=0${CRLF}o=${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addressType} ${o.address}${CRLF}`;
  s += `s=${desc.sessionName}${CRLF}t=${desc.timing.start} ${desc.timing.stop}${CRLF}`;
  if (desc.connection !== undefined) s += `c=${connection(desc.connection)}${CRLF}`;
  for (let i = 0; i < desc.groups.length; i++) {
    const g = desc.groups[i]!;
    s += `a=group:${g.semantics}${words(g.mids)}${CRLF}`;
  }
  if (desc.extmapAllowMixed) s += `a=extmap-allow-mixed${CRLF}`;
  if (desc.iceLite) s += `a=ice-lite${CRLF}`;
  s += transport(desc);
  if (desc.direction !== undefined) s += `a=${desc.direction}${CRLF}`;
  if (desc.msidSemantic !== undefined) s += `a=msid-semantic:${desc.msidSemantic.semantic}${words(desc.msidSemantic.ids)}${CRLF}`;
  for (let i = 0; i < desc.otherAttributes.length; i++) {
    const a = desc.otherAttributes[i]!;
    s += a.value === undefined ? `a=${a.name}${CRLF}` : `a=${a.name}:${a.value}${CRLF}`;
  }
  return s;
}

/**
 * The lines of an m-section that lib/sdp/local-sections.ts `applyTransport` writes: `m=` (its
 * port), `c=`, `b=`, `a=rtcp`, the candidates, `a=end-of-candidates` and the ICE/DTLS attributes;
 * CRLF ended. {@link serializeSectionTail} writes the rest.
 */
export function serializeSectionTransportPart(m: SdpMediaSection): string {
  let s = `m=${m.kind} ${m.port} ${m.protocol}${words(m.formats)}${CRLF}`;
  if (m.connection !== undefined) s += `c=${connection(m.connection)}${CRLF}`;
  for (let i = 0; i < m.bandwidth.length; i++) {
    const b = m.bandwidth[i]!;
    s += `b=${b.type}:${b.value}${CRLF}`;
  }
  if (m.rtcp !== undefined) {
    s += m.rtcp.connection === undefined ? `a=rtcp:${m.rtcp.port}${CRLF}` : `a=rtcp:${m.rtcp.port} ${connection(m.rtcp.connection)}${CRLF}`;
  }
  for (let i = 0; i < m.candidates.length; i++) {
    const c = m.candidates[i]!;
    s += `a=${formatCandidate(c)}${CRLF}`;
  }
  if (m.endOfCandidates) s += `a=end-of-candidates${CRLF}`;
  return s + transport(m);
}

/** The lines of an m-section after its ICE/DTLS attributes (`a=mid` to the last attribute), CRLF ended. */
export function serializeSectionTail(m: SdpMediaSection): string {
  let s = '';
  if (m.mid !== undefined) s += `a=mid:${m.mid}${CRLF}`;
  if (m.bundleOnly) s += `a=bundle-only${CRLF}`;
  for (let i = 0; i < m.extmaps.length; i++) {
    const e = m.extmaps[i]!;
    s += `a=extmap:${e.id}${e.direction === undefined ? '' : `/${e.direction}`} ${e.uri}`;
    s += e.attributes === undefined ? CRLF : ` ${e.attributes}${CRLF}`;
  }
  if (m.extmapAllowMixed) s += `a=extmap-allow-mixed${CRLF}`;
  if (m.direction !== undefined) s += `a=${m.direction}${CRLF}`;
  for (let i = 0; i < m.msids.length; i++) {
    const ms = m.msids[i]!;
    s += ms.track === undefined ? `a=msid:${ms.stream}${CRLF}` : `a=msid:${ms.stream} ${ms.track}${CRLF}`;
  }
  if (m.rtcpMux) s += `a=rtcp-mux${CRLF}`;
  if (m.rtcpRsize) s += `a=rtcp-rsize${CRLF}`;
  const xr = m.rtcpXrReceiverRtt;
  if (xr !== undefined) s += `a=rtcp-xr:rcvr-rtt=${xr.mode}${xr.maxSize === undefined ? '' : `:${xr.maxSize}`}${CRLF}`;
  for (let i = 0; i < m.codecs.length; i++) {
    const c = m.codecs[i]!;
    s += `a=rtpmap:${c.payloadType} ${c.name}/${c.clockRate}${c.channels === undefined ? '' : `/${c.channels}`}${CRLF}`;
    for (let j = 0; j < c.rtcpFeedback.length; j++) {
      const fb = c.rtcpFeedback[j]!;
      s += `a=rtcp-fb:${c.payloadType} ${fb.type}${fb.parameter === undefined ? '' : ` ${fb.parameter}`}${CRLF}`;
    }
    const fmtp = formatFmtp(c.parameters);
    if (fmtp.length > 0) s += `a=fmtp:${c.payloadType} ${fmtp}${CRLF}`;
  }
  for (let i = 0; i < m.rtcpFeedbackWildcard.length; i++) {
    const fb = m.rtcpFeedbackWildcard[i]!;
    s += `a=rtcp-fb:* ${fb.type}${fb.parameter === undefined ? '' : ` ${fb.parameter}`}${CRLF}`;
  }
  for (let i = 0; i < m.ssrcGroups.length; i++) {
    const g = m.ssrcGroups[i]!;
    s += `a=ssrc-group:${g.semantics}`;
    for (let j = 0; j < g.ssrcs.length; j++) {
      const ssrc = g.ssrcs[j]!;
      s += ` ${ssrc}`;
    }
    s += CRLF;
  }
  for (let i = 0; i < m.ssrcs.length; i++) {
    const x = m.ssrcs[i]!;
    s += x.value === undefined ? `a=ssrc:${x.ssrc} ${x.attribute}${CRLF}` : `a=ssrc:${x.ssrc} ${x.attribute}:${x.value}${CRLF}`;
  }
  for (let i = 0; i < m.rids.length; i++) {
    const r = m.rids[i]!;
    s += `a=rid:${r.id} ${r.direction}`;
    const rest = formatFmtp(r.restrictions);
    if (r.payloadTypes.length > 0) s += ` pt=${r.payloadTypes.join(',')}${rest.length > 0 ? `;${rest}` : ''}`;
    else if (rest.length > 0) s += ` ${rest}`;
    s += CRLF;
  }
  if (m.simulcast !== undefined) {
    let value = '';
    for (const dir of ['send', 'recv'] as const) {
      const streams = m.simulcast[dir];
      if (streams.length === 0) continue;
      value += `${value.length > 0 ? ' ' : ''}${dir} ${streams.map((alts) => alts.map((a) => (a.paused ? `~${a.rid}` : a.rid)).join(',')).join(';')}`;
    }
    if (value.length > 0) s += `a=simulcast:${value}${CRLF}`;
  }
  if (m.sctpPort !== undefined) s += `a=sctp-port:${m.sctpPort}${CRLF}`;
  if (m.sctpmap !== undefined) {
    s += `a=sctpmap:${m.sctpmap.port} ${m.sctpmap.app}${m.sctpmap.streams === undefined ? '' : ` ${m.sctpmap.streams}`}${CRLF}`;
  }
  if (m.maxMessageSize !== undefined) s += `a=max-message-size:${m.maxMessageSize}${CRLF}`;
  for (let i = 0; i < m.otherAttributes.length; i++) {
    const a = m.otherAttributes[i]!;
    s += a.value === undefined ? `a=${a.name}${CRLF}` : `a=${a.name}:${a.value}${CRLF}`;
  }
  return s;
}

function connection(c: SdpConnection): string {
  return `IN ${c.addressType} ${c.address}`;
}

/** ` w1 w2 ...`: each word after a space (m= formats, group mids, msid-semantic ids). */
function words(list: readonly string[]): string {
  let s = '';
  for (let i = 0; i < list.length; i++) {
    const w = list[i]!;
    s += ` ${w}`;
  }
  return s;
}

function transport(t: SdpTransportAttributes): string {
  let s = '';
  if (t.iceUfrag !== undefined) s += `a=ice-ufrag:${t.iceUfrag}${CRLF}`;
  if (t.icePwd !== undefined) s += `a=ice-pwd:${t.icePwd}${CRLF}`;
  if (t.iceOptions.length > 0) s += `a=ice-options:${t.iceOptions.join(' ')}${CRLF}`;
  for (let i = 0; i < t.fingerprints.length; i++) {
    const f = t.fingerprints[i]!;
    s += `a=fingerprint:${f.algorithm} ${f.value}${CRLF}`;
  }
  if (t.setup !== undefined) s += `a=setup:${t.setup}${CRLF}`;
  return s;
}
