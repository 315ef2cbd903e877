// getStats() (W3C webrtc-stats): transport, candidate-pair, local-candidate, remote-candidate,
// certificate, codec, inbound-rtp, outbound-rtp, data-channel, sctp-transport, peer-connection and our
// drop counters by reason (`pwtDrops` on the transport entry). Field names are the W3C ones.
import { performance } from 'node:perf_hooks';
import type { DtlsCertificate } from '../dtls/dtls-certificate.js';
import type { DtlsTransportState } from '../dtls/dtls-transport.js';
import type { IceCandidate } from '../ice/candidate.js';
import type { IceConnectionState } from '../ice/ice-agent.js';
import type { DataChannelManager } from '../sctp/data-channel-manager.js';
import type { PeerTransport } from '../transport/peer-transport.js';
import type { IceMdnsStats } from '../transport/ice-transport.js';
import type { MediaRouter } from './media-router.js';
import type { RTCRtpTransceiver } from './rtp-transceiver.js';
import type { RtpPolicyChain } from './rtp-policy-chain.js';
import { certificateStats, localCertificateFields } from './stats-certificate.js';
import { addRtcpStats } from './stats-rtcp.js';
import { sctpTransportStats } from './stats-sctp.js';
import { transportStats, transportTraffic } from './stats-transport.js';

/** One stats object: `id`, `type` (W3C RTCStatsType), `timestamp` (ms since the epoch) and its fields. */
export interface RTCStats {
  readonly id: string;
  readonly type: string;
  readonly timestamp: number;
  readonly [field: string]: unknown;
}

/** W3C RTCStatsReport: stats objects by id. */
export type RTCStatsReport = Map<string, RTCStats>;

/** What the report is built from. */
export interface StatsSources {
  now: number;
  transport: PeerTransport | undefined;
  certificate: DtlsCertificate;
  transceivers: readonly RTCRtpTransceiver[];
  router: MediaRouter;
  dtlsState: DtlsTransportState;
  iceState: IceConnectionState;
  sctp: DataChannelManager | undefined;
  dataChannelsOpened: number;
  dataChannelsClosed: number;
  /** Remote candidates ICE could not use, ignored (RFC 8839 §5.1): `pwtRemoteCandidatesIgnored`. */
  remoteCandidatesIgnored?: number;
  /** Transport-wide policy modules (RTCP-derived entries come from stats-rtcp.ts). */
  transportPolicies?: RtpPolicyChain;
}

/** The id of a candidate entry (`L`ocal or `R`emote). */
export function candidateId(prefix: string, c: IceCandidate): string {
  return `${prefix}-${c.address}-${c.port}-${c.type}`;
}

/** A local-candidate or remote-candidate entry. */
export function candidateStats(id: string, type: string, c: IceCandidate, timestamp: number, transportId: string): RTCStats {
  return {
    id, type, timestamp, transportId,
    address: c.address, port: c.port, protocol: c.protocol, candidateType: c.type, priority: c.priority, foundation: c.foundation,
    ...(c.relatedAddress !== undefined ? { relatedAddress: c.relatedAddress, relatedPort: c.relatedPort } : {}),
    // RTCIceCandidateStats.tcpType (RFC 6544): only on TCP candidates.
    ...(c.tcpType !== undefined ? { tcpType: c.tcpType } : {}),
  };
}

/**
 * `pwtDrops.mdns`: unused answer records by reason, names that did not resolve, answers for names an
 * ICE restart dropped (`stale`), candidates ignored for want of an address.
 */
function mdnsDrops(m: IceMdnsStats): Record<string, number> {
  return { ...m.drops, unresolved: m.unresolved, stale: m.stale, 'candidates-ignored': m.candidatesIgnored };
}

