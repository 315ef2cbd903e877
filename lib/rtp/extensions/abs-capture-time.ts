// abs-capture-time header extension: 64-bit NTP capture timestamp (UQ32.32) and an optional
// estimated capture clock offset (Q32.32) (http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time).

/** Capture time of the first sample of a frame, as the original capturer saw it. */
export interface AbsCaptureTime {
  /** NTP timestamp, UQ32.32 seconds since 1900. */
  absoluteCaptureTimestamp: bigint;
  /** Sender's estimate of (capturer clock - sender clock), Q32.32 seconds; absent in the 8-byte form. */
  estimatedCaptureClockOffset?: bigint;
}

/** Reads the value, or null unless it is 8 or 16 bytes. */
export function parseAbsCaptureTime(data: Uint8Array): AbsCaptureTime | null {
  if (data.length !== 8 && data.length !== 16) return null;
  const b = Buffer.from(data.buffer, data.byteOffset, data.length);
  const out: AbsCaptureTime = { absoluteCaptureTimestamp: b.readBigUInt64BE(0) };
  if (data.length === 16) out.estimatedCaptureClockOffset = b.readBigInt64BE(8);
  return out;
}

/** Encodes the value (8 bytes, or 16 with a clock offset). Values wrap to their 64-bit fields. */
export function serializeAbsCaptureTime(value: AbsCaptureTime): Buffer {
  const withOffset = value.estimatedCaptureClockOffset !== undefined;
  const b = Buffer.alloc(withOffset ? 16 : 8);
  b.writeBigUInt64BE(BigInt.asUintN(64, value.absoluteCaptureTimestamp), 0);
  if (withOffset) b.writeBigInt64BE(BigInt.asIntN(64, value.estimatedCaptureClockOffset!), 8);
  return b;
}
