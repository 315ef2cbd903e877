// SHUTDOWN COMPLETE chunk (RFC 9260 section 3.3.13): the last chunk of a graceful close.

/** A SHUTDOWN COMPLETE chunk; `reflected` is the T bit. */
export interface ShutdownCompleteChunk {
  readonly type: 14;
  reflected: boolean;
}

/** Writes the chunk at `off`. */
export function writeShutdownComplete(c: ShutdownCompleteChunk, buf: Buffer, off: number): void {
  buf[off] = 14;
  buf[off + 1] = c.reflected ? 1 : 0;
  buf.writeUInt16BE(4, off + 2);
}
