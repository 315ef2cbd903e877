// The sctp-transport stats entry (W3C webrtc-stats RTCSctpTransportStats): the SCTP association's
// windows and smoothed RTT, plus its activity counters as pwt* fields (docs/sctp.md "Contract").
import type { DataChannelManager } from '../sctp/data-channel-manager.js';
import type { RTCStats } from './stats.js';

/** The entry, or undefined before the association was negotiated (nothing to report yet). */
export function sctpTransportStats(manager: DataChannelManager, timestamp: number, transportId: string | undefined): RTCStats | undefined {
  const a = manager.association;
  const w = a.windowState;
  if (!w) return undefined;
  const s = a.stats;
  return {
    id: 'SCTP', type: 'sctp-transport', timestamp, transportId,
    smoothedRoundTripTime: w.srtt === undefined ? undefined : w.srtt / 1000,
    congestionWindow: w.cwnd, receiverWindow: w.peerRwnd, mtu: w.mtu, unackData: w.unackedChunks,
    pwtState: a.state,
    pwtPacketsSent: s.packetsSent, pwtPacketsReceived: s.packetsReceived,
    pwtDataChunksSent: s.dataChunksSent, pwtDataChunksReceived: s.dataChunksReceived,
    pwtMessagesSent: s.messagesSent, pwtMessagesReceived: s.messagesReceived,
    pwtRetransmissions: s.retransmissions, pwtFastRetransmits: s.fastRetransmits, pwtT3Expirations: s.t3Expirations,
    pwtAbandonedMessages: s.abandonedMessages, pwtExpiredBeforeSend: s.expiredBeforeSend,
  };
}
