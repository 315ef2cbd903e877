// abs-send-time header extension: 3 bytes, 6.18 fixed-point seconds, wrapping every 64 s
// (http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time).
import { OutOfRangeError } from '../../common/errors.js';

/** Reads the 24-bit 6.18 value, or null when the value is not 3 bytes. */
export function parseAbsSendTime(data: Uint8Array): number | null {
  if (data.length !== 3) return null;
  return (data[0]! << 16) | (data[1]! << 8) | data[2]!;
}

/** Encodes a 24-bit 6.18 value. */
export function serializeAbsSendTime(value: number): Buffer {
  if (!(Number.isInteger(value) && value >= 0 && value <= 0xffffff)) {
    throw new OutOfRangeError('ERR_RTP_ABS_SEND_TIME', `abs-send-time ${value} is outside 0..0xffffff`);
  }
  return Buffer.from([value >> 16, (value >> 8) & 0xff, value & 0xff]);
}

/** Converts a time in milliseconds to the 24-bit 6.18 value (seconds modulo 64, rounded). */
export function absSendTimeFromMs(ms: number): number {
  return Math.round((ms * 262144) / 1000) & 0xffffff;
}

/** Converts a 24-bit 6.18 value to milliseconds within its 64 s window. */
export function absSendTimeToMs(value: number): number {
  return (value * 1000) / 262144;
}
