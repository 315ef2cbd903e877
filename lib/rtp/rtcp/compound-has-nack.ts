// Whether a compound RTCP packet (RFC 3550 §6.1) holds a generic NACK (RFC 4585 §6.2.1: RTPFB,
// FMT 1), read from its packet headers only: most compounds are reports and need no further look.
import { RTPFB } from './feedback-base.js';

/** Generic NACK's FMT in the RTPFB packet type. */
const GENERIC_NACK_FMT = 1;

/**
 * True when one of the packets in `data[start, start + length)` is a generic NACK. The walk stops
 * at a length that runs past the end (the bytes are taken as they are; a parser judges them).
 */
export function compoundHasGenericNack(data: Uint8Array, start: number, length: number): boolean {
  const end = Math.min(data.length, start + length);
  let at = start;
  while (end - at >= 4) {
    if (data[at + 1] === RTPFB && (data[at]! & 0x1f) === GENERIC_NACK_FMT) return true;
    at += (((data[at + 2]! << 8) | data[at + 3]!) + 1) * 4;
  }
  return false;
}
