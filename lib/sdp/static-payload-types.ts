// Static RTP payload types (RFC 3551 §6, Tables 4 and 5): codecs a peer may list without an rtpmap.

/** Encoding name, clock rate and channels of a static payload type. */
export interface StaticPayloadType {
  /** Encoding name as registered. */
  name: string;
  /** Clock rate in Hz. */
  clockRate: number;
  /** Channel count, only for the stereo entry. */
  channels?: number;
}

const TABLE: ReadonlyMap<number, StaticPayloadType> = new Map<number, StaticPayloadType>([
  [0, { name: 'PCMU', clockRate: 8000 }],
  [3, { name: 'GSM', clockRate: 8000 }],
  [4, { name: 'G723', clockRate: 8000 }],
  [5, { name: 'DVI4', clockRate: 8000 }],
  [6, { name: 'DVI4', clockRate: 16000 }],
  [7, { name: 'LPC', clockRate: 8000 }],
  [8, { name: 'PCMA', clockRate: 8000 }],
  // G722's RTP clock is 8000 although it samples at 16 kHz (RFC 3551 §4.5.2).
  [9, { name: 'G722', clockRate: 8000 }],
  [10, { name: 'L16', clockRate: 44100, channels: 2 }],
  [11, { name: 'L16', clockRate: 44100 }],
  [12, { name: 'QCELP', clockRate: 8000 }],
  [13, { name: 'CN', clockRate: 8000 }],
  [14, { name: 'MPA', clockRate: 90000 }],
  [15, { name: 'G728', clockRate: 8000 }],
  [16, { name: 'DVI4', clockRate: 11025 }],
  [17, { name: 'DVI4', clockRate: 22050 }],
  [18, { name: 'G729', clockRate: 8000 }],
  [25, { name: 'CelB', clockRate: 90000 }],
  [26, { name: 'JPEG', clockRate: 90000 }],
  [28, { name: 'nv', clockRate: 90000 }],
  [31, { name: 'H261', clockRate: 90000 }],
  [32, { name: 'MPV', clockRate: 90000 }],
  [33, { name: 'MP2T', clockRate: 90000 }],
  [34, { name: 'H263', clockRate: 90000 }],
]);

/** The static assignment of `payloadType`, or undefined for dynamic and unassigned numbers. */
export function staticPayloadType(payloadType: number): StaticPayloadType | undefined {
  return TABLE.get(payloadType);
}
