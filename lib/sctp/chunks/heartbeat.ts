// HEARTBEAT and HEARTBEAT ACK chunks (RFC 9260 sections 3.3.5 and 3.3.6): one Heartbeat
// Info parameter, opaque to the receiver, echoed back unchanged.
import { pad4 } from './chunk-type.js';

/** A HEARTBEAT (4) or HEARTBEAT ACK (5) chunk; `info` is the Heartbeat Info value. */
export interface HeartbeatChunk {
  readonly type: 4 | 5;
  info: Uint8Array;
}

/** Chunk length. */
export function heartbeatLength(c: HeartbeatChunk): number {
  return 8 + c.info.length;
}

/** Writes the chunk at `off`. */
export function writeHeartbeat(c: HeartbeatChunk, buf: Buffer, off: number): void {
  buf[off] = c.type;
  buf[off + 1] = 0;
  buf.writeUInt16BE(8 + c.info.length, off + 2);
  buf.writeUInt16BE(1, off + 4);
  buf.writeUInt16BE(4 + c.info.length, off + 6);
  buf.set(c.info, off + 8);
  buf.fill(0, off + 8 + c.info.length, off + pad4(8 + c.info.length));
}

/** Parses the body; undefined unless it starts with a well-formed Heartbeat Info parameter. */
export function parseHeartbeat(type: 4 | 5, body: Buffer): HeartbeatChunk | undefined {
  if (body.length < 4 || body.readUInt16BE(0) !== 1) return undefined;
  const len = body.readUInt16BE(2);
  if (len < 4 || len > body.length) return undefined;
  return { type, info: body.subarray(4, len) };
}
