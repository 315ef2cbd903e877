// Data Channel Establishment Protocol messages (RFC 8832 section 5): DATA_CHANNEL_OPEN and
// DATA_CHANNEL_ACK, plus the WebRTC payload protocol identifiers (RFC 8831 section 8).

/** Payload Protocol Identifiers used by WebRTC data channels (RFC 8831 section 8, RFC 8832 section 8.1). */
export const Ppid = {
  DCEP: 50,
  STRING: 51,
  /** Deprecated partial string (never sent; dropped on receipt). */
  STRING_PARTIAL: 52,
  BINARY: 53,
  /** Deprecated partial binary (never sent; dropped on receipt). */
  BINARY_PARTIAL: 54,
  STRING_EMPTY: 56,
  BINARY_EMPTY: 57,
} as const;

/** DCEP message types (RFC 8832 section 8.2.1). */
export const DcepType = { ACK: 0x02, OPEN: 0x03 } as const;

/** Channel types (RFC 8832 section 5.1): reliability and ordering. */
export const ChannelType = {
  RELIABLE: 0x00,
  RELIABLE_UNORDERED: 0x80,
  PARTIAL_RELIABLE_REXMIT: 0x01,
  PARTIAL_RELIABLE_REXMIT_UNORDERED: 0x81,
  PARTIAL_RELIABLE_TIMED: 0x02,
  PARTIAL_RELIABLE_TIMED_UNORDERED: 0x82,
} as const;

/** A DATA_CHANNEL_OPEN message. */
export interface DcepOpen {
  channelType: number;
  priority: number;
  reliabilityParameter: number;
  label: string;
  protocol: string;
}

/** Reliability settings as RTCDataChannelInit expresses them. */
export interface ChannelReliability {
  ordered: boolean;
  maxRetransmits: number | null;
  maxPacketLifeTime: number | null;
}

/** Maps W3C reliability settings to the DCEP channel type and reliability parameter. */
export function toChannelType(r: ChannelReliability): { channelType: number; reliabilityParameter: number } {
  const unordered = r.ordered ? 0 : 0x80;
  if (r.maxRetransmits !== null) return { channelType: ChannelType.PARTIAL_RELIABLE_REXMIT | unordered, reliabilityParameter: r.maxRetransmits };
  if (r.maxPacketLifeTime !== null) return { channelType: ChannelType.PARTIAL_RELIABLE_TIMED | unordered, reliabilityParameter: r.maxPacketLifeTime };
  return { channelType: ChannelType.RELIABLE | unordered, reliabilityParameter: 0 };
}

/** Maps a DCEP channel type back to W3C reliability settings; undefined for an unknown type. */
export function fromChannelType(channelType: number, reliabilityParameter: number): ChannelReliability | undefined {
  const ordered = (channelType & 0x80) === 0;
  switch (channelType & 0x7f) {
    case 0:
      return { ordered, maxRetransmits: null, maxPacketLifeTime: null };
    case 1:
      return { ordered, maxRetransmits: reliabilityParameter, maxPacketLifeTime: null };
    case 2:
      return { ordered, maxRetransmits: null, maxPacketLifeTime: reliabilityParameter };
    default:
      return undefined;
  }
}

/** Encodes DATA_CHANNEL_OPEN (RFC 8832 section 5.1). Label and protocol are UTF-8, at most 65535 bytes. */
export function encodeDcepOpen(m: DcepOpen): Buffer {
  const label = Buffer.from(m.label, 'utf8');
  const protocol = Buffer.from(m.protocol, 'utf8');
  const b = Buffer.alloc(12 + label.length + protocol.length);
  b[0] = DcepType.OPEN;
  b[1] = m.channelType;
  b.writeUInt16BE(m.priority, 2);
  b.writeUInt32BE(m.reliabilityParameter >>> 0, 4);
  b.writeUInt16BE(label.length, 8);
  b.writeUInt16BE(protocol.length, 10);
  label.copy(b, 12);
  protocol.copy(b, 12 + label.length);
  return b;
}

/** Encodes DATA_CHANNEL_ACK (RFC 8832 section 5.2). */
export function encodeDcepAck(): Buffer {
  return Buffer.from([DcepType.ACK]);
}

/** A parsed DCEP message. */
export type DcepMessage = { type: 'open'; open: DcepOpen } | { type: 'ack' };

/** Parses a DCEP message; undefined when malformed or of an unknown type. */
export function parseDcep(data: Uint8Array): DcepMessage | undefined {
  if (data.length < 1) return undefined;
  if (data[0] === DcepType.ACK) return { type: 'ack' };
  if (data[0] !== DcepType.OPEN || data.length < 12) return undefined;
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const labelLen = b.readUInt16BE(8);
  const protocolLen = b.readUInt16BE(10);
  if (12 + labelLen + protocolLen > b.length) return undefined;
  return {
    type: 'open',
    open: {
      channelType: b[1]!,
      priority: b.readUInt16BE(2),
      reliabilityParameter: b.readUInt32BE(4),
      label: b.toString('utf8', 12, 12 + labelLen),
      protocol: b.toString('utf8', 12 + labelLen, 12 + labelLen + protocolLen),
    },
  };
}

/** W3C RTCPriorityType (webrtc-priority) to the DCEP priority value (RFC 8831 section 6.4). */
export const PRIORITY_VALUE = { 'very-low': 128, low: 256, medium: 512, high: 1024 } as const;

/** An RTCPriorityType. */
export type RTCPriorityType = keyof typeof PRIORITY_VALUE;

/** The RTCPriorityType for a DCEP priority value (nearest level at or below it). */
export function priorityFromValue(v: number): RTCPriorityType {
  if (v >= 1024) return 'high';
  if (v >= 512) return 'medium';
  if (v >= 256) return 'low';
  return 'very-low';
}
