// Typed model → SDP text (RFC 8866 §5 line order; attributes in the order Chromium writes them).
import { formatCandidate } from './candidate.js';
import { formatFmtp } from './fmtp.js';
import type { SdpConnection, SdpMediaSection, SdpSessionDescription, SdpTransportAttributes } from './model.js';

// Lines are written here rather than with sdp-transform's writer because that writer orders
// attributes by its grammar table (rtcp-fb apart from its rtpmap, one fingerprint per level).

/** Serializes a description to SDP text with CRLF line ends (RFC 8866 §5). */
export function serializeSdp(desc: SdpSessionDescription): string {
  const out: string[] = [];
  const o = desc.origin;
  out.push('v=0');
  out.push(`o=${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addressType} ${o.address}`);
  out.push(`s=${desc.sessionName}`);
  out.push(`t=${desc.timing.start} ${desc.timing.stop}`);
  if (desc.connection !== undefined) out.push(`c=${connection(desc.connection)}`);
  for (const g of desc.groups) out.push(`a=group:${[g.semantics, ...g.mids].join(' ')}`);
  if (desc.extmapAllowMixed) out.push('a=extmap-allow-mixed');
  if (desc.iceLite) out.push('a=ice-lite');
  transport(out, desc);
  if (desc.direction !== undefined) out.push(`a=${desc.direction}`);
  if (desc.msidSemantic !== undefined) out.push(`a=msid-semantic:${[desc.msidSemantic.semantic, ...desc.msidSemantic.ids].join(' ')}`);
  for (const a of desc.otherAttributes) out.push(a.value === undefined ? `a=${a.name}` : `a=${a.name}:${a.value}`);
  for (const m of desc.media) section(out, m);
  return out.join('\r\n') + '\r\n';
}

/** Serializes one m-section (from its `m=` line to the last attribute, CRLF ended). */
export function serializeMediaSection(m: SdpMediaSection): string {
  const out: string[] = [];
  section(out, m);
  return out.join('\r\n') + '\r\n';
}

function connection(c: SdpConnection): string {
  return `IN ${c.addressType} ${c.address}`;
}

function transport(out: string[], t: SdpTransportAttributes): void {
  if (t.iceUfrag !== undefined) out.push(`a=ice-ufrag:${t.iceUfrag}`);
  if (t.icePwd !== undefined) out.push(`a=ice-pwd:${t.icePwd}`);
  if (t.iceOptions.length > 0) out.push(`a=ice-options:${t.iceOptions.join(' ')}`);
  for (const f of t.fingerprints) out.push(`a=fingerprint:${f.algorithm} ${f.value}`);
  if (t.setup !== undefined) out.push(`a=setup:${t.setup}`);
}

function section(out: string[], m: SdpMediaSection): void {
  out.push(`m=${[m.kind, String(m.port), m.protocol, ...m.formats].join(' ')}`);
  if (m.connection !== undefined) out.push(`c=${connection(m.connection)}`);
  for (const b of m.bandwidth) out.push(`b=${b.type}:${b.value}`);
  if (m.rtcp !== undefined) {
    out.push(m.rtcp.connection === undefined ? `a=rtcp:${m.rtcp.port}` : `a=rtcp:${m.rtcp.port} ${connection(m.rtcp.connection)}`);
  }
  for (const c of m.candidates) out.push(`a=${formatCandidate(c)}`);
  if (m.endOfCandidates) out.push('a=end-of-candidates');
  transport(out, m);
  if (m.mid !== undefined) out.push(`a=mid:${m.mid}`);
  if (m.bundleOnly) out.push('a=bundle-only');
  for (const e of m.extmaps) {
    let line = `a=extmap:${e.id}${e.direction === undefined ? '' : `/${e.direction}`} ${e.uri}`;
    if (e.attributes !== undefined) line += ` ${e.attributes}`;
    out.push(line);
  }
  if (m.extmapAllowMixed) out.push('a=extmap-allow-mixed');
  if (m.direction !== undefined) out.push(`a=${m.direction}`);
  for (const ms of m.msids) out.push(ms.track === undefined ? `a=msid:${ms.stream}` : `a=msid:${ms.stream} ${ms.track}`);
  if (m.rtcpMux) out.push('a=rtcp-mux');
  if (m.rtcpRsize) out.push('a=rtcp-rsize');
  const xr = m.rtcpXrReceiverRtt;
  if (xr !== undefined) out.push(`a=rtcp-xr:rcvr-rtt=${xr.mode}${xr.maxSize === undefined ? '' : `:${xr.maxSize}`}`);
  for (const c of m.codecs) {
    out.push(`a=rtpmap:${c.payloadType} ${c.name}/${c.clockRate}${c.channels === undefined ? '' : `/${c.channels}`}`);
    for (const fb of c.rtcpFeedback) out.push(`a=rtcp-fb:${c.payloadType} ${fb.type}${fb.parameter === undefined ? '' : ` ${fb.parameter}`}`);
    const fmtp = formatFmtp(c.parameters);
    if (fmtp.length > 0) out.push(`a=fmtp:${c.payloadType} ${fmtp}`);
  }
  for (const fb of m.rtcpFeedbackWildcard) out.push(`a=rtcp-fb:* ${fb.type}${fb.parameter === undefined ? '' : ` ${fb.parameter}`}`);
  for (const g of m.ssrcGroups) out.push(`a=ssrc-group:${[g.semantics, ...g.ssrcs.map(String)].join(' ')}`);
  for (const s of m.ssrcs) out.push(s.value === undefined ? `a=ssrc:${s.ssrc} ${s.attribute}` : `a=ssrc:${s.ssrc} ${s.attribute}:${s.value}`);
  for (const r of m.rids) {
    const params: string[] = [];
    if (r.payloadTypes.length > 0) params.push(`pt=${r.payloadTypes.join(',')}`);
    const rest = formatFmtp(r.restrictions);
    if (rest.length > 0) params.push(rest);
    out.push(`a=rid:${r.id} ${r.direction}${params.length > 0 ? ` ${params.join(';')}` : ''}`);
  }
  if (m.simulcast !== undefined) {
    const parts: string[] = [];
    for (const dir of ['send', 'recv'] as const) {
      const streams = m.simulcast[dir];
      if (streams.length === 0) continue;
      parts.push(dir, streams.map((alts) => alts.map((a) => (a.paused ? `~${a.rid}` : a.rid)).join(',')).join(';'));
    }
    if (parts.length > 0) out.push(`a=simulcast:${parts.join(' ')}`);
  }
  if (m.sctpPort !== undefined) out.push(`a=sctp-port:${m.sctpPort}`);
  if (m.sctpmap !== undefined) {
    out.push(`a=sctpmap:${m.sctpmap.port} ${m.sctpmap.app}${m.sctpmap.streams === undefined ? '' : ` ${m.sctpmap.streams}`}`);
  }
  if (m.maxMessageSize !== undefined) out.push(`a=max-message-size:${m.maxMessageSize}`);
  for (const a of m.otherAttributes) out.push(a.value === undefined ? `a=${a.name}` : `a=${a.name}:${a.value}`);
}
