// SHUTDOWN chunk (RFC 9260 section 3.3.8): graceful close, carrying the cumulative TSN ack.

/** A SHUTDOWN chunk. */
export interface ShutdownChunk {
  readonly type: 7;
  cumTsnAck: number;
}

/** Chunk length. */
export function shutdownLength(): number {
  return 8;
}

/** Writes the chunk at `off`. */
export function writeShutdown(c: ShutdownChunk, buf: Buffer, off: number): void {
  buf[off] = 7;
  buf[off + 1] = 0;
  buf.writeUInt16BE(8, off + 2);
  buf.writeUInt32BE(c.cumTsnAck, off + 4);
}

/** Parses a SHUTDOWN body; undefined when short. */
export function parseShutdown(body: Buffer): ShutdownChunk | undefined {
  return body.length < 4 ? undefined : { type: 7, cumTsnAck: body.readUInt32BE(0) };
}
