// TURN ChannelData messages (RFC 8656 §12.4-12.6): 16-bit channel number, 16-bit length, data;
// padded to a multiple of four bytes over TCP/TLS (§12.5), unpadded over UDP.

/** Lowest and highest valid channel numbers (RFC 8656 §12). */
export const CHANNEL_NUMBER_MIN = 0x4000;
export const CHANNEL_NUMBER_MAX = 0x4fff;

/** True when the first byte puts the datagram in the ChannelData range (RFC 7983: 64-79). */
export function isChannelData(data: Uint8Array): boolean {
  return data.length >= 4 && data[0]! >= 0x40 && data[0]! <= 0x4f;
}

/** Frames `data` for `channel`; `pad` rounds the frame up to four bytes (stream transports). */
export function encodeChannelData(channel: number, data: Uint8Array, pad = false): Buffer {
  const len = 4 + data.length;
  const out = Buffer.alloc(pad ? (len + 3) & ~3 : len);
  out.writeUInt16BE(channel, 0);
  out.writeUInt16BE(data.length, 2);
  out.set(data, 4);
  return out;
}

/**
 * Parses a ChannelData message; undefined when malformed. The data is a view into `input`.
 * Over UDP extra trailing bytes are allowed (padding); a length beyond the datagram is not.
 */
export function decodeChannelData(input: Uint8Array): { channel: number; data: Uint8Array } | undefined {
  if (!isChannelData(input)) return undefined;
  const channel = (input[0]! << 8) | input[1]!;
  const len = (input[2]! << 8) | input[3]!;
  if (4 + len > input.length) return undefined;
  return { channel, data: input.subarray(4, 4 + len) };
}
