// SHUTDOWN ACK chunk (RFC 9260 section 3.3.9): acknowledges SHUTDOWN once all data is acked.

/** A SHUTDOWN ACK chunk (no body). */
export interface ShutdownAckChunk {
  readonly type: 8;
}

/** Writes the chunk at `off`. */
export function writeShutdownAck(buf: Buffer, off: number): void {
  buf[off] = 8;
  buf[off + 1] = 0;
  buf.writeUInt16BE(4, off + 2);
}
