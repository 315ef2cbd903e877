// getStats() entries of the extra transports an unbundled remote offer gives a connection: one
// `transport` entry each (lib/peer/stats-transport.ts), its candidates and candidate pairs, and
// the RTP stream entries of its m-sections pointing at it (webrtc-stats transportId).
import type { DtlsCertificate } from '../dtls/dtls-certificate.js';
import type { DtlsTransportState } from '../dtls/dtls-transport.js';
import type { IceConnectionState } from '../ice/ice-agent.js';
import type { PeerTransport } from '../transport/peer-transport.js';
import { candidateId, candidateStats, type RTCStatsReport } from './stats.js';
import { transportStats, transportTraffic } from './stats-transport.js';

/** One extra transport and the mids it carries. */
export interface ExtraTransportStatsInput {
  readonly id: string;
  readonly timestamp: number;
  readonly transport: PeerTransport;
  readonly localCertificate: DtlsCertificate;
  readonly dtlsState: DtlsTransportState;
  readonly iceState: IceConnectionState;
  readonly mids: readonly string[];
}

/** Adds the extra transport's entries to `report` and re-points its m-sections' RTP entries. */
export function addExtraTransportStats(report: RTCStatsReport, input: ExtraTransportStatsInput): void {
  const { transport: t, timestamp, id } = input;
  // Candidate ids carry the transport id: two transports may gather on the same address.
  const cid = (prefix: string, c: Parameters<typeof candidateId>[1]): string => `${id}${candidateId(prefix, c)}`;
  const selected = t.selectedPair;
  const pairId = selected ? `CP${cid('L', selected.local)}_${cid('R', selected.remote)}` : undefined;
  const traffic = transportTraffic(t);
  for (const e of transportStats({ id, timestamp, transport: t, traffic, localCertificate: input.localCertificate, dtlsState: input.dtlsState, iceState: input.iceState, selectedCandidatePairId: pairId })) {
    report.set(e.id, e);
  }
  for (const p of t.ice.checkList) {
    const local = cid('L', p.local);
    const remote = cid('R', p.remote);
    if (!report.has(local)) report.set(local, candidateStats(local, 'local-candidate', p.local, timestamp, id));
    if (!report.has(remote)) report.set(remote, candidateStats(remote, 'remote-candidate', p.remote, timestamp, id));
    const pid = `CP${local}_${remote}`;
    report.set(pid, {
      id: pid, type: 'candidate-pair', timestamp, transportId: id, localCandidateId: local, remoteCandidateId: remote,
      state: p.state, nominated: p.nominated,
      ...(pid === pairId ? { packetsSent: traffic.packetsSent, packetsReceived: traffic.packetsReceived } : {}),
      ...(pid === pairId && traffic.bytesSent !== undefined ? { bytesSent: traffic.bytesSent, bytesReceived: traffic.bytesReceived } : {}),
    });
  }
  for (const [key, s] of report) {
    if ((s.type === 'inbound-rtp' || s.type === 'outbound-rtp' || s.type === 'codec') && typeof s.mid === 'string' && input.mids.includes(s.mid)) {
      report.set(key, { ...s, transportId: id });
    }
  }
}
