// Events and counters of an SctpAssociation (the sans-I/O outputs besides packets and timeouts).

/** Association states (RFC 9260 section 4), plus the terminal `closed` after shutdown or abort. */
export type SctpAssociationState =
  | 'new'
  | 'cookie-wait'
  | 'cookie-echoed'
  | 'established'
  | 'shutdown-pending'
  | 'shutdown-sent'
  | 'shutdown-received'
  | 'shutdown-ack-sent'
  | 'closed';

/** Something the association reports; drain with pollEvent(). */
export type SctpEvent =
  | { type: 'established' }
  | { type: 'message'; streamId: number; ppid: number; unordered: boolean; data: Buffer }
  /** Incoming: the peer reset its outgoing streams. Outgoing: our reset request completed. */
  | { type: 'stream-reset'; direction: 'incoming' | 'outgoing'; streams: number[]; success: boolean }
  /** The stream's bufferedAmount fell to or below its low threshold. */
  | { type: 'buffered-amount-low'; streamId: number }
  /** Terminal: after SHUTDOWN (error false) or ABORT / failure (error true). */
  | { type: 'closed'; reason: string; error: boolean };

/** Drop and activity counters (network input never throws; it is counted here). */
export interface SctpStats {
  packetsReceived: number;
  packetsSent: number;
  dataChunksSent: number;
  dataChunksReceived: number;
  bytesSent: number;
  bytesReceived: number;
  messagesSent: number;
  messagesReceived: number;
  retransmissions: number;
  fastRetransmits: number;
  t3Expirations: number;
  abandonedMessages: number;
  /** Partially reliable messages whose lifetime ended before their first transmission. */
  expiredBeforeSend: number;
  forwardTsnSent: number;
  heartbeatsSent: number;
  /** Dropped input, by reason (e.g. 'bad-checksum', 'bad-vtag', 'tsn-too-far', 'rwnd-full'). */
  drops: Record<string, number>;
}

/** Send-path window state (association.windowState), what RTCSctpTransportStats reports. */
export interface SctpWindowState {
  /** Congestion window, bytes (RFC 9260 section 7.2). */
  cwnd: number;
  /** The peer's receiver window as last advertised minus what is in flight since, bytes. */
  peerRwnd: number;
  /** Largest SCTP packet we send, bytes. */
  mtu: number;
  /** DATA chunks sent and not yet acknowledged (nor abandoned). */
  unackedChunks: number;
  /** Smoothed round-trip time, ms (RFC 9260 section 6.3.1); absent before the first sample. */
  srtt?: number;
}
