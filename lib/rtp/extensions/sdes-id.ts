// Text-valued SDES header extensions: mid (RFC 8843 §15), rtp-stream-id and
// repaired-rtp-stream-id (RFC 8852 §3): the value is the UTF-8 identifier itself.
import { OutOfRangeError } from '../../common/errors.js';

/** Reads a mid / rid / repaired rid value; trailing NUL bytes some senders add are ignored. */
export function parseSdesId(data: Uint8Array): string {
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  return Buffer.from(data.buffer, data.byteOffset, end).toString('utf8');
}

/** Encodes a mid / rid value (1..255 UTF-8 bytes; at most 16 for the one-byte form). */
export function serializeSdesId(id: string): Buffer {
  const b = Buffer.from(id, 'utf8');
  if (b.length < 1 || b.length > 255) {
    throw new OutOfRangeError('ERR_RTP_SDES_ID_LENGTH', `SDES id "${id}" is ${b.length} bytes; 1..255 allowed (RFC 8852 §3)`);
  }
  return b;
}
