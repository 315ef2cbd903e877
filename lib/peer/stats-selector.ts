// getStats(selector) (webrtc-pc, "the stats selection algorithm"): the RTP stream entries of one
// sender or receiver and every entry they refer to, directly or indirectly. See docs/peer.md.
import type { RTCStats, RTCStatsReport } from './stats.js';

/**
 * The entries `isSeed` picks, the entries they reference (members named `...Id` whose value is an
 * id in the report: transportId, codecId, selectedCandidatePairId, certificate ids, remoteId...)
 * and the remote-side entries that name a picked entry as their `localId`, transitively.
 */
export function selectStats(report: RTCStatsReport, isSeed: (s: RTCStats) => boolean): RTCStatsReport {
  const out: RTCStatsReport = new Map();
  const queue: RTCStats[] = [];
  const take = (s: RTCStats | undefined): void => {
    if (!s || out.has(s.id)) return;
    out.set(s.id, s);
    queue.push(s);
  };
  for (const s of report.values()) if (isSeed(s)) take(s);
  const byLocalId = new Map<string, RTCStats[]>();
  for (const s of report.values()) {
    if (typeof s.localId !== 'string') continue;
    const list = byLocalId.get(s.localId) ?? [];
    list.push(s);
    byLocalId.set(s.localId, list);
  }
  while (queue.length > 0) {
    const s = queue.pop()!;
    for (const key in s) {
      const v = s[key];
      if (key !== 'id' && key.endsWith('Id') && typeof v === 'string') take(report.get(v));
    }
    for (const r of byLocalId.get(s.id) ?? []) take(r);
  }
  return out;
}
