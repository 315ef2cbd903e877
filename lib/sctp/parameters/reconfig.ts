// RE-CONFIG parameters (RFC 6525 sections 4.1 and 4.4): Outgoing SSN Reset Request and
// Re-configuration Response, the two this implementation uses to close data channels.
import type { Parameter } from './tlv.js';
import { ParamType } from './tlv.js';

/** Outgoing SSN Reset Request (RFC 6525 section 4.1). An empty stream list means all streams. */
export interface OutgoingResetRequest {
  requestSeq: number;
  responseSeq: number;
  senderLastTsn: number;
  streams: number[];
}

/** Re-configuration result codes (RFC 6525 section 4.4). */
export const ReconfigResult = {
  SUCCESS_NOTHING_TO_DO: 0,
  SUCCESS_PERFORMED: 1,
  DENIED: 2,
  ERROR_WRONG_SSN: 3,
  ERROR_REQUEST_ALREADY_IN_PROGRESS: 4,
  ERROR_BAD_SEQUENCE_NUMBER: 5,
  IN_PROGRESS: 6,
} as const;

/** Re-configuration Response (RFC 6525 section 4.4). */
export interface ReconfigResponse {
  responseSeq: number;
  result: number;
}

/** Encodes an Outgoing SSN Reset Request parameter. */
export function encodeOutgoingResetRequest(r: OutgoingResetRequest): Parameter {
  const v = Buffer.alloc(12 + 2 * r.streams.length);
  v.writeUInt32BE(r.requestSeq >>> 0, 0);
  v.writeUInt32BE(r.responseSeq >>> 0, 4);
  v.writeUInt32BE(r.senderLastTsn >>> 0, 8);
  r.streams.forEach((s, i) => v.writeUInt16BE(s, 12 + 2 * i));
  return { type: ParamType.OUTGOING_SSN_RESET_REQUEST, value: v };
}

/** Decodes an Outgoing SSN Reset Request value; undefined when malformed. */
export function decodeOutgoingResetRequest(value: Uint8Array): OutgoingResetRequest | undefined {
  if (value.length < 12 || (value.length - 12) % 2 !== 0) return undefined;
  const v = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const streams: number[] = [];
  for (let p = 12; p < v.length; p += 2) streams.push(v.readUInt16BE(p));
  return { requestSeq: v.readUInt32BE(0), responseSeq: v.readUInt32BE(4), senderLastTsn: v.readUInt32BE(8), streams };
}

/** Encodes a Re-configuration Response parameter. */
export function encodeReconfigResponse(r: ReconfigResponse): Parameter {
  const v = Buffer.alloc(8);
  v.writeUInt32BE(r.responseSeq >>> 0, 0);
  v.writeUInt32BE(r.result >>> 0, 4);
  return { type: ParamType.RECONFIG_RESPONSE, value: v };
}

/** Decodes a Re-configuration Response value (optional TSN fields ignored); undefined when short. */
export function decodeReconfigResponse(value: Uint8Array): ReconfigResponse | undefined {
  if (value.length < 8) return undefined;
  const v = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return { responseSeq: v.readUInt32BE(0), result: v.readUInt32BE(4) };
}
