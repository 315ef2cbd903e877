// RTCP-derived getStats() entries (W3C webrtc-stats §7.4-7.7): remote-inbound-rtp and
// remote-outbound-rtp from the reports the policy modules read, and the fields modules count on
// inbound-rtp / outbound-rtp (jitter, nackCount, pliCount, firCount) plus retransmissions the
// sender sent. A field is present only when an installed module measures it (docs/policy.md).
import type { RtpPolicyChain } from './rtp-policy-chain.js';
import type { RtpPolicyStatsCollector } from './rtp-policy.js';
import type { RTCRtpTransceiver } from './rtp-transceiver.js';
import type { RTCStats, RTCStatsReport } from './stats.js';

type Fields = Record<string, number>;

/** Adds the RTCP-derived entries and fields to `report` (built by stats.ts). */
export function addRtcpStats(
  report: RTCStatsReport,
  transceivers: readonly RTCRtpTransceiver[],
  transportPolicies: RtpPolicyChain,
  timestamp: number,
  transportId: string,
): void {
  const inbound = new Map<number, Fields>();
  const outbound = new Map<number, Fields>();
  const remoteInbound = new Map<number, Fields>();
  const remoteOutbound = new Map<number, Fields>();
  const transport: Fields = {};
  const into = (m: Map<number, Fields>) => (ssrc: number, f: Readonly<Fields>): void => {
    m.set(ssrc, { ...m.get(ssrc), ...f });
  };
  const collector: RtpPolicyStatsCollector = {
    inbound: into(inbound),
    outbound: into(outbound),
    remoteInbound: into(remoteInbound),
    remoteOutbound: into(remoteOutbound),
    transport: (f) => Object.assign(transport, f),
  };
  const kindOf = new Map<number, string>();
  for (const t of transceivers) {
    t.policies.collectStats(collector);
    kindOf.set(t.sender.ssrc, t.kind);
    for (const e of t.sender.encodings) kindOf.set(e.ssrc, t.kind);
    for (const s of t.receiver.streams.keys()) kindOf.set(s, t.kind);
    const out = report.get(`OT01V${t.sender.ssrc}`);
    if (out) {
      report.set(out.id, {
        ...out,
        retransmittedPacketsSent: t.sender.retransmittedPacketsSent,
        retransmittedBytesSent: t.sender.retransmittedBytesSent,
        pwtPacketsHeldByPolicy: t.sender.packetsHeldByPolicy,
      });
    }
  }
  transportPolicies.collectStats(collector);

  const merge = (id: string, fields: Fields, extra: Record<string, unknown> = {}): boolean => {
    const existing = report.get(id);
    if (!existing) return false;
    const merged: Record<string, unknown> = { ...existing, ...extra };
    // The mechanism's own counters (packetsLost from the router's sequence tracking) stay.
    for (const [k, v] of Object.entries(fields)) if (!(k in existing)) merged[k] = v;
    report.set(id, merged as unknown as RTCStats);
    return true;
  };
  for (const [ssrc, f] of inbound) {
    merge(`IT01V${ssrc}`, f, remoteOutbound.has(ssrc) ? { remoteId: `RO01V${ssrc}` } : {});
  }
  for (const [ssrc, f] of outbound) merge(`OT01V${ssrc}`, f, remoteInbound.has(ssrc) ? { remoteId: `RI01V${ssrc}` } : {});
  for (const [ssrc, f] of remoteInbound) {
    const localId = `OT01V${ssrc}`;
    if (!report.has(localId)) continue;
    if (!outbound.has(ssrc)) merge(localId, {}, { remoteId: `RI01V${ssrc}` });
    report.set(`RI01V${ssrc}`, { id: `RI01V${ssrc}`, type: 'remote-inbound-rtp', timestamp, transportId, ssrc, kind: kindOf.get(ssrc), localId, ...f });
  }
  for (const [ssrc, f] of remoteOutbound) {
    const localId = `IT01V${ssrc}`;
    if (!report.has(localId)) continue;
    if (!inbound.has(ssrc)) merge(localId, {}, { remoteId: `RO01V${ssrc}` });
    report.set(`RO01V${ssrc}`, { id: `RO01V${ssrc}`, type: 'remote-outbound-rtp', timestamp, transportId, ssrc, kind: kindOf.get(ssrc), localId, ...f });
  }
  if (Object.keys(transport).length > 0) {
    const t = report.get(transportId);
    const pairId = t?.selectedCandidatePairId;
    const target = typeof pairId === 'string' && report.has(pairId) ? pairId : transportId;
    const entry = report.get(target);
    if (entry) report.set(target, { ...entry, ...transport });
  }
}