/** Builds the report (see the file header). */
export function buildStatsReport(src: StatsSources): RTCStatsReport {
  const report: RTCStatsReport = new Map();
  const timestamp = src.now;
  const add = (s: RTCStats): void => {
    report.set(s.id, withoutUndefined(s));
  };
  add({ id: 'P', type: 'peer-connection', timestamp, dataChannelsOpened: src.dataChannelsOpened, dataChannelsClosed: src.dataChannelsClosed, pwtRemoteCandidatesIgnored: src.remoteCandidatesIgnored ?? 0 });
  const t = src.transport;
  const transportId = 'T01';
  if (!t) add(certificateStats(localCertificateFields(src.certificate), timestamp));
  if (t) {
    const traffic = transportTraffic(t);
    const { bytesSent, bytesReceived, packetsSent, packetsReceived } = traffic;
    let srtpUnprotectedNatively = 0;
    let srtpProtectedNatively = 0;
    const udpDrops = { truncated: 0, receiveError: 0, sendTooBig: 0, sendUnreachable: 0, sendRefused: 0, sendOther: 0, channelData: 0 };
    for (const { socket } of t.localSockets) {
      if (socket.closed) continue;
      const st = socket.stats;
      srtpUnprotectedNatively += st.srtpUnprotected;
      srtpProtectedNatively += st.srtpProtected;
      for (const k of Object.keys(udpDrops) as (keyof typeof udpDrops)[]) udpDrops[k] += st.drops[k];
    }
    const dtls = t.dtls;
    // retransmitsOnRead is not a drop: it goes with the entry's other fields, not pwtDrops.dtls. The
    // thread's handshake admission figures are no drops either and not this connection's: they stay
    // in DtlsTransport.stats() (docs/dtls.md "Handshakes in flight").
    const dtlsCounters = dtls?.stats();
    type AdmissionKeys = 'handshakeSlotLimit' | 'handshakesInFlight' | 'handshakesInFlightPeak' | 'handshakesWaitingForSlot' | 'handshakeSlotWaits' | 'handshakeSlotsReclaimed';
    let dtlsDrops: Omit<NonNullable<typeof dtlsCounters>, 'retransmitsOnRead' | AdmissionKeys> | undefined;
    let dtlsRetransmitsOnRead: number | undefined;
    if (dtlsCounters) {
      const { handshakeSlotLimit: _l, handshakesInFlight: _f, handshakesInFlightPeak: _p, handshakesWaitingForSlot: _w, handshakeSlotWaits: _s, handshakeSlotsReclaimed: _r, ...rest } = dtlsCounters;
      ({ retransmitsOnRead: dtlsRetransmitsOnRead, ...dtlsDrops } = rest);
    }
    const srtp = t.srtp;
    const turn = t.turnDropStats();
    const selected = t.selectedPair;
    const pairId = selected ? `CP${candidateId('L', selected.local)}_${candidateId('R', selected.remote)}` : undefined;
    const entries = transportStats({
      id: transportId, timestamp, transport: t, traffic, localCertificate: src.certificate,
      dtlsState: src.dtlsState, iceState: src.iceState, selectedCandidatePairId: pairId,
    });
    const transportEntry = entries.pop()!;
    for (const e of entries) add(e);
    add({
      ...transportEntry,
      pwtSrtpUnprotectedInSocket: srtpUnprotectedNatively,
      pwtSrtpProtectedInSocket: srtpProtectedNatively,
      ...(dtlsRetransmitsOnRead !== undefined ? { pwtDtlsRetransmitsOnRead: dtlsRetransmitsOnRead } : {}),
      pwtDrops: {
        transport: t.dropStats(),
        udp: udpDrops,
        ice: t.iceDropStats(),
        mdns: mdnsDrops(t.mdnsStats()),
        ...(turn ? { turn } : {}),
        ...(dtlsDrops ? { dtls: dtlsDrops } : {}),
        ...(srtp && !srtp.closed ? { srtp: srtp.stats().dropped } : {}),
        media: { ...src.router.drops },
        ...(src.sctp ? { sctp: { ...src.sctp.stats.drops } } : {}),
      },
    });
    for (const c of t.ice.localCandidates) add(candidateStats(candidateId('L', c), 'local-candidate', c, timestamp, transportId));
    for (const c of t.ice.remoteCandidateList) add(candidateStats(candidateId('R', c), 'remote-candidate', c, timestamp, transportId));
    for (const p of t.ice.checkList) {
      const id = `CP${candidateId('L', p.local)}_${candidateId('R', p.remote)}`;
      if (!report.has(candidateId('L', p.local))) add(candidateStats(candidateId('L', p.local), 'local-candidate', p.local, timestamp, transportId));
      if (!report.has(candidateId('R', p.remote))) add(candidateStats(candidateId('R', p.remote), 'remote-candidate', p.remote, timestamp, transportId));
      add({
        id, type: 'candidate-pair', timestamp, transportId,
        localCandidateId: candidateId('L', p.local),
        remoteCandidateId: candidateId('R', p.remote),
        state: p.state, nominated: p.nominated,
        ...(id === pairId ? { bytesSent, bytesReceived, packetsSent, packetsReceived } : {}),
      });
    }
  }
  for (const tr of src.transceivers) {
    const sender = tr.sender;
    const params = sender.parameters;
    let codecId: string | undefined;
    if (params) {
      codecId = `CIT01_${params.payloadType}`;
      add({ id: codecId, type: 'codec', timestamp, transportId, payloadType: params.payloadType, mimeType: `${tr.kind}/${params.codec}`, clockRate: params.clockRate });
    }
    if (sender.encodings.length > 0 && params) {
      for (const e of sender.encodings) {
        add({
          id: `OT01V${e.ssrc}`, type: 'outbound-rtp', timestamp, transportId,
          ssrc: e.ssrc, rid: e.rid, kind: tr.kind, mid: tr.mid ?? undefined, codecId,
          packetsSent: e.packetsSent, bytesSent: e.bytesSent,
        });
      }
    } else if (sender.packetsSent > 0 || params) {
      add({
        id: `OT01V${sender.ssrc}`, type: 'outbound-rtp', timestamp, transportId,
        ssrc: sender.ssrc, kind: tr.kind, mid: tr.mid ?? undefined, codecId,
        packetsSent: sender.packetsSent, bytesSent: sender.bytesSent, headerBytesSent: sender.headerBytesSent,
        pwtPacketsDropped: sender.packetsDropped,
      });
    }
  }
  for (const { transceiver, stream } of src.router.inboundStreams()) {
    const expected = stream.baseSequence < 0 ? 0 : stream.cycles + stream.maxSequence - stream.baseSequence + 1;
    add({
      id: `IT01V${stream.ssrc}`, type: 'inbound-rtp', timestamp, transportId,
      ssrc: stream.ssrc, kind: transceiver.kind, mid: transceiver.mid ?? undefined,
      trackIdentifier: stream.track.id,
      ...(stream.track.rid !== undefined ? { rid: stream.track.rid } : {}),
      packetsReceived: stream.packetsReceived, bytesReceived: stream.bytesReceived, headerBytesReceived: stream.headerBytesReceived,
      packetsLost: Math.max(0, expected - stream.packetsReceived),
      lastPacketReceivedTimestamp: stream.packetsReceived > 0 ? timestamp - (performanceNow() - stream.lastPacketReceivedAt) : undefined,
      pwtPacketsDiscarded: stream.track.droppedPackets,
    });
  }
  if (src.transportPolicies) addRtcpStats(report, src.transceivers, src.transportPolicies, timestamp, transportId);
  for (const [id, s] of report) report.set(id, withoutUndefined(s));
  if (src.sctp) {
    const sctp = sctpTransportStats(src.sctp, timestamp, t ? transportId : undefined);
    if (sctp) add(sctp);
    for (const [id, channel] of src.sctp.channels) {
      add({
        id: `D${id}`, type: 'data-channel', timestamp,
        label: channel.label, protocol: channel.protocol, dataChannelIdentifier: id, state: channel.readyState,
        messagesSent: channel.stats.messagesSent, bytesSent: channel.stats.bytesSent,
        messagesReceived: channel.stats.messagesReceived, bytesReceived: channel.stats.bytesReceived,
      });
    }
  }
  return report;
}

/** A stats entry carries no blank fields: a member that has no value is left out, not reported as undefined. */
function withoutUndefined(s: RTCStats): RTCStats {
  let clean: Record<string, unknown> | undefined;
  for (const k in s) {
    if (s[k] !== undefined) continue;
    clean ??= { ...s };
    delete clean[k];
  }
  return (clean ?? s) as RTCStats;
}

function performanceNow(): number {
  return performance.now();
}
