// playout-delay header extension: 12-bit minimum and 12-bit maximum delay in 10 ms units
// (http://www.webrtc.org/experiments/rtp-hdrext/playout-delay).
import { OutOfRangeError } from '../../common/errors.js';

/** Playout delay limits, in milliseconds (multiples of 10, at most 40950). */
export interface PlayoutDelay {
  minMs: number;
  maxMs: number;
}

/** Reads the limits, or null unless the value is 3 bytes. */
export function parsePlayoutDelay(data: Uint8Array): PlayoutDelay | null {
  if (data.length !== 3) return null;
  const min = (data[0]! << 4) | (data[1]! >> 4);
  const max = ((data[1]! & 0x0f) << 8) | data[2]!;
  return { minMs: min * 10, maxMs: max * 10 };
}

/** Encodes the limits (rounded down to 10 ms). */
export function serializePlayoutDelay(value: PlayoutDelay): Buffer {
  const min = Math.floor(value.minMs / 10);
  const max = Math.floor(value.maxMs / 10);
  for (const v of [min, max]) {
    if (!(v >= 0 && v <= 0xfff)) throw new OutOfRangeError('ERR_RTP_PLAYOUT_DELAY', `playout delay ${v * 10} ms is outside 0..40950`);
  }
  return Buffer.from([min >> 4, ((min & 0x0f) << 4) | (max >> 8), max & 0xff]);
}
